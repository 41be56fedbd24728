"""tshark as an oracle for NetFlow v5/v9 and IPFIX: what tshark 4.0's cflow dissector
(epan/dissectors/packet-netflow.c) decodes, as records keyed by OUR event field names.

    tshark_flow_records(pcap) -> [record dict, ...]   one per DATA record tshark decoded
    tshark_counts(pcap)       -> {frame: {...}}         per-frame record/template counts, problems
    tshark_late_records(pcap, {F: G}) -> {F: [record dict, ...]}  what tshark decodes from the
                                 "no template found" data sets of frame F once it has the
                                 template (a copy of F replayed right after frame G)
    values_agree(field, tshark_value, our_value, record) -> bool
    get_path(event, "a.b.c")  -> value or MISSING

tshark runs as  tshark -n -r PCAP -d udp.port==2055,cflow -d udp.port==4739,cflow -T json -x
(TZ=UTC).  The JSON is parsed keeping duplicate keys in order (object_pairs_hook), so
repeated IEs and several sets per datagram stay in packet order.  Like tapsift, the dissector
keeps template state across the whole file (templates learnt in frame N decode data in later
frames); unlike tapsift, it keys templates by (source address, source port, destination
address, destination port, source id / observation domain, template id): the exporter's
source port is part of tshark's key, not of ours (scripts/make-flow-pcap gives every corpus
source its own exporter address, so this only matters when one exporter changes ports).

Record dict
  frame     frame number (1-based)            -> our event.sequence
  record    0-based index of the data record within the datagram, counting every data
            record tshark decoded (flow and options data), in packet order: sets in order,
            records in order within a set.  -> our tapsift.flow_record
  options   True for a record of an options template (v9 flowset 1 / IPFIX set 3 template)
  _types    {field: iespec type} (addresses compare as address objects, strings as tshark
            shows them)
  _time_digits  {field: 0/3/6/9} fields compared as instants at that precision
  "<dotted path>": value, for every field below, already in OUR rendering:
    @timestamp                  export time from the header (cflow.timestamp), RFC 3339 Z,
                                compared as an instant (to the nanosecond)
    observer.ip                 the IPv4 source address of the frame (the exporter)
    netflow.exporter.address    "ip:port" (ip.src, udp.srcport)
    netflow.exporter.version    cflow.version (5, 9, 10)
    netflow.exporter.source_id  v9 cflow.source_id, IPFIX cflow.od_id (not for v5)
    netflow.exporter.uptime_millis  v5/v9 cflow.sysuptime (seconds, shown as relative time) * 1000
    netflow.template_id         the data set's flowset id (v9/IPFIX only)
    event.action                "netflow_options" for options data, else "netflow_flow"
    tapsift.format              netflow_v5 / netflow_v9 / ipfix
    netflow.<ie>                every record field tshark decoded whose IE we could identify
                                (below); <ie> = the IANA name (python3-ipfix iana.iespec)
                                in snake_case (ie_snake_name); PEN 29305 -> reverse_<ie>.
                                An IE the template holds more than once is a LIST of every
                                occurrence in template order (ours is a JSON array too);
                                an occurrence tshark shows in a form we cannot convert is
                                MISSING in the list and not compared.
    source.ip / destination.ip  netflow.source_ipv4_address or source_ipv6_address (resp.
                                destination_*) when the record has exactly one of them, once
    source.port / destination.port   netflow.source_transport_port / destination_transport_port
                                (not when the template repeats the IE)
    network.iana_number         str(netflow.protocol_identifier)  (ECS keeps it a string; not
                                when the template repeats the IE)

NetFlow v5 (no template): tshark's fixed "pdu i/n" subtrees are mapped by name:
  cflow.srcaddr source_ipv4_address, dstaddr destination_ipv4_address, nexthop
  ip_next_hop_ipv4_address, inputint ingress_interface, outputint egress_interface,
  packets packet_delta_count, octets octet_delta_count, timestart flow_start_sys_up_time,
  timeend flow_end_sys_up_time (tshark shows both as relative time in seconds: * 1000 -> ms),
  srcport source_transport_port, dstport destination_transport_port, tcpflags
  tcp_control_bits, protocol protocol_identifier, tos ip_class_of_service, srcas
  bgp_source_as_number, dstas bgp_destination_as_number, srcmask source_ipv4_prefix_length,
  dstmask destination_ipv4_prefix_length.  (cflow.padding and the header's engine / sampling
  fields are not compared.)

NetFlow v9 / IPFIX: which IE is behind a tshark field?  tshark's cflow field names are not
IANA names (cflow.octets, cflow.srcaddr, cflow.abstimestart, ...), several IEs share one name
(IE 150/152/154/156 are all cflow.abstimestart; PEN 29305 reverse IEs reuse the forward names)
and one IE can give several items (cflow.tcpflags + its bit tree; start+end times are put under
a generated cflow.timedelta).  So the mapping is MEASURED, not typed in:
  1. calibration (calibrate(), once per process): for every IE of iana.iespec, forward and
     PEN 29305 reverse, in NetFlow v9 (IEs < 32768, no PEN) and in IPFIX, a synthetic datagram
     with a one-field template and one data record holding a known value goes through the
     same tshark.  The first cflow.* item in that record is the IE's "primary" tshark field.
     The IE is usable only if that item covers the whole field (its _raw extent has the
     field's length) and tshark's shown value, converted by the rules below, equals the value
     we encoded.  Everything else (tshark splits the field, e.g. applicationId into engine +
     selector; shows a different unit; does not decode the IE) is left out: see
     calibration_report().
  2. per data record: the template (tshark decodes it in the frame cflow.template_frame names)
     gives the ordered list of (PEN, IE).  The k-th occurrence of a primary name in the
     record (depth first, so start/end times under cflow.timedelta_tree count) is assigned to
     the k-th template field whose (PEN, IE) has that primary name.  Only items with bytes
     behind them count (a "<name>_raw" right before them in the JSON): tshark's generated
     items (the [Duration] cflow.timedelta it adds over start + end times, which has the same
     name as flowDurationMilliseconds) and vendor labels are skipped.  If the counts differ,
     that name is not compared for that record (stats "unaligned").  Template fields of other
     PENs and v9 scope fields (cflow.scope_*) are not compared.

Value rendering (tshark's JSON shows the display value as a string):
  unsigned/signed      int(text, 0)  (tshark shows some in hex: tcpflags "0x18", tos "0x00")
  float32/64           float
  ipv4Address          text;  ipv6Address  ipaddress-compressed (RFC 5952)
  macAddress           lowercase "aa:bb:cc:dd:ee:ff"
  string               text (tshark's FT_STRING shows up to the first NUL; non-ASCII bytes
                       may come out as U+FFFD).  We trim trailing NUL padding only, so
                       values_agree() compares tshark's text with ours up to its first NUL
  octetArray           tshark's FT_BYTES "aa:bb:..." -> "aabb..."
  boolean              1 -> true, 2 -> false
  dateTime*            tshark's absolute time "Oct 31, 2026 23:59:50.352000000 UTC" -> RFC 3339,
                       compared by values_agree() as INSTANTS (ours prints 3, 6 or 9 fraction
                       digits as the value needs, tshark always 9) at the IE's precision
                       (s / ms / us / ns, both sides truncated): dateTimeMicroseconds/
                       Nanoseconds are NTP fractions, and tshark and we may round the last
                       digit differently
  ipv4/ipv6Address     compared as ipaddress objects: an IPv4-mapped IPv6 value is
                       "::ffff:cb00:715b" in tshark, "::ffff:203.0.113.91" in ours
  sysUpTime IEs (21/22) tshark shows relative time in seconds -> * 1000 -> ms integer (the
                       calibration measures the factor for every relative-time IE)

Quirks seen with tshark 4.0.17 (each may need a known-difference entry):
  * a data set whose template tshark has not seen is shown as "Data (N bytes), no template
    found" with the expert info cflow.no_template_found (and tshark then adds _ws.malformed):
    no records are produced for it; tshark_counts() reports it.
  * reduced-size encodings (e.g. 4-byte octetDeltaCount) are shown with the plain value.
  * v9 options templates: the scope fields are cflow.scope_system / scope_interface / ...
    (v9 scope types, a namespace of their own): not compared.
  * variable-length fields (length 65535 in the template) add a cflow.string_len_short /
    string_len_long item: not a value, ignored.
  * tshark's sequence-number analysis (cflow.sequence_analysis.*, expert "Unexpected flow
    sequence") is ignored.
  * the "Duration" cflow.timedelta item is generated by tshark, not an IE: ignored (it has
    no _raw; see 2. above).
  * NetFlow v9: tshark stops dissecting after the header's Count records (templates count),
    so sets after them are not shown at all; tapsift does not use the v9 count.
  * IPFIX: tshark does not check sets against the message header's length.
"""
import calendar
import datetime
import ipaddress
import json
import os
import re
import struct
import subprocess
import tempfile

