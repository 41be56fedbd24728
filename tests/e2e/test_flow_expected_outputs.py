"""The corpus's own expected outputs as a second flow oracle (after tshark): pmacct nfacctd's
JSON (tests/corpus/flows/pcap/pmacct/<test>/output-flow-NN.json) and Telegraf's line protocol
(tests/corpus/flows/payloads/telegraf-netflow/<case>/expected.out) must agree with tapsift's
events, field by field, wherever a field maps obviously onto ours (flow_expected.py says which
and how; the rest is listed there as not compared).

  1. scripts/make-flow-pcap builds the corpus capture (one exporter address per source, the
     original exporter in the manifest); tapsift replay with dataplane.flow_ports [2055, 4739]
     and flows.scale_sampled_counts: true (network.packets/bytes renormalized, netflow.* raw);
     events of tapsift.flows are read back and attributed to their corpus file by
     event.sequence (the frame number in the manifest). The replay's stats must be balanced
     and every produced event read back.
  2. pmacct: per test directory, the FLOW events (event.action netflow_flow) of its capture(s)
     are rendered as pmacct primitives and summed by the primitives we can render (pmacct
     aggregates, and some of its primitives come from maps/BGP we do not model: see
     flow_expected.py); expected records are summed by the same key. tcp_flags is no key:
     pmacct ORs the flags of the flows it sums, as it sums their counters (test 502: ACK and
     ACK|RST records of one connection and second are one record, ["ACK", "RST"]); groups that
     agree exactly (packets and bytes too) with tcp_flags as a key are paired first, which keeps
     apart records pmacct separated by primitives we cannot render (test 112: one BGP session
     under two reassigned VRFs). An expected group with an identical group of ours agrees on
     every field it has; one without is paired with the group of ours with the same (ip_src,
     ip_dst, port_src, port_dst, ip_proto) that agrees on most fields, and each field is judged.
     timestamp_start of IPFIX records timed by flowStart/EndSysUpTime without
     systemInitTimeMilliseconds in the record (tests 500/501/502) is the message's export time
     in pmacct's output (flow_expected.pm_time_is_export_time), so it is rendered that way; our
     own event.start/end of those records (based on the exporter's options-data init time) are
     instead checked to exist and to satisfy start <= end <= export time (+1 s).
     packets/bytes: netflow.packet/octet_delta_count, or,
     where the test sets nfacctd_renormalize: true, network.packets/bytes (scaled by the rate
     the exporter announced) -- or, for test 102 whose sampling_map overrides the exporter,
     netflow.* times the map's rate (upstream pmacct_mount/sampling-00.map id=1,
     sampling-01.map id=1000 for output-flow-00 / -01). Test 400 ships no flow output (not
     compared).
  3. Telegraf: per case, each expected record is paired with the unused event of that case's
     files (same measurement: netflow = flow event, netflow_options = options event) that
     agrees on most fields; every field telegraf has is judged (flow_expected.tg_render); the
     counts of records must match (field "record").

Every disagreement must be listed in flow-expected-known-differences.tsv (next to this file):
  source<TAB>key<TAB>field<TAB>expected value<TAB>our value<TAB>reason
source: "pmacct/<test>/<output file>" or "telegraf/<case>"; key: the record -- pmacct
"ip_src ip_dst port_src port_dst ip_proto", telegraf "record <n>" (1-based, file order) -- or
"*" (every record); values as printed in failures (JSON, "<absent>") or "*". A row that matches
no disagreement fails too. Prints "N fields compared, M agree" per source and in total.

Exit status: 0 pass, 1 failures, 77 when scapy (scripts/make-flow-pcap) is missing.
Run: TAPSIFT_BIN=... TAPSIFT_SOURCE_DIR=... [TAPSIFT_WORK_DIR=...] /usr/bin/python3 test_flow_expected_outputs.py
TAPSIFT_ORACLE_VERBOSE=1 prints the known differences and every unmapped field,
TAPSIFT_ORACLE_DUMP=1 every comparison.
"""
import collections
import glob
import importlib.util
import json
import os
import subprocess
import sys

