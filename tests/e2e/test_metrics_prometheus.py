"""Prometheus metrics of `tapsift run`: a real Prometheus server (Debian's prometheus, a plain
process with a temp config and storage) scrapes a live run (net_af_packet on a veth pair, the
demo capture sent from a network namespace, as test_live_af_packet). Checked through Prometheus's
HTTP API: the counters equal the stats JSON at exit, and the accounting identity holds in PromQL.
The breakdowns too: per rule (the example rules) against the stats JSON's rule table, per RX queue
against its totals, the top senders and exporters (metrics.top_sources: 5, "other" the rest)
against the captures' sources counted here, the delivery latency and batch time histograms'
counts against delivered and offload batches. The live view's new sections are read from tmux.
The alert rules under config/prometheus pass `promtool check rules`; every panel query of
config/grafana/tapsift-dashboard.json returns data.
Needs root (netns, veth); reports itself skipped (exit 77) otherwise."""
import collections
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from e2e_support import SRC, Broker, Check, remove_veth_namespace, start_run_on_interface, veth_into_namespace

check = Check()
rules = os.path.join(SRC, "config/prometheus/tapsift-alerts.yml")
check.eq("promtool check rules", subprocess.run(["promtool", "check", "rules", rules]).returncode, 0)
if os.geteuid() != 0:
    if check.failures:
        check.finish()
    print("skipped: creating a network namespace needs root")
    raise SystemExit(77)

NS, TAP, PEER = f"msrc{os.getpid()}", f"mtap{os.getpid()}", f"msr{os.getpid()}"
demo = os.path.join(SRC, "data/captures/demo-syslog.pcap")
demo_flows = os.path.join(SRC, "data/captures/demo-flows.pcap")
TOP = 5  # metrics.top_sources: fewer than the captures' 8 senders and 8 exporters


def sh(*cmd):
    subprocess.run(cmd, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query_all(prom_port, promql):
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


def query(prom_port, promql):
    result = query_all(prom_port, promql)
    return float(result[0]["value"][1]) if result else None


def by_label(prom_port, promql, label):
    """{label value: value} of an instant vector"""
    return {r["metric"][label]: float(r["value"][1]) for r in query_all(prom_port, promql)}


def expected_top(pcap, ports):
    """{source: datagrams} as the endpoint should show it: the TOP largest (ties by address),
    the rest as other. Counted from the capture with scapy, independently of tapsift."""
    from scapy.all import IP, UDP, rdpcap
    counts = collections.Counter(p[IP].src for p in rdpcap(pcap)
                                 if UDP in p and p[UDP].dport in ports)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], ipaddress.ip_address(kv[0])))
    top = dict(ranked[:TOP])
    top["other"] = sum(n for _, n in ranked[TOP:])
    return top


def section(screen, title):
    """{first word: the rest} of the lines under the line starting with title, to a blank line"""
    lines = screen.splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith(title)), len(lines))
    out = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        out[line.split()[0]] = line.split()[1:]
    return out


IDENTITY = ("sum(tapsift_rx_packets_total) + sum(tapsift_syslog_tcp_messages_total)"
            " - (sum(tapsift_produced_total) + sum(tapsift_filtered_total)"
            " + sum(tapsift_deduplicated_total) + sum(tapsift_flow_packets_total)"
            " + sum(tapsift_sflow_packets_total)"
            " + sum(tapsift_merged_fragments_total) + sum(tapsift_malformed_total)"
            " + sum(tapsift_dropped_total) + sum(tapsift_syslog_tcp_segments_total))")