IESPEC = "/usr/lib/python3/dist-packages/ipfix/iana.iespec"
REVERSE_PEN = 29305
DECODE_AS = ["-d", "udp.port==2055,cflow", "-d", "udp.port==4739,cflow"]
MISSING = object()
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
NTP_EPOCH_OFFSET = 2208988800  # 1900-01-01 .. 1970-01-01 in seconds

V5_MAP = {
    "cflow.srcaddr": "source_ipv4_address", "cflow.dstaddr": "destination_ipv4_address",
    "cflow.nexthop": "ip_next_hop_ipv4_address", "cflow.inputint": "ingress_interface",
    "cflow.outputint": "egress_interface", "cflow.packets": "packet_delta_count",
    "cflow.octets": "octet_delta_count", "cflow.timestart": "flow_start_sys_up_time",
    "cflow.timeend": "flow_end_sys_up_time", "cflow.srcport": "source_transport_port",
    "cflow.dstport": "destination_transport_port", "cflow.tcpflags": "tcp_control_bits",
    "cflow.protocol": "protocol_identifier", "cflow.tos": "ip_class_of_service",
    "cflow.srcas": "bgp_source_as_number", "cflow.dstas": "bgp_destination_as_number",
    "cflow.srcmask": "source_ipv4_prefix_length", "cflow.dstmask": "destination_ipv4_prefix_length",
}
TIME_DIGITS = {"dateTimeSeconds": 0, "dateTimeMilliseconds": 3, "dateTimeMicroseconds": 6,
               "dateTimeNanoseconds": 9}


