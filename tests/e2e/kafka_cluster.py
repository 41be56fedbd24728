"""A real Apache Kafka cluster for the end-to-end tests, started and stopped through
scripts/kafka-cluster (KRaft, 1 or 3 brokers on loopback), and what the tests ask of it: topics
with their own settings, who leads a partition, and whether every replica is back in sync.

A missing Java, Maven or broker jar is a failure (RuntimeError with the script's message), never
a skip: CI installs them (scripts/install-deps)."""
import os
import shutil
import subprocess
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from e2e_support import SRC, WORK, write_config

SCRIPT = os.path.join(SRC, "scripts", "kafka-cluster")


class KafkaCluster:
    """`scripts/kafka-cluster start N` in its own state dir under the test's work dir; stopped on
    exit. `bootstrap` is what start printed last; `plaintext` the brokers' own listeners (the
    same unless a SASL_SSL listener was asked for)."""

    def __init__(self, name, brokers=1, extra_args=(), version=None):
        self.dir = os.path.join(WORK, f"kafka-{name}")
        self.env = dict(os.environ, **({"TAPSIFT_KAFKA_VERSION": version} if version else {}))
        self.brokers = brokers
        if shutil.which("java") is None:
            raise RuntimeError("the real-cluster tests need Java 17 (openjdk-17-jre-headless): run scripts/install-deps")
        r = self._run("start", str(brokers), *extra_args, timeout=300)
        self.bootstrap = r.stdout.strip().splitlines()[-1]
        with open(os.path.join(self.dir, "bootstrap-plaintext")) as f:
            self.plaintext = f.read().strip()
        self.admin = AdminClient({"bootstrap.servers": self.plaintext, "log_level": 0})

    def _run(self, *args, timeout=120):
        r = subprocess.run([SCRIPT, "--dir", self.dir, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, env=self.env)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/kafka-cluster {' '.join(args)} failed (exit {r.returncode}):\n"
                               f"{r.stderr[-4000:]}")
        return r

    def signal(self, broker, sig):
        self._run("signal", str(broker), sig)

    def restart(self, *brokers):
        self._run("restart", *map(str, brokers), timeout=300)

    def pid(self, broker):
        return int(self._run("pid", str(broker)).stdout)

    def log_dir(self, broker):
        return self._run("log-dir", str(broker)).stdout.strip()

    def wait_exited(self, broker, timeout_s):
        """True once broker's process is gone (or a zombie) within timeout_s."""
        pid = self.pid(broker)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[1][0] == "Z":
                        return True
            except OSError:
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        self._run("stop", timeout=120)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- topics -----------------------------------------------------------------------------

    def topic_for(self, name):
        """A syslog topic of its own for one replay on this shared cluster (see TopicOnCluster)."""
        return TopicOnCluster(self, name)

    def create_topic(self, topic, partitions=4, config=None):
        """Creates the topic (replication factor: the cluster's default) and waits for leaders."""
        fut = self.admin.create_topics([NewTopic(topic, partitions, config=config or {})])[topic]
        fut.result(timeout=60)
        deadline = time.time() + 60
        while time.time() < deadline:
            t = self.admin.list_topics(topic, timeout=10).topics.get(topic)
            if t and t.error is None and len(t.partitions) == partitions and \
                    all(p.leader >= 0 for p in t.partitions.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"topic {topic}: no leader for every partition within 60 s")

    def alter_topic(self, topic, config):
        """Sets the topic's configs to `config` (AlterConfigs: keys not given return to defaults)."""
        res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config=config)
        for f in self.admin.alter_configs([res]).values():
            f.result(timeout=30)

    def partitions(self, topic, timeout_s=60):
        """{partition: (leader, replicas, isrs)} as the cluster's metadata says now. A request to a
        killed or hung broker times out, so each try is a fresh client with a short socket timeout
        (a long-lived one keeps asking the hung broker), until timeout_s."""
        deadline = time.time() + timeout_s
        while True:
            try:
                admin = AdminClient({"bootstrap.servers": self.plaintext, "socket.timeout.ms": 3000, "log_level": 0})
                t = admin.list_topics(topic, timeout=4).topics[topic]
                return {p.id: (p.leader, list(p.replicas), list(p.isrs)) for p in t.partitions.values()}
            except KafkaException:
                if time.time() > deadline:
                    raise

    def leader(self, topic, partition):
        return self.partitions(topic)[partition][0]

    def wait_in_sync(self, topic, timeout_s=120):
        """Until every partition has a leader and all its replicas in sync (after a restart)."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                parts = self.partitions(topic)
                if all(leader >= 0 and sorted(isrs) == sorted(replicas) for leader, replicas, isrs in parts.values()):
                    return
            except Exception:  # metadata while a broker restarts
                pass
            time.sleep(0.5)
        raise RuntimeError(f"topic {topic}: replicas not in sync within {timeout_s} s: {self.partitions(topic)}")


class TopicOnCluster:
    """One replay's own topic on a shared cluster, so runs cannot see each other's events:
    `bootstrap`, `topic`, and `replay_args` (a config naming the topic) for replay()."""

    def __init__(self, cluster, name):
        self.bootstrap = cluster.bootstrap
        self.topic = f"tapsift.syslog.{name}"
        self.replay_args = ["--config", write_config(f"{name}-topic", f"kafka:\n  topics: {{syslog: {self.topic}}}\n")]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass
