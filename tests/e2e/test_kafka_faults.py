"""Real faults on a real cluster: a 3-broker Apache Kafka (scripts/kafka-cluster, KRaft, replication
factor 3, min.insync.replicas=2), `tapsift replay` producing a capture of events that each carry a
unique id, and a python3-confluent-kafka consumer counting the ids back per case:
sent / accepted / delivered / lost / duplicated / out-of-order per key.

Each case has its own topic on the one cluster, and leaves every replica in sync for the next.
The table at the end is the one docs/robustness.md quotes.

TAPSIFT_KAFKA_FAULT_EVENTS sets the load (default 100000 events: a few seconds of producing).
TAPSIFT_KAFKA_FAULT_CASES (comma-separated case names) runs only those cases.

The disk-full case mounts a tmpfs over a broker's log dir, so the test re-runs itself in a mount
namespace of its own (unshare, as root): the mount is never seen outside and goes with the test."""
import os
import shutil
import subprocess
import sys
import time

if os.environ.get("TAPSIFT_FAULTS_OWN_MOUNT_NS") != "1":
    os.environ["TAPSIFT_FAULTS_OWN_MOUNT_NS"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable, *sys.argv])

from confluent_kafka import Producer

from e2e_support import (SRC, WORK, Check, IdTally, consume_all, finish_replay, load_ids, make_load_capture,
                         replay, sigkill_replay_once_spooled, sigterm_during_outage, start_replay, write_config)
from kafka_cluster import KafkaCluster

EVENTS = int(os.environ.get("TAPSIFT_KAFKA_FAULT_EVENTS", "100000"))
KILL_EVENTS = 20000  # the tapsift-SIGKILL case: its spool is read back whole
check = Check()
rows = []


def config(name, bootstrap, topic, kafka_extra="", properties=None, queue_full_timeout_ms=600000):
    """A config that waits (not drops) on a full queue and gives deliveries time to finish."""
    spool = os.path.join(WORK, f"{name}.spool")
    shutil.rmtree(spool, ignore_errors=True)
    props = {"enable.idempotence": "true", **(properties or {})}
    prop_text = ", ".join(f'{k}: "{v}"' for k, v in props.items())
    return write_config(name, f"""kafka:
  brokers: "{bootstrap}"
  topics: {{syslog: {topic}}}
  flush_timeout_ms: 240000
  queue_full_timeout_ms: {queue_full_timeout_ms}
  properties: {{{prop_text}}}
{kafka_extra}"""), spool


def count_back(name, kc, topic, want_ids, sent, expect=None):
    """Reads the topic until `expect` events (default: one per wanted id) or 120 s."""
    t0 = time.time()
    events = consume_all(kc.plaintext, topic, len(want_ids) if expect is None else expect, timeout_s=120)
    tally = IdTally(load_ids(events), want_ids, sent)
    # A loss is either the cluster's or a read that ran out of time: say which.
    print(f"{name}: {tally} (read back in {time.time() - t0:.1f} s of 120)", flush=True)
    rows.append((name, tally))
    return tally


def under_load(kc, name, fault, topic_config=None, properties=None, kafka_extra="", ordered=True):
    """Replays the load capture into a fresh topic while fault(kc, topic) runs; every event must
    arrive once (and, with ordered, in order per key)."""
    topic = f"faults.{name}"
    kc.create_topic(topic, 4, topic_config)
    cfg, _ = config(name, kc.plaintext, topic, kafka_extra, properties)
    run = start_replay(pcap, kc.plaintext, name, ["--config", cfg])
    time.sleep(1.0)  # producing
    t0 = time.time()
    fault(kc, topic)
    rc, c, out = finish_replay(run, timeout=600)
    print(f"{name}: fault took {time.time() - t0:.1f} s; replay exit {rc}", flush=True)
    check.eq(f"{name}: exit code", rc, 0)
    if c is None:
        check.true(f"{name}: stats written ({out[-2000:]})", False)
        return
    check.eq(f"{name}: produced", c["produced"], EVENTS)
    kc.wait_in_sync(topic)
    tally = count_back(name, kc, topic, range(1, EVENTS + 1), EVENTS)
    check.eq(f"{name}: lost", tally.lost, 0)
    check.eq(f"{name}: duplicated", tally.duplicated, 0)
    if ordered:
        check.eq(f"{name}: out of order", tally.out_of_order, 0)


def kill_leader(kc, topic):
    """SIGKILL of partition 0's leader under load; restart once the others took over."""
    leader = kc.leader(topic, 0)
    kc.signal(leader, "KILL")
    deadline = time.time() + 60
    while kc.leader(topic, 0) in (leader, -1) and time.time() < deadline:
        time.sleep(0.2)
    new = kc.leader(topic, 0)
    print(f"leader-sigkill: broker {leader} killed, partition 0 now led by {new}", flush=True)
    check.true(f"leader-sigkill: a new leader was elected ({new})", new not in (leader, -1))
    kc.restart(leader)


HANG_S = 15
REQUEST_TIMEOUT_MS = 5000


def hang_leader(kc, topic):
    """SIGSTOP of partition 0's leader for longer than request.timeout.ms (and than the cluster's
    9 s broker session: the others fence it and elect new leaders while it hangs); then SIGCONT."""
    leader = kc.leader(topic, 0)
    kc.signal(leader, "STOP")
    time.sleep(HANG_S)
    new = kc.leader(topic, 0)
    kc.signal(leader, "CONT")
    print(f"broker-sigstop: broker {leader} stopped {HANG_S} s, partition 0 led meanwhile by {new}", flush=True)


def not_enough_replicas(kc, topic):
    """min.insync.replicas=3 on the topic, one broker killed: the in-sync set shrinks to 2 and the
    leaders refuse acks=all writes (NOT_ENOUGH_REPLICAS) until it is back. A probe producer sees
    the error code, so the fault is shown to have happened."""
    victim = 3
    kc.signal(victim, "KILL")
    seen = probe_error(kc, topic, "NOT_ENOUGH_REPLICAS", timeout_s=60)
    check.true(f"min-isr: the cluster refused writes with NOT_ENOUGH_REPLICAS (probe saw {seen})",
               seen == "NOT_ENOUGH_REPLICAS")
    time.sleep(10)
    kc.restart(victim)


def probe_error(kc, topic, want, timeout_s):
    """Produces single probe events (not load events) until one fails with `want`: its name, or
    the last outcome seen."""
    last = None
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        result = []
        p = Producer({"bootstrap.servers": kc.plaintext, "acks": "all", "message.timeout.ms": 3000,
                      "retries": 0, "log_level": 0})
        p.produce(topic, b'{"log": {"syslog": {"appname": "probe"}}}', key=b"probe",
                  on_delivery=lambda err, msg: result.append(err))
        p.flush(10)
        last = result[0].name() if result and result[0] else "delivered"
        if last == want:
            return last
        time.sleep(0.5)
    return last


def cluster_down_spooled(kc):
    """The whole cluster SIGKILLed under load for longer than message.timeout.ms: the deliveries
    that time out go to the spool, and are replayed once the cluster is back. Replayed events are
    new Produce requests (a new idempotence sequence), so an event whose write reached a broker
    but whose acknowledgement did not is delivered twice: lost must be 0, duplicates are counted."""
    name = "cluster-down-spool"
    topic = f"faults.{name}"
    kc.create_topic(topic, 4)
    cfg, spool = config(name, kc.plaintext, topic, properties={"message.timeout.ms": "5000"})
    with open(cfg, "a") as f:
        f.write(f"  spool: {{dir: {spool}}}\n")
    run = start_replay(pcap, kc.plaintext, name, ["--config", cfg])
    time.sleep(1.0)
    for b in (1, 2, 3):
        kc.signal(b, "KILL")
    time.sleep(15)
    kc.restart(1, 2, 3)
    rc, c, out = finish_replay(run, timeout=600)
    check.eq(f"{name}: exit code", rc, 0)
    check.eq(f"{name}: produced", c["produced"], EVENTS)
    check.eq(f"{name}: nothing counted lost", c["delivery_failed"], 0)
    check.true(f"{name}: deliveries went to the spool ({c['spooled_after_failure']})", c["spooled_after_failure"] > 0)
    check.eq(f"{name}: spool empty at exit", c["spool"]["records"], 0)
    print(f"{name}: spooled after failure {c['spooled_after_failure']}, replayed {c['replayed_from_spool']}")
    tally = count_back(name, kc, topic, range(1, EVENTS + 1), EVENTS)
    check.eq(f"{name}: lost", tally.lost, 0)
    check.true(f"{name}: duplicates only among spooled events ({tally.duplicated})",
               tally.duplicated <= c["spooled_after_failure"])
    kc.wait_in_sync(topic)


def oversized_event(kc):
    """A topic whose max.message.bytes (2048) is below some events (every 100th carries 4000 random
    letters): with the producer's message.max.bytes set to the topic's limit, librdkafka refuses
    the big event itself (counted dropped.produce_error, and logged) and batches the rest within
    the limit; they all arrive. Without it, the broker refuses whole batches: small events fail
    with the big one (counted delivery_failed, never silent) -- shown by the second half."""
    name = "max-message-bytes"
    big = make_load_capture(5000, "load5000-big", ["--big-every", "100", "--big-bytes", "4000"])
    for aligned in (True, False):
        case = name + ("" if aligned else "-misaligned")
        topic = f"faults.{case}"
        kc.create_topic(topic, 4, {"max.message.bytes": "2048"})
        props = {"message.max.bytes": "2048"} if aligned else {}
        cfg, _ = config(case, kc.plaintext, topic, properties=props)
        rc, c, out = replay(big, kc.plaintext, case, ["--config", cfg])
        big_ids = set(range(100, 5001, 100))
        if aligned:
            check.eq(f"{case}: exit code (the drops are counted, the rest delivered)", rc, 0)
            check.eq(f"{case}: the big events counted", c["dropped"]["produce_error"], len(big_ids))
            check.true(f"{case}: and logged", "Message size too large" in out)
            check.eq(f"{case}: delivered", c["delivered"], 5000 - len(big_ids))
            tally = count_back(case, kc, topic, set(range(1, 5001)) - big_ids, 5000)
            check.eq(f"{case}: lost", tally.lost, 0)
            check.eq(f"{case}: duplicated", tally.duplicated, 0)
        else:
            check.eq(f"{case}: exit code (events lost)", rc, 1)
            check.eq(f"{case}: every event accounted for", c["delivered"] + c["delivery_failed"], 5000)
            check.true(f"{case}: small events failed with the big ones ({c['delivery_failed']} failed)",
                       c["delivery_failed"] > len(big_ids))
            check.true(f"{case}: and logged", "Message size too large" in out)
            tally = count_back(case, kc, topic, set(range(1, 5001)), 5000, expect=c["delivered"])
            check.eq(f"{case}: read back = delivered", tally.delivered, c["delivered"])
            print(f"{case}: delivered {c['delivered']}, failed {c['delivery_failed']} (of them big: {len(big_ids)})")


def sigterm_while_cluster_hangs(kc):
    """`tapsift run`, every broker SIGSTOPped (connections open, no answers), SIGTERM: it exits
    within the shutdown deadline, its events in the spool (or counted lost without one)."""
    small = make_load_capture(KILL_EVENTS, f"load{KILL_EVENTS}")
    for b in (1, 2, 3):
        kc.signal(b, "STOP")
    for with_spool in (True, False):
        sigterm_during_outage(check, "shutdown-" + ("spool" if with_spool else "nospool"), kc.plaintext, small,
                              KILL_EVENTS, with_spool)
    for b in (1, 2, 3):
        kc.signal(b, "CONT")


def tapsift_killed_mid_outage(kc):
    """The cluster down (its brokers SIGSTOPped, so connections hang as on a dead network), a small
    producer queue that overflows into the spool, tapsift SIGKILLed; then the cluster back and
    tapsift restarted: every spooled event arrives. What was in librdkafka's queue at the kill was
    only in memory: measured as the accepted ids below the last spooled one that are neither in the
    spool nor read back."""
    name = "tapsift-sigkill"
    topic = f"faults.{name}"
    kc.create_topic(topic, 4)
    small = make_load_capture(KILL_EVENTS, f"load{KILL_EVENTS}")
    cfg, spool = config(name, kc.plaintext, topic, "  on_queue_full: spool\n", {"queue.buffering.max.messages": "1000"},
                        queue_full_timeout_ms=0)
    with open(cfg, "a") as f:
        f.write(f"  spool: {{dir: {spool}}}\n")
    for b in (1, 2, 3):
        kc.signal(b, "STOP")
    spooled = sigkill_replay_once_spooled(check, name, small, kc.plaintext, cfg, spool, KILL_EVENTS)
    for b in (1, 2, 3):
        kc.signal(b, "CONT")
    kc.wait_in_sync(topic)
    rc, c, out = replay(os.path.join(SRC, "data/captures/demo-syslog.pcap"), kc.plaintext, name + "-restart",
                        ["--config", cfg])
    check.eq(f"{name}: restart exit code", rc, 0)
    check.eq(f"{name}: recovered from disk", c["spool"]["recovered_records"], len(spooled))
    check.eq(f"{name}: spool empty after restart", c["spool"]["records"], 0)
    events = consume_all(kc.plaintext, topic, len(spooled), timeout_s=120)
    keyed = load_ids(events)
    tally = IdTally(keyed, spooled, KILL_EVENTS)
    check.eq(f"{name}: spooled events lost", tally.lost, 0)
    check.eq(f"{name}: duplicated", tally.duplicated, 0)
    read = {i for _, i in keyed}
    in_memory = [i for i in range(1, max(spooled) + 1) if i not in set(spooled) and i not in read]
    print(f"{name}: {len(spooled)} spooled and read back; {len(in_memory)} accepted events were only in "
          f"librdkafka's queue at the kill (ids {min(in_memory, default=0)}..{max(in_memory, default=0)}) and are lost")
    check.true(f"{name}: what was lost is at most the queue's 1000 ({len(in_memory)})", len(in_memory) <= 1000)
    rows.append((name, tally))


DISK_VICTIM = 3
DISK_HEADROOM = 64 << 20  # the tmpfs is the log dir's size plus this


def log_dir_on_small_tmpfs(kc):
    """Broker DISK_VICTIM stopped cleanly, its log dir moved onto a tmpfs with DISK_HEADROOM bytes
    free, and started again."""
    kc.signal(DISK_VICTIM, "TERM")
    check.true("disk-full: broker stopped cleanly before the move", kc.wait_exited(DISK_VICTIM, 120))
    data = kc.log_dir(DISK_VICTIM)
    saved = data + ".saved"
    shutil.move(data, saved)
    os.makedirs(data)
    used = int(subprocess.run(["du", "-sb", saved], stdout=subprocess.PIPE, text=True, check=True).stdout.split()[0])
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={used + DISK_HEADROOM}", "tapsift-disk-full", data], check=True)
    subprocess.run(["cp", "-a", saved + "/.", data], check=True)
    shutil.rmtree(saved)
    kc.restart(DISK_VICTIM)
    return data


def fill_disk(kc, topic, data):
    """Fills the victim's tmpfs under load: its next write fails with ENOSPC, Kafka takes the log
    dir offline and, with its only dir (and the metadata log) gone, the broker halts. The other two
    lead on with min.insync.replicas=2. Then the tmpfs is grown and the victim restarts."""
    st = os.statvfs(data)
    filler = os.path.join(data, "filler")
    subprocess.run(["fallocate", "-l", str(st.f_bavail * st.f_frsize), filler], check=True)
    t0 = time.time()
    died = kc.wait_exited(DISK_VICTIM, 120)
    print(f"disk-full: broker {DISK_VICTIM}'s log dir filled; broker exited: {died} after {time.time() - t0:.1f} s",
          flush=True)
    check.true("disk-full: the broker with the full disk stopped", died)
    with open(os.path.join(os.path.dirname(data), "out.log"), errors="replace") as f:
        log = f.read()
    check.true("disk-full: its log says why (No space left on device)", "No space left on device" in log)
    check.true("disk-full: and that it stopped for it", "because all log dirs" in log)
    subprocess.run(["mount", "-o", f"remount,size={2 * DISK_HEADROOM + st.f_blocks * st.f_frsize}", data], check=True)
    os.remove(filler)
    kc.restart(DISK_VICTIM)


def disk_full(kc):
    data = log_dir_on_small_tmpfs(kc)
    under_load(kc, "broker-disk-full", lambda kc, topic: fill_disk(kc, topic, data))


CASES = {
    "leader-sigkill": lambda kc: under_load(kc, "leader-sigkill", kill_leader),
    "broker-sigstop": lambda kc: under_load(kc, "broker-sigstop", hang_leader,
                                            properties={"request.timeout.ms": str(REQUEST_TIMEOUT_MS)}),
    "min-isr": lambda kc: under_load(kc, "min-isr", not_enough_replicas, topic_config={"min.insync.replicas": "3"}),
    "max-message-bytes": oversized_event,
    "broker-disk-full": disk_full,
    "cluster-down-spool": cluster_down_spooled,
    "shutdown": sigterm_while_cluster_hangs,
    "tapsift-sigkill": tapsift_killed_mid_outage,
}
chosen = os.environ.get("TAPSIFT_KAFKA_FAULT_CASES", ",".join(CASES)).split(",")
unknown = [c for c in chosen if c not in CASES]
if unknown:
    sys.exit(f"TAPSIFT_KAFKA_FAULT_CASES: unknown case(s) {unknown}; the cases are {list(CASES)}")

pcap = make_load_capture(EVENTS, f"load{EVENTS}")
with KafkaCluster("faults", brokers=3) as kc:
    for case in chosen:
        CASES[case](kc)

print("\n| case | sent | accepted | delivered | lost | duplicated | out-of-order per key |")
print("|---|---|---|---|---|---|---|")
for name, t in rows:
    print(f"| {name} | {t.sent} | {t.accepted} | {t.delivered} | {t.lost} | {t.duplicated} | {t.out_of_order} |")
check.finish()
