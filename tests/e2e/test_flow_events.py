"""Flow event shape, field by field, for hand-built NetFlow v5 / v9 and IPFIX datagrams.

One capture, replayed twice:
  run 1 (defaults, topic tapsift.flows)
    sampling   v9 .81: options data samplingInterval (34) = 100, samplingAlgorithm (35) = 2;
               v9 .82: options data FLOW_SAMPLER_RANDOM_INTERVAL (50) = 64, mode (49) = 2;
               IPFIX .83: samplingPacketInterval (305) 1, samplingPacketSpace (306) 9 = 1-in-10;
               v9 .84 says nothing (no netflow.sampling); v5 .85: header 0x4000|50 = 1-in-50.
               Options records are events of their own (event.action netflow_options, no
               source/network, v9 scope as netflow.scope_system).
    v5         times from sysUptime: event.start/end = export time - (uptime - First/Last),
               the export time from unix_secs + unix_nsecs (ns precision shown), an uptime
               counter that wrapped (First = 2^32 - 4096 with uptime 5000); every v5 field by
               its IANA name, padding left out; netflow.exporter.uptime_millis; source_id =
               engine type << 8 | engine id; no netflow.template_id.
    IPFIX .86  biflow (PEN 29305: netflow.reverse_octet_delta_count / reverse_packet_delta_count;
               network.bytes stays the forward count), flowDirection -> network.direction,
               flowStart/EndMilliseconds -> event.start/end; enterprise IEs -> netflow.unknown
               "<pen>_<id>" as hex (a repeated one gets its position), an unassigned IANA ID
               -> "0_<id>"; variable-length strings in the 1-byte and 3-byte length forms
               (and 300 bytes, and empty); a repeated IE -> an array in template order;
               fixed-length strings with trailing NULs trimmed (an inner NUL kept); MAC
               addresses as aa:bb:cc:dd:ee:ff; IPv6 addresses in RFC 5952 form.
  run 2 (flows.sampling_overrides {.82: 1000, .84: 1000}, flows.scale_sampled_counts: true)
    .82 / .84 records: netflow.sampling.interval 1000, source "config", counter
    flow.sampling_overridden == those records; every sampled flow's network.bytes/packets and
    source.bytes/packets multiplied by its rate, netflow.* counters raw, sampling.scaled true.
"""

from e2e_support import Broker, Check, accounting_balances
from flow_craft import (REVERSE_PEN, T0, VAR, Capture, F, data_set, get, ipfix_message, options_template_set,
                        record, run_replay, template_set, v5_packet, v5_record, v9_packet)

check = Check()

FLOW_V9 = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 4), F(2, 4), F(22, 4), F(21, 4)]
FLOW_V6 = [F(27, 16), F(28, 16), F(7, 2), F(11, 2), F(4, 1), F(1, 8), F(2, 8)]
RATES = {"192.0.2.81": 100, "192.0.2.82": 64, "192.0.2.83": 10, "192.0.2.85": 50}
OVERRIDES = {"192.0.2.82": 1000, "192.0.2.84": 1000}


class Want:
    def __init__(self):
        self.by_frame = {}

    def add(self, frame, recs):
        """recs: [{dotted path or tuple: value}] in record order; None = must be absent."""
        self.by_frame[frame] = recs