# ---------------------------------------------------------------- IE names

def ie_snake_name(camel):
    """IANA camelCase -> our snake_case: sourceIPv4Address -> source_ipv4_address,
    postNAPTSourceTransportPort -> post_napt_source_transport_port, ipTTL -> ip_ttl."""
    s = camel.replace("IPv4", "Ipv4").replace("IPv6", "Ipv6")
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


_IES = None


def iana_ies():
    """{ie id: (camelName, type, length)} from python3-ipfix's iana.iespec."""
    global _IES
    if _IES is None:
        _IES = {}
        with open(IESPEC) as f:
            for line in f:
                m = re.match(r"^(\w+)\((\d+)\)<(\w+)>\[(\d+)\]", line.strip())
                if m:
                    _IES[int(m.group(2))] = (m.group(1), m.group(3), int(m.group(4)))
    return _IES


def our_name(pen, ie):
    ies = iana_ies()
    if ie not in ies:
        return None
    n = ie_snake_name(ies[ie][0])
    return n if pen == 0 else "reverse_" + n


# ---------------------------------------------------------------- value conversion

def ns_of_tshark_abs(text):
    m = re.fullmatch(r"(\w{3}) +(\d+), (\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? UTC", text)
    if not m or m.group(1).lower() not in MONTHS:
        return None
    mo = MONTHS.index(m.group(1).lower()) + 1
    d, y, h, mi, s = (int(m.group(i)) for i in (2, 3, 4, 5, 6))
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + int((m.group(7) or "0").ljust(9, "0"))


def ns_of_rfc3339(ts):
    if not isinstance(ts, str):
        return None
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", ts)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    ns = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + int((m.group(7) or "0").ljust(9, "0"))
    if m.group(8) != "Z":
        sign = 1 if m.group(8)[0] == "+" else -1
        ns -= sign * (int(m.group(8)[1:3]) * 3600 + int(m.group(8)[4:6]) * 60) * 10**9
    return ns


def rfc3339_of_ns(ns, digits=9):
    secs, frac = divmod(ns, 10**9)
    base = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    return base + "." + f"{frac:09d}"[:digits] + "Z"


