"""The CLI as a user meets it: --help on every subcommand, check-config errors that name the
file, line and key, and `tapsift run` stopping cleanly on SIGTERM with its counters."""
import json
import re
import os
import signal
import subprocess
import time

from confluent_kafka import Consumer, TopicPartition

from e2e_support import BIN, SRC, WORK, Broker, Check, wait_until_file_read

check = Check()


def run(*args, timeout=60):
    return subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


for sub in ["run", "replay", "broker", "check-config"]:
    p = run(sub, "--help")
    check.eq(f"{sub} --help exit code", p.returncode, 0)
    check.true(f"{sub} --help shows usage", "Usage:" in p.stdout or "USAGE" in p.stdout.upper())
check.true("no subcommand is an error", run().returncode != 0)
p = run("--version")
check.eq("--version exit code", p.returncode, 0)
check.true(f"--version names the git revision and the backends: {p.stdout.strip()}",
           re.match(r"tapsift \d+\.\d+\.\d+ \(git [0-9a-f]{7,}(-dirty)?\); offload backends: cpu", p.stdout))
p = run("bogus")
check.eq("unknown subcommand exit code", p.returncode, 2)
check.true(f"unknown subcommand is named: {p.stdout.strip()}", "unknown subcommand 'bogus'" in p.stdout)

p = run("check-config", os.path.join(SRC, "config", "tapsift.yaml"))
check.eq("shipped config is valid", p.returncode, 0)

bad = os.path.join(WORK, "bad.yaml")
with open(bad, "w") as f:
    f.write("kafka:\n  brokers: embedded\n  linger_ms: 5\n")
p = run("check-config", bad)
check.eq("bad config exit code", p.returncode, 2)
check.true(f"error names file, line and key: {p.stdout.strip()}", f"{bad}:3: kafka.linger_ms: unknown key" in p.stdout)

with open(bad, "w") as f:
    f.write("dataplane:\n  rx_burst: -4\n")
p = run("check-config", bad)
check.true(f"range error: {p.stdout.strip()}", f"{bad}:2: dataplane.rx_burst: -4 is out of range [1, 512]" in p.stdout)

p = run("check-config", os.path.join(WORK, "missing.yaml"))
check.eq("missing config exit code", p.returncode, 2)
check.true("missing config says so", "cannot open" in p.stdout)

# Several problems in one file: every one reported, each as FILE:LINE: KEY: reason.
with open(bad, "w") as f:
    f.write("dataplane:\n  lcores: [0, 1000]\n  rx_burst: 0\n  ports:\n    - device: net_bogus0\n"
            "kafka:\n  linger_ms: 5\n  properties:\n    acks: maybe\n")
p = run("check-config", bad)
check.eq("several errors: exit code", p.returncode, 2)
for expected in [f"{bad}:2: dataplane.lcores[1]: CPU 1000 is not one this process may run on",
                 f"{bad}:3: dataplane.rx_burst: 0 is out of range [1, 512]",
                 f"{bad}:5: dataplane.ports[0].device: DPDK cannot parse the device string 'net_bogus0'",
                 f"{bad}:7: kafka.linger_ms: unknown key",
                 f"{bad}:9: kafka.properties.acks: Invalid value"]:
    check.true(f"several errors: reported: {expected}", expected in p.stdout)

