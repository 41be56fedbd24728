"""Hand-built NetFlow v5 / v9 and IPFIX datagrams for the flow end-to-end tests.

The datagrams are assembled with struct, field by field, from RFC 3954 (NetFlow v9), RFC 7011
(IPFIX) and Cisco's NetFlow v5 layout, so a test states exactly which bytes the gateway gets;
scapy only wraps them in Ether/IP/UDP frames (Capture).

    f = F(8, 4)                                   a field specifier: IE 8, 4 bytes, no PEN
    f = F(82, VAR)                                variable-length (RFC 7011 §7)
    f = F(12235, 4, pen=9)                        enterprise-specific (IPFIX only)
    template_set([(256, [F(8, 4), ...])], ipfix)  a template set (v9 flowset 0 / IPFIX set 2)
    options_template_set([(257, scope, fields)], ipfix)
    data_set(256, [record(fields, values), ...])  a data set
    v9_packet(sets, source_id, ...)               a whole v9 datagram
    ipfix_message(sets, domain, ...)              a whole IPFIX message
    v5_packet([v5_record(...), ...], ...)         a whole NetFlow v5 datagram

    cap = Capture(); cap.add(payload, "192.0.2.1", sport=..., dport=2055, t_ms=...); cap.write(path)

Frame timestamps: T0 (2026-11-01T00:00:00Z) + t_ms; without t_ms a frame comes 1 ms after the
one before. Capture.add returns the frame's 1-based number (= the event's event.sequence).

template_set_index() is the gateway's template-store hash (hls-kernels/flow_parse/
template_store.cpp, FNV-1a over exporter, domain, template ID), so a test can predict exactly
which templates a flood evicts.
"""
import ipaddress
import struct

from scapy.all import IP, UDP, Ether, IPv6, raw

T0 = 1793491200  # 2026-11-01T00:00:00Z
VAR = 0xFFFF
REVERSE_PEN = 29305
TEMPLATE_SETS = 512
TEMPLATE_WAYS = 8


class F(tuple):
    """A field specifier (ie, length, pen)."""

    def __new__(cls, ie, length, pen=0):
        return super().__new__(cls, (ie, length, pen))

    ie = property(lambda s: s[0])
    length = property(lambda s: s[1])
    pen = property(lambda s: s[2])


def field_specs(fields, ipfix):
    out = b""
    for f in fields:
        f = F(*f)
        if f.pen and ipfix:
            out += struct.pack(">HHI", f.ie | 0x8000, f.length, f.pen)
        else:
            out += struct.pack(">HH", f.ie, f.length)
    return out


def pad4(body):
    return body + b"\0" * (-(4 + len(body)) % 4)


def make_set(set_id, body, pad=False):
    if pad:
        body = pad4(body)
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def template_record(tid, fields, ipfix, count=None):
    return struct.pack(">HH", tid, len(fields) if count is None else count) + field_specs(fields, ipfix)


def template_set(templates, ipfix):
    """templates: [(template id, [F, ...])]"""
    return make_set(2 if ipfix else 0, b"".join(template_record(t, f, ipfix) for t, f in templates))


def withdrawal_set(template_ids):
    """IPFIX template withdrawals (field count 0)."""
    return make_set(2, b"".join(struct.pack(">HH", t, 0) for t in template_ids))


def options_template_record(tid, scope, fields, ipfix):
    if ipfix:
        head = struct.pack(">HHH", tid, len(scope) + len(fields), len(scope))
    else:  # v9: scope and option lengths in bytes
        head = struct.pack(">HHH", tid, 4 * len(scope), 4 * len(fields))
    return head + field_specs(scope, ipfix) + field_specs(fields, ipfix)


def options_template_set(templates, ipfix):
    """templates: [(template id, [scope F, ...], [option F, ...])]"""
    body = b"".join(options_template_record(t, s, f, ipfix) for t, s, f in templates)
    # v9 options template flowsets are padded to 4 bytes (RFC 3954 §6.1)
    return make_set(3 if ipfix else 1, body, pad=not ipfix)


def encode_value(f, value):
    """One field's bytes. value: int, address text, str, bytes; for a variable-length field
    a ("long", bytes|str) tuple forces the 3-byte length form."""
    f = F(*f)
    long_form = False
    if isinstance(value, tuple) and value and value[0] == "long":
        long_form, value = True, value[1]
    if isinstance(value, str):
        try:
            value = ipaddress.ip_address(value).packed
        except ValueError:
            value = value.encode()
    if f.length == VAR:
        if isinstance(value, int):
            raise ValueError("a variable-length field needs bytes")
        if long_form or len(value) >= 255:
            return struct.pack(">BH", 255, len(value)) + value
        return struct.pack(">B", len(value)) + value
    if isinstance(value, int):
        return value.to_bytes(f.length, "big")
    if len(value) != f.length:
        if len(value) < f.length:  # strings: NUL-padded
            return value + b"\0" * (f.length - len(value))
        raise ValueError(f"{value!r} does not fit {f.length} bytes")
    return value


