"""sFlow through the gateway: the sFlow corpus (tests/corpus/sflow: tcpdump's and nDPI's captures,
and Telegraf's payload files wrapped as UDP to 6343), merged into one capture, is replayed by
`tapsift replay` (cpu backend; on the emulated card in e2e.emulated_card.sflow_replay), and the
events read back from the flows topic are:

  1. compared field by field with tshark's sflow dissector (tests/e2e/sflow_oracle.py, the same
     comparison and known-differences list as e2e.sflow_tshark_oracle);
  2. compared with the events of the sflow_events dump tool (the decoder and event writer without
     the gateway), every field but the ones that depend on the run (@timestamp: the arrival time;
     event.created; event.sequence: the frame number in the merged capture);
  3. accounted for exactly: every counter of the packet identity and of the sFlow samples'
     identity, with the numbers the corpus gives;
  4. sifted: with a rule dropping sFlow samples of UDP packets (`kind: flow, protocol: udp`), the
     samples dropped are exactly those whose sampled packet is UDP in the dump tool's events, and
     every other one is produced;
  5. aggregated (flows.aggregate, key exporter and protocol, flows.scale_sampled_counts): every
     flow sample folded (records, bytes x rate and packets x rate summed in the aggregate events),
     every counter sample an event of its own.

Exit status: 0 pass, 1 failures, 77 when tshark is not installed.
"""
import json
import os
import shutil
import struct
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

from ecs_shape import check_ecs_shape  # noqa: E402
from e2e_support import (EMULATED_CARD, SRC, WORK, Broker, Check, accounting_balances,  # noqa: E402
                         consume_all, replay, write_config)
from sflow_oracle import (as_capture, check_known_used, compare, corpus_files, events_bin, load_known,  # noqa: E402
                          without_run_fields)

TOPIC = "tapsift.flows"
# What the corpus holds besides decodable sFlow (tests/corpus/SOURCES.md): tcpdump's
# sflow_print-segv.pcap is one frame with a bad IPv4 checksum, and 5 datagrams of
# sflow_multiple_counter_30_pdus.pcap are not sFlow version 5 (the dump tool says so too).
EXPECTED_RX_MALFORMED = {"bad_ipv4_checksum": 1}


def read_pcap(path):
    """(linktype, [(record header, frame bytes)]) of a classic microsecond pcap."""
    data = open(path, "rb").read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xa1b2c3d4, f"{path}: not a little-endian microsecond pcap"
    frames, at = [], 24
    while at + 16 <= len(data):
        header = data[at:at + 16]
        incl = struct.unpack("<IIII", header)[2]
        frames.append((header, data[at + 16:at + 16 + incl]))
        at += 16 + incl
    return linktype, frames


def merge(files, work):
    """One capture of every corpus file's frames in order; returns (path, {merged frame: (source,
    frame)})."""
    out = os.path.join(work, "sflow-corpus.pcap")
    where = {}
    n = 0
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for path in files:
            linktype, frames = read_pcap(as_capture(path, work))
            assert linktype == 1, f"{path}: not Ethernet"
            for i, (header, frame) in enumerate(frames, 1):
                n += 1
                where[n] = (os.path.relpath(path, SRC), i)
                fh.write(header + frame)
    return out, where


