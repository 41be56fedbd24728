#!/usr/bin/python3
"""The driver behind scripts/bench: tapsift vs rsyslog (imudp ► omkafka) and syslog-ng
(udp ► kafka-c) for syslog, and tapsift vs nfacctd (pmacct's NetFlow/IPFIX collector ► kafka
plugin) and goflow2 (► its kafka transport) for flows, side by side on this machine, into the same kind
of broker: the embedded one (`tapsift broker`, librdkafka's mock cluster; the default) or, with
`--broker real [--brokers 1|3]`, one real Apache Kafka cluster (scripts/kafka-cluster) for the whole run,
with acks=all and replication factor 3 on 3 brokers. A system's CPU never includes the broker's.

Run it through scripts/bench, which installs the peers and builds tapsift and the sender first.
Needs /usr/bin/python3 (python3-confluent-kafka, python3-matplotlib) and root (netns, veth).

Systems (each run = one fresh process of the system, and one fresh `tapsift broker` unless --broker real):
  tapsift-run      `tapsift run` on a net_af_packet port (a veth whose other end is in a network
                   namespace made here), fed by the paced UDP sender inside the namespace.
  tapsift-run-busy-poll  the same with `dataplane.idle: busy_poll` (the RX loop never sleeps).
  tapsift-replay   `tapsift replay CAPTURE`: the same messages from a pcap, as fast as it goes.
  rsyslog          rsyslogd (from the unpacked Debian .deb) with scripts/bench.d/rsyslog.conf.
  syslog-ng        syslog-ng (from the unpacked Debian .deb) with scripts/bench.d/syslog-ng.conf.

Flow systems (NetFlow v9 + IPFIX from `scripts/make-flow-pcap load`: 8 exporters, templates
first, 20 records a data datagram; every event is one flow record, on topic tapsift.flows):
  tapsift-flows-run     `tapsift run` on net_af_packet as above; the sender sends to UDP 2055.
  tapsift-flows-replay  `tapsift replay` of the same datagrams from a pcap.
  nfacctd               nfacctd (pmacct 1.7.7, from the unpacked Debian .deb) with
                        scripts/bench.d/nfacctd.conf: kafka plugin, JSON, one message per record.
  goflow2               goflow2 v2.2.6 (built by scripts/bench with go install), kafka transport,
                        JSON, one message per record; one process for all steps of a repetition.
The flow sender sends each exporter's datagrams from its own address (127.0.0.1-8, or
192.0.2.1-8 in the namespace): collectors key templates by exporter address. Flow rates and
counts are in datagrams; a step is lossless when every flow record of the datagrams sent
arrived as an event. nfacctd is started afresh for every step and stopped (SIGINT) at the
step's end: its core process hands records to the plugin in buffers (plugin_buffer_size) and
sends a partly filled one only when more traffic comes or at exit, so without the stop the
last records of a step would wait for the next step. Its CPU is the sum over its processes
(core, plugin, and the writer it forks at every purge, whose CPU never shows in the plugin's
cutime: those are sampled from /proc every 20 ms, so nfacctd's CPU is a slight lower bound).

Stepped systems get, after a warm-up, COUNT messages per step at each offered rate. Events are
counted back as the sum of the topic's partition high-water marks (the broker evicts old data
beyond ~5 MiB per partition, but the high-water marks keep counting). A step is lossless when
every message sent arrived. Per step: the CPU (utime+stime from /proc/PID/stat) of the system's
process from the step's start to its last delivered event, and VmHWM.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "tapsift.syslog"
FLOW_TOPIC = "tapsift.flows"
FLOW_PORT = 2055        # tapsift's first default flow port; nfacctd gets a free port on 127.0.0.1
FLOW_EXPORTERS = 8      # make-flow-pcap load: exporters 198.51.100.1-8
FLOW_WARMUP = (200, 1000)  # datagrams, rate: before the first step
PARTITIONS = 4
CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOURCES = 16            # the sender's source addresses, like the capture's 16 senders
WARMUP = (2000, 20000)  # messages, rate: before the first step (topic metadata, connections)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Broken(Exception):
    """A system's pipeline does not work (no events back, died, bad events)."""