if importlib.util.find_spec("scapy") is None:
    print("scapy not installed (scripts/make-flow-pcap needs python3-scapy): skipping")
    sys.exit(77)

import flow_expected as fx  # noqa: E402
import flow_oracle as fo  # noqa: E402
from e2e_support import Broker, Check, SRC, WORK, accounting_balances, consume_all, replay, tsv_rows, write_config  # noqa: E402

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flow-expected-known-differences.tsv")
VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"
DUMP = os.environ.get("TAPSIFT_ORACLE_DUMP") == "1"
NAME = "flow-expected"
CORPUS = os.path.join(SRC, "tests", "corpus", "flows")
PM_DIR = os.path.join(CORPUS, "pcap", "pmacct")
TG_DIR = os.path.join(CORPUS, "payloads", "telegraf-netflow")
ABSENT = "<absent>"

# From upstream tests/<test>/nfacctd-00.conf (pmacct @ the corpus commit's history): which tests
# renormalize by the sampling rate, and which take src/dst nets and masks from BGP (nfacctd_net:
# bgp) rather than from the flow.
PM_RENORMALIZE = {"102-NFv9-CISCO-f2rd-pretag-sampling-reload", "104-IPFIXv10-IPv6-CISCO-sampling_option",
                  "106-IPFIXv10-HUAWEI-vrf_name"}
PM_NET_FROM_BGP = {"500-IPFIXv10-BGP-CISCO-SRv6", "501-IPFIXv10-BGP-IPv6-CISCO-MPLS",
                   "502-IPFIXv10-BGP-IPv6-CISCO-SRv6-lcomms"}
# sampling_map of test 102 (pmacct_mount/sampling-00.map, sampling-01.map), which wins over the
# exporter's own rate
PM_SAMPLING_MAP = {("102-NFv9-CISCO-f2rd-pretag-sampling-reload", "output-flow-00.json"): 1,
                   ("102-NFv9-CISCO-f2rd-pretag-sampling-reload", "output-flow-01.json"): 1000}
PM_NATURAL = ("ip_src", "ip_dst", "port_src", "port_dst", "ip_proto")
# primitives pmacct accumulates like its counters instead of aggregating by them: it ORs the TCP
# flags of the flows it sums (test 502: two records of one datagram, ACK 201 packets and
# ACK|RST 1 packet, are one output record of 202 packets with ["ACK", "RST"])
PM_ACCUMULATED = ("tcp_flags",)

check = Check()


def load_known():
    known = {}
    for where, n, line, cols in tsv_rows(KNOWN_FILE):
        ok = len(cols) == 6 and all(c.strip() for c in cols)
        check.true(f"{where}: want source<TAB>key<TAB>field<TAB>expected value<TAB>our value<TAB>reason, "
                   f"got {line!r}", ok)
        if not ok:
            continue
        key = (cols[0], cols[1], cols[2])
        check.true(f"{where}: duplicate entry {key}", key not in known)
        known[key] = {"expected": cols[3], "ours": cols[4], "reason": cols[5], "line": n, "used": 0}
    return known


