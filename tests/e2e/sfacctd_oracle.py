"""pmacct's sfacctd as a second independent sFlow decoder: the comparison shared by
test_sflow_sfacctd_oracle.py (the corpus) and test_sflow_sfprobe_live.py (sFlow made live by
pmacctd's sfprobe plugin). How sfacctd is run and what is compared is described in
test_sflow_sfacctd_oracle.py."""
import json
import os
import subprocess
from collections import defaultdict

from e2e_support import SRC, get_path
from sflow_oracle import load_known_differences

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sflow-sfacctd-known-differences.tsv")
PMACCT_DIR = os.path.join(SRC, "build", "bench", "peers")  # shared with scripts/bench
ABSENT = "<absent>"

# The print plugin's primitives (its JSON keys) ► our dotted path. Together with the datagram's
# identity (peer_ip_src, export_proto_seqno, export_proto_sysid) they are the aggregation key.
FLOW_FIELDS = {
    "mac_src": "source.mac", "mac_dst": "destination.mac", "vlan": "network.vlan.id",
    "cos": "sflow.switch.src_priority", "etype": "sflow.ether_type",
    "ip_src": "source.ip", "ip_dst": "destination.ip", "ip_proto": "network.iana_number",
    "tos": "sflow.ip.tos", "port_src": "source.port", "port_dst": "destination.port",
    "tcp_flags": "sflow.tcp_flags", "iface_in": "sflow.input.value", "iface_out": "sflow.output.value",
    "as_src": "sflow.gateway.src_as", "as_dst": "sflow.gateway.dst_as",
    "mask_src": "sflow.router.src_mask_len", "mask_dst": "sflow.router.dst_mask_len",
    "peer_ip_dst": "sflow.next_hop", "sampling_rate": "sflow.sampling.rate",
    "peer_ip_src": "sflow.agent.address", "export_proto_seqno": "sflow.sequence_number",
    "export_proto_sysid": "sflow.agent.sub_agent_id",
}
AGGREGATE = ["src_mac", "dst_mac", "vlan", "cos", "etype", "src_host", "dst_host", "proto", "tos", "src_port", "dst_port",
             "tcpflags", "in_iface", "out_iface", "src_as", "dst_as", "src_mask", "dst_mask", "peer_dst_ip",
             "sampling_rate", "peer_src_ip", "export_proto_seqno", "export_proto_sysid"]
DATAGRAM = ("peer_ip_src", "export_proto_seqno", "export_proto_sysid")

# sfacctd_counter_file's keys ► our dotted path, per counter record type.
COUNTER_FIELDS = {
    "sflow_cnt_generic": {
        "ifIndex": "sflow.interface.index", "ifType": "sflow.interface.type", "ifSpeed": "sflow.interface.speed",
        "ifDirection": "sflow.interface.direction", "ifStatus": "sflow.interface.status",
        "ifInOctets": "sflow.interface.in_octets", "ifInUcastPkts": "sflow.interface.in_ucast_pkts",
        "ifInMulticastPkts": "sflow.interface.in_multicast_pkts",
        "ifInBroadcastPkts": "sflow.interface.in_broadcast_pkts", "ifInDiscards": "sflow.interface.in_discards",
        "ifInErrors": "sflow.interface.in_errors", "ifInUnknownProtos": "sflow.interface.in_unknown_protos",
        "ifOutOctets": "sflow.interface.out_octets", "ifOutUcastPkts": "sflow.interface.out_ucast_pkts",
        "ifOutMulticastPkts": "sflow.interface.out_multicast_pkts",
        "ifOutBroadcastPkts": "sflow.interface.out_broadcast_pkts",
        "ifOutDiscards": "sflow.interface.out_discards", "ifOutErrors": "sflow.interface.out_errors",
        "ifPromiscuousMode": "sflow.interface.promiscuous_mode",
    },
    "sflow_cnt_ethernet": {
        "dot3Stats" + k: "sflow.ethernet." + v for k, v in [
            ("AlignmentErrors", "alignment_errors"), ("FCSErrors", "fcs_errors"),
            ("SingleCollisionFrames", "single_collision_frames"),
            ("MultipleCollisionFrames", "multiple_collision_frames"), ("SQETestErrors", "sqe_test_errors"),
            ("DeferredTransmissions", "deferred_transmissions"), ("LateCollisions", "late_collisions"),
            ("ExcessiveCollisions", "excessive_collisions"),
            ("InternalMacTransmitErrors", "internal_mac_transmit_errors"),
            ("CarrierSenseErrors", "carrier_sense_errors"), ("FrameTooLongs", "frame_too_longs"),
            ("InternalMacReceiveErrors", "internal_mac_receive_errors"), ("SymbolErrors", "symbol_errors")]
    },
}
# What sfacctd prints for a primitive the sample does not carry.
UNSET = {"tcp_flags": "0", "mac_src": "00:00:00:00:00:00", "mac_dst": "00:00:00:00:00:00", "ip_src": "0.0.0.0",
         "ip_dst": "0.0.0.0", "peer_ip_dst": ""}