def build():
    cap, want = Capture(), Want()
    # ---- sampling from options data (v9 34/35, v9 50/49, IPFIX 305/306); none; v5 header ----
    n = 0
    for exp, src_id, opt in (("192.0.2.81", 1, [F(34, 4), F(35, 1)]), ("192.0.2.82", 2, [F(50, 4), F(49, 1)]),
                             ("192.0.2.84", 4, None)):
        sets = [template_set([(256, FLOW_V9)], False)]
        if opt:
            sets.append(options_template_set([(257, [F(1, 4)], opt)], False))
        cap.add(v9_packet(sets, src_id), exp, 2055)
        if opt:
            f = cap.add(v9_packet([data_set(257, [record([F(1, 4)] + opt, [0xC0000201, RATES[exp], 2])], pad=True)],
                                  src_id), exp, 2055)
            want.add(f, [{"event.action": "netflow_options", "event.type": ["info"], "source": None,
                          "network": None, "netflow.sampling": None, "netflow.type": "netflow_options",
                          "netflow.scope_system": 0xC0000201,
                          ("netflow", opt[0].ie == 34 and "sampling_interval" or "sampler_random_interval"):
                          RATES[exp], "netflow.template_id": 257}])
        recs, exp_recs = [], []
        for k in range(2):
            n += 1
            raw = dict(bytes=1000 * n, packets=10 * n)
            recs.append(record(FLOW_V9, [f"10.8.{n}.1", f"10.8.{n}.2", 1000 + n, 80, 6, raw["bytes"], raw["packets"],
                                         3_595_000, 3_599_000]))
            exp_recs.append({"source.ip": f"10.8.{n}.1", "destination.ip": f"10.8.{n}.2", "source.port": 1000 + n,
                             "destination.port": 80, "network.transport": "tcp", "network.iana_number": "6",
                             "netflow.octet_delta_count": raw["bytes"], "netflow.packet_delta_count": raw["packets"],
                             "event.start": "2026-10-31T23:59:55.000Z", "event.end": "2026-10-31T23:59:59.000Z",
                             "event.duration": 4_000_000_000, "netflow.exporter.uptime_millis": 3_600_000,
                             "netflow.exporter.version": 9, "netflow.exporter.source_id": src_id,
                             "netflow.flow_start_sys_up_time": 3_595_000, "event.action": "netflow_flow",
                             "event.type": ["connection"], "tapsift.format": "netflow_v9",
                             "_raw": raw, "_exporter": exp})
        want.add(cap.add(v9_packet([data_set(256, recs, pad=True)], src_id), exp, 2055), exp_recs)
    # IPFIX 305/306 (IPv6 flows)
    e83 = "192.0.2.83"
    cap.add(ipfix_message([template_set([(300, FLOW_V6)], True),
                           options_template_set([(301, [F(149, 4)], [F(305, 4), F(306, 4)])], True)], 7), e83,
            4739, 4739)
    f = cap.add(ipfix_message([data_set(301, [record([F(149, 4), F(305, 4), F(306, 4)], [7, 1, 9])])], 7), e83,
                4739, 4739)
    want.add(f, [{"event.action": "netflow_options", "netflow.observation_domain_id": 7,
                  "netflow.sampling_packet_interval": 1, "netflow.sampling_packet_space": 9}])
    raw = dict(bytes=123456, packets=321)
    f = cap.add(ipfix_message([data_set(300, [record(FLOW_V6, ["2001:db8:0:0:0:0:0:83", "2001:db8::1:0:0:1", 5353,
                                                             5353, 17, raw["bytes"], raw["packets"]])])], 7),
                e83, 4739, 4739)
    want.add(f, [{"source.ip": "2001:db8::83", "destination.ip": "2001:db8::1:0:0:1",
                  "netflow.source_ipv6_address": "2001:db8::83", "network.transport": "udp",
                  "netflow.exporter.version": 10, "netflow.exporter.source_id": 7,
                  "netflow.exporter.uptime_millis": None, "tapsift.format": "ipfix", "_raw": raw, "_exporter": e83}])

    # ---- NetFlow v5 ----
    e85 = "192.0.2.85"
    r1 = v5_record("10.5.0.1", "10.5.0.2", nexthop="10.5.0.254", input_if=3, output_if=4, packets=7, octets=700,
                   first=3_590_000, last=3_599_000, sport=1234, dport=443, tcp_flags=0x1B, proto=6, tos=0xB8,
                   src_as=64512, dst_as=65001, src_mask=24, dst_mask=16)
    r2 = v5_record("10.5.1.1", "10.5.1.2", packets=1, octets=76, first=3_599_500, last=3_599_900, sport=53,
                   dport=53000, proto=17)
    f = cap.add(v5_packet([r1, r2], uptime_ms=3_600_000, unix_secs=T0, unix_nsecs=500_000_000, seq=77,
                          engine_type=1, engine_id=2, sampling=0x4000 | 50), e85, 2055)
    v5_common = {"netflow.exporter.version": 5, "netflow.exporter.source_id": 258,
                 "netflow.exporter.uptime_millis": 3_600_000, "netflow.template_id": None,
                 "@timestamp": "2026-11-01T00:00:00.500Z", "netflow.exporter.timestamp": "2026-11-01T00:00:00.500Z",
                 "tapsift.format": "netflow_v5", "netflow.unknown": None, "netflow.padding_octets": None,
                 "_exporter": e85}
    want.add(f, [dict(v5_common, **{
        "source.ip": "10.5.0.1", "destination.ip": "10.5.0.2", "source.port": 1234, "destination.port": 443,
        "netflow.source_ipv4_address": "10.5.0.1", "netflow.destination_ipv4_address": "10.5.0.2",
        "netflow.ip_next_hop_ipv4_address": "10.5.0.254", "netflow.ingress_interface": 3,
        "netflow.egress_interface": 4, "netflow.packet_delta_count": 7, "netflow.octet_delta_count": 700,
        "netflow.flow_start_sys_up_time": 3_590_000, "netflow.flow_end_sys_up_time": 3_599_000,
        "netflow.source_transport_port": 1234, "netflow.destination_transport_port": 443,
        "netflow.tcp_control_bits": 0x1B, "netflow.protocol_identifier": 6, "netflow.ip_class_of_service": 0xB8,
        "netflow.bgp_source_as_number": 64512, "netflow.bgp_destination_as_number": 65001,
        "netflow.source_ipv4_prefix_length": 24, "netflow.destination_ipv4_prefix_length": 16,
        "network.transport": "tcp", "event.start": "2026-10-31T23:59:50.500Z",
        "event.end": "2026-10-31T23:59:59.500Z", "event.duration": 9_000_000_000,
        "_raw": dict(bytes=700, packets=7)}),
        dict(v5_common, **{"source.ip": "10.5.1.1", "network.transport": "udp",
                           "event.start": "2026-11-01T00:00:00.000Z", "event.end": "2026-11-01T00:00:00.400Z",
                           "_raw": dict(bytes=76, packets=1)})])
    r3 = v5_record("10.5.2.1", "10.5.2.2", packets=2, octets=200, first=0xFFFFF000, last=4000, proto=1)
    f = cap.add(v5_packet([r3], uptime_ms=5000, unix_secs=T0, unix_nsecs=123_456_789, engine_type=1, engine_id=2,
                          sampling=0x4000 | 50), e85, 2055)
    want.add(f, [dict(v5_common, **{"@timestamp": "2026-11-01T00:00:00.123456789Z",
                                    "netflow.exporter.timestamp": "2026-11-01T00:00:00.123456789Z",
                                    "netflow.exporter.uptime_millis": 5000, "source.ip": "10.5.2.1",
                                    "network.transport": "icmp", "netflow.flow_start_sys_up_time": 0xFFFFF000,
                                    "event.start": "2026-10-31T23:59:51.027456789Z",
                                    "event.end": "2026-10-31T23:59:59.123456789Z",
                                    "event.duration": 8_096_000_000, "_raw": dict(bytes=200, packets=2)})])

    # ---- IPFIX field forms (192.0.2.86, domain 0) ----
    e86 = "192.0.2.86"
    rev = lambda ie, n: F(ie, n, pen=REVERSE_PEN)  # noqa: E731
    t_bi = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 8), F(2, 8), rev(1, 8), rev(2, 8), F(61, 1),
            F(152, 8), F(153, 8)]
    t_ent = [F(8, 4), F(12, 4), F(12235, 4, pen=9), F(1, 2, pen=6871), F(30000, 2), F(40, 3, pen=4),
             F(40, 1, pen=4)]
    t_var = [F(8, 4), F(12, 4), F(82, VAR), F(83, VAR)]
    t_rep = [F(8, 4), F(12, 4), F(18, 4), F(18, 4), F(18, 4), F(82, VAR), F(82, VAR)]
    t_str = [F(8, 4), F(12, 4), F(82, 16), F(83, 8), F(94, 6)]
    t_mac = [F(8, 4), F(12, 4), F(56, 6), F(80, 6)]
    cap.add(ipfix_message([template_set([(400, t_bi), (401, t_ent), (402, t_var), (403, t_rep), (404, t_str),
                                         (405, t_mac)], True)], 0), e86, 4739, 4739)
    t0_ms = T0 * 1000
    f = cap.add(ipfix_message([data_set(400, [record(t_bi, ["10.86.0.1", "10.86.0.2", 40000, 22, 6, 5000, 50, 70000,
                                                            60, 1, t0_ms - 2500, t0_ms - 1])])], 0), e86, 4739, 4739)
    want.add(f, [{"source.ip": "10.86.0.1", "network.bytes": 5000, "network.packets": 50,
                  "netflow.octet_delta_count": 5000, "netflow.reverse_octet_delta_count": 70000,
                  "netflow.reverse_packet_delta_count": 60, "network.direction": "outbound",
                  "netflow.flow_direction": 1, "event.start": "2026-10-31T23:59:57.500Z",
                  "event.end": "2026-10-31T23:59:59.999Z",
                  "netflow.flow_start_milliseconds": "2026-10-31T23:59:57.500Z",
                  "netflow.flow_end_milliseconds": "2026-10-31T23:59:59.999Z", "netflow.template_id": 400,
                  "netflow.unknown": None, "netflow.sampling": None}])
    f = cap.add(ipfix_message([data_set(401, [record(t_ent, ["10.86.1.1", "10.86.1.2", 0x0A0B0C0D, 0xBEEF, 0x1234,
                                                             b"\x01\x02\x03", 0xFF])])], 0), e86, 4739, 4739)
    want.add(f, [{"source.ip": "10.86.1.1", "netflow.destination_ipv4_address": "10.86.1.2",
                  ("netflow", "unknown"): {"9_12235": "0a0b0c0d", "6871_1": "beef", "0_30000": "1234",
                                           "4_40_5": "010203", "4_40_6": "ff"}}])
    long_desc = "x" * 290 + "0123456789"
    var_recs = [(["10.86.2.1", "10.86.2.2", "eth0", ("long", "uplink to core")], "eth0", "uplink to core"),
                (["10.86.2.3", "10.86.2.4", ("long", "ge-0/0/1"), long_desc], "ge-0/0/1", long_desc),
                (["10.86.2.5", "10.86.2.6", b"", "\u00e9t\u00e9"], "", "\u00e9t\u00e9")]
    f = cap.add(ipfix_message([data_set(402, [record(t_var, v) for v, _, _ in var_recs])], 0), e86, 4739, 4739)
    want.add(f, [{"source.ip": v[0], "netflow.interface_name": name, "netflow.interface_description": desc}
                 for v, name, desc in var_recs])
    f = cap.add(ipfix_message([data_set(403, [record(t_rep, ["10.86.3.1", "10.86.3.2", "192.0.2.1", "192.0.2.2",
                                                             "192.0.2.3", "a", ("long", "bb")])])], 0),
                e86, 4739, 4739)
    want.add(f, [{"source.ip": "10.86.3.1", "netflow.bgp_next_hop_ipv4_address": ["192.0.2.1", "192.0.2.2",
                                                                                 "192.0.2.3"],
                  "netflow.interface_name": ["a", "bb"]}])
    f = cap.add(ipfix_message([data_set(404, [record(t_str, ["10.86.4.1", "10.86.4.2", b"eth0" + b"\0" * 12,
                                                             b"\0" * 8, b"a\0b\0\0\0"])])], 0), e86, 4739, 4739)
    want.add(f, [{"source.ip": "10.86.4.1", "netflow.interface_name": "eth0", "netflow.interface_description": "",
                  "netflow.application_description": "a\u0000b"}])
    f = cap.add(ipfix_message([data_set(405, [record(t_mac, ["10.86.5.1", "10.86.5.2", bytes.fromhex("02005e0001ab"),
                                                             bytes.fromhex("FFFFFFFFFFFF")])])], 0), e86, 4739, 4739)
    want.add(f, [{"source.ip": "10.86.5.1", "netflow.source_mac_address": "02:00:5e:00:01:ab",
                  "netflow.destination_mac_address": "ff:ff:ff:ff:ff:ff"}])
    return cap, want