# Every config `run` refuses, check-config refuses too, with the same reason.
demo_abs = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
refused = {
    "empty": ("", "dataplane.ports: no ports configured"),
    "bad-device": ("dataplane:\n  ports:\n    - device: \"0000:zz:00.0\"\n", "DPDK cannot parse"),
    "unknown-driver": ("dataplane:\n  ports:\n    - device: net_nosuch0\n", "DPDK cannot parse"),
    "missing-capture": ("dataplane:\n  ports:\n    - device: net_pcap0,rx_pcap=nosuch.pcap\n",
                        "cannot read " + os.path.join(WORK, "nosuch.pcap")),
    "lcore": (f"dataplane:\n  lcores: [0, {os.cpu_count() + 64}]\n  ports:\n    - device: net_pcap0,rx_pcap={demo_abs}\n",
              "dataplane.lcores[1]: CPU"),
    "kafka-property": (f"dataplane:\n  ports:\n    - device: net_pcap0,rx_pcap={demo_abs}\n"
                       "kafka:\n  properties: {acks: maybe}\n", "kafka.properties.acks"),
    "kafka-unknown-property": (f"dataplane:\n  ports:\n    - device: net_pcap0,rx_pcap={demo_abs}\n"
                               "kafka:\n  properties: {no.such.property: 1}\n", "kafka.properties.no.such.property"),
}
for name, (text, reason) in refused.items():
    cfg = os.path.join(WORK, f"refused-{name}.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    r = run("run", "--config", cfg)
    c = run("check-config", cfg)
    check.true(f"refused {name}: run exits non-zero", r.returncode != 0)
    check.true(f"refused {name}: run says why: {reason}", reason in r.stdout)
    check.eq(f"refused {name}: check-config exit code", c.returncode, 2)
    check.true(f"refused {name}: check-config says why: {reason}", reason in c.stdout)

# A capture path is relative to the config file, not to where tapsift runs.
subdir = os.path.join(WORK, "relative")
os.makedirs(subdir, exist_ok=True)
os.makedirs(os.path.join(subdir, "captures"), exist_ok=True)
capture = os.path.join(subdir, "captures", "demo.pcap")
if not os.path.exists(capture):
    os.symlink(demo_abs, capture)
with open(os.path.join(subdir, "t.yaml"), "w") as f:
    f.write("dataplane:\n  ports:\n    - device: net_pcap0,rx_pcap=captures/demo.pcap\n")
p = subprocess.run([BIN, "check-config", os.path.join(subdir, "t.yaml")], cwd="/", stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True)
check.eq(f"relative capture path from the config's folder: {p.stdout.strip()}", p.returncode, 0)

# A live interface needs CAP_NET_RAW: without it, run names the capability and the fix.
no_net_raw = os.path.join(WORK, "no-net-raw.yaml")
with open(no_net_raw, "w") as f:
    f.write("dataplane:\n  ports:\n    - device: net_af_packet0,iface=lo\n")
p = subprocess.run(["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", BIN, "run", "--config", no_net_raw],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
check.true("without CAP_NET_RAW: run fails", p.returncode != 0)
check.true(f"without CAP_NET_RAW: the cause and the fix are named: {p.stdout.strip()[-300:]}",
           "needs CAP_NET_RAW" in p.stdout and "setcap cap_net_raw" in p.stdout
           and "AmbientCapabilities=" in p.stdout)

# `explain -` reads the line from stdin and prints the event run would produce.
line = "<34>Oct 11 22:14:15 fw1 sshd[1]: Failed password for root from 203.0.113.9 port 22"
p = subprocess.run([BIN, "explain", "--config", os.path.join(SRC, "config", "tapsift.yaml"), "--source", "10.1.0.11",
                    "-"], input=line + "\n", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
check.eq("explain -: exit code", p.returncode, 0)
tail = p.stdout[p.stdout.find("event, to topic tapsift.alerts:\n"):].splitlines()
check.true(f"explain -: the event is shown: {tail[:1]}", len(tail) >= 2 and tail[1].startswith("{"))
if len(tail) >= 2 and tail[1].startswith("{"):
    ev = json.loads(tail[1])
    check.eq("explain -: the event's message is stdin's line", ev["message"],
             "Failed password for root from 203.0.113.9 port 22")
    check.eq("explain -: source.ip from --source", ev["source"]["ip"], "10.1.0.11")
    check.eq("explain -: the deciding rule", ev["tapsift"]["rule"], "threat-intel-to-alerts")

# The per-rule table at exit lists the rules in the order they are tried (the rule file's), not by name.
p = run("replay", demo_abs, "--config", os.path.join(SRC, "config", "tapsift.yaml"), "--show", "0", timeout=120)
check.eq("rule table: replay exit code", p.returncode, 0)
with open(os.path.join(SRC, "config", "rules", "example.yaml")) as f:
    rule_ids = re.findall(r"^  - id: (\S+)", f.read(), re.M)
table = p.stdout[p.stdout.find("\nsifting\n"):]
shown = [line.split()[0] for line in table.splitlines()[2:] if line.startswith("  ") and line.split()[0] in rule_ids]
check.true(f"rule table: every rule shown ({len(shown)} of {len(rule_ids)})", len(shown) == len(rule_ids) > 2)
check.eq("rule table: in rule order", shown, rule_ids)

# `tapsift run` on pcap ports: it keeps polling after the files end, until SIGTERM; then it
# flushes the producer, prints the counters and exits 0 with every event delivered.
def run_until_sigterm(name, dataplane_yaml, captures, expected_events):
    with Broker(name) as broker:
        cfg = os.path.join(WORK, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""dataplane:
{dataplane_yaml}
kafka:
  brokers: "{broker.bootstrap}"
observer:
  name: cli-test
""")
        proc = subprocess.Popen([BIN, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        for capture in captures:
            check.true(f"{name}: {os.path.basename(capture)} was read", wait_until_file_read(proc.pid, capture))
        time.sleep(1)  # the last burst goes through parse and produce
        check.true(f"{name}: still running before SIGTERM", proc.poll() is None)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        check.eq(f"{name}: exit code after SIGTERM", proc.returncode, 0)
        check.true(f"{name}: balanced counters", "balanced (every packet counted once)" in out)
        check.true(f"{name}: {expected_events} produced and delivered",
                   re.search(rf"produced\s+{expected_events}\s+syslog events", out)
                   and re.search(rf"delivered\s+{expected_events}\s+failed 0\s", out))

        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": name, "fetch.wait.max.ms": 10})
        md = c.list_topics("tapsift.syslog", timeout=10)
        c.assign([TopicPartition("tapsift.syslog", p, 0) for p in md.topics["tapsift.syslog"].partitions])
        got = []
        deadline = time.time() + 20
        while len(got) < expected_events and time.time() < deadline:
            got += [json.loads(m.value()) for m in c.consume(num_messages=500, timeout=0.2) if not m.error()]
        c.close()
        check.eq(f"{name}: events read back", len(got), expected_events)
        check.true(f"{name}: observer.name from config", all(e["observer"]["hostname"] == "cli-test" for e in got))


demo = f"{SRC}/data/captures/demo-syslog.pcap"
ndpi = f"{SRC}/tests/corpus/pcap/ndpi/syslog.pcap"
run_until_sigterm("run-one-lcore", f'  ports:\n    - device: "net_pcap0,rx_pcap={demo}"', [demo], 193)
# Two lcores, one RX queue each (net_pcap gives a queue per rx_pcap): 193 + 79 syslog datagrams.
run_until_sigterm("run-two-lcores", f'  lcores: [0, 1]\n  ports:\n    - device: "net_pcap0,rx_pcap={demo},rx_pcap={ndpi}"\n'
                  '      rx_queues: 2', [demo, ndpi], 272)


# An in-process ring port (`ring:FILE`): the capture looped by a feeder thread for as long as the
# gateway runs. Every frame it received is accounted for and every event delivered.
def run_ring_port():
    demo = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
    with Broker("ring-port") as broker:
        cfg = os.path.join(WORK, "ring-port.yaml")
        stats = os.path.join(WORK, "ring-port.stats.json")
        with open(cfg, "w") as f:
            f.write(f'dataplane:\n  ports:\n    - device: "ring:{demo}"\n'
                    f'kafka:\n  brokers: "{broker.bootstrap}"\n')
        proc = subprocess.Popen([BIN, "run", "--config", cfg, "--stats-json", stats],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
        check.eq("ring port: exit code after SIGTERM", proc.returncode, 0)
        check.true("ring port: port started", "tapsift_ring0 (net_ring) started" in out)
        with open(stats) as f:
            c = json.load(f)
        # The demo capture loops: 193 of every 200 frames are syslog.
        check.true(f"ring port: more than one pass of the capture ({c['rx_packets']} frames)",
                   c["rx_packets"] > 200)
        check.true("ring port: balanced", c["balanced"])
        check.eq("ring port: every event delivered", c["delivered"], c["produced"])


run_ring_port()


# SIGHUP applies the sift keys and names, in one line, every other changed key (a restart applies it).
def reload_names_restart_keys():
    demo = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
    cfg = os.path.join(WORK, "reload-keys.yaml")
    base = f'dataplane:\n  ports:\n    - device: "ring:{demo}"\n  rx_burst: 32\nkafka:\n  queue_full_timeout_ms: 1000\n'
    with open(cfg, "w") as f:
        f.write(base + "sift:\n  default_action: keep\n")
    proc = subprocess.Popen([BIN, "run", "--config", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2)
    with open(cfg, "w") as f:
        f.write(base.replace("rx_burst: 32", "rx_burst: 64").replace("1000", "2000")
                + "sift:\n  default_action: drop\n")
    proc.send_signal(signal.SIGHUP)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    check.eq("reload keys: exit code", proc.returncode, 0)
    lines = [l for l in out.splitlines() if "applied only at the next restart" in l]
    check.eq(f"reload keys: one line names the restart keys: {lines}", len(lines), 1)
    if lines:
        check.true("reload keys: the two changed keys, and not the sift one",
                   lines[0].endswith(": dataplane.rx_burst, kafka.queue_full_timeout_ms"))
    check.true("reload keys: the rules were reloaded", "sift: reloaded " in out)


reload_names_restart_keys()
check.finish()