def sfacctd_bin():
    return os.path.join(PMACCT_DIR, "usr", "sbin", "sfacctd")


def fetch_pmacct():
    """Debian's pmacct unpacked under build/bench/peers (scripts/fetch-peers); the error text, or
    None when sfacctd is there."""
    done = subprocess.run([os.path.join(SRC, "scripts", "fetch-peers"), PMACCT_DIR],
                          capture_output=True, text=True)
    if done.returncode != 0 or not os.access(sfacctd_bin(), os.X_OK):
        return f"scripts/fetch-peers {PMACCT_DIR} failed: {done.stdout}{done.stderr}"
    return None


def require_pmacct(check):
    """fetch_pmacct, or the test fails here."""
    error = fetch_pmacct()
    if error:
        check.true(error, False)
        check.finish()


def start_sfacctd(pcap, work):
    """sfacctd reading pcap (pcap_savefile), flow samples aggregated by AGGREGATE into the print
    plugin's JSON file, counter samples into sfacctd_counter_file. Returns (process, flows file,
    counters file); wait on the process, then read the files."""
    os.makedirs(work, exist_ok=True)
    flows = os.path.join(work, "flows.json")
    counters = os.path.join(work, "counters.json")
    for f in (flows, counters):
        if os.path.exists(f):
            os.unlink(f)
    conf = os.path.join(work, "sfacctd.conf")
    with open(conf, "w") as fh:
        fh.write("daemonize: false\n"
                 f"pcap_savefile: {pcap}\n"
                 "plugins: print[p]\n"
                 f"aggregate[p]: {', '.join(AGGREGATE)}\n"
                 "print_output[p]: json\n"
                 "print_num_protos[p]: true\n"
                 f"print_output_file[p]: {flows}\n"
                 "print_output_file_append[p]: true\n"
                 "print_refresh_time[p]: 1\n"
                 "print_cache_entries[p]: 9973\n"
                 f"sfacctd_counter_file: {counters}\n"
                 "sfacctd_counter_output: json\n")
    log = open(os.path.join(work, "sfacctd.log"), "w")
    proc = subprocess.Popen([sfacctd_bin(), "-f", conf], stdout=log, stderr=subprocess.STDOUT)
    return proc, flows, counters


