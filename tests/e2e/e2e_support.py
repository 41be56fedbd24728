"""Shared plumbing for the end-to-end tests: a `tapsift broker` process, `tapsift replay`,
and an independent consumer (python3-confluent-kafka) that reads the topic back."""
import base64
import json
import os
import subprocess
import sys
import time

from confluent_kafka import Consumer, TopicPartition

BIN = os.environ["TAPSIFT_BIN"]
SRC = os.environ["TAPSIFT_SOURCE_DIR"]
WORK = os.environ.get("TAPSIFT_WORK_DIR", "/tmp/tapsift-e2e")
os.makedirs(WORK, exist_ok=True)


class Broker:
    """`tapsift broker` as its own process; the tests talk to it like any Kafka cluster.
    With control=True, command() drives its fault injection (`tapsift broker --control`)."""

    def __init__(self, name, brokers=1, control=False):
        self.bootstrap_file = os.path.join(WORK, f"{name}.bootstrap")
        if os.path.exists(self.bootstrap_file):
            os.remove(self.bootstrap_file)
        cmd = [BIN, "broker", "--bootstrap-file", self.bootstrap_file, "--brokers", str(brokers)]
        if control:
            cmd.append("--control")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if control else None,
                                     stdout=subprocess.PIPE if control else subprocess.DEVNULL, text=True)
        if control:
            self.proc.stdout.readline()  # the bootstrap address
        deadline = time.time() + 20
        while not os.path.exists(self.bootstrap_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("tapsift broker did not start")
            time.sleep(0.05)
        with open(self.bootstrap_file) as f:
            self.bootstrap = f.read().strip()

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if reply != "ok " + line:
            raise RuntimeError(f"broker control: {reply!r}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def write_config(name, text):
    path = os.path.join(WORK, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def make_load_capture(count, name):
    pcap = os.path.join(WORK, f"{name}.pcap")
    if not os.path.exists(pcap):
        subprocess.run([os.path.join(SRC, "scripts", "make-syslog-pcap"), "load", str(count), pcap], check=True,
                       stdout=subprocess.DEVNULL)
    return pcap


def make_capture(mode, name):
    pcap = os.path.join(WORK, f"{name}.pcap")
    manifest = os.path.join(WORK, f"{name}.manifest.jsonl")
    subprocess.run([os.path.join(SRC, "scripts", "make-syslog-pcap"), mode, pcap, manifest], check=True,
                   stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        frames = [json.loads(line) for line in f if line.strip()]
    for fr in frames:
        if "payload_b64" in fr:
            fr["payload"] = base64.b64decode(fr["payload_b64"])
    return pcap, frames


def start_replay(pcap, bootstrap, name, extra=()):
    """Starts `tapsift replay` in the background; finish_replay() collects it."""
    stats = os.path.join(WORK, f"{name}.stats.json")
    if os.path.exists(stats):
        os.remove(stats)
    cmd = [BIN, "replay", pcap, "--brokers", bootstrap, "--stats-json", stats, *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), stats


def finish_replay(started, timeout=240):
    proc, stats = started
    out, _ = proc.communicate(timeout=timeout)
    counters = None
    if os.path.exists(stats):
        with open(stats) as f:
            counters = json.load(f)
    return proc.returncode, counters, out


def replay(pcap, bootstrap, name, extra=()):
    """Runs `tapsift replay`; returns (exit code, counters dict, stdout+stderr)."""
    return finish_replay(start_replay(pcap, bootstrap, name, extra))


def wait_until_file_read(pid, path, timeout_s=120):
    """Waits until process pid has read the whole file at path (its read offset, from
    /proc/PID/fdinfo, reaches the file's size): a net_pcap port has then received every packet."""
    size = os.path.getsize(path)
    real = os.path.realpath(path)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != real:
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    pos = int(f.readline().split()[1])
            except OSError:
                continue
            if pos >= size:
                return True
        time.sleep(0.05)
    return False


def consume_all(bootstrap, topic, expected, timeout_s=30):
    """Reads every partition from the beginning until `expected` events (or the timeout):
    [(key, event)]; [] when the topic does not exist (nothing was ever produced to it)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-{time.time()}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return []
        c.assign([TopicPartition(topic, p, 0) for p in t.partitions])
        events = []
        deadline = time.time() + timeout_s
        while len(events) < expected and time.time() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.2):
                if m.error():
                    raise RuntimeError(m.error())
                events.append((m.key().decode(), json.loads(m.value())))
        # Anything beyond the expected count would be a duplicate: give it a moment to show up.
        for m in c.consume(num_messages=1000, timeout=1.0):
            if not m.error():
                events.append((m.key().decode(), json.loads(m.value())))
        return events
    finally:
        c.close()


def tsv_rows(path):
    """The rows of a known-differences file, skipping blank and # lines:
    (where, line number, line, columns)."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield f"{os.path.basename(path)}:{n}", n, line, line.split("\t")


def accounting_balances(c):
    return c["rx_packets"] == (c["produced"] + c["filtered"] + c["flow_packets"] + c["merged_fragments"]
                               + sum(c["malformed"].values()) + sum(c["dropped"].values())) and c["balanced"]


class Check:
    """Collects failures so one run reports all of them; exits non-zero if any."""

    def __init__(self):
        self.failures = []
        self.checks = 0

    def eq(self, what, got, want):
        self.checks += 1
        if got != want:
            self.failures.append(f"{what}: got {got!r}, want {want!r}")

    def true(self, what, cond):
        self.checks += 1
        if not cond:
            self.failures.append(what)

    def finish(self):
        for f in self.failures[:200]:
            print("FAIL:", f)
        print(f"{self.checks} checks, {len(self.failures)} failures")
        if self.checks == 0:
            print("FAIL: no checks ran")
            sys.exit(1)
        sys.exit(1 if self.failures else 0)