# ---------------------------------------------------------------------------------------------
# /proc and socket helpers
# ---------------------------------------------------------------------------------------------
def proc_cpu(pid):
    """utime+stime in seconds of the whole process (all its threads, live and ended)."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def proc_pss_mib(pid):
    """Proportional set size: the process's private pages plus its share of the shared ones, so
    that the processes of one system (nfacctd's share a 64 MB queue) can be summed."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def proc_children(pid):
    """Child PIDs of every thread of the process (needs CONFIG_PROC_CHILDREN)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def udp_rcvbuf_errors():
    """The kernel's UDP receive-buffer-error counter of this network namespace."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sysctl_int(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return int(f.read())


def sysctl_set(key, value):
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(str(value))


def listeners(pid):
    """(proto, local address) of every listening/bound inet socket of the process."""
    out = subprocess.run(["ss", "-H", "-lnptu"], check=True, stdout=subprocess.PIPE, text=True).stdout
    found = []
    for line in out.splitlines():
        if f"pid={pid}," in line:
            cols = line.split()
            found.append((cols[0], cols[4]))
    return found


def wait_bound(pid, port, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        socks = listeners(pid)
        if any(addr == f"127.0.0.1:{port}" for _, addr in socks):
            bad = [s for s in socks if not s[1].startswith("127.0.0.1:")]
            if bad:
                raise Broken(f"{what} listens beyond 127.0.0.1: {bad}")
            return
        time.sleep(0.1)
    raise Broken(f"{what} did not bind 127.0.0.1:{port} within {timeout} s")


# ---------------------------------------------------------------------------------------------
# inputs: the capture, the payloads, the replay capture
# ---------------------------------------------------------------------------------------------
def pcap_records(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data, 0)
    if magic != 0xA1B2C3D4:
        raise SystemExit(f"{path}: not a little-endian microsecond pcap")
    off, recs = 24, []
    while off < len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        recs.append(data[off:off + incl])
        off += incl
    return data[:24], recs


def udp_payload(frame):
    """The UDP/514 payload of an Ethernet/IPv4 frame (what make-syslog-pcap load writes)."""
    if frame[12:14] != b"\x08\x00" or frame[23] != 17:
        raise SystemExit("capture frame is not IPv4/UDP")
    ihl = (frame[14] & 15) * 4
    udp = 14 + ihl
    dport, ulen = struct.unpack_from(">HH", frame, udp + 2)
    if dport != 514:
        raise SystemExit("capture frame is not to UDP port 514")
    return frame[udp + 8:udp + ulen]


def prepare_inputs(args, work):
    os.makedirs(args.cache, exist_ok=True)
    base = os.path.join(args.cache, f"load-{args.messages}.pcap")
    if not os.path.exists(base):
        log(f"building the capture: scripts/make-syslog-pcap load {args.messages} (cached in {args.cache})")
        tmp = base + ".tmp"
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "make-syslog-pcap"), "load",
                        str(args.messages), tmp], check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, base)
    header, recs = pcap_records(base)
    if len(recs) != args.messages:
        raise SystemExit(f"{base}: {len(recs)} frames, want {args.messages}")
    payloads = os.path.join(work, "payloads.bin")
    with open(payloads, "wb") as f:
        for r in recs:
            p = udp_payload(r)
            f.write(struct.pack("<H", len(p)) + p)
    # The replay capture: the same messages, the capture repeated (timestamps kept increasing).
    replay = os.path.join(work, "replay.pcap")
    n = 0
    with open(replay, "wb") as f:
        f.write(header)
        for rep in range(args.replay_repeat):
            for r in recs:
                t_us = n * 10
                f.write(struct.pack("<IIII", 1793491200 + t_us // 1000000, t_us % 1000000, len(r), len(r)))
                f.write(r)
                n += 1
    mean = sum(len(udp_payload(r)) for r in recs) / len(recs)
    log(f"inputs: {len(recs)} distinct messages (mean {mean:.0f} B), replay capture of {n} frames")
    return payloads, replay, n


def flow_datagram(frame):
    """(exporter number 1-8, UDP payload) of a `make-flow-pcap load` frame."""
    if frame[12:14] != b"\x08\x00" or frame[23] != 17:
        raise SystemExit("flow capture frame is not IPv4/UDP")
    src = frame[26:30]
    if src[:3] != bytes([198, 51, 100]) or not 1 <= src[3] <= FLOW_EXPORTERS:
        raise SystemExit(f"flow capture frame from an unexpected exporter {'.'.join(map(str, src))}")
    ihl = (frame[14] & 15) * 4
    udp = 14 + ihl
    ulen, = struct.unpack_from(">H", frame, udp + 4)
    return src[3], frame[udp + 8:udp + ulen]


def flow_records(payload):
    """[(src ip, dst ip, src port, dst port)] of the data records of a `make-flow-pcap load`
    datagram (one set, template 256: addresses and ports first; 59-byte v9 records, 67-byte
    IPFIX ones); [] for a template datagram."""
    version, = struct.unpack_from(">H", payload, 0)
    hdr, reclen = {9: (20, 59), 10: (16, 67)}[version]
    set_id, set_len = struct.unpack_from(">HH", payload, hdr)
    if set_id in (0, 2):
        return []
    if set_id != 256:
        raise SystemExit(f"flow capture: unexpected set id {set_id}")
    out = []
    for k in range((set_len - 4) // reclen):
        o = hdr + 4 + k * reclen
        out.append((socket.inet_ntoa(payload[o:o + 4]), socket.inet_ntoa(payload[o + 4:o + 8]),
                    *struct.unpack_from(">HH", payload, o + 8)))
    return out


class FlowInputs:
    """The flow corpus: the sender's payload file (keyed by exporter), the record count of each
    datagram (the expected events of any number of datagrams sent, cycling from the first), the
    records' 4-tuples (to check events), and the replay capture."""

    def __init__(self, args, work):
        n = args.flow_datagrams
        os.makedirs(args.cache, exist_ok=True)
        base = os.path.join(args.cache, f"flows-load-{n}.pcap")
        if not os.path.exists(base):
            log(f"building the flow capture: scripts/make-flow-pcap load {n} (cached in {args.cache})")
            tmp = base + ".tmp"
            subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "make-flow-pcap"), "load",
                            str(n), tmp], check=True, stdout=subprocess.DEVNULL)
            os.rename(tmp, base)
        header, frames = pcap_records(base)
        if len(frames) != n:
            raise SystemExit(f"{base}: {len(frames)} frames, want {n}")
        self.payloads = os.path.join(work, "flow-payloads.bin")
        self.per_dgram, self.tuples = [], set()
        with open(self.payloads, "wb") as f:
            for fr in frames:
                ex, p = flow_datagram(fr)
                recs = flow_records(p)
                self.per_dgram.append(len(recs))
                self.tuples.update(recs)
                # u16 length, u8 source index (exporter k leaves from SRC + k - 1), payload
                f.write(struct.pack("<HB", len(p), ex - 1) + p)
        if any(self.per_dgram[:FLOW_EXPORTERS]) or not all(self.per_dgram[FLOW_EXPORTERS:]):
            raise SystemExit(f"{base}: not {FLOW_EXPORTERS} template datagrams, then data")
        self.prefix = [0]
        for c in self.per_dgram:
            self.prefix.append(self.prefix[-1] + c)
        self.total = self.prefix[-1]
        if len(self.tuples) < self.total * 0.99:
            raise SystemExit(f"{base}: records repeat; nfacctd would aggregate them")
        self.replay = os.path.join(work, "flows-replay.pcap")
        k = 0
        with open(self.replay, "wb") as f:
            f.write(header)
            for _ in range(args.flow_replay_repeat):
                for fr in frames:
                    t_us = k * 100
                    f.write(struct.pack("<IIII", 1793491200 + t_us // 1000000, t_us % 1000000, len(fr), len(fr)))
                    f.write(fr)
                    k += 1
        self.replay_frames, self.replay_records = k, self.total * args.flow_replay_repeat
        mean = sum(len(flow_datagram(fr)[1]) for fr in frames) / len(frames)
        log(f"flow inputs: {n} datagrams ({FLOW_EXPORTERS} templates, then {self.total} records in "
            f"{n - FLOW_EXPORTERS} data datagrams, mean {mean:.0f} B), replay capture of {k} frames")

    def records_for(self, sent):
        """Records in the first SENT datagrams the sender sends (it cycles from the first)."""
        full, rest = divmod(sent, len(self.per_dgram))
        return full * self.total + self.prefix[rest]


# ---------------------------------------------------------------------------------------------
# the broker
# ---------------------------------------------------------------------------------------------
class RealCluster:
    """--broker real: one Apache Kafka cluster for the whole run (scripts/kafka-cluster start N), its
    topics made once with PARTITIONS partitions and a size-bounded retention (a full run writes tens
    of GB). Steps count by high-water marks as with the embedded broker, so systems share a topic."""

    RETENTION = {"retention.bytes": str(256 << 20), "segment.bytes": str(32 << 20)}

    def __init__(self, ctx, brokers):
        self.dir = os.path.join(ctx.work, "kafka")
        self.script = os.path.join(os.path.dirname(HERE), "kafka-cluster")
        log(f"starting a real Kafka cluster of {brokers} broker(s) (scripts/kafka-cluster)")
        r = subprocess.run([self.script, "--dir", self.dir, "start", str(brokers),
                            "--set", "log.retention.check.interval.ms=10000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if r.returncode != 0:
            raise SystemExit(f"scripts/kafka-cluster start {brokers} failed:\n{r.stderr[-3000:]}")
        self.brokers = brokers
        self.bootstrap = r.stdout.strip().splitlines()[-1]
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        self.topics = set()

    def ensure_topic(self, topic):
        if topic in self.topics:
            return
        fut = self.admin.create_topics([NewTopic(topic, PARTITIONS, config=self.RETENTION)])[topic]
        try:
            fut.result(timeout=60)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        deadline = time.time() + 60
        while time.time() < deadline:
            t = self.admin.list_topics(topic, timeout=10).topics.get(topic)
            if t and t.error is None and len(t.partitions) == PARTITIONS and \
                    all(p.leader >= 0 for p in t.partitions.values()):
                self.topics.add(topic)
                return
            time.sleep(0.2)
        raise Broken(f"topic {topic}: no leader for every partition within 60 s")

    def stop(self):
        subprocess.run([self.script, "--dir", self.dir, "stop"], stdout=subprocess.DEVNULL, timeout=180)


class Broker:
    """Where one system run produces: a fresh `tapsift broker` (so volumes stay small), or its topic
    on the run's real cluster; counted by high-water marks."""

    def __init__(self, ctx, name, topic=TOPIC):
        self.topic = topic
        self.proc = self.logf = None
        if ctx.cluster:
            ctx.cluster.ensure_topic(topic)
            self.bootstrap = ctx.cluster.bootstrap
        else:
            self._start_embedded(ctx, name)
        self.consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"bench-{os.getpid()}-{name}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        self.parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]

    def _start_embedded(self, ctx, name):
        self.bootstrap_file = os.path.join(ctx.work, f"{name}.bootstrap")
        self.logf = open(os.path.join(ctx.work, f"{name}.broker.log"), "w")
        self.proc = subprocess.Popen([ctx.tapsift, "broker", "--bootstrap-file", self.bootstrap_file,
                                      "--partitions", str(PARTITIONS)],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not (os.path.exists(self.bootstrap_file) and os.path.getsize(self.bootstrap_file) > 0):
            if time.time() > deadline or self.proc.poll() is not None:
                raise Broken("tapsift broker did not start")
            time.sleep(0.05)
        time.sleep(0.05)
        with open(self.bootstrap_file) as f:
            self.bootstrap = f.read().strip()

    def total(self):
        return sum(self.high_watermark(tp) for tp in self.parts)

    def high_watermark(self, tp):
        """A real cluster's new topic, or a leader change, may answer "not leader" or "unknown
        partition" for a moment while metadata propagates: asked again for up to 30 s."""
        deadline = time.time() + 30
        while True:
            try:
                return self.consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1]
            except KafkaException as e:
                if time.time() > deadline or e.args[0].code() not in (
                        KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError._UNKNOWN_PARTITION,
                        KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    raise
                time.sleep(0.2)

    def tail(self, per_partition=3):
        """The last few events of every partition (for a sanity check of their content)."""
        assign, want = [], 0
        for tp in self.parts:
            lo, hi = self.consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            if hi > lo:
                assign.append(TopicPartition(self.topic, tp.partition, max(lo, hi - per_partition)))
                want += min(per_partition, hi - lo)
        self.consumer.assign(assign)
        got, deadline = [], time.time() + 10
        while len(got) < want and time.time() < deadline:
            for m in self.consumer.consume(num_messages=100, timeout=0.2):
                if not m.error():
                    got.append(m.value())
        self.consumer.unassign()
        return got

    def stop(self):
        try:
            self.consumer.close()
        except Exception:
            pass
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


def check_events(broker, what, flows=None):
    """Events read back must be JSON carrying the sent message text (syslog), or one flow
    record of the corpus each (flows: its addresses and ports, in tapsift's ECS names or
    nfacctd's)."""
    if flows is not None:
        return check_flow_events(broker, what, flows)
    events = broker.tail()
    if not events:
        raise Broken(f"{what}: no events could be read back")
    for v in events:
        try:
            ev = json.loads(v)
        except ValueError:
            raise Broken(f"{what}: an event is not JSON: {v[:200]!r}")
        if "event id=" not in json.dumps(ev) or "tapsift-load" not in json.dumps(ev):
            raise Broken(f"{what}: an event lacks the sent message: {v[:200]!r}")
    return len(events)


def check_flow_events(broker, what, flows):
    events = broker.tail(per_partition=5)
    if not events:
        raise Broken(f"{what}: no events could be read back")
    for v in events:
        try:
            ev = json.loads(v)
        except ValueError:
            raise Broken(f"{what}: an event is not JSON: {v[:200]!r}")
        if "ip_src" in ev:  # nfacctd
            key = (ev.get("ip_src"), ev.get("ip_dst"), ev.get("port_src"), ev.get("port_dst"))
        elif "src_addr" in ev:  # goflow2
            key = (ev.get("src_addr"), ev.get("dst_addr"), ev.get("src_port"), ev.get("dst_port"))
        else:
            src, dst = ev.get("source") or {}, ev.get("destination") or {}
            key = (src.get("ip"), dst.get("ip"), src.get("port"), dst.get("port"))
        if key not in flows.tuples:
            raise Broken(f"{what}: an event is not one of the sent flow records: {v[:300]!r}")
    return len(events)


# ---------------------------------------------------------------------------------------------
# the systems
# ---------------------------------------------------------------------------------------------
class System:
    """What measure_step needs of every system; syslog by default."""
    kind = "syslog"
    topic = TOPIC
    restart_per_step = False  # started afresh for every step, stopped (flushed) at its end

    def cpu(self):
        return proc_cpu(self.pid)

    def rss(self):
        return proc_hwm_mib(self.pid)

    def expected(self, sent):
        """Events due for SENT datagrams."""
        return sent if self.kind == "syslog" else self.ctx.flows.records_for(sent)

    def finish_step(self):
        pass


class Peer(System):
    """A syslog daemon run as its own process from its unpacked .deb, on 127.0.0.1 only."""
    name = "?"

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.logf = None
        self.seq = 0

    def fill(self, template, out, subst):
        with open(os.path.join(HERE, template)) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(f"@{k}@", str(v))
        with open(out, "w") as f:
            f.write(text)

    def start(self, broker):
        self.port = free_udp_port()
        self.seq += 1
        self.dir = os.path.join(self.ctx.work, f"{self.name}-{self.ctx.run_id}"
                                + (f"-{self.seq}" if self.restart_per_step else ""))
        os.makedirs(self.dir)
        self.logf = open(os.path.join(self.dir, "stdout.log"), "w")
        cmd, env = self.command(broker)
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        self.pid = self.proc.pid
        try:
            wait_bound(self.pid, self.port, self.name)
        except Broken:
            self.logf.flush()
            raise Broken(f"{self.name} did not start; see {self.logf.name}: " + tail_text(self.logf.name))

    def sender(self, rate, count):
        return [self.ctx.sender, "127.0.0.1", str(self.port), str(rate), str(count), self.ctx.payloads,
                str(SOURCES), "127.0.0.1"]

    def kernel_drops(self):
        return udp_rcvbuf_errors()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf:
            self.logf.close()
        return {}


class Rsyslog(Peer):
    name = "rsyslog"
    path = "imudp ► omkafka"

    def command(self, broker):
        conf = os.path.join(self.dir, "rsyslog.conf")
        self.fill("rsyslog.conf", conf, {"WORK": self.dir, "PORT": self.port, "BROKERS": broker.bootstrap,
                                         "TOPIC": TOPIC})
        root = self.ctx.peers
        return ([os.path.join(root, "usr/sbin/rsyslogd"), "-n", "-f", conf, "-i", os.path.join(self.dir, "pid"),
                 "-M", os.path.join(root, "usr/lib/x86_64-linux-gnu/rsyslog")], dict(os.environ))


class SyslogNg(Peer):
    name = "syslog-ng"
    path = "syslog() udp ► kafka-c"

    def command(self, broker):
        conf = os.path.join(self.dir, "syslog-ng.conf")
        self.fill("syslog-ng.conf", conf, {"WORK": self.dir, "PORT": self.port, "BROKERS": broker.bootstrap,
                                           "TOPIC": TOPIC})
        root = self.ctx.peers
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "usr/lib/syslog-ng"))
        return ([os.path.join(root, "usr/sbin/syslog-ng"), "-F", "--no-caps", "-f", conf,
                 "--module-path=" + os.path.join(root, "usr/lib/syslog-ng/3.38"),
                 "-R", os.path.join(self.dir, "persist"), "-p", os.path.join(self.dir, "pid"),
                 "-c", os.path.join(self.dir, "ctl")], env)


class TapsiftRun(System):
    """`tapsift run` on net_af_packet; the sender runs in a network namespace on the veth's other
    end and sends to 192.0.2.200 (a static neighbour entry: no ARP). The frames reach the gateway
    side with a foreign destination MAC (PACKET_OTHERHOST), so the host's IP stack drops them and
    nothing is routed anywhere; no addresses and no IPv6 on the gateway side."""
    name = "tapsift-run"
    path = "net_af_packet (veth) ► run"
    DST, DST_MAC, SRC0 = "192.0.2.200", "02:00:00:00:00:02", "192.0.2.1"
    dataplane_extra = ""  # more dataplane keys for this system's config

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.pump = None
        tag = f"{os.getpid() % 100000}"
        self.ns, self.tap, self.peer = f"tsbench{tag}", f"tsbt{tag}", f"tsbp{tag}"

    def sh(self, *cmd):
        subprocess.run(cmd, check=True)

    def netns_up(self):
        self.netns_down()
        self.sh("ip", "netns", "add", self.ns)
        self.sh("ip", "link", "add", self.tap, "type", "veth", "peer", "name", self.peer)
        self.sh("ip", "link", "set", self.peer, "netns", self.ns)
        self.sh("sysctl", "-qw", f"net.ipv6.conf.{self.tap}.disable_ipv6=1")
        ns = ["ip", "netns", "exec", self.ns]
        self.sh(*ns, "sysctl", "-qw", f"net.ipv6.conf.{self.peer}.disable_ipv6=1")
        self.sh("ip", "link", "set", self.tap, "up")
        self.sh(*ns, "ip", "link", "set", self.peer, "up")
        self.sh(*ns, "ip", "link", "set", "lo", "up")
        base = [int(x) for x in self.SRC0.split(".")]
        for i in range(SOURCES):
            self.sh(*ns, "ip", "addr", "add", f"192.0.2.{base[3] + i}/24", "dev", self.peer)
        self.sh(*ns, "ip", "neigh", "replace", self.DST, "lladdr", self.DST_MAC, "dev", self.peer,
                "nud", "permanent")

    def netns_down(self):
        subprocess.run(["ip", "link", "del", self.tap], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)

    def start(self, broker):
        self.netns_up()
        self.dir = os.path.join(self.ctx.work, f"{self.name}-{self.ctx.run_id}")
        os.makedirs(self.dir)
        cfg = os.path.join(self.dir, "tapsift.yaml")
        with open(os.path.join(HERE, "tapsift-run.yaml")) as f:
            text = f.read().replace("@IFACE@", self.tap).replace("@BROKERS@", broker.bootstrap)
        text = text.replace("\ndataplane:\n", "\ndataplane:\n" + self.dataplane_extra)
        with open(cfg, "w") as f:
            f.write(text)
        self.stats = os.path.join(self.dir, "stats.json")
        self.logname = os.path.join(self.dir, "stdout.log")
        self.proc = subprocess.Popen([self.ctx.tapsift, "run", "--config", cfg, "--stats-json", self.stats],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        ready = threading.Event()

        def pump():
            with open(self.logname, "w") as out:
                for line in self.proc.stdout:
                    out.write(line)
                    out.flush()
                    if "RX queue(s)" in line and "lcore" in line:
                        ready.set()
            ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        ready.wait(60)
        if self.proc.poll() is not None or not ready.is_set():
            raise Broken("tapsift run did not start: " + tail_text(self.logname))
        bad = [s for s in listeners(self.pid) if not s[1].startswith("127.0.0.1:")]
        if bad:
            raise Broken(f"tapsift run listens beyond 127.0.0.1: {bad}")

    def sender(self, rate, count):
        return ["ip", "netns", "exec", self.ns, self.ctx.sender, self.DST, "514", str(rate), str(count),
                self.ctx.payloads, str(SOURCES), self.SRC0]

    def kernel_drops(self):
        return None  # af_packet ring drops are not in any counter DPDK 22.11 reads

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        extra = {}
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.pump:
                self.pump.join(timeout=10)
            if not self.proc:
                return extra
            if self.proc.returncode != 0:
                raise Broken(f"tapsift run exited {self.proc.returncode}: " + tail_text(self.logname))
            with open(self.stats) as f:
                extra = json.load(f)
            if not extra.get("balanced"):
                raise Broken("tapsift run: the accounting identity does not hold")
        finally:
            self.netns_down()
        return extra


class TapsiftRunBusyPoll(TapsiftRun):
    """tapsift run as above with `dataplane.idle: busy_poll`: the RX loop spins whatever the
    traffic, as before the adaptive idle mode (the default) existed; what that mode saves."""
    name = "tapsift-run-busy-poll"
    path = "net_af_packet (veth) ► run, idle: busy_poll"
    dataplane_extra = "  idle: busy_poll\n"


class TapsiftFlowsRun(TapsiftRun):
    """tapsift run as above, fed NetFlow v9/IPFIX to UDP 2055 (a default flow port), each exporter
    from its own address in the namespace (192.0.2.1-8)."""
    name = "tapsift-flows-run"
    kind = "flow"
    topic = FLOW_TOPIC
    path = "NetFlow v9/IPFIX ► net_af_packet (veth) ► run"

    def sender(self, rate, count):
        return ["ip", "netns", "exec", self.ns, self.ctx.sender, self.DST, str(FLOW_PORT), str(rate), str(count),
                self.ctx.flows.payloads, str(FLOW_EXPORTERS), self.SRC0, "keyed"]


class FlowPeer(Peer):
    """A flow collector run as its own process on 127.0.0.1, each exporter sending from its own
    loopback address (127.0.0.1-8)."""
    kind = "flow"
    topic = FLOW_TOPIC

    def sender(self, rate, count):
        return [self.ctx.sender, "127.0.0.1", str(self.port), str(rate), str(count), self.ctx.flows.payloads,
                str(FLOW_EXPORTERS), "127.0.0.1", "keyed"]


class Nfacctd(FlowPeer):
    """nfacctd from the unpacked pmacct .deb: a core process, a kafka plugin process, and a writer
    process the plugin forks at every purge (kafka_refresh_time) that produces the purged cache.
    The writers' CPU never shows in the plugin's cutime (observed: it stays 0), so a thread
    samples utime+stime of every process of the tree every 20 ms (a writer's last 20 ms and its
    last tick can escape: a lower bound). Memory: the largest sum of PSS (shared pages split
    between the processes that map them: core and plugin share a 64 MB queue, the writers are
    forks of the plugin) over all its processes, sampled every 0.2 s."""
    name = "nfacctd"
    path = "NetFlow v9/IPFIX ► nfacctd ► kafka plugin (JSON)"
    restart_per_step = True

    def command(self, broker):
        conf = os.path.join(self.dir, "nfacctd.conf")
        rdk = os.path.join(self.dir, "rdkafka.csv")
        shutil.copy(os.path.join(HERE, "nfacctd-rdkafka.csv"), rdk)
        host, port = broker.bootstrap.split(",")[0].rsplit(":", 1)
        self.fill("nfacctd.conf", conf, {"WORK": self.dir, "PORT": self.port, "BROKER_HOST": host,
                                         "BROKER_PORT": port, "TOPIC": self.topic, "RDKAFKA": rdk})
        return [os.path.join(self.ctx.peers, "usr/sbin/nfacctd"), "-f", conf], dict(os.environ)

    def start(self, broker):
        if os.environ.get("TAPSIFT_BENCH_NFACCTD_NO_KAFKA"):
            raise Broken("this pmacct build's nfacctd has no kafka plugin (nfacctd -V)")
        self.samples, self.hwm, self.sampling, self._plugins = {}, 0.0, True, set()
        super().start(broker)
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler.start()

    def sample(self):
        n = 0
        while self.sampling:
            tree, seen, pss = [self.pid], set(), 0.0
            n += 1
            while tree:
                pid = tree.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                try:
                    self.samples[pid] = proc_cpu(pid)
                    if n % 10 == 1:
                        pss += proc_pss_mib(pid)
                except (OSError, ValueError, IndexError):
                    continue
                tree += proc_children(pid)
            if n % 10 == 1:
                self.hwm = max(self.hwm, pss)
            self.long_lived()
            if self.proc.poll() is not None:
                return
            time.sleep(0.02)

    def long_lived(self):
        if not self._plugins and self.proc.poll() is None:
            self._plugins = set(proc_children(self.pid))
        return self._plugins

    def cpu(self):
        return sum(self.samples.values())

    def rss(self):
        return self.hwm

    def rx_queue(self):
        """Bytes waiting in nfacctd's UDP socket."""
        with open("/proc/net/udp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[1].endswith(f":{self.port:04X}"):
                    return int(cols[4].split(":")[1], 16)
        return 0

    def finish_step(self):
        """Waits until nfacctd read its socket empty, then stops it (SIGINT: the core hands its
        last buffer to the plugin, which purges its cache to Kafka and exits)."""
        deadline = time.time() + 30
        while self.proc.poll() is None and self.rx_queue() > 0 and time.time() < deadline:
            time.sleep(0.05)
        self.stop()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Broken("nfacctd did not exit within 60 s of SIGINT")
        self.sampling = False
        if getattr(self, "sampler", None):
            self.sampler.join(timeout=5)
            self.sampler = None
            plugins = self.long_lived()
            writers = [c for p, c in self.samples.items() if p != self.pid and p not in plugins]
            split = {"core": self.samples.get(self.pid, 0.0),
                     "plugin": sum(c for p, c in self.samples.items() if p in plugins),
                     "writers": sum(writers), "writer_processes": len(writers)}
            with open(os.path.join(self.dir, "cpu-split.json"), "w") as f:
                json.dump(split, f)
            log(f"{self.name}: CPU-s by process: core {split['core']:.2f}, kafka plugin {split['plugin']:.2f}, "
                f"{len(writers)} purge writers {split['writers']:.2f}")
        if self.logf:
            self.logf.close()
            self.logf = None
        return {}


class Goflow2(FlowPeer):
    """goflow2 (NetFlow/IPFIX/sFlow collector, one Go process), built by scripts/bench with
    `go install` from the Go module proxy, its Kafka transport (sarama) producing one JSON message
    per flow record into the bench's broker. It never sets its socket's receive buffer, so it gets
    net.core.rmem_default: raised to the 4 MiB the other peers ask for while it runs, and restored
    at its stop (scripts/bench restores it too, should the driver die). Kafka protocol 0.11.0.0
    (record batches) on the embedded broker: sarama's default (2.8.0) sends Metadata v7, which
    librdkafka's mock cluster refuses; a real cluster gets the default. Its producer flushes every
    second, as nfacctd purges."""
    name = "goflow2"
    path = "NetFlow v9/IPFIX ► goflow2 ► kafka transport (JSON)"
    RCVBUF = 4194304

    def command(self, broker):
        if not self.ctx.goflow2 or not os.access(self.ctx.goflow2, os.X_OK):
            raise Broken(os.environ.get("TAPSIFT_BENCH_GOFLOW2_MISSING", "no goflow2 binary (--goflow2)"))
        return ([self.ctx.goflow2, "-listen", f"netflow://127.0.0.1:{self.port}", "-addr", "127.0.0.1:0",
                 "-format", "json", "-transport", "kafka", "-transport.kafka.brokers", broker.bootstrap,
                 "-transport.kafka.topic", self.topic, *self.protocol_version(),
                 "-transport.kafka.flushfreq", "1s", "-loglevel", "warn"], dict(os.environ))

    def protocol_version(self):
        return [] if self.ctx.cluster else ["-transport.kafka.version", "0.11.0.0"]

    def start(self, broker):
        self.rmem_default = sysctl_int("net.core.rmem_default")
        if self.rmem_default < self.RCVBUF:
            sysctl_set("net.core.rmem_default", self.RCVBUF)
        super().start(broker)

    def stop(self):
        try:
            return super().stop()
        finally:
            if getattr(self, "rmem_default", self.RCVBUF) < self.RCVBUF:
                sysctl_set("net.core.rmem_default", self.rmem_default)


def tail_text(path, lines=8):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(line.strip() for line in f.readlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------------
def send(system, rate, count):
    p = subprocess.run(system.sender(rate, count), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Broken(f"sender failed: {p.stderr.strip()}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def wait_events(ctx, system, broker, h0, want, since, state, settle=None):
    """Polls the broker until WANT events arrived after H0, or none arrived for SETTLE s
    (ctx.settle; counted from SINCE or the last arrival), or ctx.max_drain s passed. STATE holds
    the last count, the system's CPU when it changed and when that was."""
    settle = ctx.settle if settle is None else settle
    while state["h"] - h0 < want:
        now = time.monotonic()
        if now - max(state["t"], since) > settle or now - since > ctx.max_drain:
            break
        time.sleep(0.05)
        h = broker.total()
        if h != state["h"]:
            state.update(h=h, cpu=system.cpu(), t=time.monotonic())


def measure_step(ctx, system, broker, rate, count):
    """Sends COUNT datagrams at RATE; waits until every event arrived or none arrived for
    ctx.settle s (a system restarted per step is then stopped, and what its stop flushes counts
    too). CPU is taken from the step's start to the poll that saw the last event arrive."""
    h0, c0, k0 = broker.total(), system.cpu(), system.kernel_drops()
    t0 = time.monotonic()
    sender = subprocess.Popen(system.sender(rate, count), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    st = {"h": h0, "cpu": c0, "t": t0}
    while sender.poll() is None:
        time.sleep(0.1)
        h = broker.total()
        if h != st["h"]:
            st.update(h=h, cpu=system.cpu(), t=time.monotonic())
    out, err = sender.communicate()
    if sender.returncode != 0:
        raise Broken(f"sender failed: {err.strip()}")
    res = json.loads(out.strip().splitlines()[-1])
    sent, t_sent = res["sent"], time.monotonic()
    due = system.expected(sent)
    wait_events(ctx, system, broker, h0, due, t_sent, st)
    rss = system.rss()
    if system.restart_per_step:
        system.finish_step()
        rss = system.rss()
        h = broker.total()
        if h != st["h"]:
            st.update(h=h, cpu=system.cpu(), t=time.monotonic())
        # nfacctd's last purge is done in its plugin process, before the core exits: little to wait for.
        wait_events(ctx, system, broker, h0, due, time.monotonic(), st, settle=1.0)
        if system.proc.returncode not in (0, -signal.SIGINT):
            raise Broken(f"{system.name} exited {system.proc.returncode} at the end of the {rate}/s step")
    elif not system.alive():
        raise Broken(f"{system.name} exited during the {rate}/s step")
    delivered = st["h"] - h0
    cpu = (st["cpu"] if delivered > 0 else system.cpu()) - c0
    k1 = system.kernel_drops()
    step = {
        "target_rate": rate, "offered_rate": round(due / res["seconds"], 1) if res["seconds"] > 0 else 0,
        "sent": due, "delivered": delivered,
        "lost": due - delivered, "lossless": delivered == due,
        "delivered_rate": round(delivered / res["seconds"], 1) if res["seconds"] > 0 else 0,
        "cpu_s": round(cpu, 3), "cpu_s_per_M": round(cpu / delivered * 1e6, 3) if delivered else "",
        "peak_rss_mib": round(rss, 1),
        "kernel_udp_rcvbuf_errors": "" if k0 is None else k1 - k0,
        "send_seconds": round(res["seconds"], 3), "last_event_after_s": round(st["t"] - t0, 3),
    }
    if system.kind == "flow":
        step.update(datagrams=sent, offered_datagram_rate=round(res["rate"], 1))
    return step


def flow_step_count(ctx, rate):
    """Datagrams of a flow step: --flow-count, or --flow-seconds of sending at RATE."""
    return ctx.flow_count or max(1, round(rate * ctx.flow_seconds))


def run_stepped(ctx, cls, rep, rows):
    system = cls(ctx)
    ctx.run_id += 1
    flows = system.kind == "flow"
    rates = ctx.flow_rates if flows else ctx.rates
    unit = "datagrams" if flows else "messages"
    broker = Broker(ctx, f"{system.name}-{ctx.run_id}", system.topic)
    try:
        system.start(broker)
        log(f"{system.name} (rep {rep}): started (pid {system.pid}), warming up")
        n, r = FLOW_WARMUP if flows else WARMUP
        h0 = broker.total()
        res = send(system, r, n)
        due = system.expected(res["sent"])
        st = {"h": h0, "cpu": 0.0, "t": time.monotonic()}
        wait_events(ctx, system, broker, h0, due, time.monotonic(), st)
        if system.restart_per_step:
            system.finish_step()
            st["h"] = broker.total()
        got = st["h"] - h0
        if got == 0:
            raise Broken(f"{system.name}: no events back from the warm-up ({n} {unit} sent); see {ctx.work}")
        if got < due:
            log(f"{system.name}: warm-up delivered {got} of {due}")
        for rate in rates:
            if system.restart_per_step:
                system.start(broker)
            count = flow_step_count(ctx, rate) if flows else ctx.count
            step = measure_step(ctx, system, broker, rate, count)
            step.update(system=system.name, rep=rep)
            rows.append(step)
            what = (f"{step['datagrams']} datagrams at {step['offered_datagram_rate']:.0f}/s, " if flows else "")
            log(f"{system.name} (rep {rep}) {rate:>7}/s: {what}offered {step['offered_rate']:>9.0f}/s, "
                f"delivered {step['delivered']}/{step['sent']}"
                f"{'' if step['lossless'] else '  LOSS ' + str(step['lost'])}, "
                f"CPU {step['cpu_s']:.2f} s ({step['cpu_s_per_M'] or '-'} s/M), RSS {step['peak_rss_mib']} MiB"
                + (f", kernel UDP rcvbuf errors {step['kernel_udp_rcvbuf_errors']}"
                   if step["kernel_udp_rcvbuf_errors"] != "" else ""))
            if step["delivered"] == 0:
                raise Broken(f"{system.name}: zero events back at {rate}/s")
        checked = check_events(broker, system.name, ctx.flows if flows else None)
        log(f"{system.name} (rep {rep}): {checked} events read back and checked")
    finally:
        try:
            extra = system.stop()
        finally:
            broker.stop()
    if extra:
        total_sent = (FLOW_WARMUP if flows else WARMUP)[0] + sum(
            s.get("datagrams", s["sent"]) for s in rows if s["system"] == system.name and s["rep"] == rep)
        produced = extra["flow"]["produced"] if flows else extra["produced"]
        log(f"{system.name} (rep {rep}): rx_packets {extra['rx_packets']} of {total_sent} sent, "
            f"produced {produced}, delivered {extra['delivered']}, accounting balanced")


def run_replay(ctx, rep, rows, flows=False):
    """`tapsift replay` of the replay capture (syslog, or with FLOWS the flow one)."""
    ctx.run_id += 1
    name = "tapsift-flows-replay" if flows else "tapsift-replay"
    capture = ctx.flows.replay if flows else ctx.replay
    frames = ctx.flows.replay_frames if flows else ctx.replay_frames
    due = ctx.flows.replay_records if flows else ctx.replay_frames  # events due
    broker = Broker(ctx, f"{name}-{ctx.run_id}", FLOW_TOPIC if flows else TOPIC)
    try:
        stats = os.path.join(ctx.work, f"replay-{ctx.run_id}.stats.json")
        logname = os.path.join(ctx.work, f"replay-{ctx.run_id}.log")
        rx_start = []
        h0 = broker.total()  # a real cluster's topic holds the runs before this one
        t0 = time.monotonic()
        p = subprocess.Popen([ctx.tapsift, "replay", capture, "--brokers", broker.bootstrap,
                              "--stats-json", stats], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def pump():
            with open(logname, "w") as out:
                for line in p.stdout:
                    if not rx_start and "RX queue(s)" in line and "lcore" in line:
                        rx_start.append(time.monotonic())
                    out.write(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        _, status, ru = os.wait4(p.pid, 0)  # rusage of the replay process: CPU and peak RSS
        t_end = time.monotonic()
        wall = t_end - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=10)
        if not os.path.exists(stats):
            raise Broken(f"tapsift replay exited {p.returncode} without stats: " + tail_text(logname))
        with open(stats) as f:
            c = json.load(f)
        hwm = broker.total() - h0
        cpu = ru.ru_utime + ru.ru_stime
        produced = c["flow"]["produced"] if flows else c["produced"]
        step = {"system": name, "rep": rep, "target_rate": "max",
                "offered_rate": round(due / wall, 1), "sent": due,
                "delivered": hwm, "lost": due - hwm,
                "lossless": p.returncode == 0 and c["delivered"] == due and hwm == due,
                "delivered_rate": round(produced / wall, 1), "cpu_s": round(cpu, 3),
                "cpu_s_per_M": round(cpu / produced * 1e6, 3) if produced else "",
                "peak_rss_mib": round(ru.ru_maxrss / 1024.0, 1), "kernel_udp_rcvbuf_errors": "",
                "send_seconds": round(wall, 3), "last_event_after_s": round(wall, 3)}
        # Without start-up (EAL init, broker connection): from the RX loop's start to the exit.
        step["rx_loop_rate"] = round(produced / (t_end - rx_start[0]), 1) if rx_start else ""
        if flows:
            step.update(datagrams=frames, offered_datagram_rate=round(frames / wall, 1))
        rows.append(step)
        log(f"{name} (rep {rep}): {produced} events in {wall:.2f} s = {step['delivered_rate']:.0f}/s "
            f"({step['rx_loop_rate'] or '?'}/s from the RX loop's start to the exit), "
            f"delivered {c['delivered']}, in broker {hwm}, exit {p.returncode}, CPU {cpu:.2f} s "
            f"({step['cpu_s_per_M']} s/M), peak RSS {step['peak_rss_mib']} MiB")
        if produced == 0 or hwm == 0:
            raise Broken(f"{name}: zero events back")
        if not step["lossless"]:
            raise Broken(f"{name} lost events or failed (exit {p.returncode}, {due} due): " + tail_text(logname))
        checked = check_events(broker, name, ctx.flows if flows else None)
        log(f"{name} (rep {rep}): {checked} events read back and checked")
    finally:
        broker.stop()


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
SYSTEMS = {"tapsift-run": TapsiftRun, "tapsift-run-busy-poll": TapsiftRunBusyPoll, "tapsift-replay": None, "rsyslog": Rsyslog, "syslog-ng": SyslogNg,
           "tapsift-flows-run": TapsiftFlowsRun, "tapsift-flows-replay": None, "nfacctd": Nfacctd,
           "goflow2": Goflow2}
SYSLOG_SYSTEMS = ["tapsift-run", "tapsift-run-busy-poll", "tapsift-replay", "rsyslog", "syslog-ng"]
FLOW_SYSTEMS = ["tapsift-flows-run", "tapsift-flows-replay", "nfacctd", "goflow2"]
# Not in the smoke run (CI) unless named with --systems: goflow2, built with `go install` (network
# to the Go module proxy, a minute and a half on a new machine), and tapsift run's busy_poll twin
# (a cost figure, not a pipeline of its own to check).
QUICK_SYSTEMS = [n for n in SYSLOG_SYSTEMS + FLOW_SYSTEMS if n not in ("goflow2", "tapsift-run-busy-poll")]
REPLAYS = ("tapsift-replay", "tapsift-flows-replay")
PATHS = {"tapsift-run": TapsiftRun.path, "tapsift-run-busy-poll": TapsiftRunBusyPoll.path, "tapsift-replay": "pcap ► replay (no sender, as fast as it goes)",
         "rsyslog": Rsyslog.path, "syslog-ng": SyslogNg.path,
         "tapsift-flows-run": TapsiftFlowsRun.path,
         "tapsift-flows-replay": "NetFlow v9/IPFIX pcap ► replay (no sender, as fast as it goes)",
         "nfacctd": Nfacctd.path, "goflow2": Goflow2.path}
# For flow systems: sent, delivered, lost and the rates count flow records (events); datagrams and
# offered_datagram_rate the datagrams; target_rate is in datagrams/s.
CSV_FIELDS = ["system", "rep", "target_rate", "offered_rate", "sent", "delivered", "lost", "lossless",
              "delivered_rate", "cpu_s", "cpu_s_per_M", "peak_rss_mib", "kernel_udp_rcvbuf_errors",
              "send_seconds", "last_event_after_s", "rx_loop_rate", "datagrams", "offered_datagram_rate"]


def summarize(ctx, rows, systems):
    """Per system: the median over reps of the highest lossless offered rate (that step and every
    lower one lossless), the CPU per M events at that step, and the largest peak RSS."""
    out = {}
    for name in systems:
        mine = [r for r in rows if r["system"] == name]
        if not mine:
            continue
        reps = sorted({r["rep"] for r in mine})
        rates, cpus, capped, rx_rates, sat, rss_ok, drates = [], [], [], [], [], [], []
        for rep in reps:
            steps = [r for r in mine if r["rep"] == rep]
            if name in REPLAYS:
                s = steps[0]
                if s["lossless"]:
                    rates.append(s["delivered_rate"])
                    if s.get("offered_datagram_rate"):
                        drates.append(s["offered_datagram_rate"])
                    cpus.append(s["cpu_s_per_M"])
                    if s.get("rx_loop_rate"):
                        rx_rates.append(s["rx_loop_rate"])
                continue
            steps.sort(key=lambda r: r["target_rate"])
            prefix = []  # the lossless steps below the first lossy one
            for s in steps:
                if not s["lossless"]:
                    break
                prefix.append(s)
            # The sender may fall short of a high target: take the highest rate it really offered.
            best = max(prefix, key=lambda r: r["offered_rate"]) if prefix else None
            if best is None:
                rates.append(0.0)
            else:
                rates.append(best["offered_rate"])
                if best.get("offered_datagram_rate"):
                    drates.append(best["offered_datagram_rate"])
                cpus.append(best["cpu_s_per_M"])
                rss_ok.append(best["peak_rss_mib"])
            capped.append(len(prefix) == len(steps))
            top = max(steps, key=lambda r: r["offered_rate"])
            if top["cpu_s_per_M"] != "":
                sat.append(top["cpu_s_per_M"])
        if name in REPLAYS:
            out[name] = {"dgram_rate": statistics.median(drates) if drates else None,"rate": statistics.median(rates) if rates else 0.0,
                         "cpu": statistics.median(cpus) if cpus else None,
                         "rss": max(r["peak_rss_mib"] for r in mine), "capped": False, "reps": len(reps),
                         "cpu_sat": statistics.median(cpus) if cpus else None,
                         "per_rep": rates, "rx_loop_rate": statistics.median(rx_rates) if rx_rates else None}
            continue
        out[name] = {
            "rate": statistics.median(rates) if rates else 0.0,
            "dgram_rate": statistics.median(drates) if drates else None,
            "cpu": statistics.median(cpus) if cpus else None,
            "rss": max(r["peak_rss_mib"] for r in mine),
            "capped": bool(capped) and all(capped),
            "cpu_sat": statistics.median(sat) if sat else None,
            "rss_ok": statistics.median(rss_ok) if rss_ok else None,
            "reps": len(reps),
            "per_rep": rates,
        }
    return out


def fmt_rate(v):
    if v < 1000:
        return f"{v:.0f}"
    k = v / 1000
    return f"{k:.0f}k" if k >= 100 or abs(k - round(k)) < 0.1 else f"{k:.1f}k"


def broker_words(ctx):
    if ctx.broker == "real":
        acks = "acks=all, replication factor 3, min.insync.replicas 2" if ctx.brokers == 3 else "acks=all"
        return (f"every system produces into one real Apache Kafka cluster of {ctx.brokers} broker(s) "
                f"(scripts/kafka-cluster; {acks}), whose CPU is in no system's figure")
    return "every system produces into its own fresh `tapsift broker` (the embedded mock Kafka)"


def write_results(ctx, rows, summary, failures, out_dir, elapsed):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "run.json"), "w") as f:
        json.dump({"command": ctx.command, "started": ctx.started.isoformat(), "machine": ctx.machine,
                   "machine_short": ctx.machine_short, "quick": ctx.quick, "reps": ctx.reps, "count": ctx.count,
                   "rates": ctx.rates, "messages": ctx.messages, "systems": ctx.systems,
                   "flow_rates": ctx.flow_rates, "flow_count": ctx.flow_count, "flow_seconds": ctx.flow_seconds,
                   "flow_datagrams": ctx.flow_datagrams, "flow_records": ctx.flow_records,
                   "flow_replay_repeat": ctx.flow_replay_repeat, "broker": ctx.broker, "brokers": ctx.brokers,
                   "failures": failures, "elapsed_s": round(elapsed, 1), "load_start": ctx.load_start,
                   "load_end": ctx.load_end}, f, indent=1)
    with open(os.path.join(out_dir, "steps.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in CSV_FIELDS})

    syslog = [n for n in SYSLOG_SYSTEMS if n in ctx.systems]
    flows = [n for n in FLOW_SYSTEMS if n in ctx.systems]
    title = " and ".join(t for t, on in (("syslog: tapsift vs rsyslog vs syslog-ng", syslog),
                                         ("flows: tapsift vs nfacctd vs goflow2", flows)) if on)
    lines = [f"# {title}: `{ctx.command}`", "",
             f"- date: {ctx.started.strftime('%Y-%m-%d %H:%M:%S UTC')}, {elapsed / 60:.1f} min",
             f"- machine: {ctx.machine}",
             f"- mode: {'quick (smoke test)' if ctx.quick else 'full'}; {ctx.reps} repetition(s), medians over them",
             f"- load average (1, 5, 15 min) of the machine at the start: {ctx.load_start or '?'}, at the end: "
             f"{ctx.load_end or '?'} (a busy machine makes every figure noisier; the sender and each system "
             "share its cores)",
             "- everything on this machine, loopback (peers) or a veth into a network namespace (tapsift run); "
             f"{broker_words(ctx)}; DPDK without hugepages (`--no-huge`)",
             "- the sender: `scripts/bench.d/udpsend.c`, sendmmsg in batches of ≤ 64, paced by the clock; "
             "the same payloads for every system.", ""]
    if syslog:
        lines += syslog_section(ctx, rows, summary, failures, syslog)
    if flows:
        lines += flow_section(ctx, rows, summary, failures, flows)
    if failures:
        lines += ["## Failures", ""] + [f"- {k}: {v}" for k, v in failures.items()] + [""]
    md = "\n".join(lines)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(md)
    if syslog:
        plot(ctx, rows, summary, os.path.join(out_dir, "delivered-vs-offered.png"))
    if flows:
        plot_flows(ctx, rows, summary, os.path.join(out_dir, "flows-delivered-vs-offered.png"))
    return md


def per_step_table(rows, order, rates, fmt):
    lines = ["| system | " + " | ".join(fmt(r) + "/s" for r in rates) + " |", "|---|" + "---|" * len(rates)]
    for name in order:
        mine = [r for r in rows if r["system"] == name and r["target_rate"] != "max"]
        if not mine:
            continue
        cells = []
        for rate in rates:
            st = [r for r in mine if r["target_rate"] == rate]
            if not st:
                cells.append("–")
                continue
            frac = statistics.median(r["delivered"] / r["sent"] for r in st)
            off = statistics.median(r["offered_rate"] for r in st)
            cells.append(f"{frac * 100:.2f}% @ {fmt_rate(off)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def syslog_section(ctx, rows, summary, failures, order):
    ref = summary.get("tapsift-run")
    lines = ["## Syslog: UDP ► Kafka", "",
             f"{ctx.count} messages per step at offered rates {', '.join(fmt_rate(r) for r in ctx.rates)}/s; "
             f"{ctx.messages} distinct RFC 5424 messages from `scripts/make-syslog-pcap load`, "
             f"{SOURCES} source addresses.", "",
             "| system | input ► output | highest lossless rate (msg/s) | CPU-s per M events at that rate "
             "| CPU-s per M events at the top step | peak RSS (MiB) to that rate / whole run | rate ÷ tapsift run "
             "| CPU (top step) ÷ tapsift run |",
             "|---|---|---|---|---|---|---|---|"]
    for name in order:
        if name in failures and name not in summary:
            lines.append(f"| {name} | {PATHS[name]} | BROKEN: {failures[name]} | | | | | |")
            continue
        s = summary.get(name)
        if not s:
            continue
        rate = ("≥ " if s["capped"] else "") + (f"{s['rate']:,.0f}" if s["rate"] else f"< {fmt_rate(ctx.rates[0])}")
        cpu = f"{s['cpu']:.2f}" if s["cpu"] is not None else "–"
        rr = f"{s['rate'] / ref['rate']:.2f}" if ref and ref["rate"] and s["rate"] else "–"
        sat = f"{s['cpu_sat']:.2f}" if s["cpu_sat"] is not None else "–"
        cr = (f"{s['cpu_sat'] / ref['cpu_sat']:.2f}" if ref and ref["cpu_sat"] and s["cpu_sat"] is not None
              else "–")
        note = " (BROKEN in a run)" if name in failures else ""
        if name != "tapsift-replay" and len(s["per_rep"]) > 1:
            rate += " (per rep: " + ", ".join(fmt_rate(v) if v else "–" for v in s["per_rep"]) + ")"
        if s.get("rx_loop_rate"):
            rate += f" ({s['rx_loop_rate']:,.0f} without start-up)"
        rss = (f"{s['rss_ok']:.0f} / " if s.get("rss_ok") is not None else "– / ") + f"{s['rss']:.0f}"
        if name == "tapsift-replay":
            rss = f"{s['rss']:.0f}"
        lines.append(f"| {name}{note} | {PATHS[name]} | {rate} | {cpu} | {sat} | {rss} | {rr} | {cr} |")
    lines += ["",
              "- *highest lossless rate*: the highest offered rate (as the sender achieved it) at which that "
              "step and every lower one delivered every message; `≥` when even the top step was lossless "
              "(the sender, not the system, was the limit); per rep: each repetition's, – where even the "
              "lowest step lost events (the CPU and RSS columns then come from the other repetitions). "
              "For tapsift replay: events produced ÷ wall time "
              "of the whole command (EAL start-up and final flush included; in brackets: from the RX loop's "
              "start to the exit), lossless = every packet of the capture delivered; its ratio compares it "
              "with tapsift run's offered-rate figure and is not a like-for-like one.",
              "- *CPU-s per M events*: utime+stime of the system's process (all threads) from the step's start "
              "to its last delivered event, at the highest lossless step, per million events. tapsift run's RX "
              "loop sleeps while its tap is quiet (`dataplane.idle: adaptive`, the default); "
              "tapsift-run-busy-poll's spins one core for the whole step (DPDK poll mode), so its figure "
              "includes idle polling; tapsift replay's is the work alone. The sender's and the kernel's "
              "delivery cost (softirq in the sender's context) are in no system's figure.",
              "- *top step*: the same at the step with the highest offered rate; in a full run every system is "
              "saturated (busy, and lossy) there, so this is the like-for-like cost per event, and the CPU "
              "ratio uses it. For tapsift replay both CPU columns are the whole command's.",
              "- *peak RSS*: VmHWM of the process, up to the end of the highest lossless step (median) and over "
              "its whole run including the overload steps (largest), where the peers' queues fill up "
              "(rsyslog's main queue and syslog-ng's log-fifo hold 200k messages each). tapsift's includes "
              "the DPDK mbuf pool (`-m 512`, no hugepages).", "",
              "### Per step (median delivered ÷ sent over repetitions)", ""]
    lines += per_step_table(rows, order, ctx.rates, fmt_rate)
    return lines


def flow_section(ctx, rows, summary, failures, order):
    ref = summary.get("tapsift-flows-run")
    rpd = ctx.flow_records / max(1, ctx.flow_datagrams - FLOW_EXPORTERS)
    lines = ["## Flows: NetFlow v9/IPFIX ► Kafka, one event per flow record", "",
             (f"{ctx.flow_count} datagrams" if ctx.flow_count else f"{ctx.flow_seconds:g} s of sending") +
             " per step at offered rates "
             f"{', '.join(fmt_rate(r) for r in ctx.flow_rates)} datagrams/s (× {rpd:.0f} records = "
             f"{', '.join(fmt_rate(r * rpd) for r in ctx.flow_rates)} records/s); "
             f"{ctx.flow_datagrams} datagrams from `scripts/make-flow-pcap load {ctx.flow_datagrams}` "
             f"(NetFlow v9 and IPFIX, {FLOW_EXPORTERS} exporters each sending from its own address, their "
             f"templates first, then {ctx.flow_records} records in data datagrams of 20); every step starts "
             "with the templates and cycles through the capture; the replay capture is that capture "
             f"{ctx.flow_replay_repeat} times.", "",
             "| system | input ► output | highest lossless rate: records/s | datagrams/s "
             "| CPU-s per M records at that rate | CPU-s per M records at the top step "
             "| peak RSS (MiB) to that rate / whole run | rate ÷ tapsift flows run | CPU (top step) ÷ tapsift flows run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in order:
        if name in failures and name not in summary:
            lines.append(f"| {name} | {PATHS[name]} | BROKEN: {failures[name]} | | | | | | |")
            continue
        s = summary.get(name)
        if not s:
            continue
        low = ctx.flow_rates[0] * rpd
        rate = ("≥ " if s["capped"] else "") + (f"{s['rate']:,.0f}" if s["rate"] else f"< {fmt_rate(low)}")
        drate = (("≥ " if s["capped"] else "") + f"{s['dgram_rate']:,.0f}") if s.get("dgram_rate") and s["rate"] \
            else (f"< {fmt_rate(ctx.flow_rates[0])}" if not s["rate"] else "–")
        cpu = f"{s['cpu']:.2f}" if s["cpu"] is not None else "–"
        rr = f"{s['rate'] / ref['rate']:.2f}" if ref and ref["rate"] and s["rate"] else "–"
        sat = f"{s['cpu_sat']:.2f}" if s["cpu_sat"] is not None else "–"
        cr = (f"{s['cpu_sat'] / ref['cpu_sat']:.2f}" if ref and ref["cpu_sat"] and s["cpu_sat"] is not None
              else "–")
        note = " (BROKEN in a run)" if name in failures else ""
        if name != "tapsift-flows-replay" and len(s["per_rep"]) > 1:
            rate += " (per rep: " + ", ".join(fmt_rate(v) if v else "–" for v in s["per_rep"]) + ")"
        if s.get("rx_loop_rate"):
            rate += f" ({s['rx_loop_rate']:,.0f} without start-up)"
        rss = (f"{s['rss_ok']:.0f} / " if s.get("rss_ok") is not None else "– / ") + f"{s['rss']:.0f}"
        if name == "tapsift-flows-replay":
            rss = f"{s['rss']:.0f}"
        lines.append(f"| {name}{note} | {PATHS[name]} | {rate} | {drate} | {cpu} | {sat} | {rss} | {rr} | {cr} |")
    lines += ["",
              "- *highest lossless rate*: as for syslog, counted in flow records: the highest offered rate at which "
              "that step and every lower one delivered every record of the datagrams sent as an event (one Kafka "
              "message each); datagrams/s: the same step's datagram rate. For tapsift flows replay: records "
              "produced ÷ wall time of the whole command, and the capture's datagrams ÷ that time.",
              "- *CPU-s per M records*: as for syslog, per million records. nfacctd's is the sum over its processes "
              "(core, kafka plugin, and the writer processes the plugin forks at every purge, sampled from /proc "
              "every 20 ms: a slight lower bound); nfacctd is started afresh for every step, and its figure "
              "includes its stop at the step's end (SIGINT, which flushes the core's last buffer and the "
              "plugin's cache; see scripts/bench.d/nfacctd.conf).",
              "- *peak RSS*: tapsift's as for syslog; nfacctd's is the largest sum of PSS over its processes "
              "(core, plugin and writers; shared pages split between them), sampled every 0.2 s, per step "
              "(a fresh process each): the median at the highest lossless step / the largest.",
              "- nfacctd (pmacct 1.7.7, Debian's build, which has the kafka plugin) aggregates: its "
              "configuration keys the cache by exporter, export sequence number, 5-tuple and the record's "
              "other fields, so no two records of the corpus share an entry, and purges it every second.",
              "- goflow2 (v2.2.6, built with go install): one process for all steps of a repetition, its CPU "
              "that process's (all threads); Kafka protocol 0.11.0.0 on the embedded broker (what it accepts), a "
              "flush every second, 4 MiB socket receive buffer (net.core.rmem_default while it runs). It "
              "queues up to 1 M datagrams before its decoders, so a short step can be lossless above the "
              "rate it sustains: see each step's last_event_after_s in steps.csv.", "",
              "### Per step (median delivered ÷ sent records over repetitions; offered records/s)", ""]
    lines += per_step_table(rows, order, ctx.flow_rates, lambda r: fmt_rate(r) + " dgram")
    return lines


def plot(ctx, rows, summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    top = max([r["offered_rate"] for r in rows if r["target_rate"] != "max" and r["system"] in SYSLOG_SYSTEMS]
              + [1]) / 1000
    ax.plot([0, top * 1.05], [0, top * 1.05], color="0.7", linestyle=":", label="delivered = offered")
    styles = {"tapsift-run": ("tab:blue", "o"), "tapsift-run-busy-poll": ("tab:cyan", "x"),
              "rsyslog": ("tab:orange", "s"), "syslog-ng": ("tab:green", "^")}
    stepped_lines(ax, ctx.rates, rows, summary, styles)
    rep = summary.get("tapsift-replay")
    if rep and rep["rate"]:
        ax.axhline(rep["rate"] / 1000, color="tab:purple", linestyle="--",
                   label=f"tapsift replay from pcap (whole command): {fmt_rate(rep['rate'])}/s")
    ax.set_xlabel("offered rate (k msg/s, as sent)")
    ax.set_ylabel("delivered to Kafka (k events/s of sending time)")
    ax.set_title(f"UDP syslog ► Kafka, {ctx.started.strftime('%Y-%m-%d')}, {ctx.machine_short}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def stepped_lines(ax, rates, rows, summary, styles):
    for name, (color, marker) in styles.items():
        mine = [r for r in rows if r["system"] == name]
        if not mine:
            continue
        ax.scatter([r["offered_rate"] / 1000 for r in mine], [r["delivered_rate"] / 1000 for r in mine],
                   color=color, marker=marker, alpha=0.35, s=18)
        xs, ys = [], []
        for rate in rates:
            st = [r for r in mine if r["target_rate"] == rate]
            if st:
                xs.append(statistics.median(r["offered_rate"] for r in st) / 1000)
                ys.append(statistics.median(r["delivered_rate"] for r in st) / 1000)
        s = summary.get(name)
        label = name + (f" (lossless to {fmt_rate(s['rate'])}/s)" if s and s["rate"] else "")
        pts = sorted(zip(xs, ys))
        ax.plot([x for x, _ in pts], [y for _, y in pts], color=color, marker=marker, label=label)


def plot_flows(ctx, rows, summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    top = max([r["offered_rate"] for r in rows if r["target_rate"] != "max" and r["system"] in FLOW_SYSTEMS]
              + [1]) / 1000
    ax.plot([0, top * 1.05], [0, top * 1.05], color="0.7", linestyle=":", label="delivered = offered")
    styles = {"tapsift-flows-run": ("tab:blue", "o"), "nfacctd": ("tab:red", "D"), "goflow2": ("tab:cyan", "v")}
    stepped_lines(ax, ctx.flow_rates, rows, summary, styles)
    rep = summary.get("tapsift-flows-replay")
    if rep and rep["rate"]:
        ax.axhline(rep["rate"] / 1000, color="tab:purple", linestyle="--",
                   label=f"tapsift replay from pcap (whole command): {fmt_rate(rep['rate'])}/s")
    ax.set_xlabel("offered rate (k flow records/s, as sent; 20 records a datagram)")
    ax.set_ylabel("delivered to Kafka (k events/s of sending time)")
    ax.set_title(f"NetFlow v9/IPFIX ► Kafka, one event per record, {ctx.started.strftime('%Y-%m-%d')}, "
                 f"{ctx.machine_short}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def report_only(out_dir):
    with open(os.path.join(out_dir, "run.json")) as f:
        meta = json.load(f)
    rows = []
    with open(os.path.join(out_dir, "steps.csv")) as f:
        for r in csv.DictReader(f):
            r["rep"] = int(r["rep"])
            r["target_rate"] = r["target_rate"] if r["target_rate"] == "max" else int(r["target_rate"])
            for k in ("sent", "delivered", "lost"):
                r[k] = int(r[k])
            for k in ("offered_rate", "delivered_rate", "cpu_s", "peak_rss_mib", "cpu_s_per_M", "rx_loop_rate",
                      "offered_datagram_rate"):
                r[k] = float(r[k]) if r.get(k) not in (None, "") else ""
            r["datagrams"] = int(r["datagrams"]) if r.get("datagrams") not in (None, "") else ""
            r["lossless"] = r["lossless"] == "True"
            rows.append(r)
    ctx = argparse.Namespace(**{k: meta[k] for k in ("command", "machine", "machine_short", "quick", "reps",
                                                       "count", "rates", "messages", "systems")})
    for k in ("flow_rates", "flow_count", "flow_seconds", "flow_datagrams", "flow_records", "flow_replay_repeat"):
        setattr(ctx, k, meta.get(k) or ([] if k == "flow_rates" else 0))
    ctx.broker, ctx.brokers = meta.get("broker", "embedded"), meta.get("brokers", 1)
    ctx.started = datetime.datetime.fromisoformat(meta["started"])
    ctx.load_start, ctx.load_end = meta.get("load_start"), meta.get("load_end")
    md = write_results(ctx, rows, summarize(ctx, rows, ctx.systems), meta["failures"], out_dir, meta["elapsed_s"])
    print(md)
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    n = os.cpu_count()
    full = f"nproc {n}, {model}, {mem:.0f} GiB, Linux {platform.release()}"
    return full, f"nproc {n}, {model}"


# ---------------------------------------------------------------------------------------------
def run_all(ctx, systems):
    """Every system, rep by rep; a system that breaks is reported and skipped from then on."""
    rows, failures = [], {}
    for rep in range(1, ctx.reps + 1):
        for name in systems:
            if name in failures:
                continue
            try:
                if name in REPLAYS:
                    run_replay(ctx, rep, rows, flows=name == "tapsift-flows-replay")
                else:
                    run_stepped(ctx, SYSTEMS[name], rep, rows)
            except Broken as e:
                log(f"BROKEN: {name}: {e}")
                failures[name] = str(e)
            except Exception as e:  # a crash of the driver around one system: report it, go on
                import traceback
                traceback.print_exc()
                log(f"BROKEN: {name}: {type(e).__name__}: {e}")
                failures[name] = f"{type(e).__name__}: {e}"
    return rows, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: small counts, 2 steps, one repetition")
    ap.add_argument("--systems", help="comma-separated, of: " + ", ".join(SYSLOG_SYSTEMS + FLOW_SYSTEMS)
                    + " (default: all; quick: all but goflow2 and tapsift-run-busy-poll)")
    ap.add_argument("--rates", help="comma-separated offered rates (msg/s)")
    ap.add_argument("--count", type=int, help="messages per step")
    ap.add_argument("--reps", type=int, help="repetitions of every system run")
    ap.add_argument("--messages", type=int, help="distinct messages (make-syslog-pcap load N)")
    ap.add_argument("--replay-repeat", type=int, help="the replay capture is the N messages this many times")
    ap.add_argument("--flow-rates", help="comma-separated offered rates of the flow systems (datagrams/s)")
    ap.add_argument("--flow-seconds", type=float, help="a flow step sends this long at its rate (default: 5; "
                    "quick: 2.5)")
    ap.add_argument("--flow-count", type=int, help="flow datagrams per step, whatever the rate (instead of "
                    "--flow-seconds)")
    ap.add_argument("--flow-datagrams", type=int, help="datagrams of the flow corpus (make-flow-pcap load N; "
                    "default 50008, quick: 10008); the sender cycles through it")
    ap.add_argument("--flow-replay-repeat", type=int, help="the flow replay capture is the corpus this many "
                    "times (default 2, quick: 5)")
    ap.add_argument("--settle", type=float, help="a step ends this long after the last event arrived")
    ap.add_argument("--broker", choices=["embedded", "real"], default="embedded",
                    help="embedded: a fresh `tapsift broker` (librdkafka's mock cluster) per system run; real: one "
                    "Apache Kafka cluster (scripts/kafka-cluster) for the whole run")
    ap.add_argument("--brokers", type=int, choices=[1, 3], default=1, help="with --broker real: its size (3: "
                    "replication factor 3, min.insync.replicas 2, acks=all)")
    ap.add_argument("--tapsift")
    ap.add_argument("--sender")
    ap.add_argument("--peers", help="root of the unpacked rsyslog and syslog-ng packages")
    ap.add_argument("--goflow2", help="the goflow2 binary (scripts/bench builds it with go install)")
    ap.add_argument("--cache")
    ap.add_argument("--out")
    ap.add_argument("--work")
    ap.add_argument("--command", default="scripts/bench")
    ap.add_argument("--report", metavar="DIR", help="only rewrite DIR/summary.md and the plot from DIR/steps.csv "
                    "and DIR/run.json (after a change to the report)")
    args = ap.parse_args()
    if args.report:
        return report_only(args.report)
    for need in ("tapsift", "sender", "peers", "cache", "out", "work"):
        if not getattr(args, need):
            ap.error(f"--{need} is required")
    q = args.quick
    args.rates = [int(x) for x in args.rates.split(",")] if args.rates else (
        [20000, 100000] if q else [50000, 75000, 100000, 150000, 200000, 300000, 400000, 600000, 800000])
    args.count = args.count or (20000 if q else 1000000)
    args.reps = args.reps or (1 if q else 3)
    args.messages = args.messages or (20000 if q else 100000)
    args.replay_repeat = args.replay_repeat or (5 if q else 10)
    args.settle = args.settle or (2.0 if q else 3.0)
    args.flow_rates = [int(x) for x in args.flow_rates.split(",")] if args.flow_rates else (
        [1000, 4000] if q else [1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000])
    args.flow_seconds = args.flow_seconds or (2.5 if q else 5.0)
    args.flow_datagrams = args.flow_datagrams or (10008 if q else 50008)
    args.flow_replay_repeat = args.flow_replay_repeat or (5 if q else 2)
    if not args.systems:
        args.systems = ",".join(QUICK_SYSTEMS if q else SYSLOG_SYSTEMS + FLOW_SYSTEMS)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            raise SystemExit(f"unknown system {s!r}; known: {', '.join(SYSTEMS)}")

    ctx = args
    ctx.systems = systems
    ctx.work = os.path.abspath(args.work)
    ctx.max_drain = 60.0
    ctx.run_id = 0
    ctx.started = datetime.datetime.now(datetime.timezone.utc)
    ctx.machine, ctx.machine_short = machine()
    ctx.load_start, ctx.load_end = loadavg(), None
    t_start = time.monotonic()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    # A copy of the binary: a rebuild during the run (ninja relinks in place) must not break it.
    snapshot = os.path.join(ctx.work, "tapsift")
    shutil.copy2(args.tapsift, snapshot)
    ctx.tapsift = snapshot
    if any(n in SYSLOG_SYSTEMS for n in systems):
        ctx.payloads, ctx.replay, ctx.replay_frames = prepare_inputs(args, ctx.work)
    ctx.flows, ctx.flow_records = None, 0
    if any(n in FLOW_SYSTEMS for n in systems):
        ctx.flows = FlowInputs(args, ctx.work)
        ctx.flow_records = ctx.flows.total
        # nfacctd merges a record sent twice within one purge interval (1 s): a record comes again
        # only after the whole corpus went by, which must take longer than that at every rate.
        gap = (ctx.flow_datagrams - FLOW_EXPORTERS) / max(ctx.flow_rates)
        if gap < 2 and any(flow_step_count(ctx, r) > ctx.flow_datagrams for r in ctx.flow_rates):
            log(f"note: at {max(ctx.flow_rates)}/s a record of the {ctx.flow_datagrams}-datagram corpus comes "
                f"again after {gap:.1f} s; nfacctd merges records sent twice within one purge (1 s)")
    ctx.cluster = RealCluster(ctx, args.brokers) if args.broker == "real" else None
    try:
        rows, failures = run_all(ctx, systems)
    finally:
        if ctx.cluster:
            ctx.cluster.stop()
    ctx.load_end = loadavg()
    summary = summarize(ctx, rows, systems)
    stamp = ctx.started.strftime("%Y%m%d-%H%M%S") + ("-quick" if q else "")
    out_dir = os.path.join(args.out, stamp)
    md = write_results(ctx, rows, summary, failures, out_dir, time.monotonic() - t_start)
    latest = os.path.join(args.out, "latest")
    if os.path.islink(latest) or not os.path.exists(latest):
        if os.path.islink(latest):
            os.remove(latest)
        os.symlink(stamp, latest)
    print()
    print(md)
    pngs = ", ".join(p for p, on in (("delivered-vs-offered.png", any(n in SYSLOG_SYSTEMS for n in systems)),
                                    ("flows-delivered-vs-offered.png", ctx.flows is not None)) if on)
    print(f"results: {out_dir}/ (summary.md, steps.csv, {pngs})")
    for name in systems:
        if name not in failures and not any(r["system"] == name for r in rows):
            failures[name] = "no measurements"
    if failures:
        print(f"FAILED: {', '.join(sorted(failures))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
