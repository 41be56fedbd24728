"""Template scope, and data that arrives before its template.

  scope        run 1 (every template before its data):
               * template 256 from two exporters (192.0.2.21, .22; NetFlow v9, both source ID 1)
                 with different layouts;
               * template 256 from one IPFIX exporter (192.0.2.23) in observation domains 1
                 (IPv4 layout) and 2 (IPv6 layout, counters swapped);
               * a template sent from source port 40001, its data from port 40002 (192.0.2.24):
                 the port is not part of the key.
               Every record decodes with ITS layout (values checked field by field).
  late         run 2: data first, the template later
               * in a later datagram 4 datagrams apart (v9, 192.0.2.31), then more data after
                 the template (decoded directly, no note);
               * 300 datagrams apart, so in a later batch (a batch holds 256) (IPFIX, .32);
               * later in the same datagram (an IPFIX message: data set, then template set, .33).
               The late records carry tapsift.notes "decoded_after_template_arrived" and their
               own datagram's event.sequence; sets_without_template == sets_held ==
               sets_resolved == 3. Filler datagrams are template refreshes from 192.0.2.99.
  overflow     run 3: every held set takes S = 108 bytes (20-byte v9 header + 88-byte set of 4
               records); flows.pending_max_bytes 12 S + 10, pending_max_bytes_per_exporter
               8 S + 10: exporter .41 sends 12 sets (8 held, 4 over its own budget), .42 sends
               3 (held: 11 S in all), .43 sends 3 (1 held = 12 S, 2 over the total budget);
               then the templates: sets_overflow == 6, sets_held == sets_resolved == 12,
               48 events.
  expiry       run 4 (pending_timeout_ms 30000 by packet time = pcap timestamps): .51's data at
               t = 0, its template at t = 31.5 s after 300 datagrams stamped 30.5..31 s (so a
               batch with a packet past 30 s ends before the template's batch): sets_expired
               == 1, no events for it; .52's data at t = 0 and template at t = 20 s: resolved.
               run 5: the same in ONE batch (2 datagrams: .53's data at t = 0, its template at
               t = 40 s): the held set is past the timeout when the template comes, so it must
               expire, not be decoded.
  timeout      run 6: flows.template_timeout_s 60 by packet time: .61's template (t = 0, used
               at 30 s) has expired when data comes at 100 s (templates_expired 1, the set is
               held, then unresolved); .62 refreshed its template at 50 s: still decodes.
"""
import ipaddress

from e2e_support import Broker, Check, accounting_balances
from flow_craft import (Capture, F, data_set, get, ipfix_message, record, run_replay, template_set,
                        v9_packet)

check = Check()
NOTE = "decoded_after_template_arrived"
FILLER = "192.0.2.99"
FILLER_T = [F(8, 4), F(12, 4)]
SET_BYTES = 108  # a held v9 data set of 4 V4 records: 20-byte header + 4 + 4 * 21 bytes

V4 = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 4), F(2, 4)]                  # 21 bytes
V4_SWAPPED = [F(12, 4), F(8, 4), F(11, 2), F(7, 2), F(2, 4), F(1, 4), F(4, 1), F(82, 8)]  # 29 bytes
V4_IPFIX = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 8), F(2, 8)]
V6_IPFIX = [F(27, 16), F(28, 16), F(7, 2), F(11, 2), F(4, 1), F(2, 8), F(1, 8)]


def flow(n, v6=False, ifname=None):
    """A record's values, n = its number in the capture (distinct values everywhere)."""
    if v6:
        src, dst = f"2001:db8:{n:x}::1", f"2001:db8:ffff::{n:x}"
    else:
        src, dst = f"10.{n >> 8 & 255}.{n & 255}.1", f"172.16.{n >> 8 & 255}.{n & 255}"
    v = dict(src=str(ipaddress.ip_address(src)), dst=str(ipaddress.ip_address(dst)), sport=10000 + n,
             dport=20000 + n, proto=(6, 17)[n % 2], bytes=1000 + 7 * n, packets=1 + n)
    if ifname:
        v["ifname"] = ifname
    return v


def encode(fields, v):
    by_ie = {8: v["src"], 12: v["dst"], 27: v["src"], 28: v["dst"], 7: v["sport"], 11: v["dport"], 4: v["proto"],
             1: v["bytes"], 2: v["packets"], 82: v.get("ifname", "")}
    return record(fields, [by_ie[f.ie] for f in fields])


class Expect:
    """The records a capture should give: (frame, record index) -> values."""

    def __init__(self):
        self.want = {}
        self.n = 0

    def records(self, fields, count, **kw):
        """count records for fields; returns (record bytes, values)."""
        recs, vals = [], []
        for _ in range(count):
            self.n += 1
            v = flow(self.n, v6=F(27, 16) in fields, ifname=f"if{self.n}" if F(82, 8) in fields else None)
            v.update(kw)
            recs.append(encode(fields, v))
            vals.append(v)
        return recs, vals

    def at(self, frame, vals, first=0):
        for k, v in enumerate(vals):
            self.want[(frame, first + k)] = v


def check_events(name, events, want):
    check.eq(f"{name}: events read back", len(events), len(want))
    by = {}
    for key, e in events:
        by.setdefault((get(e, "event.sequence"), get(e, "tapsift.flow_record")), []).append((key, e))
    extra = sorted(set(by) - set(want))
    check.eq(f"{name}: events nobody expected (frame, record)", extra[:10], [])
    for (frame, idx), w in sorted(want.items()):
        got = by.get((frame, idx), [])
        what = f"{name}: frame {frame} record {idx}"
        check.eq(f"{what}: events", len(got), 1)
        if len(got) != 1:
            continue
        key, e = got[0]
        check.eq(f"{what}: key", key, w["exporter"])
        check.eq(f"{what}: source.ip", get(e, "source.ip"), w["src"])
        check.eq(f"{what}: destination.ip", get(e, "destination.ip"), w["dst"])
        check.eq(f"{what}: source.port", get(e, "source.port"), w["sport"])
        check.eq(f"{what}: destination.port", get(e, "destination.port"), w["dport"])
        check.eq(f"{what}: network.iana_number", get(e, "network.iana_number"), str(w["proto"]))
        check.eq(f"{what}: network.bytes", get(e, "network.bytes"), w["bytes"])
        check.eq(f"{what}: network.packets", get(e, "network.packets"), w["packets"])
        check.eq(f"{what}: netflow.packet_delta_count", get(e, "netflow.packet_delta_count"), w["packets"])
        check.eq(f"{what}: netflow.template_id", get(e, "netflow.template_id"), w["template"])
        check.eq(f"{what}: netflow.exporter.source_id", get(e, "netflow.exporter.source_id"), w["domain"])
        check.eq(f"{what}: netflow.exporter.address", get(e, "netflow.exporter.address"),
                 f"{w['exporter']}:{w['port']}")
        check.eq(f"{what}: netflow.interface_name", get(e, "netflow.interface_name"), w.get("ifname"))
        check.eq(f"{what}: tapsift.notes", get(e, "tapsift.notes"), NOTE if w.get("late") else None)


def check_pending_identity(name, f):
    check.eq(f"{name}: sets_without_template == sets_held + sets_overflow", f["sets_without_template"],
             f["sets_held"] + f["sets_overflow"])
    check.true(f"{name}: sets_held >= sets_resolved + sets_expired + sets_unresolved",
               f["sets_held"] >= f["sets_resolved"] + f["sets_expired"] + f["sets_unresolved"])


