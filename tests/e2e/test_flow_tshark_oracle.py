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
  4. every field of the tshark record (flow_oracle.tshark_flow_records(): our dotted field
     names, values already in our rendering) is compared with the event's value at the same
     dotted path (netflow.octet_delta_count -> event["netflow"]["octet_delta_count"]); a field
     tshark has and we do not is a disagreement (our value "<absent>"). Times are compared at
     the IE's precision (flow_oracle.values_agree). Fields we emit and tshark does not decode
     are not compared (tshark's coverage is the limit: see flow_oracle's docstring and
     TAPSIFT_ORACLE_CALIBRATION=1).

Every disagreement must be listed in flow-tshark-known-differences.tsv (next to this file):
  source<TAB>frame<TAB>record<TAB>field<TAB>tshark value<TAB>our value<TAB>reason
source is the corpus file of that frame (the manifest's "source", checked: a row whose frame
now belongs to another file is stale), record is the index or "*" (every record of the frame),
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
import shutil
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

import flow_oracle as fo  # noqa: E402
from e2e_support import SRC, WORK, Broker, Check, consume_all, replay, write_config  # noqa: E402

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flow-tshark-known-differences.tsv")
VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"
DUMP = os.environ.get("TAPSIFT_ORACLE_DUMP") == "1"
NOT_FIELDS = {"frame", "record", "options", "_time_digits"}
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
    with open(KNOWN_FILE, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            where = f"{os.path.basename(KNOWN_FILE)}:{n}"
            ok = (len(cols) == 7 and cols[1].isdigit() and (cols[2].isdigit() or cols[2] == "*")
                  and cols[3] and cols[6].strip())
            check.true(f"{where}: want source<TAB>frame<TAB>record<TAB>field<TAB>tshark value<TAB>"
                       f"our value<TAB>reason, got {line!r}", ok)
            if not ok:
                continue
            frame = int(cols[1])
            src = frames.get(frame, {}).get("source")
            check.true(f"{where}: frame {frame} is {src!r} in the capture now, not {cols[0]!r} (stale row)",
                       src == cols[0])
            key = (frame, cols[2] if cols[2] == "*" else int(cols[2]), cols[3])
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

    ours = {}
    for key, e in events:
        seq = fo.get_path(e, "event.sequence")
        idx = fo.get_path(e, "tapsift.flow_record")
        check.true(f"event without event.sequence / tapsift.flow_record: {str(e)[:200]}",
                   seq is not fo.MISSING and idx is not fo.MISSING)
        check.eq(f"frame {seq} record {idx}: message key is the exporter address", key,
                 fo.get_path(e, "observer.ip"))
        check.true(f"frame {seq} record {idx}: two events", (seq, idx) not in ours)
        ours[(seq, idx)] = e
    theirs = {(r["frame"], r["record"]): r for r in trecs}

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
