"""sFlow v5 from a real exporter, live through tapsift: pmacctd, in a network namespace made here,
samples every packet of data/captures/demo-syslog.pcap with its sfprobe plugin (sampling_rate 1;
the file read twice) and exports sFlow v5 over a veth pair to `tapsift run` (an af_packet port on
the other end, the embedded broker in a process of its own); the frames arriving there are also
recorded into a capture (an AF_PACKET socket on the same interface). Then:

  1. tapsift's events (read back from tapsift.flows) are the sflow_events dump tool's events of
     the recorded capture, but for the fields that depend on the run, and the counters balance
     (every datagram recorded an sflow_packets, every sample produced);
  2. against what was sent: one flow sample per IPv4 packet of the input (pmacctd samples IP
     only: the ARP frame is not), in order, the first pass whole (an exiting pmacctd does not
     send sfprobe's last, partly filled datagram: part of the second pass may be missing),
     each with the packet's MACs, addresses, protocol, ports, and frame length (tshark's fields
     of the input; sfprobe adds the 4-byte FCS to the frame length, and says so with
     stripped = 4);
  3. against tshark's sflow dissector (sflow_oracle.compare, known differences in
     sflow-tshark-known-differences.tsv under the source name below);
  4. against pmacct's sfacctd (sfacctd_oracle, known differences in
     sflow-sfacctd-known-differences.tsv under the same source name).

Needs root (namespace, veth, apt for pmacct). Exit status: 0 pass, 1 failures, 77 when tshark is
not installed or not root.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)
if os.geteuid() != 0:
    print("skipped: creating a network namespace needs root")
    sys.exit(77)

from e2e_support import (SRC, WORK, Broker, Check, accounting_balances, consume_all, get_path,  # noqa: E402
                         remove_veth_namespace, start_run_on_interface, veth_into_namespace)
import sflow_oracle  # noqa: E402
import sfacctd_oracle  # noqa: E402
from sfprobe_export import AGENT, PASSES, run_pmacctd  # noqa: E402
from sfprobe_export import write_config as pmacctd_config  # noqa: E402

INPUT = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
SOURCE = "live:pmacctd-sfprobe:data/captures/demo-syslog.pcap"
NS, TAP, PEER = f"sfns{os.getpid()}", f"sft{os.getpid()}", f"sfp{os.getpid()}"
EXPORTER, COLLECTOR, COLLECTOR_MAC = "192.0.2.1", "192.0.2.2", "02:00:00:00:63:43"
ETH_P_ALL = 3
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


def is_sflow_to_collector(frame):
    """An Ethernet/IPv4/UDP frame to COLLECTOR:6343."""
    return (len(frame) >= 42 and frame[12:14] == b"\x08\x00" and frame[23] == 17
            and socket.inet_ntoa(frame[30:34]) == COLLECTOR
            and int.from_bytes(frame[14 + (frame[14] & 15) * 4 + 2:][:2], "big") == 6343)


def live_run(work, check):
    """pmacctd in NS ► veth ► `tapsift run` on TAP, the frames recorded on TAP too. Returns
    (recorded capture, frames recorded, tapsift's counters, tapsift's events)."""
    try:
        # The collector side has no address (tapsift only listens): its MAC, a static neighbour.
        veth_into_namespace(NS, TAP, PEER, f"{EXPORTER}/24", (COLLECTOR, COLLECTOR_MAC))
        subprocess.run(["ip", "link", "set", TAP, "address", COLLECTOR_MAC], check=True)
        recorder = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        recorder.bind((TAP, 0))
        recorder.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
        recorder.settimeout(0.2)
        frames, stop = [], threading.Event()

        def record():
            while not stop.is_set():
                try:
                    frame = recorder.recv(65535)
                except socket.timeout:
                    continue
                if is_sflow_to_collector(frame):
                    frames.append(frame)

        with Broker("sfprobe-live") as b:
            gw, stats = start_run_on_interface("sfprobe-live", TAP, b.bootstrap)
            thread = threading.Thread(target=record)
            thread.start()
            run_pmacctd(pmacctd_config(INPUT, f"{COLLECTOR}:6343", work), work, ("ip", "netns", "exec", NS))
            time.sleep(1)  # the last frames through both sockets
            stop.set()
            thread.join()
            recorder.close()
            gw.send_signal(signal.SIGTERM)
            gw.communicate(timeout=60)
            check.eq("tapsift run exit code", gw.returncode, 0)
            with open(stats) as f:
                counters = json.load(f)
            events = [e for _, e in consume_all(b.bootstrap, "tapsift.flows", counters["sflow"]["produced"])]
    finally:
        remove_veth_namespace(NS, TAP)
    pcap = os.path.join(work, "sfprobe.pcap")
    sflow_oracle.write_frames(frames, pcap)
    return pcap, len(frames), counters, events


def sample_id(ev):
    return tuple(get_path(ev, p) for p in ("sflow.agent.address", "sflow.sequence_number", "sflow.sample.type",
                                           "sflow.sample.sequence_number"))


def check_gateway(check, counters, gateway_events, dump_events, datagrams):
    """tapsift run's events and counters against the dump tool's events of the same frames."""
    check.true("accounting identity", accounting_balances(counters))
    check.eq("sflow_packets == sFlow frames recorded", counters["sflow_packets"], datagrams)
    check.eq("every sample produced", counters["sflow"]["produced"], len(dump_events))
    got = {sample_id(e): e for e in gateway_events}
    check.eq("events read back", len(got), len(dump_events))
    for ev in dump_events:
        check.eq(f"gateway event {sample_id(ev)} == the dump tool's",
                 sflow_oracle.without_run_fields(got.get(sample_id(ev), {})), sflow_oracle.without_run_fields(ev))


def main():
    check = Check()
    sfacctd_oracle.require_pmacct(check)
    work = os.path.join(WORK, "sflow-sfprobe-live")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    pcap, datagrams, run_counters, gateway_events = live_run(work, check)
    check.true("pmacctd/sfprobe exported some datagrams", datagrams > 0)
    sfacctd = sfacctd_oracle.start_sfacctd(pcap, os.path.join(work, "sfacctd"))

    dump = subprocess.run([sflow_oracle.events_bin(), pcap], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in dump.splitlines()]
    check.eq("no malformed datagram", [r for r in rows if "malformed" in r], [])
    events = [r for r in rows if "event" in r]
    flows = sorted((r["event"] for r in events if get_path(r["event"], "sflow.sample.type") == "flow"),
                   key=lambda e: get_path(e, "sflow.sample.sequence_number"))
    counters = [r["event"] for r in events if get_path(r["event"], "sflow.sample.type") == "counter"]
    check_against_sent(check, flows)
    check_gateway(check, run_counters, gateway_events, [r["event"] for r in events], datagrams)

    known = sflow_oracle.load_known(check)
    ours = {(r["frame"], r["event"]["tapsift"]["sflow_sample"]): r["event"] for r in events}
    matched, compared, agreed = sflow_oracle.compare(check, SOURCE, pcap, ours, known, VERBOSE)
    sflow_oracle.check_known_used(check, known, {SOURCE})
    check.eq("tshark: every sample matched", matched, len(events))

    known = sfacctd_oracle.load_known(check)
    aggregates, _, sfacctd_compared = sfacctd_oracle.compare(check, SOURCE, sfacctd, [r["event"] for r in events],
                                                             known, VERBOSE)
    sflow_oracle.check_known_used(check, known, {SOURCE})
    check.true("sfacctd wrote some flow aggregates", aggregates > 0)
    print(f"{datagrams} datagrams, {len(flows)} flow samples, {len(counters)} counter samples, "
          f"{len(gateway_events)} events from tapsift run; "
          f"tshark: {compared} fields compared, {agreed} agree; sfacctd: {aggregates} aggregates, "
          f"{sfacctd_compared} fields compared")
    check.finish()


main()