def read_json_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def ours_as_primitives(ev):
    """One of our flow-sample events written as sfacctd's primitives (its JSON keys and values)."""
    rec = {}
    for key, path in FLOW_FIELDS.items():
        v = get_path(ev, path, None)
        if v is None:
            rec[key] = UNSET.get(key, 0)
        elif key in ("vlan", "ip_proto"):
            rec[key] = int(v)
        elif key == "tcp_flags":
            rec[key] = str(v)
        else:
            rec[key] = v
    # sfacctd's vlan: the extended switch record's incoming VLAN, the sampled header's 802.1Q tag
    # only when that record gives none (pmacct's sfv5 header decoder sets in_vlan only if both
    # switch VLANs are 0).
    if get_path(ev, "sflow.switch.src_vlan", 0) or get_path(ev, "sflow.switch.dst_vlan", 0):
        rec["vlan"] = get_path(ev, "sflow.switch.src_vlan")
    # sfacctd's cos is one byte: an extended switch record's 32-bit priority is cut to its low 8
    # bits (Telegraf's agent sends 0xFFFFFFFF, "unknown": sfacctd prints 255).
    rec["cos"] = rec["cos"] & 0xff
    # A compact sample's interface is one u32 (format in the top 2 bits), printed whole.
    for key, side in (("iface_in", "sflow.input"), ("iface_out", "sflow.output")):
        if not get_path(ev, "sflow.sample.expanded", False):
            rec[key] = (get_path(ev, side + ".format", 0) << 30) | get_path(ev, side + ".value", 0)
    rec["packets"] = get_path(ev, "network.packets", 0)
    rec["bytes"] = get_path(ev, "network.bytes", 0)
    return rec


def sfacctd_normalised(rec):
    out = {k: rec.get(k, ABSENT) for k in FLOW_FIELDS}
    if str(out["ip_proto"]).isdigit():  # print_num_protos: the number, as text
        out["ip_proto"] = int(out["ip_proto"])
    if isinstance(out["etype"], str):  # hex, without 0x
        out["etype"] = int(out["etype"], 16)
    out["packets"] = rec.get("packets", ABSENT)
    out["bytes"] = rec.get("bytes", ABSENT)
    return out


def aggregate(records):
    """{datagram: {key: record}}: records summed (packets, bytes) by every primitive but the TCP
    flags, which are ORed, as sfacctd does (CONFIG-KEYS, aggregate: "tcpflags: in pmacctd, uacctd
    and sfacctd daemons TCP flags are ORed until the aggregate is flushed")."""
    out = defaultdict(dict)
    for rec in records:
        key = tuple(rec[k] for k in FLOW_FIELDS if k != "tcp_flags")
        dg = tuple(rec[k] for k in DATAGRAM)
        have = out[dg].get(key)
        if have is None:
            out[dg][key] = dict(rec)
        else:
            have["packets"] += rec["packets"]
            have["bytes"] += rec["bytes"]
            have["tcp_flags"] = str(int(have["tcp_flags"]) | int(rec["tcp_flags"]))
    return out


def flow_disagreements(theirs, ours):
    """[(datagram seqno, field, sfacctd value, our value)] between sfacctd's aggregates and ours
    (aggregated alike): per datagram, aggregates with the same key are matched and their counts
    compared; when one aggregate is left on each side, it is compared field by field; any other
    leftover is an aggregate the other side does not have (field "aggregate")."""
    out = []
    compared = 0
    for dg in sorted(set(theirs) | set(ours), key=str):
        t, o = theirs.get(dg, {}), ours.get(dg, {})
        seq = str(dg[1])
        for key in set(t) & set(o):
            compared += len(FLOW_FIELDS) + 2
            for count in ("packets", "bytes"):
                if t[key][count] != o[key][count]:
                    out.append((seq, count, t[key][count], o[key][count]))
        left_t = [t[k] for k in t if k not in o]
        left_o = [o[k] for k in o if k not in t]
        if len(left_t) == 1 and len(left_o) == 1:
            compared += len(FLOW_FIELDS) + 2
            for field in list(FLOW_FIELDS) + ["packets", "bytes"]:
                if left_t[0][field] != left_o[0][field]:
                    out.append((seq, field, left_t[0][field], left_o[0][field]))
        else:
            out += [(seq, "aggregate", json.dumps(r, sort_keys=True), "none") for r in left_t]
            out += [(seq, "aggregate", "none", json.dumps(r, sort_keys=True)) for r in left_o]
    return out, compared