def scope_run(broker):
    cap, ex = Capture(), Expect()
    # two exporters, same template ID and source ID, different layouts
    a, b = "192.0.2.21", "192.0.2.22"
    cap.add(v9_packet([template_set([(256, V4)], False)], 1), a, 30000)
    cap.add(v9_packet([template_set([(256, V4_SWAPPED)], False)], 1), b, 30000)
    for exp, fields in ((a, V4), (b, V4_SWAPPED), (a, V4)):
        recs, vals = ex.records(fields, 3, exporter=exp, port=30000, template=256, domain=1)
        ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 1), exp, 30000), vals)
    # one exporter, two observation domains
    c = "192.0.2.23"
    cap.add(ipfix_message([template_set([(256, V4_IPFIX)], True)], 1), c, 4739, 4739)
    cap.add(ipfix_message([template_set([(256, V6_IPFIX)], True)], 2), c, 4739, 4739)
    for dom, fields in ((2, V6_IPFIX), (1, V4_IPFIX), (2, V6_IPFIX)):
        recs, vals = ex.records(fields, 2, exporter=c, port=4739, template=256, domain=dom)
        ex.at(cap.add(ipfix_message([data_set(256, recs)], dom), c, 4739, 4739), vals)
    # template from one source port, data from another
    d = "192.0.2.24"
    cap.add(v9_packet([template_set([(300, V4)], False)], 0), d, 40001)
    recs, vals = ex.records(V4, 4, exporter=d, port=40002, template=300, domain=0)
    ex.at(cap.add(v9_packet([data_set(300, recs, pad=True)], 0), d, 40002), vals)

    rc, c_, out, events = run_replay(broker, "scope-1", cap)
    check.eq("scope: exit code", rc, 0)
    if c_ is None:
        print(out)
        return
    f, eng = c_["flow"], c_["flow"]["engine"]
    check.true("scope: accounting identity", accounting_balances(c_))
    check.eq("scope: templates_learned", eng["templates_learned"], 5)
    check.eq("scope: templates_replaced", eng["templates_replaced"], 0)
    check.eq("scope: sets_without_template", f["sets_without_template"], 0)
    check.eq("scope: records", f["records"], len(ex.want))
    check_events("scope", events, ex.want)
    print(f"scope: {len(events)} records from 3 exporters / 2 domains / 2 ports, "
          f"{eng['templates_learned']} templates, sets_without_template {f['sets_without_template']}")


