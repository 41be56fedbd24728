"""Templates survive a restart: flows.template_dir.

  1. templates   a capture holding only templates (NetFlow v9 exporter 192.0.2.11, source ID 7:
                 a flow template and an options template + options data saying 1-in-100; IPFIX
                 exporter 192.0.2.12, domain 3: two flow templates, one with a variable-length
                 string, and an options template + options data saying interval 1 / space 511
                 = 1-in-512) replayed with an empty template_dir: 5 templates learned, 2 sampling
                 rates, 2 options events, DIR/templates-0.bin written at shutdown.
  2. restart     a SECOND `tapsift replay` (new process) of a data-only capture (9 data sets,
                 27 records) with the same template_dir: every record decodes with the right
                 values (flow.sets_without_template == 0, templates_restored == 5), and the
                 sampling rates came back too (netflow.sampling.interval 100 / 512).
  3. control     the same data-only capture with an empty template_dir: every set is held, then
                 unresolved at shutdown; no events.
  4. corrupt     a template file with one byte flipped and one cut short: both skipped with a
                 warning, the run works, nothing restored (every set unresolved). With a valid
                 copy of the file next to them, that one is restored and everything decodes.
  5. aged        restored templates keep their age: the data capture 2 h of packet time later
                 with flows.template_timeout_s 3600: the 3 templates the data needs expire
                 (templates_expired == 3) and every set is held.
"""
import ipaddress
import os
import shutil

from e2e_support import WORK, Broker, Check, accounting_balances
from flow_craft import (VAR, Capture, F, data_set, get, ipfix_message, options_template_set, record, run_replay,
                        template_set, v9_packet)

check = Check()

E1, E1_PORT, E1_SOURCE_ID = "192.0.2.11", 50011, 7
E2, E2_PORT, E2_DOMAIN = "192.0.2.12", 50012, 3

T300 = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 4), F(2, 4), F(22, 4), F(21, 4)]
T301_SCOPE, T301 = [F(1, 4)], [F(34, 4), F(35, 1)]  # v9 scope "system"; samplingInterval, -Algorithm
T400 = [F(27, 16), F(28, 16), F(7, 2), F(11, 2), F(4, 1), F(1, 8), F(2, 8), F(152, 8), F(153, 8)]
T401 = [F(8, 4), F(12, 4), F(4, 1), F(1, 8), F(2, 4), F(82, VAR)]
T402_SCOPE, T402 = [F(149, 4)], [F(305, 4), F(306, 4)]  # samplingPacketInterval / -Space
E1_RATE, E2_RATE = 100, 512
N_TEMPLATES = 5


def templates_capture():
    cap = Capture()
    cap.add(v9_packet([template_set([(300, T300)], False),
                       options_template_set([(301, T301_SCOPE, T301)], False)], E1_SOURCE_ID, seq=1),
            E1, E1_PORT, 2055)
    cap.add(v9_packet([data_set(301, [record(T301_SCOPE + T301, [0x0A000001, E1_RATE, 2])], pad=True)],
                      E1_SOURCE_ID, seq=2), E1, E1_PORT, 2055)
    cap.add(ipfix_message([template_set([(400, T400), (401, T401)], True),
                           options_template_set([(402, T402_SCOPE, T402)], True)], E2_DOMAIN, seq=0),
            E2, E2_PORT, 4739)
    cap.add(ipfix_message([data_set(402, [record(T402_SCOPE + T402, [E2_DOMAIN, 1, E2_RATE - 1])])], E2_DOMAIN,
                          seq=0), E2, E2_PORT, 4739)
    return cap


def data_capture(t0_ms):
    """9 data sets, 27 records; returns (capture, expected records by (frame, flow_record))."""
    cap = Capture()
    want = {}
    t = t0_ms
    for i in range(3):
        recs, vals = [], []
        for k in range(4):
            v = dict(src=f"10.1.{i}.{k + 1}", dst=f"172.16.{i}.{k + 1}", sport=1000 + 10 * i + k, dport=443,
                     proto=6, bytes=1000 * (i + 1) + k, packets=10 * (i + 1) + k)
            recs.append(record(T300, [v["src"], v["dst"], v["sport"], v["dport"], v["proto"], v["bytes"],
                                      v["packets"], 3_500_000, 3_590_000]))
            vals.append(v)
        frame = cap.add(v9_packet([data_set(300, recs, pad=True)], E1_SOURCE_ID, seq=10 + i), E1, E1_PORT, 2055,
                        t_ms=t)
        t += 1
        for k, v in enumerate(vals):
            want[(frame, k)] = dict(v, key=E1, version=9, source_id=E1_SOURCE_ID, template=300, rate=E1_RATE,
                                    address=f"{E1}:{E1_PORT}", format="netflow_v9")
    for i in range(3):
        recs400, recs401, vals = [], [], []
        for k in range(3):
            v = dict(src=str(ipaddress.ip_address(f"2001:db8:{i}::{k + 1}")), dst=f"2001:db8:ff::{k + 1}",
                     sport=2000 + k, dport=53, proto=17, bytes=500 + 100 * i + k, packets=5 + k, template=400)
            recs400.append(record(T400, [v["src"], v["dst"], v["sport"], v["dport"], v["proto"], v["bytes"],
                                         v["packets"], T0_MS - 5000, T0_MS - 1000]))
            vals.append(v)
        for k in range(2):
            v = dict(src=f"10.2.{i}.{k + 1}", dst="192.0.2.99", sport=0, dport=0, proto=1, bytes=84 * (k + 1),
                     packets=k + 1, template=401, ifname=f"ge-0/0/{i}.{k}")
            recs401.append(record(T401, [v["src"], v["dst"], v["proto"], v["bytes"], v["packets"], v["ifname"]]))
            vals.append(v)
        frame = cap.add(ipfix_message([data_set(400, recs400), data_set(401, recs401)], E2_DOMAIN, seq=3 * i),
                        E2, E2_PORT, 4739, t_ms=t)
        t += 1
        for k, v in enumerate(vals):
            want[(frame, k)] = dict(v, key=E2, version=10, source_id=E2_DOMAIN, rate=E2_RATE,
                                    address=f"{E2}:{E2_PORT}", format="ipfix")
    return cap, want


T0_MS = 1793491200 * 1000
DATA_SETS = 3 + 6
DATA_RECORDS = 3 * 4 + 3 * 5


def check_decoded(name, events, want):
    check.eq(f"{name}: events read back", len(events), len(want))
    by = {}
    for key, e in events:
        by.setdefault((get(e, "event.sequence"), get(e, "tapsift.flow_record")), []).append((key, e))
    for (frame, idx), w in sorted(want.items()):
        got = by.get((frame, idx), [])
        what = f"{name}: frame {frame} record {idx}"
        check.eq(f"{what}: events", len(got), 1)
        if len(got) != 1:
            continue
        key, e = got[0]
        check.eq(f"{what}: key", key, w["key"])
        check.eq(f"{what}: observer.ip", get(e, "observer.ip"), w["key"])
        check.eq(f"{what}: source.ip", get(e, "source.ip"), w["src"])
        check.eq(f"{what}: destination.ip", get(e, "destination.ip"), w["dst"])
        check.eq(f"{what}: source.port", get(e, "source.port"), w["sport"])
        check.eq(f"{what}: destination.port", get(e, "destination.port"), w["dport"])
        check.eq(f"{what}: network.iana_number", get(e, "network.iana_number"), str(w["proto"]))
        check.eq(f"{what}: network.bytes", get(e, "network.bytes"), w["bytes"])
        check.eq(f"{what}: network.packets", get(e, "network.packets"), w["packets"])
        check.eq(f"{what}: netflow.octet_delta_count", get(e, "netflow.octet_delta_count"), w["bytes"])
        check.eq(f"{what}: netflow.template_id", get(e, "netflow.template_id"), w["template"])
        check.eq(f"{what}: netflow.exporter.version", get(e, "netflow.exporter.version"), w["version"])
        check.eq(f"{what}: netflow.exporter.source_id", get(e, "netflow.exporter.source_id"), w["source_id"])
        check.eq(f"{what}: netflow.exporter.address", get(e, "netflow.exporter.address"), w["address"])
        check.eq(f"{what}: tapsift.format", get(e, "tapsift.format"), w["format"])
        check.eq(f"{what}: netflow.sampling.interval (restored rate)", get(e, "netflow.sampling.interval"),
                 w["rate"])
        check.eq(f"{what}: netflow.sampling.source", get(e, "netflow.sampling.source"), "exporter")
        check.eq(f"{what}: no tapsift.notes", get(e, "tapsift.notes"), None)
        if "ifname" in w:
            check.eq(f"{what}: netflow.interface_name", get(e, "netflow.interface_name"), w["ifname"])
        if w["template"] == 400:
            check.eq(f"{what}: event.start", get(e, "event.start"), "2026-10-31T23:59:55.000Z")
            check.eq(f"{what}: event.end", get(e, "event.end"), "2026-10-31T23:59:59.000Z")


