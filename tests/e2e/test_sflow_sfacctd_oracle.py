"""pmacct's sfacctd as a second independent oracle for sFlow v5 (beside tshark's dissector,
test_sflow_tshark_oracle.py): over the sFlow corpus (tests/corpus/sflow), Debian 12's sfacctd
1.7.7 and tapsift's sFlow decoder (events of the sflow_events dump tool) must agree.

  1. sfacctd comes from Debian's pmacct .deb, fetched and unpacked under build/bench/peers by
     scripts/fetch-peers (not installed: it would be a system service). One sfacctd per capture
     (all at once) reads it with pcap_savefile (payload files are wrapped into a capture first).
  2. Flow samples: sfacctd aggregates, so its print plugin (JSON) is given every primitive it
     can decode from a sample (sfacctd_oracle.AGGREGATE: MACs, VLAN, CoS, Ethernet type, hosts,
     protocol, ToS, ports, TCP flags, interfaces, ASes, masks, next hop, sampling rate) plus the
     datagram's identity (agent, datagram sequence number, sub-agent id), without
     renormalisation. Our flow-sample events are written as the same primitives, as sfacctd
     defines them (sfacctd_oracle.ours_as_primitives: the VLAN is the extended switch record's
     when it has one, else the header's; CoS is one byte; a compact sample's interface is the
     whole u32), and aggregated by the same key here, summing packets and bytes and ORing TCP
     flags as sfacctd does. Per datagram, aggregates with equal keys are matched and their
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

from e2e_support import Check, SRC, WORK
from sflow_oracle import as_capture, check_known_used, corpus_files, events_bin
import sfacctd_oracle

VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"


def our_events(path):
    lines = subprocess.run([events_bin(), path], check=True, capture_output=True, text=True).stdout.splitlines()
    return [row["event"] for row in map(json.loads, lines) if "event" in row]


def main():
    check = Check()
    sfacctd_oracle.require_pmacct(check)
    work = os.path.join(WORK, "sflow-sfacctd-oracle")
    os.makedirs(work, exist_ok=True)
    known = sfacctd_oracle.load_known(check)
    runs = [(os.path.relpath(path, SRC), path,
             sfacctd_oracle.start_sfacctd(as_capture(path, work), os.path.join(work, str(n))))
            for n, path in enumerate(corpus_files())]
    compared = flow_aggregates = counter_records = 0
    for source, path, sfacctd in runs:
        a, r, c = sfacctd_oracle.compare(check, source, sfacctd, our_events(path), known, VERBOSE)
        flow_aggregates += a
        counter_records += r
        compared += c
    check_known_used(check, known, {r[0] for r in runs})
    check.true("sfacctd wrote some flow aggregates", flow_aggregates > 0)
    check.true("sfacctd wrote some counter records", counter_records > 0)
    print(f"{flow_aggregates} sfacctd flow aggregates, {counter_records} counter records, {compared} fields compared")
    check.finish()


main()
