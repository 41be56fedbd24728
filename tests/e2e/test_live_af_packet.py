"""`tapsift run` on a live interface: a net_af_packet port on one end of a veth pair, the other end
in a network namespace this test creates, where scapy sends the demo capture's frames. Every frame
must be received and accounted, and every syslog datagram read back from the broker.
Needs root (netns, veth); reports itself skipped (exit 77) otherwise."""
import json
import os
import signal
import subprocess
import time

from e2e_support import SRC, WORK, Broker, Check, accounting_balances, consume_all, start_run, write_config

if os.geteuid() != 0:
    print("skipped: creating a network namespace needs root")
    raise SystemExit(77)

check = Check()
NS, TAP, PEER = f"tsrc{os.getpid()}", f"tap{os.getpid()}", f"src{os.getpid()}"
demo = os.path.join(SRC, "data/captures/demo-syslog.pcap")


def sh(*cmd):
    subprocess.run(cmd, check=True)


try:
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", TAP, "type", "veth", "peer", "name", PEER)
    sh("ip", "link", "set", PEER, "netns", NS)
    # No addresses and no IPv6 on either end, so the kernel sends nothing of its own (ND, ARP).
    sh("sysctl", "-qw", f"net.ipv6.conf.{TAP}.disable_ipv6=1")
    sh("ip", "netns", "exec", NS, "sysctl", "-qw", f"net.ipv6.conf.{PEER}.disable_ipv6=1")
    sh("ip", "link", "set", TAP, "up")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", PEER, "up")

    with Broker("live") as b:
        stats = os.path.join(WORK, "live.stats.json")
        cfg = write_config("live", f"""dataplane:
  ports:
    - device: "net_af_packet0,iface={TAP},framecnt=8192"
kafka:
  brokers: "{b.bootstrap}"
""")
        gw = start_run(cfg, stats)
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
    subprocess.run(["ip", "link", "del", TAP], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
check.finish()
