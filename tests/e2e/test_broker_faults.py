"""Broker faults under load: every event carries a unique id (its frame number, also in msgid
"ID<n>"), and a consumer counts them back: 0 lost and 0 duplicated among the events the producer
accepted. The broker is a 3-broker `tapsift broker --control`, faults injected from here.

Set TAPSIFT_FAULT_OUTAGE_S to shorten the 30 s outage (the default is the issue's 30 s)."""
import os
import shutil
import time

from e2e_support import (SRC, WORK, Broker, Check, IdTally, accounting_balances, consume_all, finish_replay,
                         load_ids, make_load_capture, replay, sigkill_replay_once_spooled, sigterm_during_outage,
                         start_replay, write_config)

EVENTS = 20000
OUTAGE_S = int(os.environ.get("TAPSIFT_FAULT_OUTAGE_S", "30"))
check = Check()
pcap = make_load_capture(EVENTS, f"load{EVENTS}")


def assert_exactly_once(name, bootstrap, want_ids):
    events = consume_all(bootstrap, "tapsift.syslog", len(want_ids), timeout_s=60)
    tally = IdTally(load_ids(events), want_ids, EVENTS)
    print(f"{name}: {tally}")
    check.eq(f"{name}: lost", tally.lost, 0)
    check.eq(f"{name}: duplicated", tally.duplicated, 0)


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
        spooled = sigkill_replay_once_spooled(check, name, pcap, b.bootstrap, cfg, spool, EVENTS)
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
    name = "fault-sigterm-" + ("spool" if with_spool else "nospool")
    with Broker(name, brokers=3, control=True) as b:
        for i in (1, 2, 3):
            b.command(f"down {i}")
        sigterm_during_outage(check, name, b.bootstrap, pcap, EVENTS, with_spool)


sigterm_deadline(with_spool=True)
sigterm_deadline(with_spool=False)
exactly_once_despite("fault-request-errors", retriable_request_errors)
exactly_once_despite("fault-leader-change", leader_change)
queue_full_drop()
all_down_spooled()
sigkill_mid_outage()
exactly_once_despite("fault-broker-down", one_broker_down)
check.finish()