def dump_tool_events(files):
    """The sflow_events tool's view: ({(source, frame, sample): event}, {reason: datagrams})."""
    tool = events_bin()
    events, malformed = {}, {}
    for path in files:
        source = os.path.relpath(path, SRC)
        out = subprocess.run([tool, path], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            if "event" in row:
                events[(source, row["frame"], row["event"]["tapsift"]["sflow_sample"])] = row["event"]
            else:
                malformed[row["malformed"]] = malformed.get(row["malformed"], 0) + 1
    return events, malformed


def gateway_events(bootstrap, expected, where):
    """The flows topic's events: {(source, frame, sample): event}."""
    out = {}
    for _, ev in consume_all(bootstrap, TOPIC, expected):
        source, frame = where[ev["event"]["sequence"]]
        out[(source, frame, ev["tapsift"]["sflow_sample"])] = ev
    return out


def check_counters(check, name, c, frames, datagrams, samples, malformed, filtered):
    """The packet identity and the sFlow samples' identity, term by term."""
    check.eq(f"{name}: rx_packets (every frame of the capture)", c["rx_packets"], frames)
    want_malformed = {f"sflow_{k}": v for k, v in malformed.items()}
    want_malformed.update(EXPECTED_RX_MALFORMED)
    got_malformed = {k: v for k, v in c["malformed"].items() if v}
    check.eq(f"{name}: malformed, by reason", got_malformed, want_malformed)
    check.eq(f"{name}: dropped, by reason", {k: v for k, v in c["dropped"].items() if v}, {})
    bad = sum(malformed.values())
    check.eq(f"{name}: sflow_packets (datagrams decoded)", c["sflow_packets"], datagrams - bad)
    check.eq(f"{name}: flow_packets", c["flow_packets"], 0)
    check.eq(f"{name}: produced (syslog events)", c["produced"], 0)
    s = c["sflow"]
    check.eq(f"{name}: sflow.samples", s["samples"], samples)
    check.eq(f"{name}: sflow.filtered", s["filtered"], filtered)
    check.eq(f"{name}: sflow.produced", s["produced"], samples - filtered)
    for k in ("dropped_queue_full", "dropped_produce_error", "samples_lost", "invalid_items"):
        check.eq(f"{name}: sflow.{k}", s[k], 0)
    check.eq(f"{name}: sflow.engine.datagrams", s["engine"]["datagrams"], datagrams)
    check.eq(f"{name}: delivered (every produced event)", c["delivered"], samples - filtered)
    check.true(f"{name}: the identity holds (balanced)", accounting_balances(c))


def replay_ok(check, what, pcap, broker, extra=()):
    """`tapsift replay` of pcap into broker: its counters, once its exit status is checked (a run
    that wrote no stats ends the test)."""
    rc, c, out = replay(pcap, broker.bootstrap, f"sflow-replay-{what}", list(extra))
    check.eq(f"{what}: replay ({'emulated card' if EMULATED_CARD else 'cpu'}) exit status", rc, 0)
    if c is None:
        print(out)
        check.true(f"{what}: replay wrote its stats", False)
        check.finish()
    return c


def main():
    check = Check()
    work = os.path.join(WORK, "sflow-replay")
    os.makedirs(work, exist_ok=True)
    files = corpus_files()
    pcap, where = merge(files, work)
    want, malformed = dump_tool_events(files)
    samples = len(want)
    # Every UDP datagram to 6343 that passes the L2-L4 checks reaches the decoder.
    datagrams = len(where) - sum(EXPECTED_RX_MALFORMED.values())
    backend = "emulated card" if EMULATED_CARD else "cpu"

    with Broker("sflow-replay") as broker:
        c = replay_ok(check, "plain", pcap, broker)
        check_counters(check, "no rules", c, len(where), datagrams, samples, malformed, 0)
        got = gateway_events(broker.bootstrap, samples, where)
        check.eq("no rules: the samples read back are the dump tool's", sorted(got), sorted(want))
        check_ecs_shape(check, "no rules", list(got.values()))
        for key in sorted(set(got) & set(want)):
            check.eq(f"no rules: {key}: event as the dump tool writes it (run fields aside)",
                     without_run_fields(got[key]), without_run_fields(want[key]))
        known = load_known(check)
        matched = compared = agreed = 0
        for path in files:
            source = os.path.relpath(path, SRC)
            ours = {(frame, sample): ev for (s, frame, sample), ev in got.items() if s == source}
            m, n, a = compare(check, source, as_capture(path, work), ours, known)
            matched, compared, agreed = matched + m, compared + n, agreed + a
        check_known_used(check, known)
        print(f"through the gateway ({backend}): {matched} samples matched, {compared} fields "
              f"compared with tshark, {agreed} agree")

    udp = {k for k, ev in want.items() if ev.get("network", {}).get("iana_number") == "17"}
    check.true(f"the rule drops some samples but not all ({len(udp)} of {samples})", 0 < len(udp) < samples)
    cfg = write_config("sflow-replay-sift", "sift:\n  rules:\n"
                       "    - {id: drop-udp-samples, match: {kind: flow, protocol: udp}, action: drop}\n")
    with Broker("sflow-replay-sift") as broker:
        c = replay_ok(check, "sift", pcap, broker, ["--config", cfg])
        check_counters(check, "sift", c, len(where), datagrams, samples, malformed, len(udp))
        rule = c["sift"]["rules"]["drop-udp-samples"]
        check.eq("sift: rule drop-udp-samples dropped", rule["dropped"], len(udp))
        got = gateway_events(broker.bootstrap, samples - len(udp), where)
        check.eq("sift: the samples produced are exactly those of packets other than UDP",
                 sorted(got), sorted(set(want) - udp))
        print(f"sift: {len(udp)} of {samples} samples dropped by the rule, {len(got)} produced")

    # Aggregation: flow samples fold like flow records; counter samples stay events.
    flow = {k for k, ev in want.items() if ev["sflow"]["sample"]["type"] == "flow"}
    cfg = write_config("sflow-replay-aggregate", "flows:\n  scale_sampled_counts: true\n"
                       "  aggregate:\n    enabled: true\n    key: [exporter, protocol]\n")
    rate = {k: max(want[k]["sflow"]["sampling"]["rate"], 1) for k in flow}
    with Broker("sflow-replay-aggregate") as broker:
        c = replay_ok(check, "aggregate", pcap, broker, ["--config", cfg])
        s, a = c["sflow"], c["flow"]["aggregate"]
        check.eq("aggregate: sflow.aggregated (every flow sample)", s["aggregated"], len(flow))
        check.eq("aggregate: sflow.produced (the counter samples)", s["produced"], samples - len(flow))
        check.eq("aggregate: flow.aggregate.records", a["records"], len(flow))
        check.eq("aggregate: every aggregate produced", a["records_produced"], len(flow))
        check.true("aggregate: the identity holds (balanced)", accounting_balances(c))
        events = [ev for _, ev in consume_all(broker.bootstrap, TOPIC, s["produced"] + a["produced"])]
        check_ecs_shape(check, "aggregate", events)
        folded = [ev for ev in events if "aggregate" in ev.get("tapsift", {})]
        singles = {where[ev["event"]["sequence"]] + (ev["tapsift"]["sflow_sample"],)
                   for ev in events if "sflow" in ev}
        check.eq("aggregate: the events of single samples are the counter samples'",
                 sorted(singles), sorted(set(want) - flow))
        check.eq("aggregate: aggregate events", len(folded), a["produced"])
        check.eq("aggregate: records in the aggregate events",
                 sum(ev["tapsift"]["aggregate"]["records"] for ev in folded), len(flow))
        check.eq("aggregate: bytes in the aggregate events (frame length x sampling rate)",
                 sum(ev["network"]["bytes"] for ev in folded),
                 sum(want[k]["sflow"]["frame_length"] * rate[k] for k in flow))
        check.eq("aggregate: packets in the aggregate events (the sampling rates)",
                 sum(ev["network"]["packets"] for ev in folded), sum(rate.values()))
        check.true("aggregate: some samples are sampled 1 in more than 1", max(rate.values()) > 1)
        print(f"aggregate: {len(flow)} flow samples folded into {len(folded)} events, "
              f"{len(singles)} counter samples as events")
    check.finish()


main()
