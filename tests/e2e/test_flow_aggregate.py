"""Aggregation mode (flows.aggregate), end to end, against an independent fold in Python.

  1. scripts/make-flow-pcap load 1200 WORK/flow-aggregate.pcap: NetFlow v9 and IPFIX from 8
     exporters (the bench's flow input), 23,840 data records.
  2. tshark decodes it (flow_oracle.tshark_flow_records: our field names, values in our
     rendering); Python folds those records itself: the record's time is its
     flowEndMilliseconds (IPFIX) or export time - (sysUpTime - flowEndSysUpTime) (v9), its
     window floor(time / window) * window, its key the configured fields (prefixes with
     Python's ipaddress), bytes and packets multiplied by the exporter's rate from
     flows.sampling_overrides (scale_sampled_counts on; rate 1 = unscaled, one exporter has none).
  3. tapsift replays the capture with aggregation on into `tapsift broker`; the events read back
     are summed per (key, window) -- a window may be emitted in several events (late records, a
     full table) -- and must equal Python's fold exactly: same keys and windows, same bytes,
     packets and record counts.

Runs:
  every_field  key: every field but src_port, window 60 s: event fields checked by name.
  small_table  key: exporter, in_interface, protocol, dst_port; window 10 s, grace 0 s,
               max_keys 1000: windows close during the replay and the table fills (early flushes
               counted, events flushed "table_full"), sums still exact.
Each run also checks the accounting: the stats are balanced, flow.records ==
aggregate.records (no options data in this capture), aggregate.events == events read back ==
aggregate.produced, the records the events carry == aggregate.records, no open records left.

  4. The flow corpus (scripts/make-flow-pcap corpus mode) replayed twice, per-record and
     aggregated: every flow record's bytes and packets are in the aggregates (sums over the
     whole capture equal the per-record events'), options data stay per-record events, and the
     accounting balances. Prints the event-rate reduction (events in vs out) of every run.

Exit status: 0 pass, 1 failures, 77 when tshark is not installed.
"""
import collections
import ipaddress
import os
import shutil
import subprocess
import sys

if shutil.which("tshark") is None:
    print("tshark not installed: skipping")
    sys.exit(77)

import flow_oracle as fo  # noqa: E402
from ecs_shape import check_ecs_shape  # noqa: E402
from e2e_support import SRC, WORK, Broker, Check, accounting_balances, get_path  # noqa: E402
from flow_craft import run_replay  # noqa: E402

check = Check()
FRAMES = 1200
RATES = {"198.51.100.1": 1, "198.51.100.2": 10, "198.51.100.3": 100, "198.51.100.4": 7,
         "198.51.100.5": 1, "198.51.100.6": 1000, "198.51.100.7": 3}  # .8: none
V4_PREFIX = 24
V6_PREFIX = 48
DIRECTIONS = {0: "inbound", 1: "outbound"}

# Field name -> (how Python reads it from a tshark record, where the event carries it)
FIELDS = {
    "exporter": (lambda r: r["observer.ip"], "observer.ip"),
    "observation_domain": (lambda r: r.get("netflow.exporter.source_id", 0), "netflow.exporter.source_id"),
    "in_interface": (lambda r: str(r.get("netflow.ingress_interface", 0)), "observer.ingress.interface.id"),
    "out_interface": (lambda r: str(r.get("netflow.egress_interface", 0)), "observer.egress.interface.id"),
    "src_as": (lambda r: r.get("netflow.bgp_source_as_number", 0), "source.as.number"),
    "dst_as": (lambda r: r.get("netflow.bgp_destination_as_number", 0), "destination.as.number"),
    "src_prefix": (lambda r: prefix(r.get("source.ip")), "source.address"),
    "dst_prefix": (lambda r: prefix(r.get("destination.ip")), "destination.address"),
    "protocol": (lambda r: r.get("network.iana_number", "0"), "network.iana_number"),
    "src_port": (lambda r: r.get("source.port", 0), "source.port"),
    "dst_port": (lambda r: r.get("destination.port", 0), "destination.port"),
    "direction": (lambda r: DIRECTIONS.get(r.get("netflow.flow_direction"), "unknown"), "network.direction"),
    "tos": (lambda r: r.get("netflow.ip_class_of_service", 0), "netflow.ip_class_of_service"),
}


def prefix(ip):
    if ip is None:
        ip = "::"
    a = ipaddress.ip_address(ip)
    n = ipaddress.ip_network(f"{ip}/{V4_PREFIX if a.version == 4 else V6_PREFIX}", strict=False)
    return f"{n.network_address}/{n.prefixlen}"


