"""tshark as an oracle for NetFlow v5/v9 and IPFIX: over the whole flow corpus
(tests/corpus/flows, one capture built by scripts/make-flow-pcap), tshark 4.0's cflow dissector
and tapsift (events read back from topic tapsift.flows) must agree field by field.

  1. scripts/make-flow-pcap WORK/flow-oracle.pcap WORK/flow-oracle.manifest.jsonl
  2. tapsift broker; tapsift replay PCAP --brokers B --stats-json S --config CFG, where CFG has
     dataplane: {flow_ports: [2055, 4739]}
  3. every event of tapsift.flows is matched to tshark's data record by
     (event.sequence == tshark frame number, tapsift.flow_record == tshark record index: the
     0-based index of the data record within the datagram, counting flow and options data
     records in packet order). Each tshark record must have exactly one event and each event
     a tshark record (field "event").
     Events with tapsift.notes "decoded_after_template_arrived" come from a data set tapsift
     held until its template arrived (later in the same datagram or in a later one); they
     share event.sequence with that datagram and number their records from 0 again.  tshark
     cannot decode those sets in place, so: tshark must show a "no template found" set of
     that id in that frame, a frame of the same exporter and observation domain at or after
     it must define the template, the (frame, template) groups may not outnumber the stats'
     flow.sets_resolved, and a copy of the frame replayed right after the frame with the
     template (flow_oracle.tshark_late_records) gives the records they are compared with,
     as record "h<index>".
     Also checked: the replay's stats are balanced, flow.produced == events read back ==
     flow.records, the message key and netflow.exporter.address ("ip:port") match
     observer.ip, and a flow event with addresses has network.iana_number ==
     netflow.protocol_identifier (the last occurrence when the template repeats it: the ECS
     fields describe the innermost header, like source.port).
  4. every field of the tshark record (flow_oracle.tshark_flow_records(): our dotted field
     names, values already in our rendering) is compared with the event's value at the same
     dotted path (netflow.octet_delta_count -> event["netflow"]["octet_delta_count"]); a field
     tshark has and we do not is a disagreement (our value "<absent>"). Times are compared as
     instants at the IE's precision, addresses as address objects, a repeated IE as the list
     of all its occurrences (flow_oracle.values_agree). Fields we emit and tshark does not decode
     are not compared (tshark's coverage is the limit: see flow_oracle's docstring and
     TAPSIFT_ORACLE_CALIBRATION=1).

Every disagreement must be listed in flow-tshark-known-differences.tsv (next to this file):
  source<TAB>frame<TAB>record<TAB>field<TAB>tshark value<TAB>our value<TAB>reason
source is the corpus file of that frame (the manifest's "source", checked: a row whose frame
now belongs to another file is stale), record is the index, "h<index>" (a record decoded after
its template arrived) or "*" (every record of the frame),
the two values are JSON (as printed in failures; "<absent>" for a missing value) or "*" (any).
Anything else fails, and so does a row that no longer matches any disagreement. Prints
"N fields compared, M agree".

Exit status: 0 pass, 1 failures, 77 when tshark is not installed.
Run: TAPSIFT_BIN=... TAPSIFT_SOURCE_DIR=... [TAPSIFT_WORK_DIR=...] python3 test_flow_tshark_oracle.py
TAPSIFT_ORACLE_VERBOSE=1 prints every known difference, TAPSIFT_ORACLE_DUMP=1 every comparison,
TAPSIFT_ORACLE_CALIBRATION=1 the IEs tshark cannot be compared on.
"""
import json
import os
import re
import shutil
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

import flow_oracle as fo  # noqa: E402
from ecs_shape import check_ecs_shape  # noqa: E402
from e2e_support import Broker, Check, SRC, WORK, accounting_balances, consume_all, replay, tsv_rows, write_config  # noqa: E402

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flow-tshark-known-differences.tsv")
VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"
DUMP = os.environ.get("TAPSIFT_ORACLE_DUMP") == "1"
NOT_FIELDS = {"frame", "record", "options", "_time_digits", "_types"}
LATE_NOTE = "decoded_after_template_arrived"
ABSENT = "<absent>"
NAME = "flow-oracle"

check = Check()


