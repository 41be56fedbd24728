"""tshark's sflow dissector as an oracle for tapsift's sFlow events: the comparison shared by
test_sflow_tshark_oracle.py (events from the sflow_events dump tool) and test_sflow_replay.py
(events read back from the flows topic after `tapsift replay`). What is compared, and the
known-differences file, are described in test_sflow_tshark_oracle.py."""
import json
import os
import struct
import subprocess
import xml.etree.ElementTree as ET

from e2e_support import SRC, get_path, tsv_rows

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sflow-tshark-known-differences.tsv")
CORPUS = os.path.join(SRC, "tests", "corpus", "sflow")
ABSENT = "<absent>"
# Fields that depend on the run, not on the datagram.
RUN_FIELDS = (("@timestamp",), ("event", "created"), ("event", "sequence"))

# tshark field ► our dotted path, for the fields that mean the same at every place they occur.
TSHARK_TO_OURS = {
    "sflow_245.agent": "sflow.agent.address",
    "sflow_245.agent.v6": "sflow.agent.address",
    "sflow_245.sub_agent_id": "sflow.agent.sub_agent_id",
    "sflow_245.sequence_number": "sflow.sequence_number",
    "sflow_245.sysuptime": "sflow.uptime_millis",
    "sflow.flow_sample.sequence_number": "sflow.sample.sequence_number",
    "sflow.counters_sample.sequence_number": "sflow.sample.sequence_number",
    "sflow.flow_sample.source_id_type": "sflow.sample.source_id.type",
    "sflow.flow_sample.source_id_class": "sflow.sample.source_id.type",
    "sflow.counters_sample.source_id_type": "sflow.sample.source_id.type",
    "sflow.flow_sample.source_id_index": "sflow.sample.source_id.index",
    "sflow.flow_sample.index": "sflow.sample.source_id.index",
    "sflow.counters_sample.source_id_index": "sflow.sample.source_id.index",
    "sflow.flow_sample.sampling_rate": "sflow.sampling.rate",
    "sflow.flow_sample.sample_pool": "sflow.sampling.pool",
    "sflow.flow_sample.dropped_packets": "sflow.sampling.drops",
    "sflow.flow_sample.input_interface_format": "sflow.input.format",
    "sflow.flow_sample.input_interface_value": "sflow.input.value",
    "sflow.flow_sample.output_interface.format": "sflow.output.format",
    "sflow.flow_sample.output_interface_format": "sflow.output.format",
    "sflow.flow_sample.output_interface_value": "sflow.output.value",
    "sflow.flow_sample.input_interface": "sflow.input",  # compact: format and value in one u32
    "sflow.flow_sample.output_interface": "sflow.output",
    "sflow_245.header_protocol": "sflow.header_protocol",
    "sflow_245.header.frame_length": "sflow.frame_length",
    "sflow_245.header.payload_stripped": "sflow.stripped",
    "sflow_245.vlan.in": "sflow.switch.src_vlan",
    "sflow_245.pri.in": "sflow.switch.src_priority",
    "sflow_245.vlan.out": "sflow.switch.dst_vlan",
    "sflow_245.pri.out": "sflow.switch.dst_priority",
    "sflow_245.nexthop": "sflow.next_hop",
    "sflow_245.nexthop.src_mask": "sflow.router.src_mask_len",
    "sflow_245.nexthop.dst_mask": "sflow.router.dst_mask_len",
    "sflow_245.as": "sflow.gateway.as",
    "sflow_245.srcAS": "sflow.gateway.src_as",
    "sflow_245.peerAS": "sflow.gateway.src_peer_as",
    "sflow_245.ifindex": "sflow.interface.index",
    "sflow_245.iftype": "sflow.interface.type",
    "sflow_245.ifspeed": "sflow.interface.speed",
    "sflow_245.ifdirection": "sflow.interface.direction",
    "sflow_245.ifinoct": "sflow.interface.in_octets",
    "sflow_245.ifinpkt": "sflow.interface.in_ucast_pkts",
    "sflow_245.ifinmcast": "sflow.interface.in_multicast_pkts",
    "sflow_245.ifinbcast": "sflow.interface.in_broadcast_pkts",
    "sflow_245.ifindisc": "sflow.interface.in_discards",
    "sflow_245.ifinerr": "sflow.interface.in_errors",
    "sflow_245.ifinunk": "sflow.interface.in_unknown_protos",
    "sflow_245.ifoutoct": "sflow.interface.out_octets",
    "sflow_245.ifoutpkt": "sflow.interface.out_ucast_pkts",
    "sflow_245.ifoutmcast": "sflow.interface.out_multicast_pkts",
    "sflow_245.ifoutbcast": "sflow.interface.out_broadcast_pkts",
    "sflow_245.ifoutdisc": "sflow.interface.out_discards",
    "sflow_245.ifouterr": "sflow.interface.out_errors",
    "sflow_245.ifpromisc": "sflow.interface.promiscuous_mode",
}
for _i, _n in enumerate(["AlignmentErrors", "FCSErrors", "SingleCollisionFrames", "MultipleCollisionFrames",
                         "SQETestErrors", "DeferredTransmissions", "LateCollisions", "ExcessiveCollisions",
                         "InternalMacTransmitErrors", "CarrierSenseErrors", "FrameTooLongs",
                         "InternalMacReceiveErrors", "SymbolErrors"]):
    TSHARK_TO_OURS["sflow_245.dot3Stats" + _n] = "sflow.ethernet." + [
        "alignment_errors", "fcs_errors", "single_collision_frames", "multiple_collision_frames",
        "sqe_test_errors", "deferred_transmissions", "late_collisions", "excessive_collisions",
        "internal_mac_transmit_errors", "carrier_sense_errors", "frame_too_longs",
        "internal_mac_receive_errors", "symbol_errors"][_i]