def record_time_ns(r):
    """The record's end: flowEndMilliseconds, else from sysUpTime, else the export time."""
    if "netflow.flow_end_milliseconds" in r:
        return fo.ns_of_rfc3339(r["netflow.flow_end_milliseconds"])
    export_ns = fo.ns_of_rfc3339(r["@timestamp"])
    if "netflow.flow_end_sys_up_time" in r and "netflow.exporter.uptime_millis" in r:
        ago_ms = r["netflow.exporter.uptime_millis"] - r["netflow.flow_end_sys_up_time"]
        return export_ns - ago_ms * 10**6
    return export_ns


def python_fold(records, key, window_s):
    w = window_s * 10**9
    out = collections.defaultdict(lambda: [0, 0, 0])
    for r in records:
        if r["options"]:
            continue
        scale = RATES.get(r["observer.ip"], 1)
        k = tuple(FIELDS[f][0](r) for f in key) + ((record_time_ns(r) // w) * w,)
        agg = out[k]
        agg[0] += r["netflow.octet_delta_count"] * scale
        agg[1] += r["netflow.packet_delta_count"] * scale
        agg[2] += 1
    return dict(out)


def event_fold(events, key, window_s):
    out = collections.defaultdict(lambda: [0, 0, 0])
    for _, e in events:
        start = fo.ns_of_rfc3339(get_path(e, "event.start"))
        check.eq("event.end - event.start", fo.ns_of_rfc3339(get_path(e, "event.end")) - start,
                 window_s * 10**9)
        check.eq("@timestamp is the window start", fo.ns_of_rfc3339(e["@timestamp"]), start)
        check.eq("event.kind", get_path(e, "event.kind"), "metric")
        check.eq("tapsift.aggregate.key", get_path(e, "tapsift.aggregate.key"), key)
        k = tuple(get_path(e, FIELDS[f][1]) for f in key) + (start,)
        agg = out[k]
        agg[0] += get_path(e, "network.bytes")
        agg[1] += get_path(e, "network.packets")
        agg[2] += get_path(e, "tapsift.aggregate.records")
    return dict(out)


def yaml_config(key, window_s, grace_s=15, max_keys=32768, rates=True):
    lines = ["dataplane: {flow_ports: [2055, 4739]}", "flows:"]
    if rates:
        lines.append("  scale_sampled_counts: true")
        lines.append("  sampling_overrides: {" + ", ".join(f'"{a}": {n}' for a, n in RATES.items()) + "}")
    lines += ["  aggregate:", "    enabled: true", f"    window_s: {window_s}", f"    grace_s: {grace_s}",
              f"    max_keys: {max_keys}", f"    ipv4_prefix_length: {V4_PREFIX}",
              f"    ipv6_prefix_length: {V6_PREFIX}", "    key: [" + ", ".join(key) + "]"]
    return "\n".join(lines) + "\n"


def check_accounting(name, c, events, options_records=0):
    a = c["flow"]["aggregate"]
    check.true(f"{name}: accounting balanced", accounting_balances(c))
    check.eq(f"{name}: flow.records = produced + aggregate.records", c["flow"]["records"],
             c["flow"]["produced"] + a["records"])
    check.eq(f"{name}: per-record events are the options data", c["flow"]["produced"], options_records)
    check.eq(f"{name}: aggregate.events == produced", a["events"], a["produced"])
    check.eq(f"{name}: open records at exit", a["open_records"], 0)
    check.eq(f"{name}: records in produced events", a["records_produced"], a["records"])
    check_ecs_shape(check, name, events)
    aggregates = [(k, e) for k, e in events if get_path(e, "event.action") == "netflow_aggregate"]
    check.eq(f"{name}: aggregate events read back", len(aggregates), a["produced"])
    check.eq(f"{name}: records the events carry", sum(get_path(e, "tapsift.aggregate.records")
                                                       for _, e in aggregates), a["records"])
    return aggregates


def compare(name, want, got):
    check.eq(f"{name}: keys and windows", len(got), len(want))
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    check.true(f"{name}: {len(missing)} key/window(s) only in Python's fold, e.g. {missing[:3]}", not missing)
    check.true(f"{name}: {len(extra)} key/window(s) only in tapsift's events, e.g. {extra[:3]}", not extra)
    wrong = [(k, want[k], got[k]) for k in want if k in got and want[k] != got[k]]
    check.true(f"{name}: {len(wrong)} aggregate(s) differ [bytes, packets, records] (python, tapsift), "
               f"e.g. {wrong[:3]}", not wrong)


def run_capture(broker, pcap, trecs):
    flow_records = sum(1 for r in trecs if not r["options"])
    runs = [
        ("every_field", [f for f in FIELDS if f != "src_port"], 60, {}),
        ("small_table", ["exporter", "in_interface", "protocol", "dst_port"], 10,
         {"grace_s": 0, "max_keys": 1000}),
    ]
    for name, key, window_s, extra in runs:
        rc, c, out, events = run_replay(broker, f"aggregate-{name}", pcap, yaml_config(key, window_s, **extra))
        check.eq(f"{name}: exit code", rc, 0)
        if c is None:
            check.true(f"{name}: no stats\n{out}", False)
            continue
        check.eq(f"{name}: flow records = tshark's", c["flow"]["records"], flow_records)
        aggregates = check_accounting(name, c, events)
        a = c["flow"]["aggregate"]
        for k, e in aggregates:
            check.eq(f"{name}: message key is the exporter", k, get_path(e, "observer.ip"))
        compare(name, python_fold(trecs, key, window_s), event_fold(aggregates, key, window_s))
        flushed = collections.Counter(get_path(e, "tapsift.aggregate.flushed") for _, e in aggregates)
        if name == "small_table":
            check.true(f"{name}: the table filled ({a['early_flushes']} early flushes)", a["early_flushes"] > 0)
            check.eq(f"{name}: events flushed table_full", flushed["table_full"], a["early_events"])
            check.true(f"{name}: windows closed during the replay", flushed["window_closed"] > 0)
        else:
            check.eq(f"{name}: no early flush", a["early_flushes"], 0)
        print(f"{name}: {flow_records} records in, {a['events']} aggregate events out "
              f"({flow_records / max(1, a['events']):.1f}x fewer); flushed {dict(flushed)}")


def run_corpus(broker):
    pcap = os.path.join(WORK, "flow-aggregate-corpus.pcap")
    subprocess.run([os.path.join(SRC, "scripts", "make-flow-pcap"), pcap,
                    os.path.join(WORK, "flow-aggregate-corpus.manifest.jsonl")], check=True,
                   stdout=subprocess.DEVNULL)
    rc, per_record, _, record_events = run_replay(broker, "aggregate-corpus-records", pcap,
                                                  "dataplane: {flow_ports: [2055, 4739]}\n")
    check.eq("corpus per-record: exit code", rc, 0)
    key = ["exporter", "in_interface", "out_interface", "src_prefix", "dst_prefix", "protocol"]
    rc, c, _, events = run_replay(broker, "aggregate-corpus", pcap, yaml_config(key, 60, rates=False))
    check.eq("corpus aggregated: exit code", rc, 0)
    if per_record is None or c is None:
        check.true("corpus: no stats", False)
        return
    check.eq("corpus: same records decoded", c["flow"]["records"], per_record["flow"]["records"])
    options = per_record["flow"]["options_records"]
    aggregates = check_accounting("corpus", c, events, options)
    flows = [e for _, e in record_events if get_path(e, "event.action") == "netflow_flow"]
    check.eq("corpus: flow records folded", c["flow"]["aggregate"]["records"], len(flows))
    for what in ("bytes", "packets"):
        check.eq(f"corpus: network.{what} over the capture",
                 sum(get_path(e, f"network.{what}", 0) for _, e in aggregates),
                 sum(get_path(e, f"network.{what}", 0) for e in flows))
    a = c["flow"]["aggregate"]
    print(f"corpus: {len(flows)} flow records in, {a['events']} aggregate events out "
          f"({len(flows) / max(1, a['events']):.2f}x fewer; {a['late_records']} late records: the "
          f"corpus joins captures years apart), plus {options} options events")


def main():
    pcap = os.path.join(WORK, "flow-aggregate.pcap")
    subprocess.run([os.path.join(SRC, "scripts", "make-flow-pcap"), "load", str(FRAMES), pcap], check=True,
                   stdout=subprocess.DEVNULL)
    trecs = fo.tshark_flow_records(pcap)
    check.true("tshark decoded the capture", len(trecs) > 0)
    with Broker("flow-aggregate") as broker:
        run_capture(broker, pcap, trecs)
        run_corpus(broker)
    check.finish()


if __name__ == "__main__":
    main()