def counter_disagreements(theirs, ours):
    """sfacctd's counter records against our counter-sample events, matched by datagram sequence,
    sample sequence and source index (the agent is compared, not matched: sfacctd 1.7.7 writes an
    IPv6 agent as an IPv4 address); each generic or Ethernet record's fields compared. A record of
    a type sfacctd does not decode (no sf_cnt_type) only matches."""
    out = []
    compared = 0
    ours_by_id = defaultdict(list)
    for ev in ours:
        ours_by_id[(get_path(ev, "sflow.sequence_number"), get_path(ev, "sflow.sample.sequence_number"),
                    get_path(ev, "sflow.sample.source_id.index"))].append(ev)
    matched = set()
    for rec in theirs:
        if rec.get("event_type") != "log":
            continue
        candidates = ours_by_id.get((rec["sflow_seq"], rec["sflow_cnt_seq"], rec["source_id_index"]), [])
        same_agent = [e for e in candidates if get_path(e, "sflow.agent.address") == rec["peer_ip_src"]]
        ev = (same_agent or candidates or [None])[0]
        seq = str(rec["sflow_seq"])
        kind = rec.get("sf_cnt_type", "other")
        if ev is None:
            out.append((seq, kind, "record", "none"))
            continue
        matched.add(id(ev))
        fields = COUNTER_FIELDS.get(kind)
        if fields is None:
            continue
        fields = dict(fields, peer_ip_src="sflow.agent.address")
        for key, path in fields.items():
            compared += 1
            got = get_path(ev, path, ABSENT)
            if got != rec.get(key, ABSENT):
                out.append((seq, f"{kind}.{key}", rec.get(key, ABSENT), got))
    for ev in ours:
        if id(ev) not in matched:
            out.append((str(get_path(ev, "sflow.sequence_number")), "counter sample", "none", "record"))
    return out, compared


def load_known(check):
    """{(source, datagram seqno, field): [where, sfacctd value, our value, used]}."""
    return load_known_differences(check, KNOWN_FILE, 3)


def show(v):
    return v if v == ABSENT or (isinstance(v, str) and v.startswith("{")) or v in ("none", "record") \
        else json.dumps(v)


def judge(check, source, disagreements, known, verbose=False):
    """Every disagreement must be a known-differences row (marked used)."""
    for seq, field, theirs, ours in disagreements:
        t, o = show(theirs), show(ours)
        row = None
        for key in ((source, seq, field), (source, "*", field), (source, seq, "*"), (source, "*", "*")):
            if key in known:
                row = known[key]
                break
        if row and row[1] in ("*", t) and row[2] in ("*", o):
            row[3] = True
            if verbose:
                print(f"known: {source} datagram {seq} {field}: sfacctd {t}, ours {o}")
            continue
        check.true(f"{source}\t{seq}\t{field}\t{t}\t{o}\t(not in {os.path.basename(KNOWN_FILE)})", False)


def compare(check, source, sfacctd, events, known, verbose=False):
    """sfacctd's output (start_sfacctd's (process, flows file, counters file), waited for here)
    against our events of the same capture; every disagreement judged. Returns (flow aggregates,
    counter records, fields compared)."""
    proc, flows_file, counters_file = sfacctd
    check.eq(f"{source}: sfacctd exit status", proc.wait(timeout=60), 0)
    theirs_flows = [sfacctd_normalised(r) for r in read_json_lines(flows_file) if r.get("event_type") == "purge"]
    theirs_counters = read_json_lines(counters_file)
    ours_flows = [ours_as_primitives(e) for e in events if get_path(e, "sflow.sample.type") == "flow"]
    ours_counters = [e for e in events if get_path(e, "sflow.sample.type") == "counter"]
    d1, c1 = flow_disagreements(aggregate(theirs_flows), aggregate(ours_flows))
    d2, c2 = counter_disagreements(theirs_counters, ours_counters)
    judge(check, source, d1 + d2, known, verbose)
    return len(theirs_flows), sum(1 for r in theirs_counters if r.get("event_type") == "log"), c1 + c2