class Judge:
    def __init__(self, known):
        self.known = known
        self.total = {"fields": 0, "agree": 0, "known": 0, "known_records": 0}
        self.per_source = collections.OrderedDict()
        self.unmapped = collections.defaultdict(set)

    def __call__(self, source, key, field, exp, ours, agree):
        ps = self.per_source.setdefault(source, [0, 0])
        if field != "record":
            self.total["fields"] += 1
            ps[0] += 1
        es, os_ = fx.show(exp), fx.show(ours)
        if DUMP:
            print(f"DUMP\t{source}\t{key}\t{field}\t{agree}\t{es[:100]}\t{os_[:100]}")
        if agree:
            if field != "record":
                self.total["agree"] += 1
                ps[1] += 1
            return
        row = next((self.known[k] for k in ((source, key, field), (source, "*", field)) if k in self.known), None)
        if row and row["expected"] in ("*", es) and row["ours"] in ("*", os_):
            row["used"] += 1
            self.total["known" if field != "record" else "known_records"] += 1
            if VERBOSE:
                print(f"KNOWN: {source} {key} {field}: expected {es}, tapsift {os_} -- {row['reason']}")
            return
        check.true(f"{source}\t{key}\t{field}\t{es}\t{os_}\t(disagreement: a decoder bug, or list it in "
                   f"{os.path.basename(KNOWN_FILE)})", False)


# ---------------------------------------------------------------- pmacct

def compare_pmacct(judge, events_by_group, orig_of):
    for test in sorted(os.listdir(PM_DIR)):
        outputs = sorted(glob.glob(os.path.join(PM_DIR, test, "output-flow-*.json")))
        if not outputs:
            print(f"pmacct/{test}: no expected output upstream: not compared")
            continue
        evs = [e for g, es in events_by_group.items() if g.startswith(f"pmacct/{test}/") for e in es
               if fo.get_path(e, "event.action") == "netflow_flow"]
        for out in outputs:
            src = f"pmacct/{test}/{os.path.basename(out)}"
            with open(out) as f:
                recs = [json.loads(line) for line in f if line.strip()]
            net_from_flow = test not in PM_NET_FROM_BGP
            # the primitives every record of the file lets us compare (mpls_vpn_rd only where
            # every record has pmacct's "vrfid:" fallback)
            per_rec = [fx.pm_fields(r, net_from_flow) for r in recs]
            fields = [f for f in per_rec[0] if all(f in pr for pr in per_rec)]
            rate = PM_SAMPLING_MAP.get((test, os.path.basename(out)))

            def counters(e):
                if rate is not None:
                    return (fo.get_path(e, "netflow.packet_delta_count") * rate,
                            fo.get_path(e, "netflow.octet_delta_count") * rate)
                if test in PM_RENORMALIZE:
                    return fo.get_path(e, "network.packets"), fo.get_path(e, "network.bytes")
                return fo.get_path(e, "netflow.packet_delta_count"), fo.get_path(e, "netflow.octet_delta_count")

            # (rendered values, packets, bytes) of each event and each expected record
            our_items, their_items = [], []
            for e in evs:
                ctx = {"orig_exporter": orig_of[fo.get_path(e, "observer.ip")]}
                our_items.append((tuple(fx.pm_render(e, f, ctx) for f in fields),) + tuple(counters(e)))
                if "timestamp_start" in fields and fx.pm_time_is_export_time(e):
                    # pmacct prints the export time here (flow_expected.pm_time_is_export_time):
                    # our own times, resolved by the exporter's systemInitTimeMilliseconds,
                    # must at least exist and precede the export
                    st, en = (fo.ns_of_rfc3339(fx.get(e, "event." + w, None)) for w in ("start", "end"))
                    xt = fo.ns_of_rfc3339(fx.get(e, "netflow.exporter.timestamp", None))
                    check.true(f"{src}: frame {fo.get_path(e, 'event.sequence')} record "
                               f"{fo.get_path(e, 'tapsift.flow_record')}: event.start {st} <= event.end {en} <= "
                               f"export time {xt} (+1 s)",
                               None not in (st, en, xt) and st <= en <= xt + 10**9)
            for r in recs:
                their_items.append((tuple(fx.pm_expected_value(r, f) for f in fields), r["packets"], r["bytes"]))

            def group(items, accumulated):
                """{key: [packets, bytes, {accumulated field: set}, rendered values]}"""
                out = {}
                for vals, p, b in items:
                    k = tuple(None if f in accumulated else fx.pm_norm(f, v) for f, v in zip(fields, vals))
                    acc = out.setdefault(k, [0, 0, {f: set() for f in accumulated}, vals])
                    acc[0] += p
                    acc[1] += b
                    for f, v in zip(fields, vals):
                        if f in accumulated:
                            acc[2][f].update(v)
                return out

            # pass 1: groups that agree exactly (counters too) when the accumulated primitives are
            # taken as keys as well -- keeps records apart that pmacct separates by primitives we
            # do not render (test 112: one connection under two reassigned VRFs, ACK|PSH and
            # ACK|FIN); pass 2: the rest, summed by pmacct's own rule (PM_ACCUMULATED OR'd)
            fine_ours, fine_theirs = group(our_items, ()), group(their_items, ())
            exact = {k for k in fine_theirs if k in fine_ours and fine_ours[k][:2] == fine_theirs[k][:2]}

            def fine_key(vals):
                return tuple(fx.pm_norm(f, v) for f, v in zip(fields, vals))

            ours = group([it for it in our_items if fine_key(it[0]) not in exact], PM_ACCUMULATED)
            theirs = group([it for it in their_items if fine_key(it[0]) not in exact], PM_ACCUMULATED)
            for k in exact:
                ours[("exact",) + k] = fine_ours[k]
                theirs[("exact",) + k] = fine_theirs[k]
            shown = {k: v[3] for k, v in ours.items()}
            shown.update({("exp",) + k: v[3] for k, v in theirs.items()})
            nat = [fields.index(f) for f in PM_NATURAL if f in fields]
            used = set()
            for k in sorted(theirs, key=str):
                vals = shown[("exp",) + k]
                key = " ".join(str(vals[i]) for i in nat)
                mate = k if k in ours else None
                if mate is None:
                    cands = [o for o in ours if o not in used and o not in theirs
                             and all(o[i] == k[i] for i in nat)]
                    if cands:
                        mate = max(cands, key=lambda o: (sum(a == b for a, b in zip(o, k)), str(o)))
                if mate is None:
                    judge(src, key, "record", "record", fx.MISSING, False)
                    continue
                used.add(mate)
                ovals = shown[mate]
                for i, f in enumerate(fields):
                    if f in theirs[k][2]:
                        ev, ov = sorted(theirs[k][2][f]), sorted(ours[mate][2][f])
                        judge(src, key, f, ev, ov, ev == ov)
                    else:
                        judge(src, key, f, vals[i], ovals[i], fx.pm_norm(f, vals[i]) == fx.pm_norm(f, ovals[i]))
                for j, f in enumerate(("packets", "bytes")):
                    judge(src, key, f, theirs[k][j], ours[mate][j], theirs[k][j] == ours[mate][j])
            for o in sorted(set(ours) - used, key=str):
                vals = shown[o]
                key = " ".join(str(vals[i]) for i in nat)
                judge(src, key, "record", fx.MISSING, "event", False)


