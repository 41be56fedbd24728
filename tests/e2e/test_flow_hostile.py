"""Hostile NetFlow / IPFIX input: every fault is a counted reason, nothing crashes, and the
good parts around a fault still decode.

  run 1 (hostile)  one datagram per case, exact counters asserted:
     templates_rejected.zero_length      v9 template whose fields are all 0 bytes long
     templates_rejected.record_too_long  one fixed field of 65516 bytes (a record must fit
                                         65535 - 16 - 4); 65515 bytes is learned
     templates_rejected.too_many_fields  129 fields (IPFIX; the good template after it in the
                                         same set is learned and decodes); 128 fields is fine
     templates_rejected.length_mismatch  sourceIPv4Address (IE 8) with 3 bytes
     templates_rejected.reserved_id      template ID 255
     templates_rejected.no_fields        v9 template with 0 fields
     templates_rejected.truncated        a template record says 10 fields, the set holds 2
     malformed.flow_bad_set_length       a set running past the datagram; a set length of 2
     malformed.flow_bad_length           IPFIX length > datagram, IPFIX length < 16,
                                         v5 count past the end (a datagram longer than its
                                         IPFIX length is padding: decoded)
     malformed.flow_truncated_header     v9 of 12 bytes, IPFIX of 10, v5 of 20
     malformed.flow_bad_version          "hello world", 1 byte, version 7, empty payload on 2055
     engine.records_truncated            a variable-length field (1-byte and 3-byte length
                                         forms) running past its set: the records before it
                                         decode
     engine.sets_unknown_id              set IDs 5 (v9) and 4 (IPFIX)
     engine.templates_withdrawn          an IPFIX withdrawal (its data afterwards is held);
                                         a withdrawal of an unknown ID counts nothing
     engine.templates_refreshed/replaced the same definition again / a different one
  run 2 (flood)    5000 template IDs from one exporter, one per datagram: learned 5000,
                   evicted = what does not fit 8 ways of the 512 sets (predicted exactly from
                   the store's hash, flow_craft.template_set_index); then data for the last ID
                   and for an early survivor decode, data for an evicted ID is held.
  run 3 (plain)    5000 datagrams refreshing one template: peak RSS compared with the flood
                   (the flood may add < 16 MiB; not asserted under ASan, TAPSIFT_SANITIZED=1).
"""
import os
import struct

from e2e_support import Broker, Check, accounting_balances
from flow_craft import (TEMPLATE_WAYS, VAR, Capture, F, data_set, get, ipfix_message, make_set, record, run_replay,
                        template_record, template_set, template_set_index, v5_packet, v5_record, v9_packet,
                        withdrawal_set)

check = Check()
MIB = 1 << 20
FLOOD = 5000
V9, IPFIX = "192.0.2.61", "192.0.2.62"
GOOD = [F(8, 4), F(12, 4), F(1, 4)]