# The sampled header's layers: the first occurrence of each (the outermost header, which is the
# one tapsift decodes; an ICMP error's quoted header or a tunnel's inner one come later).
HEADER_FIELDS = {
    "eth.src": "source.mac", "eth.dst": "destination.mac",
    "vlan.id": "network.vlan.id",
    "ip.src": "source.ip", "ip.dst": "destination.ip", "ip.proto": "network.iana_number",
    "ip.ttl": "sflow.ip.ttl", "ip.dsfield": "sflow.ip.tos",
    "ipv6.src": "source.ip", "ipv6.dst": "destination.ip", "ipv6.hlim": "sflow.ip.ttl",
    "ipv6.tclass": "sflow.ip.tos",
    "tcp.srcport": "source.port", "tcp.dstport": "destination.port", "tcp.flags": "sflow.tcp_flags",
    "udp.srcport": "source.port", "udp.dstport": "destination.port",
    "icmp.type": "sflow.icmp.type", "icmp.code": "sflow.icmp.code",
    "icmpv6.type": "sflow.icmp.type", "icmpv6.code": "sflow.icmp.code",
}


def ipv4_checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total & 0xffff) + (total >> 16)
    total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def wrap_payload(path, out):
    """A payload file as one datagram in a capture (write_datagrams)."""
    write_datagrams([open(path, "rb").read()], out)


def write_datagrams(payloads, out):
    """UDP datagrams 192.0.2.1:6343 > 192.0.2.2:6343 in a capture (a valid IPv4 checksum, so the
    gateway takes them too; UDP checksum 0: none), one frame each, 1 s apart."""
    frames = []
    for payload in payloads:
        udp = struct.pack("!HHHH", 6343, 6343, 8 + len(payload), 0) + payload
        fields = [0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])]
        fields[7] = ipv4_checksum(struct.pack("!BBHHHBBH4s4s", *fields))
        ip = struct.pack("!BBHHHBBH4s4s", *fields) + udp
        frames.append(b"\x00\x00\x5e\x00\x53\x02\x00\x00\x5e\x00\x53\x01\x08\x00" + ip)
    write_frames(frames, out)


def write_frames(frames, out):
    """Ethernet frames in a classic pcap, 1 s apart."""
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for n, frame in enumerate(frames):
            fh.write(struct.pack("<IIII", n, 0, len(frame), len(frame)) + frame)


def as_number(text):
    return int(text, 16) if text.startswith("0x") else int(text)