def rel_seconds_to_units(text, factor):
    """tshark relative time "3576.644000000" (seconds) -> integer in units of 1/factor s."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,9}))?", text)
    if not m:
        return None
    ns = int(m.group(2)) * 10**9 + int((m.group(3) or "0").ljust(9, "0"))
    v = ns * factor // 10**9
    return -v if m.group(1) else v


def convert(ie_type, text, rel_factor=None):
    """tshark display text -> our JSON rendering for an IE of iespec type ie_type.
    Returns MISSING when the text does not fit the type."""
    try:
        if rel_factor is not None:
            v = rel_seconds_to_units(text, rel_factor)
            return MISSING if v is None else v
        if ie_type.startswith(("unsigned", "signed")):
            return int(text, 0)
        if ie_type.startswith("float"):
            return float(text)
        if ie_type == "ipv4Address":
            return str(ipaddress.IPv4Address(text))
        if ie_type == "ipv6Address":
            return ipaddress.IPv6Address(text).compressed
        if ie_type == "macAddress":
            if not re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", text):
                return MISSING
            return text.lower()
        if ie_type == "string":
            return text
        if ie_type == "octetArray":
            if not re.fullmatch(r"([0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*)?", text):
                return MISSING
            return text.replace(":", "").lower()
        if ie_type == "boolean":
            return {"1": True, "2": False, "True": True, "False": False}.get(text, MISSING)
        if ie_type in TIME_DIGITS:
            ns = ns_of_tshark_abs(text)
            return MISSING if ns is None else rfc3339_of_ns(ns, 9)
    except ValueError:
        return MISSING
    return MISSING


def _one_agrees(field, tval, oval, digits, ie_type):
    if digits is not None:
        # instants, not strings: ours prints ms / us / ns as the value needs, tshark always 9
        # digits; both sides truncated to the IE's precision
        a, b = ns_of_rfc3339(tval), ns_of_rfc3339(oval)
        if a is None or b is None:
            return False
        unit = 10 ** (9 - digits)
        return a // unit == b // unit
    if isinstance(tval, bool) or isinstance(oval, bool):
        return tval is oval
    if isinstance(tval, float) or isinstance(oval, float):
        return isinstance(oval, (int, float)) and not isinstance(oval, bool) and float(tval) == float(oval)
    if (isinstance(tval, str) and isinstance(oval, str)
            and (ie_type in ("ipv4Address", "ipv6Address") or field.endswith(("_address", ".ip")))):
        # addresses as address objects: an IPv4-mapped IPv6 value is "::ffff:cb00:715b" in
        # tshark and "::ffff:203.0.113.91" in ours
        try:
            return ipaddress.ip_address(tval) == ipaddress.ip_address(oval)
        except ValueError:
            return tval == oval
    if ie_type == "string" and isinstance(tval, str) and isinstance(oval, str):
        # tshark's FT_STRING stops at the first NUL; we keep the whole field minus trailing NUL
        # padding, so a NUL inside the value ends what tshark can show
        return tval == oval.split("\0", 1)[0]
    return tval == oval and type(tval) is type(oval)


def values_agree(field, tval, oval, record=None):
    """tshark value (already in our rendering) vs our event's value for `field`.
    A list on tshark's side (an IE the template repeats) must be a list of the same length on
    ours, element by element (an element tshark could not convert, MISSING, is skipped)."""
    record = record or {}
    digits = record.get("_time_digits", {}).get(field)
    ie_type = record.get("_types", {}).get(field)
    if isinstance(tval, list):
        if not isinstance(oval, list) or len(oval) != len(tval):
            return False
        return all(t is MISSING or _one_agrees(field, t, o, digits, ie_type) for t, o in zip(tval, oval))
    if isinstance(oval, list):
        return False
    return _one_agrees(field, tval, oval, digits, ie_type)


def get_path(event, dotted):
    """event["a"]["b"]["c"] for "a.b.c"; MISSING if any step is absent.  A key that itself
    contains a dot (our "@timestamp" does not) is tried whole first."""
    if dotted in event:
        return event[dotted]
    cur = event
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return MISSING
        cur = cur[part]
    return cur


# ---------------------------------------------------------------- tshark JSON

_RUNS = {}


def _run_tshark(pcap):
    st = os.stat(pcap)
    key = (os.path.realpath(pcap), st.st_size, st.st_mtime_ns)
    if key not in _RUNS:
        _RUNS[key] = _run_tshark_uncached(pcap)
    return _RUNS[key]


def _run_tshark_uncached(pcap):
    cmd = ["tshark", "-n", "-r", pcap, *DECODE_AS, "-T", "json", "-x"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600,
                       env=dict(os.environ, TZ="UTC"))
    if p.returncode != 0:
        raise RuntimeError("tshark failed: " + p.stderr.decode(errors="replace"))
    return json.loads(p.stdout or b"[]", object_pairs_hook=lambda pairs: pairs)


def _is_tree(v):
    return isinstance(v, list) and (not v or isinstance(v[0], tuple))


def _get(pairs, key, default=None):
    for k, v in pairs:
        if k == key:
            return v
    return default


def _walk_items(pairs):
    """Depth-first (name, value, raw) for every cflow.* item of a record subtree (into
    cflow.*_tree subtrees, not into other protocols' trees), in order.  Only items with bytes
    behind them: tshark's JSON puts "<name>_raw" right before such an item; an item without it
    is generated by tshark (the [Duration] cflow.timedelta it adds over start + end times, which
    would otherwise be miscounted as an occurrence of flowDurationMilliseconds, IE 161) or a
    label (cflow.pie.<vendor>), not a field of the record."""
    prev = None
    for k, v in pairs:
        if k.endswith("_raw"):
            prev = (k[:-4], v)
            continue
        raw = prev[1] if prev and prev[0] == k else None
        prev = None
        if _is_tree(v):
            if k.startswith("cflow.") or k.startswith("[") or k.startswith("Duration"):
                yield from _walk_items(v)
            continue
        if not k.startswith("cflow.") or raw is None:
            continue
        yield k, v, raw


def _frames(data):
    """(frame number, layers pairs, cflow pairs or None, ip src, udp sport)"""
    for pkt in data:
        layers = _get(_get(pkt, "_source"), "layers")
        fr = _get(layers, "frame")
        num = int(_get(fr, "frame.number"))
        cflow = _get(layers, "cflow")
        ip = _get(layers, "ip")
        udp = _get(layers, "udp")
        yield (num, layers, cflow, _get(ip, "ip.src") if ip else None,
               _get(udp, "udp.srcport") if udp else None)


SET_RE = re.compile(r"^(?:FlowSet|Set) \d+ \[id=(\d+)\]")


def _template_fields(tpairs):
    """Ordered [(pen or 'scope', ie)] of a tshark template subtree."""
    out = []
    for k, v in tpairs:
        if not (k.startswith("Field (") and _is_tree(v)):
            continue
        ftype = pen = None
        for fk, fv in v:
            if fk == "cflow.scope_field_type":
                ftype, pen = int(fv), "scope"
            elif fk.endswith("field_type") and not fk.endswith("_raw"):
                ftype = int(fv)
            elif fk == "cflow.template_ipfix_field_pen":
                pen = int(fv)
        if pen is None:
            pen = 0
        out.append((pen, ftype))
    return out


def _parse(data):
    """Walks tshark's JSON once. Returns (frames, templates):
    frames = [(num, info)] with info = {"version", "header": {...}, "sets": [...], "expert": [...],
             "malformed": bool, "ip": ..., "sport": ...}
    templates = {(frame, template id): (is_options, [(pen, ie), ...])}"""
    frames, templates = [], {}
    for num, layers, cflow, ip, sport in _frames(data):
        info = {"ip": ip, "sport": sport, "cflow": cflow is not None, "expert": [], "malformed": False,
                "sets": [], "v5_records": []}

        def experts(pairs):
            for k, v in pairs:
                if k == "_ws.expert" and _is_tree(v):
                    msg = _get(v, "_ws.expert.message")
                    if msg:
                        info["expert"].append(msg)
                elif k == "_ws.malformed":
                    info["malformed"] = True
                elif _is_tree(v) and not k.endswith("_raw"):
                    experts(v)

        experts(layers)
        frames.append((num, info))
        if cflow is None:
            continue
        info["version"] = int(_get(cflow, "cflow.version"))
        info["header"] = cflow
        for k, v in cflow:
            if k.startswith("pdu ") and _is_tree(v):
                info["v5_records"].append(v)
                continue
            m = SET_RE.match(k)
            if not (m and _is_tree(v)):
                continue
            set_id = int(m.group(1))
            st = {"id": set_id, "templates": [], "options_templates": [], "records": [],
                  "no_template": False, "template_frame": None}
            tf = _get(v, "cflow.template_frame")
            if tf is not None:
                st["template_frame"] = int(tf)
            for sk, sv in v:
                if sk.startswith("Template (Id") and _is_tree(sv):
                    tid = int(_get(sv, "cflow.template_id"))
                    st["templates"].append(tid)
                    templates[(num, tid)] = (False, _template_fields(sv))
                elif sk.startswith("Options Template (Id") and _is_tree(sv):
                    tid = int(_get(sv, "cflow.template_id"))
                    st["options_templates"].append(tid)
                    templates[(num, tid)] = (True, _template_fields(sv))
                elif sk.startswith("Flow ") and _is_tree(sv):
                    st["records"].append(sv)
                elif "no template found" in sk:
                    st["no_template"] = True
            info["sets"].append(st)
    return frames, templates


# ---------------------------------------------------------------- calibration

def _ipfix_msg(domain, tid, pen, ie, length, value_bytes):
    if pen:
        fld = struct.pack(">HHI", ie | 0x8000, length, pen)
    else:
        fld = struct.pack(">HH", ie, length)
    tset = struct.pack(">HH", 2, 4 + 4 + len(fld)) + struct.pack(">HH", tid, 1) + fld
    dset = struct.pack(">HH", tid, 4 + len(value_bytes)) + value_bytes
    body = tset + dset
    return struct.pack(">HHIII", 10, 16 + len(body), 1793491200, 0, domain) + body


def _v9_msg(source_id, tid, ie, length, value_bytes):
    tset = struct.pack(">HH", 0, 4 + 8) + struct.pack(">HHHH", tid, 1, ie, length)
    pad = (-(4 + len(value_bytes))) % 4
    dset = struct.pack(">HH", tid, 4 + len(value_bytes) + pad) + value_bytes + b"\0" * pad
    return struct.pack(">HHIIII", 9, 2, 3600000, 1793491200, 0, source_id) + tset + dset


CAL_T = 1793491200  # 2026-11-01T00:00:00Z


def _cal_value(ie_type, length):
    """(bytes, expected rendering, relative-time check value in ms) for a calibration record."""
    if ie_type.startswith(("unsigned", "signed")):
        v = {1: 0x5A, 2: 0x1234, 4: 0x01234567, 8: 0x0123456789ABCDEF}[length]
        return v.to_bytes(length, "big"), v
    if ie_type == "float64":
        return struct.pack(">d", 1.5), 1.5
    if ie_type == "float32":
        return struct.pack(">f", 1.5), 1.5
    if ie_type == "ipv4Address":
        return bytes([10, 1, 2, 3]), "10.1.2.3"
    if ie_type == "ipv6Address":
        return ipaddress.IPv6Address("2001:db8::1:2").packed, "2001:db8::1:2"
    if ie_type == "macAddress":
        return bytes.fromhex("021122334455"), "02:11:22:33:44:55"
    if ie_type == "string":
        return b"abcd", "abcd"
    if ie_type == "octetArray":
        return bytes.fromhex("a1b2c3d4"), "a1b2c3d4"
    if ie_type == "boolean":
        return b"\x01", True
    if ie_type == "dateTimeSeconds":
        return struct.pack(">I", CAL_T), rfc3339_of_ns(CAL_T * 10**9, 9)
    if ie_type == "dateTimeMilliseconds":
        return struct.pack(">Q", CAL_T * 1000 + 123), rfc3339_of_ns(CAL_T * 10**9 + 123000000, 9)
    if ie_type in ("dateTimeMicroseconds", "dateTimeNanoseconds"):
        frac = 1 << 31  # exactly .5 s
        return struct.pack(">II", CAL_T + NTP_EPOCH_OFFSET, frac), rfc3339_of_ns(CAL_T * 10**9 + 500000000, 9)
    return None, None


_CAL = None


def calibrate():
    """{(version, pen, ie): {"name": primary tshark field, "type": iespec type, "factor":
    relative-time factor or None, "ok": bool, "why": text}} and the reverse index
    {(version, tshark name): set((pen, ie))} of usable IEs."""
    global _CAL
    if _CAL is not None:
        return _CAL
    ies = iana_ies()
    cases = []  # (version, pen, ie, type, length, value bytes, expected)
    for ie, (name, typ, length) in sorted(ies.items()):
        if length == 65535:
            length = 4
        vb, exp = _cal_value(typ, length)
        if vb is None:
            continue
        length = len(vb)
        for pen in (0, REVERSE_PEN):
            cases.append((10, pen, ie, typ, length, vb, exp))
        cases.append((9, 0, ie, typ, length, vb, exp))
    with tempfile.TemporaryDirectory() as td:
        pcap = os.path.join(td, "cal.pcap")
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for i, (ver, pen, ie, typ, length, vb, exp) in enumerate(cases):
                tid = 256 + i % 60000
                if ver == 10:
                    pl = _ipfix_msg(i + 1, tid, pen, ie, length, vb)
                    dport = 4739
                else:
                    pl = _v9_msg(i + 1, tid, ie, length, vb)
                    dport = 2055
                udp = struct.pack(">HHHH", 40000, dport, 8 + len(pl), 0) + pl
                iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                                  bytes([10, 78, 0, 1]), bytes([10, 78, 0, 2]))
                s = sum(struct.unpack(">10H", iph))
                while s >> 16:
                    s = (s & 0xFFFF) + (s >> 16)
                iph = iph[:10] + struct.pack(">H", ~s & 0xFFFF) + iph[12:]
                frame = bytes.fromhex("020000004e02020000004e010800") + iph + udp
                f.write(struct.pack("<IIII", CAL_T + i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
                f.write(frame)
        frames, _ = _parse(_run_tshark(pcap))
    cal, index = {}, {}
    by_num = dict(frames)
    for i, (ver, pen, ie, typ, length, vb, exp) in enumerate(cases):
        info = by_num.get(i + 1)
        entry = {"name": None, "type": typ, "factor": None, "ok": False, "why": ""}
        cal[(ver, pen, ie)] = entry
        recs = [r for st in (info or {}).get("sets", []) for r in st["records"]]
        if not recs:  # v9 padding after a short record may show up as extra records: use the first
            entry["why"] = "tshark decoded no record"
            continue
        items = list(_walk_items(recs[0]))
        items = [it for it in items if not it[0].startswith(("cflow.string_len", "cflow.padding"))]
        if not items:
            entry["why"] = "no cflow item"
            continue
        name, text, raw = items[0]
        entry["name"] = name
        covers = raw is not None and isinstance(raw, list) and len(raw) >= 3 and int(raw[2]) == length
        if not covers and typ not in TIME_DIGITS:  # times: tshark's item may cover part; the value decides
            entry["why"] = f"tshark item {name} does not cover the field ({raw[2] if raw else '?'} of {length} bytes)"
            continue
        got = convert(typ, text)
        if got != exp and typ.startswith(("unsigned", "signed")) and isinstance(exp, int):
            # relative time in seconds: find the unit (1 s, 1 ms, 1 us, 1 ns)
            for factor in (1, 1000, 10**6, 10**9):
                if rel_seconds_to_units(text, factor) == exp and re.fullmatch(r"\d+\.\d{9}", text):
                    entry["factor"] = factor
                    got = exp
                    break
        if got is MISSING or got != exp:
            entry["why"] = f"tshark shows {text!r} for {exp!r}"
            continue
        entry["ok"] = True
        index.setdefault((ver, name), set()).add((pen, ie))
    _CAL = (cal, index)
    return _CAL


def calibration_report():
    """Lines describing every IE tshark cannot be compared on (for the test's verbose output)."""
    cal, _ = calibrate()
    out = []
    for (ver, pen, ie), e in sorted(cal.items()):
        if not e["ok"]:
            out.append(f"v{ver} pen {pen} ie {ie} ({iana_ies()[ie][0]}): {e['name']} -- {e['why']}")
    return out


# ---------------------------------------------------------------- records

def _header_fields(info):
    h = info["header"]
    ver = info["version"]
    out = {"netflow.exporter.version": ver,
           "tapsift.format": {5: "netflow_v5", 9: "netflow_v9", 10: "ipfix"}.get(ver)}
    ts = _get(h, "cflow.timestamp")
    if ts is not None:
        ns = ns_of_tshark_abs(ts)
        if ns is not None:
            out["@timestamp"] = rfc3339_of_ns(ns, 9)
    up = _get(h, "cflow.sysuptime")
    if up is not None and ver in (5, 9):
        v = rel_seconds_to_units(up, 1000)
        if v is not None:
            out["netflow.exporter.uptime_millis"] = v
    if ver == 9 and _get(h, "cflow.source_id") is not None:
        out["netflow.exporter.source_id"] = int(_get(h, "cflow.source_id"))
    if ver == 10 and _get(h, "cflow.od_id") is not None:
        out["netflow.exporter.source_id"] = int(_get(h, "cflow.od_id"))
    if info["ip"]:
        out["observer.ip"] = info["ip"]
        if info["sport"]:
            out["netflow.exporter.address"] = f"{info['ip']}:{info['sport']}"
    return out


def _derived(rec):
    """The ECS fields we derive from the IEs, plus the comparison hints every record gets:
    _types (iespec type per field: addresses compare as address objects) and _time_digits
    (@timestamp, the header's export time, compares as an instant, to the nanosecond)."""
    types = rec.setdefault("_types", {})
    digits = rec.setdefault("_time_digits", {})
    if "@timestamp" in rec:
        digits["@timestamp"] = 9
    if "observer.ip" in rec:
        types["observer.ip"] = "ipv4Address" if ":" not in rec["observer.ip"] else "ipv6Address"
    for side in ("source", "destination"):
        keys = [k for k in (f"netflow.{side}_ipv4_address", f"netflow.{side}_ipv6_address") if k in rec]
        if len(keys) == 1 and not isinstance(rec[keys[0]], list):
            rec[f"{side}.ip"] = rec[keys[0]]
            types[f"{side}.ip"] = "ipv4Address" if "ipv4" in keys[0] else "ipv6Address"
        port = rec.get(f"netflow.{side}_transport_port")
        if port is not None and not isinstance(port, list):
            rec[f"{side}.port"] = port
    proto = rec.get("netflow.protocol_identifier")
    if proto is not None and not isinstance(proto, list):
        rec["network.iana_number"] = str(proto)


def _v5_record(items):
    rec = {}
    for name, text, _raw in items:
        ours = V5_MAP.get(name)
        if ours is None:
            continue
        if name in ("cflow.timestart", "cflow.timeend"):
            v = rel_seconds_to_units(text, 1000)
        elif name in ("cflow.srcaddr", "cflow.dstaddr", "cflow.nexthop"):
            v = text
            rec.setdefault("_types", {})["netflow." + ours] = "ipv4Address"
        else:
            v = int(text, 0)
        rec["netflow." + ours] = v
    return rec


def _template_record(ver, items, tfields, stats):
    """Maps a v9/IPFIX data record's tshark items to our fields using the template."""
    cal, index = calibrate()
    rec, digits, types = {}, {}, {}
    # template positions per primary tshark name
    positions = {}
    n_in_template = {}
    for pos, (pen, ie) in enumerate(tfields):
        if pen not in (0, REVERSE_PEN) or ie is None:
            continue
        e = cal.get((ver, pen, ie))
        if e and e["ok"]:
            positions.setdefault(e["name"], []).append(pos)
            key = "netflow." + our_name(pen, ie)
            n_in_template[key] = n_in_template.get(key, 0) + 1
    occurrences = {}
    for name, text, _raw in items:
        if name in positions:
            occurrences.setdefault(name, []).append(text)
    for name, texts in occurrences.items():
        pos = positions[name]
        if len(pos) != len(texts):
            stats["unaligned"] = stats.get("unaligned", 0) + 1
            continue
        for p, text in zip(pos, texts):
            pen, ie = tfields[p]
            e = cal[(ver, pen, ie)]
            v = convert(e["type"], text, e["factor"])
            if v is MISSING:
                stats["unconvertible"] = stats.get("unconvertible", 0) + 1
            key = "netflow." + our_name(pen, ie)
            if n_in_template[key] > 1:  # a repeated IE: every occurrence, in template order
                rec.setdefault(key, []).append(v)
                stats["repeated"] = stats.get("repeated", 0) + 1
            elif v is not MISSING:
                rec[key] = v
            else:
                continue
            types[key] = e["type"]
            if e["type"] in TIME_DIGITS:
                digits[key] = TIME_DIGITS[e["type"]]
    for key in [k for k, v in rec.items() if isinstance(v, list)]:
        if len(rec[key]) != n_in_template[key] or all(v is MISSING for v in rec[key]):
            # some occurrences were not aligned (another IE of the same tshark name differed in
            # count): the positions are not known, so the IE is not compared
            del rec[key]
            stats["repeated_unaligned"] = stats.get("repeated_unaligned", 0) + 1
    if digits:
        rec["_time_digits"] = digits
    rec["_types"] = types
    return rec


def _frame_records(num, info, templates, stats, only_sets=None):
    """The record dicts of one frame; only_sets: the positions of the sets to take (their
    records are then numbered from 0)."""
    out = []
    head = _header_fields(info)
    idx = 0
    if info["version"] == 5:
        for r in info["v5_records"]:
            rec = {"frame": num, "record": idx, "options": False, "event.action": "netflow_flow", **head}
            rec.update(_v5_record(list(_walk_items(r))))
            _derived(rec)
            out.append(rec)
            idx += 1
        return out
    for pos, st in enumerate(info["sets"]):
        if not st["records"] or (only_sets is not None and pos not in only_sets):
            continue
        tkey = (st["template_frame"], st["id"])
        is_opt, tfields = templates.get(tkey, (False, None))
        for r in st["records"]:
            rec = {"frame": num, "record": idx, "options": is_opt,
                   "event.action": "netflow_options" if is_opt else "netflow_flow",
                   "netflow.template_id": st["id"], **head}
            if tfields is None:
                stats["template_unknown"] = stats.get("template_unknown", 0) + 1
            else:
                rec.update(_template_record(info["version"], list(_walk_items(r)), tfields, stats))
            _derived(rec)
            out.append(rec)
            idx += 1
    return out


def tshark_flow_records(pcap, stats=None):
    """One dict per data record tshark decoded (see the module docstring)."""
    stats = {} if stats is None else stats
    frames, templates = _parse(_run_tshark(pcap))
    out = []
    for num, info in frames:
        if info["cflow"]:
            out.extend(_frame_records(num, info, templates, stats))
    return out


def _read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise RuntimeError(f"{path}: not a little-endian classic pcap")
    pkts, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkts.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], pkts


def tshark_late_records(pcap, replays, stats=None):
    """What tshark decodes from the data sets of frame F it had no template for, once the
    template is known: replays = {F: G}, G >= F the frame whose templates complete F's.  A
    copy of frame F is put right after frame G in a second capture (same addresses and ports,
    so tshark's template key matches); from that copy, the records of the sets that were
    "no template found" in the original F are taken, numbered from 0 in packet order (as
    tapsift numbers the records it decodes after their template arrived) and given frame F.
    Returns {F: [record dict, ...]}."""
    stats = {} if stats is None else stats
    head, pkts = _read_pcap(pcap)
    after = {}
    for f_, g in replays.items():
        after.setdefault(g, []).append(f_)
    order = []  # (original frame, is the copy)
    for i in range(1, len(pkts) + 1):
        order.append((i, False))
        order.extend((f_, True) for f_ in sorted(after.get(i, [])))
    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "late.pcap")
        with open(path, "wb") as f:
            f.write(head)
            for orig, _copy in order:
                f.write(pkts[orig - 1])
        frames, templates = _parse(_run_tshark(path))
    by_num = dict(frames)
    first_num = {orig: n for n, (orig, copy) in enumerate(order, 1) if not copy}
    out = {}
    for n, (orig, copy) in enumerate(order, 1):
        if not copy:
            continue
        original, again = by_num.get(first_num[orig]), by_num.get(n)
        if not (original and again and original["cflow"] and again["cflow"]):
            out[orig] = []
            continue
        held = {pos for pos, st in enumerate(original["sets"]) if st["no_template"]}
        recs = _frame_records(orig, again, templates, stats, only_sets=held)
        out[orig] = recs
    return out