def record(fields, values):
    assert len(fields) == len(values), (fields, values)
    return b"".join(encode_value(f, v) for f, v in zip(fields, values))


def data_set(tid, records, pad=False):
    return make_set(tid, b"".join(records), pad=pad)


def v9_packet(sets, source_id, uptime_ms=3_600_000, unix_secs=T0, seq=0, count=None):
    """count: the header's record count (defaults to 0: tapsift, like most collectors,
    walks the flowsets by length, not by count)."""
    return struct.pack(">HHIIII", 9, 0 if count is None else count, uptime_ms, unix_secs, seq,
                       source_id) + b"".join(sets)


def ipfix_message(sets, domain, export_secs=T0, seq=0, length=None):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body) if length is None else length, export_secs, seq,
                       domain) + body


def v5_record(src, dst, nexthop="0.0.0.0", input_if=0, output_if=0, packets=0, octets=0, first=0,
              last=0, sport=0, dport=0, tcp_flags=0, proto=0, tos=0, src_as=0, dst_as=0, src_mask=0,
              dst_mask=0):
    a = lambda s: ipaddress.IPv4Address(s).packed  # noqa: E731
    return (a(src) + a(dst) + a(nexthop)
            + struct.pack(">HHIIIIHHBBBBHHBBH", input_if, output_if, packets, octets, first, last,
                          sport, dport, 0, tcp_flags, proto, tos, src_as, dst_as, src_mask, dst_mask, 0))


def v5_packet(records, uptime_ms=3_600_000, unix_secs=T0, unix_nsecs=0, seq=0, engine_type=0,
              engine_id=0, sampling=0, count=None):
    hdr = struct.pack(">HHIIIIBBH", 5, len(records) if count is None else count, uptime_ms, unix_secs,
                      unix_nsecs, seq, engine_type, engine_id, sampling)
    return hdr + b"".join(records)


def template_set_index(exporter, domain, tid):
    """The template store's set for (exporter, domain, template id): FNV-1a as in
    hls-kernels/flow_parse/template_store.cpp (IPv4 exporters are IPv4-mapped)."""
    addr = ipaddress.ip_address(exporter)
    b = (ipaddress.IPv6Address("::ffff:" + str(addr)) if addr.version == 4 else addr).packed
    h = 2166136261
    for x in b + bytes(((domain >> (8 * i)) & 0xFF) for i in range(4)) + bytes((tid & 0xFF, tid >> 8)):
        h = ((h ^ x) * 16777619) & 0xFFFFFFFF
    return h % TEMPLATE_SETS


class Capture:
    """Frames to a classic pcap (LINKTYPE_ETHERNET, microseconds)."""

    def __init__(self):
        self.frames = []  # (t_us, bytes)
        self.t_us = -1000

    def add(self, payload, src, sport=40000, dport=2055, t_ms=None, t_us=None, dst=None):
        if t_us is None:
            t_us = self.t_us + 1000 if t_ms is None else int(t_ms * 1000)
        self.t_us = t_us
        if ":" in src:
            l3 = IPv6(src=src, dst=dst or "2001:db8::1", hlim=64)
        else:
            l3 = IP(src=src, dst=dst or "192.0.2.254", ttl=64, id=len(self.frames) & 0xFFFF)
        frame = raw(Ether(src="02:00:00:00:4d:01", dst="02:00:00:00:4d:02") / l3
                    / UDP(sport=sport, dport=dport) / payload)
        self.frames.append((t_us, frame))
        return len(self.frames)

    def __len__(self):
        return len(self.frames)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for t_us, frame in self.frames:
                f.write(struct.pack("<IIII", T0 + t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)))
                f.write(frame)
        return path


# --------------------------------------------------------------------------
# Running a capture through `tapsift replay` and reading its flow events back
# --------------------------------------------------------------------------
def run_replay(broker, name, capture, config="", timeout_s=30, own_topic=True):
    """Replays capture (a Capture or a pcap path) with its own flows topic (so runs sharing a
    broker do not see each other's events; own_topic=False: the default topic, tapsift.flows)
    plus the YAML in config (top-level sections other than kafka).
    Returns (exit code, stats dict or None, output, [(key, event), ...])."""
    import os

    from e2e_support import WORK, consume_all, replay, write_config

    pcap = capture if isinstance(capture, str) else capture.write(os.path.join(WORK, name + ".pcap"))
    topic = "tapsift.flows." + name if own_topic else "tapsift.flows"
    cfg = write_config(name, (f"kafka:\n  topics:\n    flows: {topic}\n" if own_topic else "") + config)
    rc, c, out = replay(pcap, broker.bootstrap, name, ["--config", cfg])
    produced = c["flow"]["produced"] if c else 0
    return rc, c, out, consume_all(broker.bootstrap, topic, produced, timeout_s)


def get(event, path, default=None):
    """event["a"]["b"]["c"] for "a.b.c" (netflow.unknown keys may hold dots: pass a list)."""
    cur = event
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur
