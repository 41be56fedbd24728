"""Shared plumbing for the end-to-end tests: a `tapsift broker` process, `tapsift replay`,
and an independent consumer (python3-confluent-kafka) that reads the topic back."""
import base64
import glob
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

BIN = os.environ["TAPSIFT_BIN"]
SRC = os.environ["TAPSIFT_SOURCE_DIR"]
WORK = os.environ.get("TAPSIFT_WORK_DIR", "/tmp/tapsift-e2e")
os.makedirs(WORK, exist_ok=True)
# The e2e.emulated_card.* variants: the same test, offloaded through the xrt backend's own code
# on the emulated card. `tapsift replay` takes --emulated-card; `tapsift run` takes it from its
# config (OFFLOAD_YAML, README "The emulated card").
EMULATED_CARD = os.environ.get("TAPSIFT_E2E_OFFLOAD") == "emulated-card"
OFFLOAD_YAML = "offload:\n  backend: xrt\n  device: emulated\n" if EMULATED_CARD else ""


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


def make_load_capture(count, name, extra=()):
    """`make-syslog-pcap load` (extra: its options, e.g. --big-every); made once per name."""
    pcap = os.path.join(WORK, f"{name}.pcap")
    if not os.path.exists(pcap):
        subprocess.run([os.path.join(SRC, "scripts", "make-syslog-pcap"), "load", str(count), pcap, *extra],
                       check=True, stdout=subprocess.DEVNULL)
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