def show(v):
    if v is fo.MISSING:
        return ABSENT
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def build_capture():
    pcap = os.path.join(WORK, f"{NAME}.pcap")
    manifest = os.path.join(WORK, f"{NAME}.manifest.jsonl")
    subprocess.run([os.path.join(SRC, "scripts", "make-flow-pcap"), pcap, manifest], check=True,
                   stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        frames = {r["frame"]: r for r in (json.loads(line) for line in f if line.strip())}
    return pcap, frames


def load_known(frames):
    """{(frame, record or '*', field): row dict}"""
    known = {}
    for where, n, line, cols in tsv_rows(KNOWN_FILE):
        ok = (len(cols) == 7 and cols[1].isdigit() and re.fullmatch(r"h?\d+|\*", cols[2])
              and cols[3] and cols[6].strip())
        check.true(f"{where}: want source<TAB>frame<TAB>record<TAB>field<TAB>tshark value<TAB>"
                   f"our value<TAB>reason, got {line!r}", ok)
        if not ok:
            continue
        frame = int(cols[1])
        src = frames.get(frame, {}).get("source")
        check.true(f"{where}: frame {frame} is {src!r} in the capture now, not {cols[0]!r} (stale row)",
                   src == cols[0])
        key = (frame, cols[2] if cols[2] == "*" or cols[2].startswith("h") else int(cols[2]), cols[3])
        check.true(f"{where}: duplicate entry {key}", key not in known)
        known[key] = {"tshark": cols[4], "ours": cols[5], "reason": cols[6], "line": n, "used": 0}
    return known


def run():
    pcap, frames = build_capture()
    stats = {}
    trecs = fo.tshark_flow_records(pcap, stats)
    counts = fo.tshark_counts(pcap)
    if os.environ.get("TAPSIFT_ORACLE_CALIBRATION") == "1":
        for line in fo.calibration_report():
            print("CALIBRATION:", line)
    print(f"capture: {len(frames)} frames; tshark: {sum(c['data_records'] for c in counts.values())} flow "
          f"records, {sum(c['options_records'] for c in counts.values())} options records, "
          f"{sum(c['templates'] for c in counts.values())} templates, "
          f"{sum(c['options_templates'] for c in counts.values())} options templates, "
          f"{sum(1 for c in counts.values() if c['no_template'])} frames with data before its template, "
          f"{sum(1 for c in counts.values() if c['malformed'])} frames malformed; mapping notes {stats}")
    check.eq("tshark dissected every frame as cflow", len(counts), len(frames))

    known = load_known(frames)
    cfg = write_config(NAME, "dataplane:\n  flow_ports: [2055, 4739]\n")
    with Broker(NAME) as broker:
        rc, c, out = replay(pcap, broker.bootstrap, NAME, extra=["--config", cfg])
        check.eq("replay exit code", rc, 0)
        if c is None:
            print(out)
            check.true("stats json written", False)
            return
        check.eq("rx_packets", c.get("rx_packets"), len(frames))
        events = consume_all(broker.bootstrap, "tapsift.flows", c["flow"]["produced"]) if c["flow"]["produced"] else []
    check.eq("events read back (none lost, none duplicated)", len(events), c["flow"]["produced"])
    check_ecs_shape(check, "flows", events)
    check.true("stats: balanced", c.get("balanced") is True)
    check.true("stats: accounting balances", accounting_balances(c))
    check.eq("stats: flow.produced == flow.records", c["flow"]["produced"], c["flow"]["records"])

    ours, late = {}, {}
    for key, e in events:
        seq = fo.get_path(e, "event.sequence")
        idx = fo.get_path(e, "tapsift.flow_record")
        check.true(f"event without event.sequence / tapsift.flow_record: {str(e)[:200]}",
                   seq is not fo.MISSING and idx is not fo.MISSING)
        obs = fo.get_path(e, "observer.ip")
        check.eq(f"frame {seq} record {idx}: message key is the exporter address", key, obs)
        exp = fo.get_path(e, "netflow.exporter.address")
        check.true(f"frame {seq} record {idx}: netflow.exporter.address {exp!r} starts with observer.ip {obs!r}",
                   isinstance(exp, str) and isinstance(obs, str) and exp.startswith(obs + ":"))
        proto = fo.get_path(e, "netflow.protocol_identifier")
        if (fo.get_path(e, "event.action") == "netflow_flow" and proto is not fo.MISSING
                and (fo.get_path(e, "source.ip") is not fo.MISSING
                     or fo.get_path(e, "destination.ip") is not fo.MISSING)):
            # a repeated protocolIdentifier (tunnels: outer 4 / 41, inner 17): the ECS fields
            # (source.*, destination.*, network.*) all describe the last occurrence
            last = proto[-1] if isinstance(proto, list) and proto else proto
            check.eq(f"frame {seq} record {idx}: network.iana_number is netflow.protocol_identifier "
                     f"({proto})", fo.get_path(e, "network.iana_number"), str(last))
        if fo.get_path(e, "tapsift.notes") == LATE_NOTE:
            check.true(f"frame {seq} record {idx}: two events decoded after their template arrived",
                       (seq, idx) not in late)
            late[(seq, idx)] = e
            continue
        check.true(f"frame {seq} record {idx}: two events", (seq, idx) not in ours)
        ours[(seq, idx)] = e
    theirs = {(r["frame"], r["record"]): r for r in trecs}

    # Events decoded from a data set held until its template arrived: tshark must have shown
    # that set as "no template found" in that frame, and a frame of the same exporter and
    # observation domain at or after it must define the template.  What tshark decodes from
    # that set once it knows the template (a copy of the frame replayed right after the frame
    # with the template, flow_oracle.tshark_late_records) is then compared like any record,
    # under record "h<index>".
    replays = {}
    for (seq, idx), e in sorted(late.items()):
        tid = fo.get_path(e, "netflow.template_id")
        ct = counts.get(seq, {})
        check.true(f"frame {seq} record {idx}: decoded after its template arrived, but tshark saw no data "
                   f"set {tid} without a template in that frame", tid in ct.get("no_template_ids", []))
        g = next((f for f in sorted(counts) if f >= seq and counts[f]["ip"] == ct.get("ip")
                  and counts[f]["source_id"] == ct.get("source_id")
                  and all(t in counts[f]["template_ids"] for t in
                          {fo.get_path(x, "netflow.template_id") for (s2, _), x in late.items() if s2 == seq})),
                 None)
        check.true(f"frame {seq} record {idx}: decoded after its template {tid} arrived, but no frame of "
                   f"{ct.get('ip')} at or after it defines that template", g is not None)
        if g is not None:
            replays[seq] = g
    sets_resolved = c["flow"].get("sets_resolved", 0)
    check.eq("events decoded after their template arrived exist exactly when flow.sets_resolved > 0",
             bool(late), sets_resolved > 0)
    late_sets = {(seq, fo.get_path(e, "netflow.template_id")) for (seq, _), e in late.items()}
    check.true(f"{len(late_sets)} (frame, template) groups of late events, at most flow.sets_resolved "
               f"({sets_resolved})", len(late_sets) <= sets_resolved)
    late_theirs = {}
    if replays:
        for f, recs in fo.tshark_late_records(pcap, replays, stats).items():
            for r in recs:
                late_theirs[(f, f"h{r['record']}")] = r
    late_ours = {(seq, f"h{idx}"): e for (seq, idx), e in late.items()}
    print(f"{len(late)} events decoded after their template arrived (flow.sets_resolved {sets_resolved}), "
          f"from frames {sorted(replays)}; tshark decodes {len(late_theirs)} records from those sets once "
          f"it has the template")
    theirs.update(late_theirs)
    ours.update(late_ours)

    total = {"fields": 0, "agree": 0, "known": 0, "unexplained": 0}
    per_source = {}

    def judge(frame, record, field, tval, oval, agree):
        src = frames.get(frame, {}).get("source", "?")
        ps = per_source.setdefault(src, [0, 0])
        if field != "event":
            total["fields"] += 1
            ps[0] += 1
        if DUMP:
            print(f"DUMP\t{src}\t{frame}\t{record}\t{field}\t{agree}\t{show(tval)[:100]}\t{show(oval)[:100]}")
        if agree:
            if field != "event":
                total["agree"] += 1
                ps[1] += 1
            return
        k = next((k for k in ((frame, record, field), (frame, "*", field)) if k in known), None)
        row = known.get(k)
        if row and row["tshark"] in ("*", show(tval)) and row["ours"] in ("*", show(oval)):
            row["used"] += 1
            total["known"] += 1
            if VERBOSE:
                print(f"KNOWN: {src} frame {frame} record {record} {field}: tshark {show(tval)}, "
                      f"tapsift {show(oval)} -- {row['reason']}")
            return
        total["unexplained"] += 1
        check.true(f"{src}\t{frame}\t{record}\t{field}\t{show(tval)}\t{show(oval)}\t(disagreement: a decoder "
                   f"bug, or list it in {os.path.basename(KNOWN_FILE)})", False)

    for frame, record in sorted(set(theirs) | set(ours), key=lambda k: (k[0], str(k[1]))):
        t, e = theirs.get((frame, record)), ours.get((frame, record))
        judge(frame, record, "event", "record" if t else "none", "event" if e else "none", bool(t) == bool(e))
        if t is None or e is None:
            continue
        for field, tval in t.items():
            if field in NOT_FIELDS:
                continue
            oval = fo.get_path(e, field)
            agree = oval is not fo.MISSING and fo.values_agree(field, tval, oval, t)
            judge(frame, record, field, tval, oval, agree)

    for (frame, record, field), row in sorted(known.items(), key=lambda kv: kv[1]["line"]):
        check.true(f"{os.path.basename(KNOWN_FILE)}:{row['line']}: frame {frame} record {record} {field} "
                   f"({row['reason']}) no longer matches a disagreement: delete or update the row",
                   row["used"] > 0)
    for src, (n, a) in sorted(per_source.items()):
        if VERBOSE or n != a:
            print(f"  {src}: {n} fields compared, {a} agree")
    check.true("compared no fields at all", total["fields"] > 0)
    print(f"{total['fields']} fields compared, {total['agree']} agree ({total['known']} known differences, "
          f"{total['unexplained']} unexplained); {len(theirs)} tshark records, {len(ours)} events")


run()
check.finish()
