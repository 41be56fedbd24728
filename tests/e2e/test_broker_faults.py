"""Broker faults under load: every event carries a unique id (its frame number, also in msgid
"ID<n>"), and a consumer counts them back: 0 lost and 0 duplicated among the events the producer
accepted. The broker is a 3-broker `tapsift broker --control`, faults injected from here.

Set TAPSIFT_FAULT_OUTAGE_S to shorten the 30 s outage (the default is the issue's 30 s)."""
import collections
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import time

from e2e_support import (BIN, SRC, WORK, Broker, Check, accounting_balances, consume_all, finish_replay,
                         make_load_capture, replay, start_replay, wait_until_file_read, write_config)

EVENTS = 20000
OUTAGE_S = int(os.environ.get("TAPSIFT_FAULT_OUTAGE_S", "30"))
check = Check()
pcap = make_load_capture(EVENTS, f"load{EVENTS}")


def load_ids(events):
    """The unique ids of the load events among those read back (other captures have other apps)."""
    return [int(e["log"]["syslog"]["msgid"][2:]) for _, e in events
            if e["log"]["syslog"].get("appname") == "tapsift-load"]


def assert_exactly_once(name, bootstrap, want_ids):
    events = consume_all(bootstrap, "tapsift.syslog", len(want_ids), timeout_s=60)
    ids = load_ids(events)
    counts = collections.Counter(ids)
    lost = set(want_ids) - set(counts)
    dups = sum(n - 1 for n in counts.values() if n > 1)
    print(f"{name}: sent {EVENTS}, expected {len(want_ids)}, read back {len(ids)}, "
          f"lost {len(lost)}, duplicated {dups}")
    check.eq(f"{name}: lost", len(lost), 0)
    check.eq(f"{name}: duplicated", dups, 0)


def config(name, extra_kafka=""):
    spool = os.path.join(WORK, f"{name}.spool")
    shutil.rmtree(spool, ignore_errors=True)
    return write_config(name, f"""kafka:
  flush_timeout_ms: 120000
{extra_kafka}"""), spool


def exactly_once_despite(name, inject):
    """Replays the load capture while inject(broker) runs its faults; everything must arrive once."""
    cfg, _ = config(name)
    with Broker(name, brokers=3, control=True) as b:
        run = start_replay(pcap, b.bootstrap, name, ["--config", cfg])
        inject(b)
        rc, c, out = finish_replay(run)
        check.eq(f"{name}: exit code", rc, 0)
        check.eq(f"{name}: produced", c["produced"], EVENTS)
        check.eq(f"{name}: delivered", c["delivered"], EVENTS)
        assert_exactly_once(name, b.bootstrap, range(1, EVENTS + 1))


def one_broker_down(b):
    b.command("down 1")  # while the replay starts producing
    time.sleep(OUTAGE_S)
    b.command("up 1")


def retriable_request_errors(b):
    b.command("produce-errors 40 6")  # NOT_LEADER_OR_FOLLOWER
    b.command("produce-errors 40 7")  # REQUEST_TIMED_OUT


def leader_change(b):
    time.sleep(0.5)
    for partition in range(4):
        b.command(f"leader tapsift.syslog {partition} {1 + (partition + 1) % 3}")


def all_down_spooled():
    """All brokers down longer than message.timeout.ms: every delivery fails, goes to the spool,
    and is replayed once the brokers are back."""
    name = "fault-all-down-spool"
    cfg, spool = config(name, "  properties: {message.timeout.ms: \"3000\"}\n")
    with open(cfg, "a") as f:
        f.write(f"  spool: {{dir: {spool}}}\n")
    with Broker(name, brokers=3, control=True) as b:
        for i in (1, 2, 3):
            b.command(f"down {i}")
        run = start_replay(pcap, b.bootstrap, name, ["--config", cfg])
        time.sleep(8)
        for i in (1, 2, 3):
            b.command(f"up {i}")
        rc, c, out = finish_replay(run)
        check.eq(f"{name}: exit code", rc, 0)
        check.eq(f"{name}: produced", c["produced"], EVENTS)
        check.eq(f"{name}: lost (failed without spool)", c["delivery_failed"], 0)
        check.true(f"{name}: deliveries failed over to the spool ({c['spooled_after_failure']})",
                   c["spooled_after_failure"] > 0)
        check.eq(f"{name}: spool empty at exit", c["spool"]["records"], 0)
        print(f"{name}: spooled after failure {c['spooled_after_failure']}, replayed {c['replayed_from_spool']}")
        assert_exactly_once(name, b.bootstrap, range(1, EVENTS + 1))


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


def sigkill_mid_outage():
    """Queue full during an outage with on_queue_full: spool; SIGKILL; restart with the brokers
    back: everything that was spooled reaches the broker."""
    name = "fault-sigkill"
    cfg, spool = config(name, "  queue_full_timeout_ms: 0\n  on_queue_full: spool\n"
                              "  properties: {queue.buffering.max.messages: \"1000\"}\n")
    with open(cfg, "a") as f:
        f.write(f"  spool: {{dir: {spool}}}\n")
    with Broker(name, brokers=3, control=True) as b:
        for i in (1, 2, 3):
            b.command(f"down {i}")
        proc, _ = start_replay(pcap, b.bootstrap, name, ["--config", cfg])
        deadline = time.time() + 60
        while len(read_spool_ids(spool)) < EVENTS // 2 and time.time() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        spooled = read_spool_ids(spool)
        check.true(f"{name}: the spool holds the overflow ({len(spooled)} events)", len(spooled) >= EVENTS // 2)
        for i in (1, 2, 3):
            b.command(f"up {i}")
        # Restart on any capture: the spool from the killed run is replayed first.
        rc, c, out = replay(os.path.join(SRC, "data/captures/demo-syslog.pcap"), b.bootstrap, name + "-restart",
                            ["--config", cfg])
        check.eq(f"{name}: restart exit code", rc, 0)
        check.eq(f"{name}: recovered from disk", c["spool"]["recovered_records"], len(spooled))
        check.eq(f"{name}: spool empty after restart", c["spool"]["records"], 0)
        assert_exactly_once(name, b.bootstrap, spooled)


def queue_full_drop():
    """on_queue_full: drop (the default) during a total outage: a defined, counted outcome."""
    name = "fault-queue-full-drop"
    cfg, _ = config(name, "  queue_full_timeout_ms: 10\n"
                          "  properties: {queue.buffering.max.messages: \"1000\", message.timeout.ms: \"2000\"}\n")
    with Broker(name, brokers=3, control=True) as b:
        for i in (1, 2, 3):
            b.command(f"down {i}")
        rc, c, out = replay(pcap, b.bootstrap, name, ["--config", cfg])
        check.eq(f"{name}: exit code (events were lost)", rc, 1)
        check.true(f"{name}: accounting identity", accounting_balances(c))
        check.eq(f"{name}: produced + dropped(queue full)", c["produced"] + c["dropped"]["producer_queue_full"], EVENTS)
        check.true(f"{name}: some dropped on a full queue", c["dropped"]["producer_queue_full"] > 0)
        check.eq(f"{name}: every accepted event timed out and was counted", c["delivery_failed"], c["produced"])
        print(f"{name}: produced {c['produced']}, dropped on full queue {c['dropped']['producer_queue_full']}, "
              f"delivery failed {c['delivery_failed']}")


def sigterm_deadline(with_spool):
    """`tapsift run` during a total outage, SIGTERM: it stops RX, and exits within the shutdown
    deadline (kafka.flush_timeout_ms); what is undelivered goes to the spool, or is counted."""
    name = "fault-sigterm-" + ("spool" if with_spool else "nospool")
    spool = os.path.join(WORK, f"{name}.spool")
    shutil.rmtree(spool, ignore_errors=True)
    stats = os.path.join(WORK, f"{name}.stats.json")
    with Broker(name, brokers=3, control=True) as b:
        for i in (1, 2, 3):
            b.command(f"down {i}")
        cfg = write_config(name, f"""dataplane:
  ports:
    - device: "net_pcap0,rx_pcap={pcap}"
kafka:
  brokers: "{b.bootstrap}"
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
        check.eq(f"{name}: every packet received", c["rx_packets"], EVENTS)
        check.true(f"{name}: accounting identity", accounting_balances(c))
        if with_spool:
            check.eq(f"{name}: exit code", proc.returncode, 0)
            check.eq(f"{name}: everything undelivered is in the spool", c["spool"]["records"], c["produced"])
            check.eq(f"{name}: nothing lost", c["delivery_failed"], 0)
        else:
            check.eq(f"{name}: exit code (events undelivered)", proc.returncode, 1)
            check.eq(f"{name}: every undelivered event counted as lost", c["delivery_failed"], c["produced"])
            check.true(f"{name}: and logged", "lost" in out and "shutdown deadline" in out)


sigterm_deadline(with_spool=True)
sigterm_deadline(with_spool=False)
exactly_once_despite("fault-request-errors", retriable_request_errors)
exactly_once_despite("fault-leader-change", leader_change)
queue_full_drop()
all_down_spooled()
sigkill_mid_outage()
exactly_once_despite("fault-broker-down", one_broker_down)
check.finish()