def start_run(cfg, stats):
    """`tapsift run` with its log on a pipe, returned once the RX loop runs (the gateway logs its
    lcores and queues just before it), so what is sent next is received."""
    gw = subprocess.Popen([BIN, "run", "--config", cfg, "--stats-json", stats], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = gw.stdout.readline()
        if not line or "RX queue(s)" in line:
            break
    return gw


def start_run_on_interface(name, iface, bootstrap, dataplane_extra="", extra=""):
    """start_run on a net_af_packet port on iface, into bootstrap; dataplane_extra: more keys of
    `dataplane:`, extra: more sections after `kafka:`. Returns (process, stats path)."""
    stats = os.path.join(WORK, f"{name}.stats.json")
    cfg = write_config(name, f"""dataplane:
  ports:
    - device: "net_af_packet0,iface={iface},framecnt=8192"
{dataplane_extra}kafka:
  brokers: "{bootstrap}"
{extra}""")
    return start_run(cfg, stats), stats


def veth_into_namespace(ns, tap, peer, peer_address=None, neighbour=None):
    """A veth pair, tap here and peer in a new network namespace ns, both up without IPv6 (tap has
    no address either: the kernel sends nothing of its own on it). peer_address: an "a.b.c.d/n"
    for peer; neighbour: (address, MAC) as a permanent neighbour of peer, so nothing asks ARP.
    Undone by remove_veth_namespace."""
    inside = ["ip", "netns", "exec", ns]
    cmds = [["ip", "netns", "add", ns], ["ip", "link", "add", tap, "type", "veth", "peer", "name", peer],
            ["ip", "link", "set", peer, "netns", ns], ["sysctl", "-qw", f"net.ipv6.conf.{tap}.disable_ipv6=1"],
            [*inside, "sysctl", "-qw", f"net.ipv6.conf.{peer}.disable_ipv6=1"], ["ip", "link", "set", tap, "up"],
            [*inside, "ip", "link", "set", peer, "up"]]
    if peer_address:
        cmds.append([*inside, "ip", "addr", "add", peer_address, "dev", peer])
    if neighbour:
        cmds.append([*inside, "ip", "neigh", "replace", neighbour[0], "lladdr", neighbour[1], "dev", peer,
                     "nud", "permanent"])
    for cmd in cmds:
        subprocess.run(cmd, check=True)


def remove_veth_namespace(ns, tap):
    subprocess.run(["ip", "link", "del", tap], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def start_replay(pcap, bootstrap, name, extra=(), emulated_card=EMULATED_CARD):
    """Starts `tapsift replay` in the background (pcap: one capture, or a list of them, each
    replayed through its own port), on the emulated card in the emulated-card variants (or as
    emulated_card says); finish_replay() collects it."""
    stats = os.path.join(WORK, f"{name}.stats.json")
    if os.path.exists(stats):
        os.remove(stats)
    pcaps = [pcap] if isinstance(pcap, str) else list(pcap)
    cmd = [BIN, "replay", *pcaps, "--brokers", bootstrap, "--stats-json", stats, *extra]
    if emulated_card:
        cmd.append("--emulated-card")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), stats


def finish_replay(started, timeout=240):
    proc, stats = started
    out, _ = proc.communicate(timeout=timeout)
    counters = None
    if os.path.exists(stats):
        with open(stats) as f:
            counters = json.load(f)
    return proc.returncode, counters, out


def replay(pcap, bootstrap, name, extra=(), emulated_card=EMULATED_CARD):
    """Runs `tapsift replay`; returns (exit code, counters dict, stdout+stderr)."""
    return finish_replay(start_replay(pcap, bootstrap, name, extra, emulated_card))


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


def sigkill_replay_once_spooled(check, name, pcap, bootstrap, cfg, spool, events):
    """Replays pcap (`events` load events) into unreachable brokers until half of them are in
    the spool, SIGKILLs it: the ids in the spool, checked to be at least that half."""
    proc, _ = start_replay(pcap, bootstrap, name, ["--config", cfg])
    deadline = time.time() + 60
    while len(read_spool_ids(spool)) < events // 2 and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    spooled = read_spool_ids(spool)
    check.true(f"{name}: the spool holds the overflow ({len(spooled)} events)", len(spooled) >= events // 2)
    return spooled


def sigterm_during_outage(check, name, bootstrap, pcap, events, with_spool):
    """`tapsift run` during a total outage, SIGTERM: it stops RX, and exits within the shutdown
    deadline (kafka.flush_timeout_ms); what is undelivered goes to the spool, or is counted.
    The brokers at `bootstrap` must already be unreachable; pcap holds `events` load events."""
    spool = os.path.join(WORK, f"{name}.spool")
    shutil.rmtree(spool, ignore_errors=True)
    stats = os.path.join(WORK, f"{name}.stats.json")
    cfg = write_config(name, f"""dataplane:
  ports:
    - device: "net_pcap0,rx_pcap={pcap}"
kafka:
  brokers: "{bootstrap}"
  flush_timeout_ms: 3000
""" + (f"  spool: {{dir: {spool}}}\n" if with_spool else ""))
    proc = subprocess.Popen([BIN, "run", "--config", cfg, "--stats-json", stats], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    check.true(f"{name}: the capture was read", wait_until_file_read(proc.pid, pcap))
    time.sleep(1)  # the last burst goes through parse and produce
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    took = time.time() - t0
    with open(stats) as f:
        c = json.load(f)
    print(f"{name}: exited {took:.1f} s after SIGTERM (deadline 3 s), produced {c['produced']}, "
          f"spooled {c['spooled_after_failure']}, lost {c['delivery_failed']}")
    check.true(f"{name}: exits within the deadline plus 5 s ({took:.1f} s)", took < 8)
    check.eq(f"{name}: every packet received", c["rx_packets"], events)
    check.true(f"{name}: accounting identity", accounting_balances(c))
    if with_spool:
        check.eq(f"{name}: exit code", proc.returncode, 0)
        check.eq(f"{name}: everything undelivered is in the spool", c["spool"]["records"], c["produced"])
        check.eq(f"{name}: nothing lost", c["delivery_failed"], 0)
    else:
        check.eq(f"{name}: exit code (events undelivered)", proc.returncode, 1)
        check.eq(f"{name}: every undelivered event counted as lost", c["delivery_failed"], c["produced"])
        check.true(f"{name}: and logged", "lost" in out and "shutdown deadline" in out)


def consume_all(bootstrap, topic, expected, timeout_s=30, client_config=None):
    """Reads every partition from the beginning until `expected` events have arrived and every
    partition is read to its end (so duplicates cannot make it stop early), or the timeout:
    [(key, event)]; [] when the topic does not exist (nothing was ever produced to it).
    client_config: more consumer settings (security)."""
    return [(key, json.loads(value))
            for _, key, value in consume_raw(bootstrap, topic, expected, timeout_s, client_config)]


def consume_raw(bootstrap, topic, expected, timeout_s=30, client_config=None):
    """As consume_all, but the events as the broker holds them: [(partition, key, value bytes)],
    each partition in offset order."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-{time.time()}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10, **(client_config or {})})
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return []
        c.assign([TopicPartition(topic, p, 0) for p in t.partitions])
        events = []
        next_offset = {p: 0 for p in t.partitions}
        deadline = time.time() + timeout_s

        def at_end():
            try:
                return all(next_offset[p] >= c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                           for p in t.partitions)
            except KafkaException:  # a leader moving after a fault: ask again
                return False

        while time.time() < deadline and (len(events) < expected or not at_end()):
            for m in c.consume(num_messages=1000, timeout=0.2):
                if m.error():
                    raise RuntimeError(m.error())
                events.append((m.partition(), m.key().decode(), m.value()))
                next_offset[m.partition()] = m.offset() + 1
        # Anything beyond the expected count would be a duplicate: give it a moment to show up.
        for m in c.consume(num_messages=1000, timeout=1.0):
            if not m.error():
                events.append((m.partition(), m.key().decode(), m.value()))
        return events
    finally:
        c.close()


def load_ids(events):
    """The unique ids (frame numbers, msgid "ID<n>") of `make-syslog-pcap load` events, in the
    order read: [(key, id)]. Events of other captures are left out."""
    return [(k, int(e["log"]["syslog"]["msgid"][2:])) for k, e in events
            if e["log"]["syslog"].get("appname") == "tapsift-load"]


def read_spool_ids(spool):
    """Parses the spool's segment files (the format in host/kafka/spool.hpp) for the event ids."""
    ids = []
    for path in sorted(glob.glob(os.path.join(spool, "segment-*.spool"))):
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 24 <= len(data):
            magic, _crc, _at, tl, kl, vl = struct.unpack_from("<IIqHHI", data, off)
            if magic != 0x4C505354 or off + 24 + tl + kl + vl > len(data):
                break
            value = data[off + 24 + tl + kl: off + 24 + tl + kl + vl]
            syslog = json.loads(value)["log"]["syslog"]
            if syslog.get("appname") == "tapsift-load":
                ids.append(int(syslog["msgid"][2:]))
            off += 24 + tl + kl + vl
    return ids


class IdTally:
    """Events counted back by unique id against the ids the producer accepted. Per key, ids
    must arrive in increasing order (a key is one partition, read in offset order): an id below
    one already read for its key is out of order."""

    def __init__(self, keyed_ids, want_ids, sent):
        from collections import Counter

        counts = Counter(i for _, i in keyed_ids)
        self.sent = sent
        self.accepted = len(set(want_ids))
        self.delivered = len(set(counts) & set(want_ids))
        self.lost = self.accepted - self.delivered
        self.duplicated = sum(n - 1 for n in counts.values() if n > 1)
        self.unexpected = len(set(counts) - set(want_ids))
        highest = {}
        self.out_of_order = 0
        for key, i in keyed_ids:
            if i < highest.get(key, 0):
                self.out_of_order += 1
            highest[key] = max(highest.get(key, 0), i)

    def __str__(self):
        return (f"sent {self.sent}, accepted {self.accepted}, delivered {self.delivered}, lost {self.lost}, "
                f"duplicated {self.duplicated}, out-of-order {self.out_of_order}"
                + (f", not accepted yet read back {self.unexpected}" if self.unexpected else ""))


def consume_topics(bootstrap, expected, timeout_s=30):
    """consume_all() for each topic of {topic: expected count}: {topic: [(key, event)]}."""
    return {topic: consume_all(bootstrap, topic, n, timeout_s) for topic, n in expected.items()}


def udp_datagrams(pcap, ports):
    """The IPv4/IPv6 UDP datagrams of a capture sent to one of ports, in capture order:
    [{"frame" (1-based, = event.sequence), "time_ns" (the capture's timestamp), "src", "dst",
    "sport", "dport", "payload"}]."""
    from scapy.all import IP, UDP, IPv6, PcapReader

    out = []
    with PcapReader(pcap) as reader:
        for n, pkt in enumerate(reader, 1):
            l3 = pkt[IP] if IP in pkt else pkt[IPv6] if IPv6 in pkt else None
            if l3 is None or UDP not in pkt or pkt[UDP].dport not in ports:
                continue
            out.append({"frame": n, "time_ns": int(pkt.time * 1_000_000) * 1000, "src": l3.src, "dst": l3.dst,
                        "sport": pkt[UDP].sport, "dport": pkt[UDP].dport, "payload": bytes(pkt[UDP].payload)})
    return out


def get_path(event, path, default=None):
    """event["a"]["b"]["c"] for "a.b.c"."""
    cur = event
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def tsv_rows(path):
    """The rows of a known-differences file, skipping blank and # lines:
    (where, line number, line, columns)."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield f"{os.path.basename(path)}:{n}", n, line, line.split("\t")


def accounting_balances(c):
    """The identity of docs/accounting.md (deduplicated: events folded by sift.dedup, 0 without it;
    tcp: syslog TCP segments end in tcp.segments, and each message framed from them enters as one more)."""
    tcp = c.get("tcp", {})
    segments = sum(tcp.get(k, 0) for k in ("used", "duplicate", "out_of_window", "over_budget", "control",
                                           "table_full", "encrypted", "server_to_client"))
    return (tcp.get("segments", 0) == segments
            and c["rx_packets"] + tcp.get("messages", 0) == (
                c["produced"] + c["filtered"] + c.get("deduplicated", 0) + c["flow_packets"]
                + c.get("sflow_packets", 0) + c["merged_fragments"] + sum(c["malformed"].values())
                + sum(c["dropped"].values()) + segments)
            and c["balanced"])


# What a run's counters say about the run rather than about its input: left out when two
# backends' runs of one input are compared. Memory; how the stream was cut into batches (the RX
# loop also flushes on a timer) and how often every ring slot was busy: timing.
RUN_DEPENDENT_COUNTERS = {"peak_rss_bytes", "batches", "offload.batches", "offload.ring_full"}
_CREATED = re.compile(rb'"created":"[^"]*"')


def flat_counters(c, prefix=""):
    """The stats JSON as {dotted key: value}, without RUN_DEPENDENT_COUNTERS."""
    out = {}
    for k, v in c.items():
        if isinstance(v, dict):
            out.update(flat_counters(v, f"{prefix}{k}."))
        elif f"{prefix}{k}" not in RUN_DEPENDENT_COUNTERS:
            out[f"{prefix}{k}"] = v
    return out


def backend_output(counters, bootstrap, topics):
    """What one backend made of an input: its counters (flat_counters) and, per topic in the
    order given, each partition's events in offset order as the broker holds them, with
    event.created (the wall clock when the event was assembled) blanked."""
    events = []
    for topic, expected in topics:
        per_partition = {}
        for partition, key, value in consume_raw(bootstrap, topic, expected):
            per_partition.setdefault(partition, []).append((key, _CREATED.sub(b'"created":""', value)))
        events.append(per_partition)
    return flat_counters(counters), events


def check_same_output(check, what, emulated, cpu, per_key=False):
    """An emulated-card run against a cpu-backend run of the same input (backend_output of each):
    the counters equal, and the events byte-identical apart from event.created, partition by
    partition in the same order. per_key: in the same order key by key (what Kafka orders), for
    inputs whose held flow sets are resubmitted in a later batch: where that batch falls among
    other exporters' batches depends on the ring's timing."""
    (c_emu, ev_emu), (c_cpu, ev_cpu) = emulated, cpu
    if per_key:
        ev_emu, ev_cpu = by_key(ev_emu), by_key(ev_cpu)
    for k in sorted(set(c_emu) | set(c_cpu)):
        check.eq(f"{what}: counter {k}, emulated card vs cpu", c_emu.get(k), c_cpu.get(k))
    for t, (emu, ref) in enumerate(zip(ev_emu, ev_cpu)):
        check.eq(f"{what}: topic {t}: events per partition, emulated card vs cpu",
                 {p: len(e) for p, e in emu.items()}, {p: len(e) for p, e in ref.items()})
        for p in sorted(set(emu) & set(ref)):
            first = next((i for i, (a, b) in enumerate(zip(emu[p], ref[p])) if a != b), None)
            check.true(f"{what}: topic {t} partition {p}: events byte-identical apart from "
                       f"event.created" + ("" if first is None else
                                           f"; first difference at offset {first}:\n  emulated {emu[p][first]!r}"
                                           f"\n  cpu      {ref[p][first]!r}"), first is None)


def by_key(topics):
    """Each topic's {partition: events} as {(partition, key): events}, in offset order."""
    out = []
    for per_partition in topics:
        keyed = {}
        for p, events in per_partition.items():
            for key, value in events:
                keyed.setdefault((p, key), []).append((key, value))
        out.append(keyed)
    return out


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


# ---------------------------------------------------------------------------------------------
# Sifting tests (test_sift_reload.py, test_sift_cli.py): a running process's log, a topic read
# while it is written, tapsift's log lines without their timestamps.

import re as _re
import threading as _threading

_LOG_PREFIX = _re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\] ")


def log_lines(text):
    """The lines of tapsift's output with spdlog's '[date time] ' prefix removed:
    '[error] rules: FILE:LINE: ...', '[info] sift: ...'; other lines unchanged."""
    return [_LOG_PREFIX.sub("", line) for line in text.splitlines()]


class OutputWatcher:
    """Reads a process's output (a text pipe) line by line on a thread; wait_for() blocks until a
    line matches."""

    def __init__(self, stream):
        self.lines = []
        self.closed = False
        self._cond = _threading.Condition()
        self._thread = _threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, pattern, timeout_s, start=0):
        """The index of the first line from `start` on that matches the regex, or None."""
        rx = _re.compile(pattern)
        deadline = time.time() + timeout_s
        with self._cond:
            while True:
                for i in range(start, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
                start = max(start, len(self.lines))
                left = deadline - time.time()
                if left <= 0 or self.closed:
                    return None
                self._cond.wait(min(left, 0.5))

    def text(self, join_timeout_s=10):
        """Everything read so far (after the stream ends, when it ends within the timeout)."""
        self._thread.join(join_timeout_s)
        with self._cond:
            return "\n".join(self.lines)


class TopicTail:
    """A consumer on a thread that reads every partition of `topic` from the beginning while it is
    written, keeping what extract(partition, offset, key, event) returns for each message."""

    def __init__(self, bootstrap, topic, extract):
        self.records = []
        self.error = None
        self._extract = extract
        self._cond = _threading.Condition()
        self._stop = _threading.Event()
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-tail-{time.time()}",
                                   "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        md = self._consumer.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            raise RuntimeError(f"topic {topic} is not on the broker")
        self._consumer.assign([TopicPartition(topic, p, 0) for p in t.partitions])
        self._thread = _threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                batch = []
                for m in self._consumer.consume(num_messages=2000, timeout=0.2):
                    if m.error():
                        raise RuntimeError(m.error())
                    batch.append(self._extract(m.partition(), m.offset(), m.key().decode(),
                                               json.loads(m.value())))
                if batch:
                    with self._cond:
                        self.records.extend(batch)
                        self._cond.notify_all()
        except Exception as e:  # reported by wait_until() and stop()
            with self._cond:
                self.error = e
                self._cond.notify_all()

    def wait_until(self, predicate, timeout_s):
        """Blocks until predicate(records) holds (True) or the timeout (False)."""
        deadline = time.time() + timeout_s
        with self._cond:
            while not predicate(self.records):
                if self.error is not None:
                    raise RuntimeError(f"consumer: {self.error}")
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def stop(self):
        """Stops reading; the records read."""
        self._stop.set()
        self._thread.join(30)
        self._consumer.close()
        if self.error is not None:
            raise RuntimeError(f"consumer: {self.error}")
        return self.records
