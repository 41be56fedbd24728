"""Prometheus metrics of `tapsift run`: a real Prometheus server (Debian's prometheus, a plain
process with a temp config and storage) scrapes a live run (net_af_packet on a veth pair, the
demo capture sent from a network namespace, as test_live_af_packet). Checked through Prometheus's
HTTP API: the counters equal the stats JSON at exit, and the accounting identity holds in PromQL.
The alert rules under config/prometheus pass `promtool check rules`; every panel query of
config/grafana/tapsift-dashboard.json returns data.
Needs root (netns, veth); reports itself skipped (exit 77) otherwise."""
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

from e2e_support import SRC, WORK, Broker, Check, start_run, write_config

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


def sh(*cmd):
    subprocess.run(cmd, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(prom_port, promql):
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        result = json.load(r)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


IDENTITY = ("sum(tapsift_rx_packets_total) + sum(tapsift_syslog_tcp_messages_total)"
            " - (sum(tapsift_produced_total) + sum(tapsift_filtered_total)"
            " + sum(tapsift_deduplicated_total) + sum(tapsift_flow_packets_total)"
            " + sum(tapsift_merged_fragments_total) + sum(tapsift_malformed_total)"
            " + sum(tapsift_dropped_total) + sum(tapsift_syslog_tcp_segments_total))")

tmp = tempfile.mkdtemp(prefix="tapsift-prom-")
prom = None
try:
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", TAP, "type", "veth", "peer", "name", PEER)
    sh("ip", "link", "set", PEER, "netns", NS)
    sh("sysctl", "-qw", f"net.ipv6.conf.{TAP}.disable_ipv6=1")
    sh("ip", "netns", "exec", NS, "sysctl", "-qw", f"net.ipv6.conf.{PEER}.disable_ipv6=1")
    sh("ip", "link", "set", TAP, "up")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", PEER, "up")

    metrics_port, prom_port = free_port(), free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write(f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: tapsift
    static_configs: [{{targets: ["127.0.0.1:{metrics_port}"]}}]
""")
    prom = subprocess.Popen(["prometheus", f"--config.file={tmp}/prometheus.yml",
                             f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with Broker("metrics") as b:
        stats = os.path.join(WORK, "metrics.stats.json")
        cfg = write_config("metrics", f"""dataplane:
  ports:
    - device: "net_af_packet0,iface={TAP},framecnt=8192"
kafka:
  brokers: "{b.bootstrap}"
metrics:
  listen: "127.0.0.1:{metrics_port}"
  snapshot_ms: 200
  log_interval_s: 1
""")
        gw = start_run(cfg, stats)
        subprocess.run(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c",
                        f"from scapy.all import rdpcap, sendp\n"
                        f"sendp(rdpcap({demo!r}), iface={PEER!r}, verbose=False)"], check=True)
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
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            print("/metrics sample:\n" + "".join(l for l in r.read().decode().splitlines(True)
                                                   if "rx_" in l or "dropped" in l))
        # The live view in a terminal of its own, read back from the screen.
        session = f"tapsift-top-{os.getpid()}"
        sh("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "40",
           os.path.join(SRC, "scripts/tapsift-top"), f"127.0.0.1:{metrics_port}")
        time.sleep(2.5)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=True,
                                stdout=subprocess.PIPE, text=True).stdout
        subprocess.run(["tmux", "kill-session", "-t", session])
        print("tapsift-top screen:\n" + screen)
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
    for name, key in [("rx_packets", "rx_packets"), ("produced", "produced"), ("filtered", "filtered")]:
        check.eq(f"tapsift-top shows {name} (total, rate 0 once quiet)", on_screen.get(name),
                 [str(c[key]), "0.0"])
    for reason, n in c["dropped"].items():
        if n:
            check.eq(f"tapsift-top shows dropped {reason}", on_screen.get(reason), [str(n)])
    check.true("periodic summary in the log", f"stats: rx_packets={c['rx_packets']} " in out)
finally:
    if prom:
        prom.terminate()
        prom.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["ip", "link", "del", TAP], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
check.finish()