# ---------------------------------------------------------------- Telegraf

def compare_telegraf(judge, events_by_group):
    for case in sorted(os.listdir(TG_DIR)):
        exp_path = os.path.join(TG_DIR, case, "expected.out")
        if case.startswith("sflow") or not os.path.exists(exp_path):
            continue
        src = f"telegraf/{case}"
        with open(exp_path, encoding="utf-8") as f:
            recs = fx.parse_line_protocol(f.read())
        evs = list(events_by_group.get(src, []))
        used = set()
        for n, (meas, tags, fields) in enumerate(recs, 1):
            key = f"record {n}"
            fmt = tags.get("version")
            action = "netflow_options" if meas == "netflow_options" else "netflow_flow"
            rendered = []
            for i, e in enumerate(evs):
                if i in used or fo.get_path(e, "event.action") != action:
                    continue
                vals = {}
                for fld, exp in fields.items():
                    if fmt == "NetFlowV5" and fld == "flows":
                        continue
                    try:
                        vals[fld] = fx.tg_render(e, fld, exp, fmt)
                    except KeyError:
                        continue
                score = sum(fx.tg_agree(fld, fields[fld], v) for fld, v in vals.items())
                rendered.append((score, -i, i, vals))
            if not rendered:
                judge(src, key, "record", "record", fx.MISSING, False)
                continue
            _, _, i, vals = max(rendered)
            used.add(i)
            for fld, exp in fields.items():
                if fld not in vals:
                    why = fx.TELEGRAF_SKIP.get(fld if not (fmt == "NetFlowV5" and fld == "flows") else "flows@v5")
                    judge.unmapped[src].add(f"{fld}" + (f" ({why})" if why else ""))
                    continue
                judge(src, key, fld, exp, vals[fld], fx.tg_agree(fld, exp, vals[fld]))
        for i, e in enumerate(evs):
            if i not in used:
                judge(src, f"event {fo.get_path(e, 'event.sequence')}/{fo.get_path(e, 'tapsift.flow_record')}",
                      "record", fx.MISSING, "event", False)