def check_run(name, events, c, want, overrides, scaled):
    check.true(f"{name}: accounting identity", accounting_balances(c))
    n_want = sum(len(v) for v in want.by_frame.values())
    check.eq(f"{name}: records", c["flow"]["records"], n_want)
    check.eq(f"{name}: events read back", len(events), n_want)
    check.eq(f"{name}: options_records", c["flow"]["options_records"], 3)
    check.eq(f"{name}: sampling_updates", c["flow"]["engine"]["sampling_updates"], 3)
    check.eq(f"{name}: field_length_mismatches", c["flow"]["field_length_mismatches"], 0)
    by = {}
    for key, e in events:
        check.eq(f"{name}: key == observer.ip", key, get(e, "observer.ip"))
        by.setdefault(get(e, "event.sequence"), []).append(e)
    overridden = 0
    for frame, recs in sorted(want.by_frame.items()):
        got = sorted(by.get(frame, []), key=lambda e: get(e, "tapsift.flow_record"))
        check.eq(f"{name}: frame {frame}: events", len(got), len(recs))
        for k, (e, w) in enumerate(zip(got, recs)):
            what = f"{name}: frame {frame} record {k}"
            check.eq(f"{what}: tapsift.flow_record", get(e, "tapsift.flow_record"), k)
            check.eq(f"{what}: event.dataset", get(e, "event.dataset"), "netflow.log")
            for path, value in w.items():
                if isinstance(path, str) and path.startswith("_"):
                    continue
                check.eq(f"{what}: {path}", get(e, path), value)
            if "_raw" not in w:
                continue
            raw, exp = w["_raw"], w.get("_exporter")
            rate = overrides.get(exp, RATES.get(exp))
            mult = rate if scaled and rate and rate > 1 else 1
            overridden += exp in overrides
            check.eq(f"{what}: network.bytes", get(e, "network.bytes"), raw["bytes"] * mult)
            check.eq(f"{what}: network.packets", get(e, "network.packets"), raw["packets"] * mult)
            check.eq(f"{what}: source.bytes", get(e, "source.bytes"), raw["bytes"] * mult)
            check.eq(f"{what}: source.packets", get(e, "source.packets"), raw["packets"] * mult)
            check.eq(f"{what}: netflow.octet_delta_count (raw)", get(e, "netflow.octet_delta_count"), raw["bytes"])
            check.eq(f"{what}: netflow.sampling.interval", get(e, "netflow.sampling.interval"), rate)
            if rate:
                check.eq(f"{what}: netflow.sampling.source", get(e, "netflow.sampling.source"),
                         "config" if exp in overrides else "exporter")
                check.eq(f"{what}: netflow.sampling.scaled", get(e, "netflow.sampling.scaled"), mult > 1)
                if exp == "192.0.2.81":
                    check.eq(f"{what}: netflow.sampling.algorithm", get(e, "netflow.sampling.algorithm"), 2)
    from_config = sum(1 for _, e in events if get(e, "netflow.sampling.source") == "config")
    check.eq(f"{name}: events with netflow.sampling.source config", from_config, overridden)
    check.eq(f"{name}: flow.sampling_overridden == events whose sampling came from the config",
             c["flow"]["sampling_overridden"], from_config)
    return overridden


def main():
    cap, want = build()
    with Broker("flow-events") as broker:
        rc, c, out, events = run_replay(broker, "events-1", cap, own_topic=False)
        check.eq("defaults: exit code", rc, 0)
        if c is None:
            print(out)
        else:
            check_run("defaults", events, c, want, {}, False)
            print(f"defaults: {len(events)} events from {len(want.by_frame)} datagrams (v5, v9, IPFIX), "
                  f"rates {RATES}, topic tapsift.flows")
        ov = "".join(f'    "{k}": {v}\n' for k, v in OVERRIDES.items())
        rc, c, out, events = run_replay(broker, "events-2-scaled", cap,
                                        f"flows:\n  scale_sampled_counts: true\n  sampling_overrides:\n{ov}")
        check.eq("overrides + scaling: exit code", rc, 0)
        if c is None:
            print(out)
        else:
            n = check_run("overrides + scaling", events, c, want, OVERRIDES, True)
            print(f"overrides + scaling: {n} records overridden to 1-in-1000, counts scaled by their rate")
    check.finish()


if __name__ == "__main__":
    main()