def hostile_capture():
    """Returns (capture, expected events: {frame: [(source.ip, extra checks)]}, frames that are malformed)."""
    cap = Capture()
    want = {}

    def v9(sets, **kw):
        return cap.add(v9_packet(sets, 1, **kw), V9, 2055, 2055)

    def ipfix(sets, **kw):
        return cap.add(ipfix_message(sets, 1, **kw), IPFIX, 4739, 4739)

    # --- rejected templates (each in a datagram of its own) ---
    v9([template_set([(256, [F(8, 0), F(12, 0), F(1, 0)])], False)])           # zero_length
    v9([template_set([(257, [F(82, 65516)])], False)])                         # record_too_long
    v9([template_set([(258, [F(82, 65515)])], False)])                         # learned (largest that fits)
    too_many = [F(1, 4)] * 129
    fields128 = [F(8, 4), F(12, 4)] + [F(1000 + i, 1, pen=9) for i in range(126)]
    ipfix([template_set([(300, too_many), (301, GOOD), (302, fields128)], True)])  # too_many_fields; 301, 302 learned
    f = ipfix([data_set(301, [record(GOOD, ["10.9.0.1", "10.9.0.2", 301])]),
               data_set(302, [record(fields128, ["10.9.0.3", "10.9.0.4"] + list(range(126)))])])
    want[f] = [("10.9.0.1", {"netflow.template_id": 301, "network.bytes": 301}),
               ("10.9.0.3", {"netflow.template_id": 302, "unknown_count": 126,
                             ("netflow", "unknown", "9_1125"): "7d"})]
    v9([template_set([(259, [F(8, 3), F(12, 4)])], False)])                    # length_mismatch
    v9([template_set([(255, GOOD)], False)])                                   # reserved_id
    v9([make_set(0, template_record(260, [], False))])                         # no_fields
    v9([make_set(0, template_record(261, [F(8, 4), F(12, 4)], False, count=10))])  # truncated

    # --- datagram faults ---
    bad = {}
    body = v9_packet([make_set(0, template_record(262, GOOD, False))], 1)
    bad[v9([struct.pack(">HH", 263, 200) + b"\0" * 16])] = "flow_bad_set_length"
    bad[v9([struct.pack(">HH", 263, 2) + b"\0" * 16])] = "flow_bad_set_length"
    msg = ipfix_message([template_set([(303, GOOD)], True)], 1)
    bad[cap.add(msg[:2] + struct.pack(">H", len(msg) + 40) + msg[4:], IPFIX, 4739, 4739)] = "flow_bad_length"
    # length (16: a bare header) < datagram (24): the 8 bytes after the message are padding
    # (logstash's ipfix.dat, a real exporter's datagram, has such a tail): decoded, not malformed
    cap.add(ipfix_message([], 1) + b"\0" * 8, IPFIX, 4739, 4739)
    bad[cap.add(msg[:2] + struct.pack(">H", 12) + msg[4:], IPFIX, 4739, 4739)] = "flow_bad_length"
    rec5 = v5_record("10.5.0.1", "10.5.0.2", packets=1, octets=60)
    bad[cap.add(v5_packet([rec5, rec5], count=3), V9, 2055, 2055)] = "flow_bad_length"
    bad[cap.add(body[:12], V9, 2055, 2055)] = "flow_truncated_header"
    bad[cap.add(msg[:10], IPFIX, 4739, 4739)] = "flow_truncated_header"
    bad[cap.add(v5_packet([])[:20], V9, 2055, 2055)] = "flow_truncated_header"
    for payload in (b"hello world", b"\x00", struct.pack(">HH", 7, 0) + b"\0" * 40, b""):
        bad[cap.add(payload, V9, 2055, 2055)] = "flow_bad_version"

    # --- variable-length field running past its set ---
    var_t = [F(8, 4), F(82, VAR)]
    ipfix([template_set([(310, var_t)], True)])
    ok = [record(var_t, ["10.31.0.1", "eth0"]), record(var_t, ["10.31.0.2", ("long", "eth1")])]
    f = ipfix([data_set(310, ok + [record(var_t, ["10.31.0.3", "x"])[:4] + b"\xc8abcd"])])   # says 200, has 4
    want[f] = [("10.31.0.1", {"netflow.interface_name": "eth0"}), ("10.31.0.2", {"netflow.interface_name": "eth1"})]
    f = ipfix([data_set(310, ok[:1] + [bytes([10, 31, 0, 4, 255, 1, 0]) + b"abc"])])         # says 256, has 3
    want[f] = [("10.31.0.1", {"netflow.interface_name": "eth0"})]

    # --- unknown set IDs: the sets around them still decode ---
    v9([template_set([(264, GOOD)], False)])
    f = v9([make_set(5, b"\0" * 8), data_set(264, [record(GOOD, ["10.64.0.1", "10.64.0.2", 64])])])
    want[f] = [("10.64.0.1", {"netflow.template_id": 264})]
    f = ipfix([make_set(4, b"\0" * 8), data_set(301, [record(GOOD, ["10.64.1.1", "10.64.1.2", 65])])])
    want[f] = [("10.64.1.1", {"netflow.template_id": 301})]

    # --- refresh, replace, withdraw ---
    ipfix([template_set([(301, GOOD)], True)])                                  # refreshed
    ipfix([template_set([(303, GOOD)], True)])                                  # learned
    ipfix([template_set([(303, [F(12, 4), F(8, 4), F(1, 4)])], True)])         # replaced
    f = ipfix([data_set(303, [record([F(12, 4), F(8, 4), F(1, 4)], ["10.3.0.2", "10.3.0.1", 303])])])
    want[f] = [("10.3.0.1", {"destination.ip": "10.3.0.2", "network.bytes": 303,
                             # named with its template, although it is withdrawn a datagram later
                             "netflow.octet_delta_count": 303, "tapsift.notes": None})]
    ipfix([withdrawal_set([303, 4444])])                                        # 1 withdrawn, unknown ignored
    ipfix([data_set(303, [record(GOOD, ["10.3.1.1", "10.3.1.2", 1])])])         # held: no template
    return cap, want, bad