# ---------------------------------------------------------------- main

def run():
    pcap = os.path.join(WORK, f"{NAME}.pcap")
    manifest = os.path.join(WORK, f"{NAME}.manifest.jsonl")
    subprocess.run([os.path.join(SRC, "scripts", "make-flow-pcap"), pcap, manifest], check=True,
                   stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        frames = {r["frame"]: r for r in (json.loads(line) for line in f if line.strip())}
    orig_of = {}
    for r in frames.values():
        orig_of.setdefault(r["exporter_ip"], r.get("orig_exporter"))
    known = load_known()
    cfg = write_config(NAME, "dataplane:\n  flow_ports: [2055, 4739]\nflows:\n  scale_sampled_counts: true\n")
    with Broker(NAME) as broker:
        rc, c, out = replay(pcap, broker.bootstrap, NAME, extra=["--config", cfg])
        check.eq("replay exit code", rc, 0)
        if c is None:
            print(out)
            check.true("stats json written", False)
            return
        check.eq("rx_packets", c.get("rx_packets"), len(frames))
        produced = c["flow"]["produced"]
        events = consume_all(broker.bootstrap, "tapsift.flows", produced) if produced else []
    check.eq("events read back (none lost, none duplicated)", len(events), produced)
    check.true("stats: balanced", c.get("balanced") is True)
    check.true("stats: accounting balances", accounting_balances(c))

    by_group = collections.defaultdict(list)
    for key, e in events:
        fr = frames.get(fo.get_path(e, "event.sequence"))
        check.true(f"event of an unknown frame: {str(e)[:200]}", fr is not None)
        if fr is None:
            continue
        check.eq(f"frame {fr['frame']}: message key is the exporter address", key, fr["exporter_ip"])
        by_group[fr["group"]].append(e)

    judge = Judge(known)
    compare_pmacct(judge, by_group, orig_of)
    compare_telegraf(judge, by_group)

    for (source, key, field), row in sorted(known.items(), key=lambda kv: kv[1]["line"]):
        check.true(f"{os.path.basename(KNOWN_FILE)}:{row['line']}: {source} {key} {field} ({row['reason']}) no "
                   f"longer matches a disagreement: delete or update the row", row["used"] > 0)
    for src, (n, a) in judge.per_source.items():
        print(f"  {src}: {n} fields compared, {a} agree")
        if VERBOSE and judge.unmapped.get(src):
            print(f"    not compared (no mapping): {', '.join(sorted(judge.unmapped[src]))}")
    check.true("compared no fields at all", judge.total["fields"] > 0)
    t = judge.total
    print(f"{t['fields']} fields compared, {t['agree']} agree ({t['known']} known differences, "
          f"{t['fields'] - t['agree'] - t['known']} unexplained); {t['known_records']} known missing/extra records")


run()
check.finish()
