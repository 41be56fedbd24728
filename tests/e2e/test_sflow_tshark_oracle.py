"""tshark as an oracle for sFlow v5: over the sFlow corpus (tests/corpus/sflow: tcpdump's and
nDPI's captures, Telegraf's payload files), tshark 4.0's sflow dissector and tapsift's sFlow
decoder (the sflow_parse kernel's datagram decoder, events assembled by host/event/sflow_event)
must agree field by field.

  1. SFLOW_EVENTS_BIN FILE... prints one event per decoded sample (and one line per malformed
     datagram); payload files (.bin) are wrapped here into a capture (Ethernet/IPv4/UDP to 6343)
     for tshark only.
  2. tshark -T pdml -d udp.port==6343,sflow: per frame, the samples in order (each a field
     holding sflow_245.sampletype); samples of enterprise 0, formats 1-4 are the ones tapsift
     decodes, and the i-th of them is matched with the event with tapsift.sflow_sample == i of
     that frame (event.sequence == frame number). A tshark sample without an event, or an event
     without a tshark sample, is a disagreement (field "event").
  3. every field below (TSHARK_TO_OURS and the sampled header's eth/vlan/ip/ipv6/tcp/udp/icmp
     layers) that tshark shows is compared with the event's value at the dotted path; a field
     tshark has and we do not is a disagreement (our value "<absent>").
  4. the same files decoded with --scale (flows.scale_sampled_counts): network.bytes ==
     sflow.frame_length * sflow.sampling.rate and network.packets == the rate, for every flow
     sample whose rate is above 1.

Every disagreement must be listed in sflow-tshark-known-differences.tsv (next to this file):
  source<TAB>frame<TAB>sample<TAB>field<TAB>tshark value<TAB>our value<TAB>reason
(sample: the 0-based index among decodable samples, or "*"; field a dotted name, or "*" for every
field of that sample; values JSON or "*"). Anything else
fails, and so does a row that no longer matches a disagreement. Prints "N fields compared, M
agree".

Exit status: 0 pass, 1 failures, 77 when tshark is not installed.
Run: SFLOW_EVENTS_BIN=build/tests/sflow_events TAPSIFT_SOURCE_DIR=. python3 test_sflow_tshark_oracle.py
"""
import json
import os
import shutil
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

from e2e_support import Check, SRC, WORK  # noqa: E402
from sflow_oracle import as_capture, check_known_used, compare, corpus_files, events_bin, load_known  # noqa: E402

VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"

def main():
    check = Check()
    tool = events_bin()
    work = os.path.join(WORK, "sflow-oracle")
    os.makedirs(work, exist_ok=True)
    known = load_known(check)
    compared = agreed = samples_matched = 0
    for path in corpus_files():
        source = os.path.relpath(path, SRC)
        pcap = as_capture(path, work)
        lines = subprocess.run([tool, path], check=True, capture_output=True, text=True).stdout.splitlines()
        ours = {}
        for line in lines:
            row = json.loads(line)
            if "event" in row:
                ev = row["event"]
                ours[(row["frame"], ev["tapsift"]["sflow_sample"])] = ev
        scaled = subprocess.run([tool, "--scale", path], check=True, capture_output=True, text=True).stdout
        for line in scaled.splitlines():
            ev = json.loads(line).get("event")
            if ev and ev["sflow"]["sample"]["type"] == "flow" and ev["sflow"]["sampling"]["rate"] > 1:
                rate = ev["sflow"]["sampling"]["rate"]
                check.eq(f"{source} frame {ev['event']['sequence']}: scaled network.bytes",
                         ev["network"]["bytes"], ev["sflow"]["frame_length"] * rate)
                check.eq(f"{source} frame {ev['event']['sequence']}: scaled network.packets",
                         ev["network"]["packets"], rate)
        m, c, a = compare(check, source, pcap, ours, known, VERBOSE)
        samples_matched += m
        compared += c
        agreed += a
    check_known_used(check, known)
    check.true("some samples matched", samples_matched > 0)
    print(f"{samples_matched} samples matched, {compared} fields compared, {agreed} agree")
    check.finish()


main()