def norm_tshark(field, show):
    """tshark's show text as our JSON value."""
    ours = TSHARK_TO_OURS.get(field) or HEADER_FIELDS.get(field)
    if ours in ("network.iana_number", "network.vlan.id"):
        return str(as_number(show))
    if field in ("ip.dsfield", "ipv6.tclass"):
        return as_number(show)
    if field == "tcp.flags":
        return as_number(show) & 0xff  # tshark shows 12 bits (with the NS/reserved bits)
    if ours.endswith(("address", "next_hop", ".ip", ".mac")):
        return show
    return as_number(show)


def children(el):
    return [c for c in el if c.tag in ("field", "proto")]


def walk_fields(el, out, parent=""):
    """Every named field under el (records and nested layers), in document order, with the
    name of the field it sits in."""
    for c in children(el):
        name = c.get("name", "")
        if c.tag == "proto" and name in ("eth", "vlan", "ip", "ipv6", "tcp", "udp", "icmp", "icmpv6"):
            out.append(("proto:" + name, None, parent))
        if name and c.tag == "field":
            out.append((name, c.get("show", ""), parent))
        walk_fields(c, out, name or parent)


def tshark_samples(pcap):
    """{frame: (datagram fields, [samples])}: each sample a list of (field, show, parent)."""
    xml = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==6343,sflow", "-T", "pdml"],
                         check=True, capture_output=True).stdout
    frames = {}
    for packet in ET.fromstring(xml).iter("packet"):
        number = int(next(f for f in packet.iter("field") if f.get("name") == "frame.number").get("show"))
        for proto in packet.findall("proto"):
            if proto.get("name") != "sflow":
                continue
            head = [(c.get("name"), c.get("show")) for c in children(proto) if c.get("name")]
            samples = []
            for c in children(proto):
                kids = {k.get("name"): k.get("show") for k in children(c)}
                if "sflow_245.sampletype" not in kids:
                    continue
                decodable = kids.get("sflow.enterprise") == "0" and kids["sflow_245.sampletype"] in ("1", "2", "3", "4")
                fields = []
                walk_fields(c, fields)
                samples.append((decodable, kids["sflow_245.sampletype"], fields))
            frames[number] = (head, samples)
    return frames


def lookup(event, path):
    return get_path(event, path, ABSENT)


def expected_values(head, sample):
    """[(our field, tshark value)] for one tshark sample."""
    _, sample_type, fields = sample
    vals = [(TSHARK_TO_OURS[n], norm_tshark(n, s)) for n, s in head if n in TSHARK_TO_OURS]
    vals.append(("sflow.sample.type", "flow" if sample_type in ("1", "3") else "counter"))
    vals.append(("sflow.sample.expanded", sample_type in ("3", "4")))
    seen_layers = set()
    first_ip = None
    layer = None
    status = None
    as_paths = []
    inner = False  # past a second IP layer (a tunnel's inner packet, an ICMP error's quote)
    for name, show, parent in fields:
        if name.startswith("proto:"):
            layer = name[6:]
            if layer in ("ip", "ipv6"):
                inner = inner or first_ip is not None
                first_ip = first_ip or layer
            if inner or layer in seen_layers:
                layer = "repeat"
            seen_layers.add(layer)
            continue
        if name in HEADER_FIELDS and layer == name.split(".")[0]:
            vals.append((HEADER_FIELDS[name], norm_tshark(name, show)))
        elif name in ("sflow_245.ifadmin_status", "sflow_245.ifoper_status"):
            status = (status or 0) | (int(show) << (0 if name.endswith("admin_status") else 1))
        elif name == "sflow_245.dstAS" and parent == "sflow.as_type":
            as_paths.append(int(show))
        elif name in ("sflow.flow_sample.input_interface", "sflow.flow_sample.output_interface"):
            v = as_number(show)
            side = TSHARK_TO_OURS[name]
            vals.append((side + ".format", v >> 30))
            vals.append((side + ".value", v & 0x3fffffff))
        elif name in TSHARK_TO_OURS:
            vals.append((TSHARK_TO_OURS[name], norm_tshark(name, show)))
    if status is not None:
        vals.append(("sflow.interface.status", status))
    if as_paths:
        vals.append(("sflow.gateway.dst_peer_as", as_paths[0]))
        vals.append(("sflow.gateway.dst_as", as_paths[-1]))
    if first_ip:
        vals.append(("network.type", "ipv4" if first_ip == "ip" else "ipv6"))
    # A field repeated within the sample (e.g. two output format fields) keeps its last value.
    return list(dict(vals).items())


