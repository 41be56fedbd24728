"""`tapsift run` on a live interface: a net_af_packet port on one end of a veth pair, the other end
in a network namespace this test creates, where scapy sends the demo capture's frames. Every frame
must be received and accounted, and every syslog datagram read back from the broker.
Needs root (netns, veth); reports itself skipped (exit 77) otherwise."""
import json
import os
import signal
import subprocess
import time

from e2e_support import (SRC, Broker, Check, accounting_balances, consume_all, remove_veth_namespace,
                         start_run_on_interface, veth_into_namespace)

if os.geteuid() != 0:
    print("skipped: creating a network namespace needs root")
    raise SystemExit(77)

check = Check()
NS, TAP, PEER = f"tsrc{os.getpid()}", f"tap{os.getpid()}", f"src{os.getpid()}"
demo = os.path.join(SRC, "data/captures/demo-syslog.pcap")


try:
    # No addresses and no IPv6 on either end, so the kernel sends nothing of its own (ND, ARP).
    veth_into_namespace(NS, TAP, PEER)

    with Broker("live") as b:
        gw, stats = start_run_on_interface("live", TAP, b.bootstrap)
        sent = subprocess.run(
            ["ip", "netns", "exec", NS, "/usr/bin/python3", "-c",
             f"from scapy.all import rdpcap, sendp\n"
             f"frames = rdpcap({demo!r})\n"
             f"sendp(frames, iface={PEER!r}, verbose=False)\n"
             f"print(len(frames))"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        time.sleep(2)
        gw.send_signal(signal.SIGTERM)
        out, _ = gw.communicate(timeout=60)
        check.eq("run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
        extra = c["rx_packets"] - int(sent)
        print(f"live: sent {sent} frames, received {c['rx_packets']} ({extra} from elsewhere), "
              f"produced {c['produced']}")
        # The af_packet PMD opens its socket for every protocol before binding it to the
        # interface, so frames crossing other interfaces in that instant can be captured too
        # (seen when other traffic was on loopback). They are counted like any other frame, so
        # the checks below are on the frames this test sent, not on exact totals.
        check.true("every frame sent was received", extra >= 0)
        check.true("accounting identity", accounting_balances(c))
        events = consume_all(b.bootstrap, "tapsift.syslog", c["produced"])
        ours = [e for _, e in events if e["source"]["ip"].startswith("10.1.0.")]
        check.eq("syslog events from the capture's senders", len(ours), 193)
finally:
    remove_veth_namespace(NS, TAP)
check.finish()
