"""The expected outputs shipped with the flow corpus as an oracle (used by
test_flow_expected_outputs.py): pmacct nfacctd's JSON (tests/corpus/flows/pcap/pmacct/<test>/
output-flow-NN.json) and Telegraf's line protocol (payloads/telegraf-netflow/<case>/expected.out),
each rendered from OUR events the way that tool renders it, so the two can be compared field by
field.

pmacct (nfacctd, configs of upstream tests/<test>/nfacctd-00.conf, not copied; read at
github.com/pmacct/pmacct): every test aggregates (aggregate[...] in the config) and sums
packets/bytes of the flows with the same primitives; several aggregate on primitives we cannot
render (pre_tag label, flow_to_rd_map RD, BGP communities/AS paths, timestamp_arrival), so
pmacct_key() builds the key from the primitives we CAN render and both sides are summed by it.
Primitives rendered (pm_render): ip_src/ip_dst (source.ip/destination.ip), port_src/port_dst,
ip_proto (name as pmacct prints it), tos, tcp_flags (pmacct's names, compared as a set; pmacct
ORs them over the flows it aggregates), iface_in/iface_out, mask_src/mask_dst + net_src/net_dst
(only when nfacctd_net is the flow itself, not bgp), timestamp_start/timestamp_end
(timestamps_secs: pmacct's own arithmetic, see pm_time; for IPFIX sysUpTime-relative times
without systemInitTimeMilliseconds in the record pmacct prints the export time:
pm_time_is_export_time), mpls_label_stack (label stack sections, "<index>-<label>"), mpls_vpn_rd
when pmacct fell back to the flow's ingress VRF id ("vrfid:<ingressVRFID>"), fwd_status
(forwardingStatus as "<STATUS> <Reason>"), mac_src/mac_dst, the custom primitives
vrf_id_ingress/vrf_id_egress (IE 234/235), mpls_tl_ipv4_address (47), mpls_tl_prefix_length
(91), mpls_tl_type (46) of upstream's custom-primitives.map, and
packets/bytes (renormalized by the sampling rate when nfacctd_renormalize is true).
Not compared (pmacct derives them from maps, BGP or options state, or they are bookkeeping):
label, comms*, ecomms*, lcomms*, as_path*, mpls_vpn_rd of origin map/unknown, vrf_name,
ingress_vrf_name, egress_vrf_name, iface_name_in/out, etype, srv6_seg_ipv6_list, tunnel_*,
flows, writer_id, mpls_vpn_rd_origin, and peer_ip_src (the address of upstream's
traffic-reproducer container, 172.21.1.101 / fd25::101, not the capture's exporter).

Telegraf (plugins/inputs/netflow, goflow2 based): every field is named after one IE
(TELEGRAF_IE: telegraf name -> our netflow.* field and a renderer), type_<PEN>_<id> are IEs
telegraf has no name for (our netflow.unknown["<PEN>_<id>"] or, PEN 29305, netflow.reverse_*;
in options records telegraf leaves the enterprise bit in <id>: it is masked off).
Options records are measurement netflow_options. The tag "source" is the UDP sender (127.0.0.1
in upstream's test), "version" the format.  Fields we do not render (TELEGRAF_SKIP) are listed
with the reason.
"""
import ipaddress
import json
import re

import flow_oracle as fo

MISSING = fo.MISSING

# pmacct prints protocol names from its own table (src/util.c _protocols); these are the ones
# the corpus needs (a number not listed here is printed as the number).
PMACCT_PROTO = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 58: "ipv6-icmp",
                89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp"}
# Telegraf: IANA protocol keyword, lower case (layer4_protocol_numbers.csv)
TELEGRAF_PROTO = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 58: "ipv6-icmp",
                  89: "ospfigp", 103: "pim", 112: "vrrp", 132: "sctp"}
PMACCT_TCP_FLAGS = [(0x01, "FIN"), (0x02, "SYN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"),
                    (0x40, "ECE"), (0x80, "CWR")]