def tshark_counts(pcap):
    """{frame: {"version", "data_records", "options_records", "templates", "options_templates",
    "no_template_sets", "no_template" (bool: data before its template), "malformed" (bool),
    "expert": [messages], "ip", "sport", "source_id" (v9 source id / IPFIX observation domain),
    "no_template_ids" [set ids of the data sets tshark had no template for, packet order],
    "template_ids" {ids of the (options) templates the frame defines}}} for every frame tshark
    dissected as cflow."""
    frames, templates = _parse(_run_tshark(pcap))
    out = {}
    for num, info in frames:
        if not info["cflow"]:
            continue
        c = {"version": info["version"], "data_records": 0, "options_records": 0, "templates": 0,
             "options_templates": 0, "no_template_sets": 0, "malformed": info["malformed"],
             "expert": info["expert"], "ip": info["ip"], "sport": info["sport"], "source_id": None,
             "no_template_ids": [], "template_ids": set()}
        sid = _get(info["header"], "cflow.source_id" if info["version"] == 9 else "cflow.od_id")
        if sid is not None and info["version"] in (9, 10):
            c["source_id"] = int(sid)
        if info["version"] == 5:
            c["data_records"] = len(info["v5_records"])
        for st in info["sets"]:
            c["templates"] += len(st["templates"])
            c["options_templates"] += len(st["options_templates"])
            c["template_ids"].update(st["templates"], st["options_templates"])
            c["no_template_sets"] += st["no_template"]
            if st["no_template"]:
                c["no_template_ids"].append(st["id"])
            if st["records"]:
                is_opt = templates.get((st["template_frame"], st["id"]), (False, None))[0]
                c["options_records" if is_opt else "data_records"] += len(st["records"])
        c["no_template"] = c["no_template_sets"] > 0 or any("no template" in m for m in c["expert"])
        out[num] = c
    return out
