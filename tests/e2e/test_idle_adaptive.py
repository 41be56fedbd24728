"""dataplane.idle: the adaptive RX loop sleeps while the tap is quiet and loses nothing when traffic
comes back. `tapsift run` on a net_af_packet port (a veth whose other end is in a network namespace
made here) gets a bursty pattern -- quiet, a burst, quiet, one message, a burst, quiet, a trickle
that finds the loop asleep each time -- three times: adaptive with the default longest sleep,
adaptive with the longest allowed (10 ms, the ring of 8192 frames holding what arrives meanwhile),
and busy_poll. Every message must be read back exactly once, the accounting identity must hold,
and the RX loop must have slept (adaptive) or never (busy_poll).
Needs root (netns, veth); reports itself skipped (exit 77) otherwise."""
import json
import os
import signal
import subprocess
import time

from e2e_support import (Broker, Check, IdTally, accounting_balances, consume_all, load_ids, remove_veth_namespace,
                         start_run_on_interface, veth_into_namespace)

if os.geteuid() != 0:
    print("skipped: creating a network namespace needs root")
    raise SystemExit(77)

check = Check()
tag = os.getpid() % 100000
NS, TAP, PEER = f"tsidle{tag}", f"tsit{tag}", f"tsip{tag}"
DST, DST_MAC, SRC = "192.0.2.200", "02:00:00:00:00:02", "192.0.2.1"

# (quiet seconds before, messages sent back to back): the loop backs off to its longest sleep in
# well under 0.2 s, so every burst and every trickle message finds it asleep.
PATTERN = [(1.0, 3000), (0.5, 1), (0.3, 3000), (1.0, 1)] + [(0.05, 1)] * 20 + [(0.5, 2000)]
SENDER = f"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.bind(({SRC!r}, 40000))
n = 0
for quiet, count in {PATTERN!r}:
    time.sleep(quiet)
    for _ in range(count):
        msg = f"<13>1 2026-12-05T00:00:00Z idle-host tapsift-load - ID{{n}} - idle burst {{n}}"
        s.sendto(msg.encode(), ({DST!r}, 514))
        n += 1
print(n)
"""


def run_pattern(name, dataplane_extra):
    with Broker(name) as b:
        gw, stats = start_run_on_interface(name, TAP, b.bootstrap, dataplane_extra)
        sent = int(subprocess.run(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", SENDER], check=True,
                                  stdout=subprocess.PIPE, text=True).stdout.strip())
        time.sleep(1)
        gw.send_signal(signal.SIGTERM)
        gw.communicate(timeout=60)
        check.eq(f"{name}: run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
        print(f"{name}: sent {sent}, received {c['rx_packets']}, produced {c['produced']}, "
              f"idle sleeps {c['idle_sleeps']}")
        check.true(f"{name}: accounting identity", accounting_balances(c))
        check.true(f"{name}: every message sent was received", c["rx_packets"] >= sent)
        ids = load_ids(consume_all(b.bootstrap, "tapsift.syslog", sent))
        tally = IdTally(ids, range(sent), sent)
        print(f"{name}: {tally}")
        check.eq(f"{name}: messages delivered", tally.delivered, sent)
        check.eq(f"{name}: duplicates", tally.duplicated, 0)
        check.eq(f"{name}: read back but never sent", tally.unexpected, 0)
        return c["idle_sleeps"]


try:
    # A static neighbour: no ARP. The frames reach the gateway's side with a foreign destination
    # MAC, so the host's IP stack drops them; the af_packet port sees them all.
    veth_into_namespace(NS, TAP, PEER, f"{SRC}/24", (DST, DST_MAC))

    slept = run_pattern("idle-adaptive", "")
    check.true("adaptive (the default): the RX loop slept", slept > 0)
    slept = run_pattern("idle-adaptive-10ms", "  idle: adaptive\n  idle_max_sleep_us: 10000\n")
    check.true("adaptive, 10 ms sleeps: the RX loop slept", slept > 0)
    slept = run_pattern("idle-busy-poll", "  idle: busy_poll\n")
    check.eq("busy_poll: the RX loop never slept", slept, 0)
finally:
    remove_veth_namespace(NS, TAP)
check.finish()
