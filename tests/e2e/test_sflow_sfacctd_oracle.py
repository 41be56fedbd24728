"""pmacct's sfacctd as a second independent oracle for sFlow v5 (beside tshark's dissector,
test_sflow_tshark_oracle.py): over the sFlow corpus (tests/corpus/sflow), Debian 12's sfacctd
1.7.7 and tapsift's sFlow decoder (events of the sflow_events dump tool) must agree.

  1. sfacctd comes from Debian's pmacct .deb, fetched and unpacked under build/peers/pmacct by
     scripts/unpack-debs (not installed: it would be a system service). One sfacctd per capture
     (all at once) reads it with pcap_savefile (payload files are wrapped into a capture first).
  2. Flow samples: sfacctd aggregates, so its print plugin (JSON) is given every primitive it
     can decode from a sample (sfacctd_oracle.AGGREGATE: MACs, VLAN, hosts, protocol, ToS,
     ports, TCP flags, interfaces, ASes, masks, next hop, sampling rate) plus the datagram's
     identity (agent, datagram sequence number, sub-agent id), without renormalisation. Our
     flow-sample events are written as the same primitives and aggregated by the same key here,
     summing packets and bytes. Per datagram, aggregates with equal keys are matched and their
     packets and bytes compared; when one aggregate is left on each side they are compared
     field by field (so a single disagreeing field shows as that field); any other leftover is
     a disagreement of field "aggregate".
  3. Counter samples: sfacctd_counter_file (JSON) writes one record per counter record, with the
     datagram and sample sequence numbers: matched one to one with our counter-sample events,
     generic interface and Ethernet counters compared field by field.

Every disagreement must be listed in sflow-sfacctd-known-differences.tsv (next to this file):
  source<TAB>datagram sequence<TAB>field<TAB>sfacctd value<TAB>our value<TAB>reason
("*" for any datagram or field, values as printed or "*"); anything else fails, and so does a
row that no longer matches. Prints "N fields compared".

Exit status: 0 pass, 1 failures.
Run: SFLOW_EVENTS_BIN=build/tests/sflow_events TAPSIFT_SOURCE_DIR=. python3 test_sflow_sfacctd_oracle.py
"""
import json
import os
import subprocess

from e2e_support import Check, SRC, WORK, get_path
from sflow_oracle import as_capture, check_known_used, corpus_files
from sfacctd_oracle import (aggregate, counter_disagreements, fetch_pmacct,
                            flow_disagreements, judge, load_known, ours_as_primitives, read_json_lines,
                            sfacctd_normalised, start_sfacctd)

VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"


def our_events(events_bin, path):
    lines = subprocess.run([events_bin, path], check=True, capture_output=True, text=True).stdout.splitlines()
    return [row["event"] for row in map(json.loads, lines) if "event" in row]


def main():
    check = Check()
    error = fetch_pmacct()
    if error:
        check.true(error, False)
        check.finish()
    events_bin = os.environ.get("SFLOW_EVENTS_BIN", os.path.join(SRC, "build", "tests", "sflow_events"))
    work = os.path.join(WORK, "sflow-sfacctd-oracle")
    os.makedirs(work, exist_ok=True)
    known = load_known(check)
    runs = []
    for n, path in enumerate(corpus_files()):
        pcap = as_capture(path, work)
        runs.append((os.path.relpath(path, SRC), path) + start_sfacctd(pcap, os.path.join(work, str(n))))
    compared = flow_aggregates = counter_records = 0
    for source, path, proc, flows_file, counters_file in runs:
        check.eq(f"{source}: sfacctd exit status", proc.wait(timeout=60), 0)
        events = our_events(events_bin, path)
        flows = [e for e in events if get_path(e, "sflow.sample.type") == "flow"]
        counters = [e for e in events if get_path(e, "sflow.sample.type") == "counter"]
        theirs_flows = [sfacctd_normalised(r) for r in read_json_lines(flows_file)
                        if r.get("event_type") == "purge"]
        theirs_counters = read_json_lines(counters_file)
        flow_aggregates += len(theirs_flows)
        counter_records += sum(1 for r in theirs_counters if r.get("event_type") == "log")
        d1, c1 = flow_disagreements(aggregate(theirs_flows), aggregate(ours_as_primitives(e) for e in flows))
        d2, c2 = counter_disagreements(theirs_counters, counters)
        compared += c1 + c2
        judge(check, source, d1 + d2, known, VERBOSE)
    check_known_used(check, known, {r[0] for r in runs})
    check.true("sfacctd wrote some flow aggregates", flow_aggregates > 0)
    check.true("sfacctd wrote some counter records", counter_records > 0)
    print(f"{flow_aggregates} sfacctd flow aggregates, {counter_records} counter records, {compared} fields compared")
    check.finish()


main()