def hostile_run(broker):
    cap, want, bad = hostile_capture()
    rc, c, out, events = run_replay(broker, "hostile-1", cap)
    check.eq("hostile: exit code", rc, 0)
    if c is None:
        print(out)
        return
    f, eng, mal = c["flow"], c["flow"]["engine"], c["malformed"]
    check.true("hostile: accounting identity", accounting_balances(c))
    check.eq("hostile: rx_packets", c["rx_packets"], len(cap))
    check.eq("hostile: templates_rejected", eng["templates_rejected"],
             {"reserved_id": 1, "no_fields": 1, "too_many_fields": 1, "zero_length": 1, "record_too_long": 1,
              "length_mismatch": 1, "truncated": 1})
    reasons = {}
    for r in bad.values():
        reasons[r] = reasons.get(r, 0) + 1
    for r in ("flow_bad_set_length", "flow_bad_length", "flow_truncated_header", "flow_bad_version"):
        frames = sorted(k for k, v in bad.items() if v == r)
        check.eq(f"hostile: malformed.{r} (frames {frames})", mal[r], reasons[r])
    check.eq("hostile: flow_packets (every datagram not malformed)", c["flow_packets"], len(cap) - len(bad))
    # 258, 301, 302, 310, 264, 303 (learned; 303 then replaced)
    check.eq("hostile: templates_learned", eng["templates_learned"], 6)
    check.eq("hostile: templates_refreshed", eng["templates_refreshed"], 1)
    check.eq("hostile: templates_replaced", eng["templates_replaced"], 1)
    check.eq("hostile: templates_withdrawn", eng["templates_withdrawn"], 1)
    check.eq("hostile: records_truncated", eng["records_truncated"], 2)
    check.eq("hostile: sets_unknown_id", eng["sets_unknown_id"], 2)
    n_records = sum(len(v) for v in want.values())
    check.eq("hostile: records", f["records"], n_records)
    check.eq("hostile: sets_without_template (the withdrawn template's data)", f["sets_without_template"], 1)
    check.eq("hostile: sets_unresolved", f["sets_unresolved"], 1)
    check.eq("hostile: events", len(events), n_records)
    by = {}
    for _, e in events:
        by.setdefault(get(e, "event.sequence"), []).append(e)
    for frame, recs in sorted(want.items()):
        got = sorted(by.get(frame, []), key=lambda e: get(e, "tapsift.flow_record"))
        check.eq(f"hostile: frame {frame}: events", len(got), len(recs))
        for k, (e, (src, extra)) in enumerate(zip(got, recs)):
            what = f"hostile: frame {frame} record {k}"
            check.eq(f"{what}: tapsift.flow_record", get(e, "tapsift.flow_record"), k)
            check.eq(f"{what}: source.ip", get(e, "source.ip"), src)
            for path, value in extra.items():
                if path == "unknown_count":
                    check.eq(f"{what}: netflow.unknown entries", len(get(e, "netflow.unknown", {})), value)
                else:
                    check.eq(f"{what}: {path}", get(e, path), value)
    print(f"hostile: {len(cap)} datagrams, {sum(reasons.values())} malformed {reasons}, templates rejected "
          f"{sum(eng['templates_rejected'].values())}, records_truncated {eng['records_truncated']}, "
          f"{len(events)} events from the good parts")


def predict_evictions(exporter, domain, ids):
    """Replays the store's placement: 8 ways per set, least recently used evicted (one template per
    datagram, so arrival order = age). Returns (evicted count, surviving ids)."""
    sets = {}
    evicted = 0
    for tid in ids:
        ways = sets.setdefault(template_set_index(exporter, domain, tid), [])
        if len(ways) == TEMPLATE_WAYS:
            ways.pop(0)
            evicted += 1
        ways.append(tid)
    return evicted, {t for ways in sets.values() for t in ways}


def flood_run(broker):
    ex = "192.0.2.70"
    ids = list(range(256, 256 + FLOOD))
    want_evicted, survivors = predict_evictions(ex, 1, ids)
    cap = Capture()
    for tid in ids:
        cap.add(v9_packet([template_set([(tid, GOOD)], False)], 1), ex, 2055)
    last, early = ids[-1], min(survivors)
    gone = min(set(ids) - survivors)
    for tid in (last, early, gone):
        cap.add(v9_packet([data_set(tid, [record(GOOD, [f"10.70.{tid >> 8}.{tid & 255}", "10.70.0.254", tid])],
                                    pad=True)], 1), ex, 2055)
    rc, c, out, events = run_replay(broker, "hostile-2-flood", cap)
    check.eq("flood: exit code", rc, 0)
    if c is None:
        print(out)
        return None
    f, eng = c["flow"], c["flow"]["engine"]
    check.true("flood: accounting identity", accounting_balances(c))
    check.eq("flood: templates_learned", eng["templates_learned"], FLOOD)
    check.eq("flood: templates_evicted (predicted from the store's hash)", eng["templates_evicted"], want_evicted)
    check.true(f"flood: evictions happened ({want_evicted}) and at most 4096 templates stay",
               want_evicted >= FLOOD - 4096 and len(survivors) == FLOOD - want_evicted)
    check.eq("flood: records", f["records"], 2)
    check.eq("flood: sets_without_template (the evicted ID's data)", f["sets_without_template"], 1)
    check.eq("flood: sets_unresolved", f["sets_unresolved"], 1)
    check.eq("flood: decoded template IDs", sorted(get(e, "netflow.template_id") for _, e in events),
             sorted([last, early]))
    check.eq("flood: values", sorted(get(e, "network.bytes") for _, e in events), sorted([last, early]))
    print(f"flood: {FLOOD} template IDs, learned {eng['templates_learned']}, evicted {eng['templates_evicted']} "
          f"(predicted {want_evicted}, {len(survivors)} stay); data for {early} and {last} decoded, for {gone} held")
    return c["peak_rss_bytes"]


def plain_run(broker):
    cap = Capture()
    for _ in range(FLOOD):
        cap.add(v9_packet([template_set([(256, GOOD)], False)], 1), "192.0.2.71", 2055)
    cap.add(v9_packet([data_set(256, [record(GOOD, ["10.71.0.1", "10.71.0.2", 71])], pad=True)], 1), "192.0.2.71",
            2055)
    rc, c, out, events = run_replay(broker, "hostile-3-plain", cap)
    check.eq("plain: exit code", rc, 0)
    if c is None:
        print(out)
        return None
    check.eq("plain: templates_learned", c["flow"]["engine"]["templates_learned"], 1)
    check.eq("plain: templates_refreshed", c["flow"]["engine"]["templates_refreshed"], FLOOD - 1)
    check.eq("plain: events", len(events), 1)
    return c["peak_rss_bytes"]


def main():
    with Broker("flow-hostile") as broker:
        hostile_run(broker)
        flood_rss = flood_run(broker)
        plain_rss = plain_run(broker)
    if flood_rss and plain_rss:
        print(f"peak RSS: template flood {flood_rss / MIB:.1f} MiB, plain run of {FLOOD + 1} datagrams "
              f"{plain_rss / MIB:.1f} MiB (flood adds {(flood_rss - plain_rss) / MIB:+.1f} MiB)")
        if os.environ.get("TAPSIFT_SANITIZED"):
            print("RSS bound not asserted: ASan's quarantine and shadow memory change RSS")
        else:
            check.true(f"flood adds < 16 MiB of RSS ({(flood_rss - plain_rss) / MIB:.1f} MiB)",
                       flood_rss - plain_rss < 16 * MIB)
    check.finish()


if __name__ == "__main__":
    main()
