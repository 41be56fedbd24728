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
check.finish()