def late_run(broker):
    cap, ex = Capture(), Expect()
    filler = lambda: cap.add(v9_packet([template_set([(256, FILLER_T)], False)], 0), FILLER, 2000)  # noqa: E731
    # (a) a later datagram, 4 datagrams apart; then data after the template (not late)
    x = "192.0.2.31"
    recs, vals = ex.records(V4, 3, exporter=x, port=2055, template=256, domain=5, late=True)
    ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 5), x, 2055), vals)
    for _ in range(4):
        filler()
    cap.add(v9_packet([template_set([(256, V4)], False)], 5), x, 2055)
    recs, vals = ex.records(V4, 2, exporter=x, port=2055, template=256, domain=5)
    ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 5), x, 2055), vals)
    # (b) 300 datagrams apart: another batch
    y = "192.0.2.32"
    recs, vals = ex.records(V4_IPFIX, 2, exporter=y, port=4739, template=300, domain=9, late=True)
    ex.at(cap.add(ipfix_message([data_set(300, recs)], 9), y, 4739, 4739), vals)
    for _ in range(300):
        filler()
    cap.add(ipfix_message([template_set([(300, V4_IPFIX)], True)], 9), y, 4739, 4739)
    # (c) in the same message: data set, then its template set
    z = "192.0.2.33"
    recs, vals = ex.records(V6_IPFIX, 2, exporter=z, port=4739, template=260, domain=0, late=True)
    ex.at(cap.add(ipfix_message([data_set(260, recs), template_set([(260, V6_IPFIX)], True)], 0), z, 4739, 4739),
          vals)
    for _ in range(3):
        filler()

    rc, c, out, events = run_replay(broker, "scope-2-late", cap)
    check.eq("late: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f, eng = c["flow"], c["flow"]["engine"]
    check.true("late: accounting identity", accounting_balances(c))
    check_pending_identity("late", f)
    check.eq("late: flow_packets", c["flow_packets"], len(cap))
    check.eq("late: sets_without_template", f["sets_without_template"], 3)
    check.eq("late: sets_held", f["sets_held"], 3)
    check.eq("late: sets_resolved", f["sets_resolved"], 3)
    check.eq("late: sets_overflow", f["sets_overflow"], 0)
    check.eq("late: sets_expired", f["sets_expired"], 0)
    check.eq("late: sets_unresolved", f["sets_unresolved"], 0)
    check.eq("late: templates_learned (3 + the filler's)", eng["templates_learned"], 4)
    check.eq("late: templates_refreshed (filler)", eng["templates_refreshed"], 4 + 300 + 3 - 1)
    check.eq("late: records", f["records"], len(ex.want))
    check_events("late", events, ex.want)
    late = sum(1 for _, e in events if get(e, "tapsift.notes") == NOTE)
    print(f"late: {f['sets_held']} sets held, {f['sets_resolved']} resolved, {late} records decoded "
          f"after their template arrived, {len(events)} events")


def overflow_run(broker):
    cap, ex = Capture(), Expect()
    sizes = []
    exporters = [("192.0.2.41", 12), ("192.0.2.42", 3), ("192.0.2.43", 3)]
    held = {"192.0.2.41": 8, "192.0.2.42": 3, "192.0.2.43": 1}  # the first N of each are held
    for exp, n in exporters:
        for i in range(n):
            recs, vals = ex.records(V4, 4, exporter=exp, port=2055, template=256, domain=0, late=True)
            s = data_set(256, recs, pad=True)
            sizes.append(20 + len(s))
            frame = cap.add(v9_packet([s], 0), exp, 2055)
            if i < held[exp]:
                ex.at(frame, vals)
    assert set(sizes) == {SET_BYTES}, sizes
    for exp, _ in exporters:
        cap.add(v9_packet([template_set([(256, V4)], False)], 0), exp, 2055)
    rc, c, out, events = run_replay(broker, "scope-3-overflow", cap,
                                    f"flows:\n  pending_max_bytes: {12 * SET_BYTES + 10}\n"
                                    f"  pending_max_bytes_per_exporter: {8 * SET_BYTES + 10}\n")
    check.eq("overflow: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f = c["flow"]
    check.true("overflow: accounting identity", accounting_balances(c))
    check_pending_identity("overflow", f)
    check.eq("overflow: sets_without_template", f["sets_without_template"], 18)
    check.eq("overflow: sets_overflow (4 per-exporter + 2 total)", f["sets_overflow"], 6)
    check.eq("overflow: sets_held", f["sets_held"], 12)
    check.eq("overflow: sets_resolved", f["sets_resolved"], 12)
    check.eq("overflow: sets_expired", f["sets_expired"], 0)
    check.eq("overflow: sets_unresolved", f["sets_unresolved"], 0)
    check.eq("overflow: records", f["records"], 48)
    check_events("overflow", events, ex.want)
    print(f"overflow: {f['sets_without_template']} sets without template: {f['sets_held']} held "
          f"(all resolved: {f['sets_resolved']}), {f['sets_overflow']} over budget; {len(events)} events")


def expiry_run(broker):
    cap, ex = Capture(), Expect()
    t_exp, u = "192.0.2.51", "192.0.2.52"
    recs, _ = ex.records(V4, 3, exporter=t_exp, port=2055, template=256, domain=0)
    cap.add(v9_packet([data_set(256, recs, pad=True)], 0), t_exp, 2055, t_ms=0)
    recs, vals = ex.records(V4, 2, exporter=u, port=2055, template=256, domain=0, late=True)
    ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 0), u, 2055, t_ms=1), vals)
    filler = lambda t: cap.add(v9_packet([template_set([(256, FILLER_T)], False)], 0), FILLER, 2000,  # noqa
                               t_ms=t)
    for i in range(100):
        filler(10 + i * 100)  # 10 ms .. 9.91 s
    cap.add(v9_packet([template_set([(256, V4)], False)], 0), u, 2055, t_ms=20_000)
    for i in range(300):
        filler(30_500 + i)  # 30.5 s .. 30.8 s
    cap.add(v9_packet([template_set([(256, V4)], False)], 0), t_exp, 2055, t_ms=31_500)
    recs, vals = ex.records(V4, 2, exporter=t_exp, port=2055, template=256, domain=0)
    ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 0), t_exp, 2055, t_ms=31_600), vals)

    rc, c, out, events = run_replay(broker, "scope-4-expiry", cap, "flows:\n  pending_timeout_ms: 30000\n")
    check.eq("expiry: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f = c["flow"]
    check.true("expiry: accounting identity", accounting_balances(c))
    check_pending_identity("expiry", f)
    check.eq("expiry: sets_without_template", f["sets_without_template"], 2)
    check.eq("expiry: sets_held", f["sets_held"], 2)
    check.eq("expiry: sets_expired", f["sets_expired"], 1)
    check.eq("expiry: sets_resolved", f["sets_resolved"], 1)
    check.eq("expiry: sets_unresolved", f["sets_unresolved"], 0)
    check.eq("expiry: records", f["records"], 4)
    check_events("expiry", events, ex.want)
    print(f"expiry: {f['sets_expired']} held set expired by packet time, {f['sets_resolved']} resolved in time, "
          f"{len(events)} events")


def expiry_same_batch_run(broker):
    """A held set past the timeout must not be decoded because its template comes in the same
    batch: two datagrams, data at t = 0 and its template at t = 40 s (pcap time)."""
    cap = Capture()
    x = "192.0.2.53"
    recs, _ = Expect().records(V4, 2, exporter=x, port=2055, template=256, domain=0)
    cap.add(v9_packet([data_set(256, recs, pad=True)], 0), x, 2055, t_ms=0)
    cap.add(v9_packet([template_set([(256, V4)], False)], 0), x, 2055, t_ms=40_000)
    rc, c, out, events = run_replay(broker, "scope-5-expiry-one-batch", cap, "flows:\n  pending_timeout_ms: 30000\n")
    check.eq("expiry in one batch: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f = c["flow"]
    check.true("expiry in one batch: accounting identity", accounting_balances(c))
    check_pending_identity("expiry in one batch", f)
    check.eq("expiry in one batch: sets_held", f["sets_held"], 1)
    check.eq("expiry in one batch: sets_expired (held 40 s > 30 s)", f["sets_expired"], 1)
    check.eq("expiry in one batch: sets_resolved", f["sets_resolved"], 0)
    check.eq("expiry in one batch: events", len(events), 0)
    print(f"expiry in one batch: data at 0 s, template at 40 s: sets_expired {f['sets_expired']}, "
          f"sets_resolved {f['sets_resolved']}, {len(events)} events")


def template_timeout_run(broker):
    """flows.template_timeout_s 60, by packet time: a template counts from its last
    (re)definition, not from its last use."""
    cap, ex = Capture(), Expect()
    a, b = "192.0.2.61", "192.0.2.62"
    for exp in (a, b):
        cap.add(v9_packet([template_set([(256, V4)], False)], 0), exp, 2055, t_ms=0)
    for exp, t in ((a, 30_000), (b, 30_001)):  # in time: decoded
        recs, vals = ex.records(V4, 2, exporter=exp, port=2055, template=256, domain=0)
        ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 0), exp, 2055, t_ms=t), vals)
    cap.add(v9_packet([template_set([(256, V4)], False)], 0), b, 2055, t_ms=50_000)  # b refreshes
    recs, _ = ex.records(V4, 2, exporter=a, port=2055, template=256, domain=0)
    cap.add(v9_packet([data_set(256, recs, pad=True)], 0), a, 2055, t_ms=100_000)  # 100 s > 60: expired
    recs, vals = ex.records(V4, 2, exporter=b, port=2055, template=256, domain=0)
    ex.at(cap.add(v9_packet([data_set(256, recs, pad=True)], 0), b, 2055, t_ms=100_001), vals)  # 50 s: fine
    rc, c, out, events = run_replay(broker, "scope-6-template-timeout", cap, "flows:\n  template_timeout_s: 60\n")
    check.eq("template timeout: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f, eng = c["flow"], c["flow"]["engine"]
    check.true("template timeout: accounting identity", accounting_balances(c))
    check.eq("template timeout: templates_expired", eng["templates_expired"], 1)
    check.eq("template timeout: templates_refreshed", eng["templates_refreshed"], 1)
    check.eq("template timeout: sets_without_template (a's late data)", f["sets_without_template"], 1)
    check.eq("template timeout: sets_unresolved", f["sets_unresolved"], 1)
    check_events("template timeout", events, ex.want)
    print(f"template timeout: {eng['templates_expired']} template expired after 100 s of packet time, "
          f"the refreshed one still decodes; {len(events)} events")


def main():
    with Broker("flow-scope") as broker:
        scope_run(broker)
        late_run(broker)
        overflow_run(broker)
        expiry_run(broker)
        expiry_same_batch_run(broker)
        template_timeout_run(broker)
    check.finish()


if __name__ == "__main__":
    main()