# forwardingStatus (RFC 7270) as pmacct's fwd_status_encode_as_string prints it; only spellings
# seen in the corpus outputs: anything else fails as "unknown spelling" and must be added here.
PMACCT_FWD = {0: "UNKNOWN Unclassified", 64: "FORWARDED Unknown", 195: "CONSUMED For us"}


def get(e, path, default=MISSING):
    """The value at path; a repeated IE (a JSON array) gives its last occurrence, as our ECS
    core fields do."""
    v = fo.get_path(e, path)
    if isinstance(v, list) and path.startswith("netflow."):
        v = v[-1] if v else MISSING
    return default if v is MISSING else v


def ip_eq(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except (ValueError, TypeError):
        return a == b


# ---------------------------------------------------------------- pmacct

def pm_time_is_export_time(e, which="start"):
    """True when pmacct prints the IPFIX message's export time as the flow's time: an IPFIX
    record whose times are flowStart/EndSysUpTime (IE 22/21) without systemInitTimeMilliseconds
    (IE 160) in the record itself. nfacctd resolves IE 22/21 only against an IE 160 of the same
    record (test 106: agrees with ours to the second); it does not keep the exporter's
    options-data IE 160, and then falls back to the header's export time. Tests 500/501/502
    (options template 338: scope observationDomainId, IE 160; one value per capture, no other
    scope) show it on every one of their 188 output records: timestamp_start == exportTime of
    the message that carried the flow (rendered so, all 3605 fields of the three agree). The
    options-data init time instead puts the flows' ends 14-21 s before the export for flows
    that went idle (Cisco's 15 s inactive timeout) and 0-8 s before it for flows of ~60 s cut
    by the active timeout -- what tapsift's event.start/end say."""
    up_ie = "flow_start_sys_up_time" if which == "start" else "flow_end_sys_up_time"
    return (get(e, "netflow.exporter.version") == 10 and get(e, "netflow." + up_ie) is not MISSING
            and get(e, "netflow.system_init_time_milliseconds") is MISSING)


def pm_time(e, which):
    """timestamp_start / timestamp_end as pmacct prints them with timestamps_secs: true.
    v5/v9 sysUpTime times: nfacctd computes export_secs - (uptime_ms - switched_ms) / 1000 in
    integer (32-bit unsigned) arithmetic, so the difference is truncated, not the instant;
    IPFIX sysUpTime times without IE 160 in the record: the export time (pm_time_is_export_time;
    test_flow_expected_outputs.py checks our own event.start/end of those records for
    plausibility instead); absolute IPFIX times are truncated to the second."""
    up_ie = "flow_start_sys_up_time" if which == "start" else "flow_end_sys_up_time"
    sw = get(e, "netflow." + up_ie)
    up = get(e, "netflow.exporter.uptime_millis")
    exp = fo.ns_of_rfc3339(get(e, "netflow.exporter.timestamp", None))
    if sw is not MISSING and up is not MISSING and exp is not None:
        return "%d.000000" % (exp // 10**9 - ((up - sw) & 0xFFFFFFFF) // 1000)
    if pm_time_is_export_time(e, which) and exp is not None:
        return "%d.000000" % (exp // 10**9)
    ev = fo.ns_of_rfc3339(get(e, "event." + which, None))
    if ev is not None:
        return "%d.000000" % (ev // 10**9)
    for unit in ("seconds", "milliseconds", "microseconds", "nanoseconds"):
        v = get(e, "netflow.flow_%s_%s" % (which, unit))
        if v is not MISSING and fo.ns_of_rfc3339(v) is not None:
            return "%d.000000" % (fo.ns_of_rfc3339(v) // 10**9)
    return MISSING


def pm_labels(e):
    out = []
    for i in range(1, 11):
        name = "mpls_top_label_stack_section" if i == 1 else "mpls_label_stack_section%d" % i
        v = get(e, "netflow." + name)
        if v is MISSING or not isinstance(v, str) or len(v) < 6:
            continue
        label = int(v[:6], 16) >> 4
        if label:
            out.append("%d-%d" % (len(out), label))
    return out


def pm_rd(e):
    v = get(e, "netflow.mpls_vpn_route_distinguisher")
    if isinstance(v, str) and len(v) == 16:
        b = bytes.fromhex(v)
        t = int.from_bytes(b[:2], "big")
        if t == 0:
            return "0:%d:%d" % (int.from_bytes(b[2:4], "big"), int.from_bytes(b[4:], "big"))
        if t == 1:
            return "1:%s:%d" % (ipaddress.IPv4Address(b[2:6]), int.from_bytes(b[6:], "big"))
        if t == 2:
            return "2:%d:%d" % (int.from_bytes(b[2:6], "big"), int.from_bytes(b[6:], "big"))
        return "%d:?" % t
    vrf = get(e, "netflow.ingress_vrfid")
    if vrf is not MISSING:
        return "vrfid:%d" % vrf
    return MISSING


def _prefix_len(e, side):
    for ie in ("netflow.%s_ipv4_prefix_length" % side, "netflow.%s_ipv6_prefix_length" % side):
        v = get(e, ie)
        if v is not MISSING:
            return v
    return 0


def _net(e, side):
    ip = get(e, "%s.ip" % side)
    if ip is MISSING:
        return MISSING
    n = ipaddress.ip_network("%s/%d" % (ip, _prefix_len(e, side)), strict=False)
    return str(n.network_address)


def pm_render(e, field, ctx):
    """Our event's value of pmacct primitive `field`, in pmacct's rendering (MISSING: none)."""
    if field == "peer_ip_src":
        return ctx["orig_exporter"]
    if field == "ip_src":
        return get(e, "source.ip")
    if field == "ip_dst":
        return get(e, "destination.ip")
    if field == "port_src":
        return get(e, "source.port", 0)
    if field == "port_dst":
        return get(e, "destination.port", 0)
    if field == "ip_proto":
        p = get(e, "network.iana_number")
        return MISSING if p is MISSING else PMACCT_PROTO.get(int(p), p)
    if field == "tos":
        return get(e, "netflow.ip_class_of_service", 0)
    if field == "tcp_flags":
        v = get(e, "netflow.tcp_control_bits", 0)
        return sorted(n for b, n in PMACCT_TCP_FLAGS if v & b)
    if field == "iface_in":
        return get(e, "netflow.ingress_interface", 0)
    if field == "iface_out":
        return get(e, "netflow.egress_interface", 0)
    if field == "mask_src":
        return _prefix_len(e, "source")
    if field == "mask_dst":
        return _prefix_len(e, "destination")
    if field == "net_src":
        return _net(e, "source")
    if field == "net_dst":
        return _net(e, "destination")
    if field == "timestamp_start":
        return pm_time(e, "start")
    if field == "timestamp_end":
        return pm_time(e, "end")
    if field == "mpls_label_stack":
        return pm_labels(e)
    if field == "mpls_vpn_rd":
        return pm_rd(e)
    if field == "fwd_status":
        v = get(e, "netflow.forwarding_status", 0)
        return PMACCT_FWD.get(v, "unknown spelling of forwardingStatus %d" % v)
    if field == "mac_src":
        return get(e, "netflow.source_mac_address", "00:00:00:00:00:00")
    if field == "mac_dst":
        return get(e, "netflow.destination_mac_address", "00:00:00:00:00:00")
    if field.startswith("custom_primitives."):
        name = field.split(".", 1)[1]
        ie, dflt = {"vrf_id_ingress": ("ingress_vrfid", 0), "vrf_id_egress": ("egress_vrfid", 0),
                    "mpls_tl_ipv4_address": ("mpls_top_label_ipv4_address", "0.0.0.0"),
                    "mpls_tl_prefix_length": ("mpls_top_label_prefix_length", 0),
                    "mpls_tl_type": ("mpls_top_label_type", 0)}[name]
        return str(get(e, "netflow." + ie, dflt))
    raise KeyError(field)


PMACCT_COUNTERS = ("packets", "bytes")
PMACCT_SKIP = {"label", "comms", "ecomms", "lcomms", "as_path", "comms_src", "ecomms_src", "lcomms_src",
               "as_path_src", "vrf_name", "ingress_vrf_name", "egress_vrf_name", "iface_name_in",
               "iface_name_out", "etype", "srv6_seg_ipv6_list", "tunnel_ip_src", "tunnel_ip_dst",
               "tunnel_ip_proto", "tunnel_tos", "tunnel_flow_label", "tunnel_port_src", "tunnel_port_dst",
               "tunnel_tcp_flags", "flows", "writer_id", "mpls_vpn_rd_origin", "custom_primitives.vrf_name",
               "peer_ip_src"}
CUSTOM = {"vrf_id_ingress", "vrf_id_egress", "mpls_tl_ipv4_address", "mpls_tl_prefix_length", "mpls_tl_type"}


def pm_fields(rec, net_from_flow):
    """The primitives of an expected record we compare (dotted names for custom_primitives)."""
    out = []
    for k, v in rec.items():
        if k == "custom_primitives":
            out.extend("custom_primitives." + c for c in v if c in CUSTOM)
        elif k in PMACCT_SKIP or k in PMACCT_COUNTERS:
            continue
        elif k in ("mask_src", "mask_dst", "net_src", "net_dst") and not net_from_flow:
            continue
        elif k == "mpls_vpn_rd" and not (rec.get("mpls_vpn_rd_origin") == "flow" and str(v).startswith("vrfid:")):
            continue  # an RD pmacct took from a map or from options data (VRF id -> RD tables)
        else:
            out.append(k)
    return out


def pm_expected_value(rec, field):
    if field.startswith("custom_primitives."):
        return rec["custom_primitives"][field.split(".", 1)[1]]
    v = rec[field]
    if field == "tcp_flags":
        return sorted(v)
    return v


def pm_norm(field, v):
    """A hashable, comparable form (addresses as address objects)."""
    if v is MISSING:
        return ("<absent>",)
    if field in ("ip_src", "ip_dst", "net_src", "net_dst", "peer_ip_src", "custom_primitives.mpls_tl_ipv4_address"):
        try:
            return ipaddress.ip_address(v)
        except ValueError:
            return v
    if isinstance(v, list):
        return tuple(v)
    return v


# ---------------------------------------------------------------- Telegraf

def parse_line_protocol(text):
    """[(measurement, {tag: value}, {field: value})]; several records may share a line in
    upstream files (no newline between them), so records are split at each measurement."""
    recs = []
    token = re.compile(r'(netflow(?:_options)?),((?:[^ ,\\]|\\.)+(?:,(?:[^ ,\\]|\\.)+)*) ')
    starts = [m.start() for m in token.finditer(text)]
    for i, s in enumerate(starts):
        chunk = text[s:starts[i + 1] if i + 1 < len(starts) else len(text)].strip()
        m = token.match(chunk)
        meas, tagtxt = m.group(1), m.group(2)
        tags = dict(t.split("=", 1) for t in tagtxt.split(","))
        rest = chunk[m.end():]
        fields = {}
        pos = 0
        while pos < len(rest):
            fm = re.match(r'([^=,\s]+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', rest[pos:])
            if not fm:
                break
            k, raw = fm.group(1), fm.group(2)
            if raw.startswith('"'):
                val = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            elif raw.endswith("u") or raw.endswith("i"):
                val = int(raw[:-1])
            elif raw in ("true", "false"):
                val = raw == "true"
            else:
                val = float(raw)
            fields[k] = val
            pos += fm.end()
            if pos < len(rest) and rest[pos] == ",":
                pos += 1
            else:
                break
        recs.append((meas, tags, fields))
    return recs


def _tg_tcp_flags(v):
    names = "FSRPAUEC"
    return "".join(names[i] if (v >> i) & 1 else "." for i in range(7, -1, -1))


def _ms(v):
    ns = fo.ns_of_rfc3339(v)
    return MISSING if ns is None else ns // 10**6


def _s(v):
    ns = fo.ns_of_rfc3339(v)
    return MISSING if ns is None else ns // 10**9


FLOW_END_REASON = {0: "reserved", 1: "idle timeout", 2: "active timeout", 3: "end of flow", 4: "forced end",
                   5: "lack of resources"}
FWD_STATUS = {0: "unknown", 1: "forwarded", 2: "dropped", 3: "consumed"}
FWD_REASON = {0: "unknown", 64: "unknown", 65: "fragmented", 66: "not fragmented", 128: "unknown",
              192: "unknown", 193: "terminate punt adjacency", 194: "terminate incomplete adjacency",
              195: "terminate for us"}
ENGINE_TYPE = {0: "RP", 1: "VIP/linecard", 2: "PFC/DFC"}

# telegraf field -> (our netflow.* field(s), renderer of our value into telegraf's)
_num = ("num", None)
TELEGRAF_IE = {
    "in_bytes": (["octet_delta_count"], _num), "in_packets": (["packet_delta_count"], _num),
    "flows": (["delta_flow_count"], _num),
    "protocol": (["protocol_identifier"], ("fn", lambda v: TELEGRAF_PROTO.get(v, str(v)))),
    "src_tos": (["ip_class_of_service"], ("hex", None)), "dst_tos": (["post_ip_class_of_service"], ("hex", None)),
    "tcp_flags": (["tcp_control_bits"], ("fn", _tg_tcp_flags)),
    "src_port": (["source_transport_port"], _num), "dst_port": (["destination_transport_port"], _num),
    "src": (["source_ipv4_address", "source_ipv6_address"], ("ip", None)),
    "dst": (["destination_ipv4_address", "destination_ipv6_address"], ("ip", None)),
    "src_mask": (["source_ipv4_prefix_length", "source_ipv6_prefix_length"], _num),
    "dst_mask": (["destination_ipv4_prefix_length", "destination_ipv6_prefix_length"], _num),
    "in_snmp": (["ingress_interface"], _num), "out_snmp": (["egress_interface"], _num),
    "next_hop": (["ip_next_hop_ipv4_address", "ip_next_hop_ipv6_address"], ("ip", None)),
    "bgp_src_as": (["bgp_source_as_number"], _num), "bgp_dst_as": (["bgp_destination_as_number"], _num),
    "last_switched": (["flow_end_sys_up_time"], _num), "first_switched": (["flow_start_sys_up_time"], _num),
    "out_bytes": (["post_octet_delta_count"], _num), "out_packets": (["post_packet_delta_count"], _num),
    "icmp_type": (["icmp_type_code_ipv4"], ("fn", lambda v: v >> 8)),
    "icmp_code": (["icmp_type_code_ipv4"], ("fn", lambda v: v & 0xFF)),
    "engine_type": (["engine_type"], ("fn", lambda v: ENGINE_TYPE.get(v, str(v)))),
    "engine_id": (["engine_id"], ("hex", None)),
    "in_src_mac": (["source_mac_address"], ("mac", None)),
    "out_dst_mac": (["post_destination_mac_address"], ("mac", None)),
    "in_dst_mac": (["destination_mac_address"], ("mac", None)),
    "vlan_src": (["vlan_id"], _num), "vlan_dst": (["post_vlan_id"], _num),
    "ip_version": (["ip_version"], ("fn", lambda v: {4: "IPv4", 6: "IPv6"}.get(v, str(v)))),
    "direction": (["flow_direction"], ("fn", lambda v: {0: "ingress", 1: "egress"}.get(v, str(v)))),
    "interface": (["interface_name"], _num), "interface_desc": (["interface_description"], _num),
    "in_total_bytes": (["octet_total_count"], _num), "in_total_packets": (["packet_total_count"], _num),
    "fwd_status": (["forwarding_status"], ("fn", lambda v: FWD_STATUS[v >> 6])),
    "fwd_reason": (["forwarding_status"], ("fn", lambda v: FWD_REASON.get(v, "invalid"))),
    "app_desc": (["application_description"], _num), "app_name": (["application_name"], _num),
    "app_id": (["application_id"], ("hexstr", None)),
    "flow_end_reason": (["flow_end_reason"], ("fn", lambda v: FLOW_END_REASON.get(v, "unassigned"))),
    "flow_start_ms": (["flow_start_milliseconds"], ("fn", _ms)),
    "flow_end_ms": (["flow_end_milliseconds"], ("fn", _ms)),
    "flow_start": (["flow_start_seconds"], ("fn", _s)), "flow_end": (["flow_end_seconds"], ("fn", _s)),
    "sampling_interval": (["sampling_interval"], _num),
}
# NetFlow v5 header fields telegraf puts on every record
TELEGRAF_V5 = {
    "sys_uptime": lambda e: get(e, "netflow.exporter.uptime_millis"),
    "engine_type": lambda e: (lambda s: MISSING if s is MISSING else ENGINE_TYPE.get(s >> 8, str(s >> 8)))(
        get(e, "netflow.exporter.source_id")),
    "engine_id": lambda e: (lambda s: MISSING if s is MISSING else "0x%02x" % (s & 0xFF))(
        get(e, "netflow.exporter.source_id")),
    "sampling_interval": lambda e: get(e, "netflow.sampling.interval", 0),
}
TELEGRAF_SKIP = {
    # v5 header fields our events do not carry
    "seq_number": "NetFlow v5 header flow_sequence: not in our events",
    "flows@v5": "NetFlow v5: telegraf's 'flows' is the header's record count, not an IE",
}


def _render_hex(v, width_from):
    """Telegraf's decodeHex "0x..." of the field's bytes; we compare by value, keeping the
    expected width."""
    digits = max(0, len(width_from) - 2)
    return "0x%0*x" % (digits, v) if isinstance(v, int) else MISSING


def tg_render(e, field, expected, fmt):
    """Our event's value for telegraf field `field` (expected: telegraf's value, used only for
    the hex width), or MISSING when we have nothing; raises KeyError for a field without a
    mapping."""
    if fmt == "NetFlowV5" and field in TELEGRAF_V5:
        return TELEGRAF_V5[field](e)
    m = re.fullmatch(r"type_(\d+)_(rev_)?(\d+)|type_(\d+)", field)
    if m:
        if m.group(4):
            pen, ie, rev = 0, int(m.group(4)), False
        else:
            # telegraf keeps the enterprise bit (0x8000) in the number of enterprise IEs of
            # options records (type_6871_32868 is PEN 6871 IE 100)
            pen, ie, rev = int(m.group(1)), int(m.group(3)) & 0x7FFF, bool(m.group(2))
        if pen == fo.REVERSE_PEN and not rev:
            name = fo.our_name(pen, ie)
            v = get(e, "netflow." + name) if name else MISSING
            if isinstance(v, int):
                return _render_hex(v, expected)
            if v is not MISSING:
                return v
            key = "%d_%d" % (pen, ie)
        else:
            key = "%d_%d" % (pen, ie | (0x4000 if rev else 0))
        v = get(e, "netflow.unknown")
        if isinstance(v, dict) and key in v:
            return "0x" + v[key] if v[key] else ""
        return MISSING
    ies, (kind, fn) = TELEGRAF_IE[field]
    vals = [get(e, "netflow." + ie) for ie in ies]
    vals = [v for v in vals if v is not MISSING]
    if not vals:
        return MISSING
    v = vals[-1]
    if isinstance(v, list):
        v = v[-1]
    if kind == "num":
        return v
    if kind == "fn":
        return fn(v)
    if kind == "hex":
        return _render_hex(v, expected if isinstance(expected, str) else "")
    if kind == "hexstr":
        return "0x" + v if isinstance(v, str) else MISSING
    if kind in ("ip", "mac"):
        return v
    raise KeyError(field)


def tg_agree(field, exp, ours):
    if ours is MISSING:
        return False
    if field in ("src", "dst", "next_hop"):
        return ip_eq(exp, ours)
    if isinstance(exp, str) and exp.startswith("0x") and isinstance(ours, str) and ours.startswith("0x"):
        return exp.lower() == ours.lower()
    if field in ("in_src_mac", "out_dst_mac", "in_dst_mac"):
        return isinstance(ours, str) and exp.lower() == ours.lower()
    return exp == ours


def show(v):
    if v is MISSING:
        return "<absent>"
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        v = str(v)
    if isinstance(v, tuple):
        v = list(v)
    return json.dumps(v, ensure_ascii=False, sort_keys=True)