def events_bin():
    """The sflow_events dump tool (SFLOW_EVENTS_BIN, set by ctest)."""
    return os.environ.get("SFLOW_EVENTS_BIN", os.path.join(SRC, "build", "tests", "sflow_events"))


def corpus_files():
    """The sFlow corpus: captures and payload files, in a fixed order."""
    import glob
    return sorted(glob.glob(os.path.join(CORPUS, "**", "*.pcap"), recursive=True) +
                  glob.glob(os.path.join(CORPUS, "**", "*.bin"), recursive=True))


def as_capture(path, work):
    """The capture of a corpus file: itself, or a payload file wrapped (wrap_payload)."""
    if not path.endswith(".bin"):
        return path
    pcap = os.path.join(work, os.path.basename(os.path.dirname(path)) + ".pcap")
    wrap_payload(path, pcap)
    return pcap


def load_known_differences(check, path, key_columns):
    """A known-differences file whose rows are key_columns keys, the other decoder's value, ours
    and the reason: {key: [where, theirs, ours, used]}."""
    known, width = {}, key_columns + 3
    for where, _, line, cols in tsv_rows(path):
        if len(cols) != width:
            check.true(f"{where}: {width} tab-separated columns: {line!r}", False)
            continue
        known[tuple(cols[:key_columns])] = [where, cols[key_columns], cols[key_columns + 1], False]
    return known


def load_known(check):
    """tshark's known differences: {(source, frame, sample, field): [where, tshark, ours, used]}."""
    return load_known_differences(check, KNOWN_FILE, 4)


def compare(check, source, pcap, ours, known, verbose=False):
    """tshark's samples of pcap against ours ({(frame, tapsift.sflow_sample): event}); every
    disagreement must be a known one (marked used). Returns (samples matched, fields compared,
    fields that agree)."""
    compared = agreed = samples_matched = 0
    theirs = tshark_samples(pcap)
    disagreements = []
    matched = set()
    for frame, (head, samples) in sorted(theirs.items()):
        index = 0
        for sample in samples:
            if not sample[0]:
                continue
            ev = ours.get((frame, index))
            if ev is None:
                disagreements.append((frame, index, "event", "sample", "none"))
            else:
                matched.add((frame, index))
                samples_matched += 1
                for field, want in expected_values(head, sample):
                    got = lookup(ev, field)
                    compared += 1
                    if got == want:
                        agreed += 1
                    else:
                        disagreements.append((frame, index, field, want, got))
            index += 1
    for key in sorted(set(ours) - matched):
        disagreements.append((key[0], key[1], "event", "none", "sample"))
    for frame, index, field, want, got in disagreements:
        show_want = want if want in (ABSENT,) else json.dumps(want)
        show_got = got if got == ABSENT else json.dumps(got)
        row = None
        for key in ((source, str(frame), str(index), field), (source, str(frame), "*", field),
                    (source, str(frame), str(index), "*")):
            if key in known:
                row = known[key]
                break
        if row and row[1] in ("*", show_want) and row[2] in ("*", show_got):
            row[3] = True
            if verbose:
                print(f"known: {source} frame {frame} sample {index} {field}: tshark {show_want}, ours {show_got}")
            continue
        check.true(f"{source}\t{frame}\t{index}\t{field}\t{show_want}\t{show_got}\t(not in {os.path.basename(KNOWN_FILE)})", False)
    return samples_matched, compared, agreed


def check_known_used(check, known, sources=None):
    """A row (of one of sources, or any) that no longer matches a disagreement fails."""
    for key, (where, _, _, used) in known.items():
        if sources is None or key[0] in sources:
            check.true(f"{where}: row no longer matches a disagreement: {key}", used)


def without_run_fields(event):
    """A copy of the event without RUN_FIELDS."""
    event = json.loads(json.dumps(event))
    for path in RUN_FIELDS:
        cur = event
        for part in path[:-1]:
            cur = cur.get(part, {})
        cur.pop(path[-1], None)
    return event