def check_nothing_restored(name, rc, c, out, events):
    check.eq(f"{name}: exit code", rc, 0)
    if c is None:
        check.true(f"{name}: stats written", False)
        return
    f = c["flow"]
    check.true(f"{name}: accounting identity", accounting_balances(c))
    check.eq(f"{name}: templates_restored", f["templates_restored"], 0)
    check.eq(f"{name}: flow_packets", c["flow_packets"], 6)
    check.eq(f"{name}: sets_without_template", f["sets_without_template"], DATA_SETS)
    check.eq(f"{name}: sets_held", f["sets_held"], DATA_SETS)
    check.eq(f"{name}: sets_unresolved", f["sets_unresolved"], DATA_SETS)
    check.eq(f"{name}: sets_resolved", f["sets_resolved"], 0)
    check.eq(f"{name}: records", f["records"], 0)
    check.eq(f"{name}: events", len(events), 0)


def fresh_dir(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def main():
    tpl_dir = fresh_dir("restart-templates")
    flows_cfg = lambda d, extra="": f"flows:\n  template_dir: {d}\n{extra}"  # noqa: E731
    data_cap, want = data_capture(10_000)
    with Broker("flow-restart") as broker:
        # 1. learn and save
        rc, c, out, events = run_replay(broker, "restart-1-templates", templates_capture(), flows_cfg(tpl_dir))
        check.eq("templates run: exit code", rc, 0)
        if c is None:
            print(out)
            check.finish()
        eng = c["flow"]["engine"]
        check.true("templates run: accounting identity", accounting_balances(c))
        check.eq("templates run: templates_learned", eng["templates_learned"], N_TEMPLATES)
        check.eq("templates run: sampling_updates", eng["sampling_updates"], 2)
        check.eq("templates run: options records", c["flow"]["options_records"], 2)
        check.eq("templates run: template_save_errors", c["flow"]["template_save_errors"], 0)
        check.true("templates run: template_saves >= 1", c["flow"]["template_saves"] >= 1)
        files = sorted(os.listdir(tpl_dir))
        check.eq("templates run: files in template_dir", files, ["templates-0.bin"])
        check.eq("templates run: events (the 2 options records)", len(events), 2)
        check.eq("templates run: options events",
                 sorted(get(e, "event.action") for _, e in events), ["netflow_options"] * 2)
        check.eq("templates run: v9 options event carries the sampling interval",
                 sorted(get(e, "netflow.sampling_interval", get(e, "netflow.sampling_packet_space"))
                        for _, e in events), [E1_RATE, E2_RATE - 1])
        saved = os.path.join(tpl_dir, "templates-0.bin")
        pristine = open(saved, "rb").read() if os.path.exists(saved) else b""

        # 2. restart: a new process, data only
        rc, c, out, events = run_replay(broker, "restart-2-data", data_cap, flows_cfg(tpl_dir))
        check.eq("restart run: exit code", rc, 0)
        if c is not None:
            f = c["flow"]
            check.true("restart run: accounting identity", accounting_balances(c))
            check.eq("restart run: templates_restored", f["templates_restored"], N_TEMPLATES)
            check.eq("restart run: templates_learned (none sent)", f["engine"]["templates_learned"], 0)
            check.eq("restart run: sets_without_template", f["sets_without_template"], 0)
            check.eq("restart run: records", f["records"], DATA_RECORDS)
            check.eq("restart run: produced", f["produced"], DATA_RECORDS)
            check.eq("restart run: flow_packets", c["flow_packets"], 6)
            check.true("restart run: log says what was restored",
                       f"restored {N_TEMPLATES} template(s) and 2 sampling rate(s) from 1 file(s)" in out)
            check_decoded("restart run", events, want)
            print(f"restart: {f['templates_restored']} templates restored, {len(events)}/{DATA_RECORDS} "
                  f"records decoded, sets_without_template {f['sets_without_template']}")
        else:
            check.true("restart run: stats written", False)

        # 3. control: same data, empty template_dir
        empty = fresh_dir("restart-empty")
        rc, c, out, events = run_replay(broker, "restart-3-control", data_cap, flows_cfg(empty))
        check_nothing_restored("control run", rc, c, out, events)
        if c:
            print(f"control: {c['flow']['sets_held']} sets held, {c['flow']['sets_unresolved']} unresolved, "
                  f"{len(events)} events")

        # 4. corrupt files: skipped with a warning
        bad = fresh_dir("restart-corrupt")
        flipped = bytearray(pristine)
        if flipped:
            flipped[len(flipped) // 2] ^= 0x40
        open(os.path.join(bad, "templates-0.bin"), "wb").write(bytes(flipped))
        open(os.path.join(bad, "templates-1.bin"), "wb").write(pristine[:len(pristine) // 3])
        rc, c, out, events = run_replay(broker, "restart-4-corrupt", data_cap, flows_cfg(bad))
        check_nothing_restored("corrupt files run", rc, c, out, events)
        for fn in ("templates-0.bin", "templates-1.bin"):
            check.true(f"corrupt files run: warning for {fn}",
                       f"{os.path.join(bad, fn)} is not a template file this build can read; skipped" in out)
        mixed = fresh_dir("restart-corrupt-and-valid")
        open(os.path.join(mixed, "templates-0.bin"), "wb").write(bytes(flipped))
        open(os.path.join(mixed, "templates-3.bin"), "wb").write(pristine)
        rc, c, out, events = run_replay(broker, "restart-5-mixed", data_cap, flows_cfg(mixed))
        check.eq("corrupt + valid run: exit code", rc, 0)
        if c is not None:
            check.eq("corrupt + valid run: templates_restored", c["flow"]["templates_restored"], N_TEMPLATES)
            check.eq("corrupt + valid run: sets_without_template", c["flow"]["sets_without_template"], 0)
            check.true("corrupt + valid run: warning for the corrupt file",
                       "templates-0.bin is not a template file this build can read; skipped" in out)
            check_decoded("corrupt + valid run", events, want)

        # 5. restored templates keep their age (refreshed by packet time in the first run)
        aged = fresh_dir("restart-aged")
        open(os.path.join(aged, "templates-0.bin"), "wb").write(pristine)
        late_cap, _ = data_capture(2 * 3600 * 1000)
        rc, c, out, events = run_replay(broker, "restart-6-aged", late_cap,
                                        flows_cfg(aged, "  template_timeout_s: 3600\n"))
        check.eq("aged run: exit code", rc, 0)
        if c is not None:
            f = c["flow"]
            check.eq("aged run: templates_restored", f["templates_restored"], N_TEMPLATES)
            check.eq("aged run: templates_expired (300, 400, 401)", f["engine"]["templates_expired"], 3)
            check.eq("aged run: sets_held", f["sets_held"], DATA_SETS)
            check.eq("aged run: sets_unresolved", f["sets_unresolved"], DATA_SETS)
            check.eq("aged run: events", len(events), 0)
            check.true("aged run: accounting identity", accounting_balances(c))
            print(f"aged: {f['engine']['templates_expired']} restored templates expired, "
                  f"{f['sets_unresolved']} sets unresolved")
    check.finish()


if __name__ == "__main__":
    main()