tmp = tempfile.mkdtemp(prefix="tapsift-prom-")
prom = None
try:
    veth_into_namespace(NS, TAP, PEER)

    metrics_port, prom_port = free_port(), free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write(f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{rules}"]
scrape_configs:
  - job_name: tapsift
    static_configs: [{{targets: ["127.0.0.1:{metrics_port}"]}}]
""")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp}/prometheus.yml",
                             f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with Broker("metrics") as b:
        gw, stats = start_run_on_interface("metrics", TAP, b.bootstrap, extra=f"""sift:
  rule_files: ["{SRC}/config/rules/example.yaml"]
  ioc_files: ["{SRC}/config/ioc/example-blocklist.txt"]
metrics:
  listen: "127.0.0.1:{metrics_port}"
  snapshot_ms: 200
  log_interval_s: 1
  top_sources: {TOP}
""")
        subprocess.run(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c",
                        f"from scapy.all import rdpcap, sendp\n"
                        f"sendp(rdpcap({demo!r}) + rdpcap({demo_flows!r}), iface={PEER!r}, verbose=False)"],
                       check=True)
        # Published within snapshot_ms of the last batch; scraped every second.
        deadline = time.time() + 30
        live = None
        while time.time() < deadline:
            time.sleep(1)
            try:
                live = query(prom_port, "sum(tapsift_rx_packets_total)")
                stale = query(prom_port, "sum(changes(tapsift_rx_packets_total[3s]))")
                samples = query(prom_port, "sum(count_over_time(tapsift_rx_packets_total[3s]))")
            except OSError:
                continue
            # Quiet for 3 scrapes: the traffic is all counted, and rate() has samples to use.
            if live and stale == 0 and samples and samples >= 3:
                break
        identity = query(prom_port, IDENTITY)
        # The shipped alert rules, loaded by this Prometheus, evaluate without error.
        with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/rules", timeout=5) as r:
            alert_rules = [rule for g in json.load(r)["data"]["groups"] for rule in g["rules"]]
        check.true("alert rules loaded, TapsiftDeliverySlow among them",
                   "TapsiftDeliverySlow" in [rule["name"] for rule in alert_rules])
        for rule in alert_rules:
            check.eq(f"alert rule {rule['name']} evaluates", (rule["health"], rule.get("lastError", "")),
                     ("ok", ""))
        # Every panel of the shipped dashboard is a query Prometheus accepts, with a result.
        with open(os.path.join(SRC, "config/grafana/tapsift-dashboard.json")) as f:
            for panel in json.load(f)["panels"]:
                for target in panel["targets"]:
                    check.true(f"dashboard panel '{panel['title']}' has data",
                               query(prom_port, target["expr"]) is not None)
        scraped = {name: query(prom_port, f"sum({name})") for name in
                   ["tapsift_rx_packets_total", "tapsift_produced_total", "tapsift_filtered_total",
                    "tapsift_flow_packets_total", "tapsift_malformed_total", "tapsift_dropped_total",
                    "tapsift_delivered_total", "tapsift_nic_missed_packets_total",
                    "tapsift_nic_errors_total", "tapsift_nic_no_mbuf_total"]}
        rule_figures = {f: by_label(prom_port, f"tapsift_rule_{f}_total", "rule")
                        for f in ["matched", "dropped", "kept", "routed", "tagged"]}
        queues = query_all(prom_port, "tapsift_queue_rx_packets_total")
        queue_packets = query(prom_port, "sum(tapsift_queue_rx_packets_total)")
        queue_bytes = query(prom_port, "sum(tapsift_queue_rx_bytes_total)")
        senders = by_label(prom_port, "tapsift_syslog_sender_datagrams_total", "sender")
        exporters = by_label(prom_port, "tapsift_flow_exporter_datagrams_total", "exporter")
        latency_count = query(prom_port, "tapsift_delivery_latency_seconds_count")
        latency_sum = query(prom_port, "tapsift_delivery_latency_seconds_sum")
        latency_inf = query(prom_port, 'tapsift_delivery_latency_seconds_bucket{le="+Inf"}')
        latency_p99 = query(prom_port, "histogram_quantile(0.99, tapsift_delivery_latency_seconds_bucket)")
        batch_count = query(prom_port, "sum(tapsift_batch_duration_seconds_count)")
        batch_sum = query(prom_port, "sum(tapsift_batch_duration_seconds_sum)")
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            print("/metrics sample:\n" + "".join(
                l for l in r.read().decode().splitlines(True)
                if "rx_" in l or "dropped" in l or "sender" in l or "exporter" in l
                or "rule_matched" in l or "latency_seconds_" in l or "batch_duration_seconds_" in l))
        # The live view in a terminal of its own, read back from the screen.
        # A tall terminal shows everything; a short one (24 rows) keeps the top and says what it cut.
        sessions = {rows: f"tapsift-top-{os.getpid()}-{rows}" for rows in (100, 24)}
        for rows, session in sessions.items():
            sh("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", str(rows),
               os.path.join(SRC, "scripts/tapsift-top"), f"127.0.0.1:{metrics_port}")
        time.sleep(2.5)
        screens = {rows: subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=True,
                                        stdout=subprocess.PIPE, text=True).stdout
                   for rows, session in sessions.items()}
        for session in sessions.values():
            subprocess.run(["tmux", "kill-session", "-t", session])
        screen = screens[100]
        print("tapsift-top screen:\n" + screen)
        short = screens[24].rstrip("\n").splitlines()
        check.true("a 24-row tapsift-top keeps its header and says what it cut",
                   len(short) <= 24 and short[0].startswith("tapsift top")
                   and short[-1].startswith("... ") and short[-1].endswith("a taller terminal shows them"))
        on_screen = {l.split()[0]: l.split()[1:] for l in screen.splitlines() if l.strip()}
        gw.send_signal(signal.SIGTERM)
        out, _ = gw.communicate(timeout=60)
        check.eq("run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
    at_exit = {"tapsift_rx_packets_total": c["rx_packets"], "tapsift_produced_total": c["produced"],
               "tapsift_filtered_total": c["filtered"], "tapsift_flow_packets_total": c["flow_packets"],
               "tapsift_malformed_total": sum(c["malformed"].values()),
               "tapsift_dropped_total": sum(c["dropped"].values()), "tapsift_delivered_total": c["delivered"],
               "tapsift_nic_missed_packets_total": c["port"]["imissed"],
               "tapsift_nic_errors_total": c["port"]["ierrors"], "tapsift_nic_no_mbuf_total": c["port"]["rx_nombuf"]}
    print("scraped by Prometheus:", scraped)
    print("stats JSON at exit:   ", at_exit)
    check.true("traffic was seen", c["rx_packets"] >= 193)
    for name, value in at_exit.items():
        check.eq(f"{name} in Prometheus equals the stats JSON", scraped[name], float(value))
    check.eq("accounting identity in PromQL", identity, 0.0)
    for name, value in [("rx_packets", c["rx_packets"]), ("produced", c["produced"]), ("filtered", c["filtered"]),
                        ("sflow_packets", c["sflow_packets"]), ("syslog_tcp_messages", c["tcp"]["messages"]),
                        ("syslog_tcp_segments", c["tcp"]["segments"])]:
        check.eq(f"tapsift-top shows {name} (total, rate 0 once quiet)", on_screen.get(name),
                 [str(value), "0.0"])
    for reason, n in c["dropped"].items():
        if n:
            check.eq(f"tapsift-top shows dropped {reason}", on_screen.get(reason), [str(n)])
    check.true("periodic summary in the log", f"stats: rx_packets={c['rx_packets']} " in out)

    # Per rule: the same figures as the rule table at exit, for every rule of the ruleset.
    table = c["sift"]["rules"]
    check.true("the example rules matched something", sum(r["matched"] for r in table.values()) > 0)
    for figure, values in rule_figures.items():
        check.eq(f"tapsift_rule_{figure}_total equals the rule table",
                 values, {rule: float(r[figure]) for rule, r in table.items()})
    # Per RX queue: one port, one queue here; the queues add up to the RX totals.
    check.eq("one RX queue series, labelled by port and queue",
             [sorted(q["metric"]) for q in queues], [["__name__", "instance", "job", "port", "queue"]])
    check.eq("RX queues' packets add up to rx_packets", queue_packets, float(c["rx_packets"]))
    check.eq("RX queues' bytes add up to rx_bytes", queue_bytes, float(c["rx_bytes"]))
    # Top senders and exporters against the captures, counted here.
    want_senders = expected_top(demo, {514})
    want_exporters = expected_top(demo_flows, {2055, 2056, 4739, 9995, 9996})
    check.eq(f"top {TOP} senders and other", senders, {k: float(v) for k, v in want_senders.items()})
    check.eq(f"top {TOP} exporters and other", exporters,
             {k: float(v) for k, v in want_exporters.items()})
    # Histograms: one observation per delivery report, per batch the backend returned.
    check.eq("delivery latency observations = delivered", latency_count, float(c["delivered"]))
    check.eq("delivery latency +Inf bucket = its count", latency_inf, latency_count)
    check.true("delivery latency sum and p99 are positive",
               (latency_sum or 0) > 0 and (latency_p99 or 0) > 0)
    check.eq("batch time observations = offload batches", batch_count, float(c["offload"]["batches"]))
    check.true("batch time sum is positive", (batch_sum or 0) > 0)
    # The live view's new sections.
    for title, want in [("top senders", want_senders), ("top exporters", want_exporters)]:
        check.eq(f"tapsift-top {title}", section(screen, title),
                 {k: [str(v), "0.0"] for k, v in want.items()})
    hit = {rule: [str(r[f]) for f in ["matched", "dropped", "kept", "routed", "tagged"]]
           for rule, r in table.items() if any(r.values())}
    check.eq("tapsift-top rules section: every rule that counted, its five figures",
             section(screen, "rule "), hit)
finally:
    if prom:
        prom.terminate()
        prom.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
    remove_veth_namespace(NS, TAP)
check.finish()
