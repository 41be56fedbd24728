"""sFlow v5 from a real exporter, made live: pmacctd's sfprobe plugin samples every packet of
data/captures/demo-syslog.pcap (sampling_rate 1; the file read twice) and exports sFlow v5 over loopback to a UDP
socket here (sfprobe_export.py). The datagrams received, as a capture, are then decoded by
tapsift (the sflow_events dump tool) and checked three ways:

  1. against what was sent: one flow sample per IPv4 packet of the input (pmacctd samples IP
     only: the ARP frame is not), in order, the first pass whole (an exiting pmacctd does not
     send sfprobe's last, partly filled datagram: part of the second pass may be missing), each with the packet's MACs, addresses, protocol,
     ports, and frame length (tshark's fields of the input; sfprobe adds the 4-byte FCS to the
     frame length, and says so with stripped = 4);
  2. against tshark's sflow dissector (sflow_oracle.compare, known differences in
     sflow-tshark-known-differences.tsv under the source name below);
  3. against pmacct's sfacctd (sfacctd_oracle, known differences in
     sflow-sfacctd-known-differences.tsv under the same source name).

Exit status: 0 pass, 1 failures, 77 when tshark is not installed.
"""
import json
import os
import shutil
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

from e2e_support import Check, SRC, WORK, get_path  # noqa: E402
import sflow_oracle  # noqa: E402
import sfacctd_oracle  # noqa: E402
from sfprobe_export import AGENT, PASSES, export  # noqa: E402

INPUT = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
SOURCE = "live:pmacctd-sfprobe:data/captures/demo-syslog.pcap"
VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"
SENT_FIELDS = ["eth.src", "eth.dst", "ip.src", "ip.dst", "ip.proto", "udp.srcport", "udp.dstport",
               "tcp.srcport", "tcp.dstport", "frame.len"]


def sent_packets():
    """The input's IPv4 packets as tshark reads them: [{field: text}]."""
    out = subprocess.run(["tshark", "-r", INPUT, "-Y", "ip", "-T", "fields", "-E", "occurrence=f"] +
                         sum([["-e", f] for f in SENT_FIELDS], []), check=True, capture_output=True,
                         text=True).stdout
    return [dict(zip(SENT_FIELDS, line.split("\t"))) for line in out.splitlines()]


def check_against_sent(check, flows):
    """Sample i is packet i mod len(sent): the first pass complete, the second up to the tail
    that sfprobe does not send on exit (sfprobe_export.PASSES)."""
    sent = sent_packets()
    check.true(f"flow samples ({len(flows)}) cover a whole pass over the {len(sent)} IPv4 packets sent, "
               f"and at most {PASSES}", len(sent) <= len(flows) <= PASSES * len(sent))
    for n, ev in enumerate(flows):
        pkt = sent[n % len(sent)]
        want = {
            "source.mac": pkt["eth.src"], "destination.mac": pkt["eth.dst"],
            "source.ip": pkt["ip.src"], "destination.ip": pkt["ip.dst"],
            "network.iana_number": pkt["ip.proto"],
            "source.port": int(pkt["udp.srcport"] or pkt["tcp.srcport"] or 0) or None,
            "destination.port": int(pkt["udp.dstport"] or pkt["tcp.dstport"] or 0) or None,
            "sflow.frame_length": int(pkt["frame.len"]) + 4, "sflow.stripped": 4,
            "sflow.agent.address": AGENT, "sflow.sampling.rate": 1,
        }
        for path, value in want.items():
            check.eq(f"sample {n + 1} (packet {n % len(sent) + 1}): {path}", get_path(ev, path), value)


def main():
    check = Check()
    error = sfacctd_oracle.fetch_pmacct()
    if error:
        check.true(error, False)
        check.finish()
    events_bin = os.environ.get("SFLOW_EVENTS_BIN", os.path.join(SRC, "build", "tests", "sflow_events"))
    work = os.path.join(WORK, "sflow-sfprobe-live")
    shutil.rmtree(work, ignore_errors=True)
    pcap = os.path.join(work, "sfprobe.pcap")
    datagrams = export(INPUT, pcap, work)
    check.true("pmacctd/sfprobe exported some datagrams", datagrams > 0)
    sfacctd = sfacctd_oracle.start_sfacctd(pcap, os.path.join(work, "sfacctd"))

    rows = [json.loads(line) for line in subprocess.run([events_bin, pcap], check=True, capture_output=True,
                                                        text=True).stdout.splitlines()]
    check.eq("no malformed datagram", [r for r in rows if "malformed" in r], [])
    events = [r for r in rows if "event" in r]
    flows = sorted((r["event"] for r in events if get_path(r["event"], "sflow.sample.type") == "flow"),
                   key=lambda e: get_path(e, "sflow.sample.sequence_number"))
    counters = [r["event"] for r in events if get_path(r["event"], "sflow.sample.type") == "counter"]
    check_against_sent(check, flows)

    known = sflow_oracle.load_known(check)
    ours = {(r["frame"], r["event"]["tapsift"]["sflow_sample"]): r["event"] for r in events}
    matched, compared, agreed = sflow_oracle.compare(check, SOURCE, pcap, ours, known, VERBOSE)
    sflow_oracle.check_known_used(check, known, {SOURCE})
    check.eq("tshark: every sample matched", matched, len(events))

    proc, flows_file, counters_file = sfacctd
    check.eq("sfacctd exit status", proc.wait(timeout=60), 0)
    known = sfacctd_oracle.load_known(check)
    theirs = [sfacctd_oracle.sfacctd_normalised(r) for r in sfacctd_oracle.read_json_lines(flows_file)
              if r.get("event_type") == "purge"]
    d1, c1 = sfacctd_oracle.flow_disagreements(sfacctd_oracle.aggregate(theirs), sfacctd_oracle.aggregate(
        sfacctd_oracle.ours_as_primitives(e) for e in flows))
    d2, c2 = sfacctd_oracle.counter_disagreements(sfacctd_oracle.read_json_lines(counters_file), counters)
    sfacctd_oracle.judge(check, SOURCE, d1 + d2, known, VERBOSE)
    sflow_oracle.check_known_used(check, known, {SOURCE})
    check.true("sfacctd wrote some flow aggregates", len(theirs) > 0)
    print(f"{datagrams} datagrams, {len(flows)} flow samples, {len(counters)} counter samples; "
          f"tshark: {compared} fields compared, {agreed} agree; sfacctd: {len(theirs)} aggregates, "
          f"{c1 + c2} fields compared")
    check.finish()


main()
