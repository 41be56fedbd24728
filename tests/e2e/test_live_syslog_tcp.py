"""Syslog over TCP from a real sender: util-linux `logger --tcp`, octet-counting (--octet-count) and
LF-delimited, from one network namespace to a TCP server in another, through a bridge. `tapsift run`
listens on the client's bridge port (net_af_packet), as a tap would. Every message the server
received is read back from the broker as an event with the same text and the client as its
source; the identity holds and every framed message is counted. One more connection goes quiet
for longer than dataplane.syslog_tcp_idle_timeout_ms: the RX loop expires it, and its next
message opens it again mid-stream, without losing that message.
Needs root (netns, veth, bridge); reports itself skipped (exit 77) otherwise."""
import json
import os
import signal
import subprocess
import time

from e2e_support import Broker, Check, accounting_balances, consume_all
from live_tcp_support import CLIENT, SERVER, LiveTcp

if os.geteuid() != 0:
    print("skipped: creating network namespaces needs root")
    raise SystemExit(77)

check = Check()
TOPIC = "tapsift.syslog.live-tcp"
PER_CONNECTION = 20  # lines fed to one logger over stdin: one connection
IDLE_TIMEOUT_MS = 1000

# A client that sends a line, stays quiet past the idle timeout, then sends another on the same
# connection.
QUIET_CLIENT = r"""
import socket, sys, time
s = socket.create_connection(("%s", 601))
s.sendall(sys.argv[1].encode() + b"\n")
time.sleep(%f)
s.sendall(sys.argv[2].encode() + b"\n")
s.close()
""" % (SERVER, 3 * IDLE_TIMEOUT_MS / 1000)
QUIET_LINES = ["<13>1 2026-11-01T00:00:00Z quiet live - - - before the quiet spell",
               "<13>1 2026-11-01T00:00:03Z quiet live - - - after the quiet spell"]


def body_of(msg):
    """The MSG of logger's RFC 5424 line: after the header and the structured data."""
    text = msg.decode()
    sd = text.index("[timeQuality")
    return text[text.index("] ", sd) + 2:]


def logger(net, *args, stdin=None):
    subprocess.run(net.in_client("logger", "--tcp", "--server", SERVER, "--rfc5424", "-t", "live", *args),
                   input=stdin, check=True, text=True)


with LiveTcp("tcp") as net:
    with Broker("live-tcp") as b:
        gw, stats = net.start_tapsift("live-tcp", b.bootstrap, TOPIC,
                                      f"  syslog_tcp_idle_timeout_ms: {IDLE_TIMEOUT_MS}\n")
        t0 = time.time()
        sent = []
        for framing, port, extra in (("octet", "514", ["--octet-count"]), ("lf", "601", [])):
            lines = [f"live {framing} message {i} via logger" for i in range(PER_CONNECTION)]
            logger(net, "--port", port, *extra, stdin="\n".join(lines) + "\n")  # one connection
            single = f"live {framing} single message"
            logger(net, "--port", port, *extra, single)  # a connection of its own
            sent += lines + [single]
        subprocess.run(net.in_client("/usr/bin/python3", "-c", QUIET_CLIENT, *QUIET_LINES), check=True)
        time.sleep(2)
        gw.send_signal(signal.SIGTERM)
        out, _ = gw.communicate(timeout=60)
        print(f"logger and shutdown took {time.time() - t0:.1f} s")
        check.eq("run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
        events = consume_all(b.bootstrap, TOPIC, c["produced"])

    received = [body_of(m) if b"[timeQuality" in m else m.decode() for frames in net.received().values()
                for m in frames]
    check.eq("the server received what was sent", sorted(received), sorted(sent + QUIET_LINES))
    t = c["tcp"]
    print(f"live tcp: rx_packets {c['rx_packets']}, tcp {json.dumps({k: t[k] for k in ('segments', 'used', 'control', 'server_to_client', 'messages')})}, "
          f"produced {c['produced']}")
    check.true("accounting identity", accounting_balances(c))
    check.eq("tcp.messages: one per line sent", t["messages"], len(sent) + len(QUIET_LINES))
    check.eq("tcp.connections.opened: 4 logger connections, the quiet one twice", t["connections"]["opened"], 6)
    check.eq("tcp.connections.expired: the quiet one", t["connections"]["expired"], 1)
    check.eq("tcp.connections.mid_stream: the quiet one after its expiry", t["connections"]["mid_stream"], 1)
    check.eq("tcp.connections.closed by their FIN", t["connections"]["closed"], 5)
    check.eq("nothing cut", t["cut_messages"], 0)
    check.eq("nothing skipped", t["bytes"]["skipped"], 0)
    check.true("the server's acknowledgements are seen and counted", t["server_to_client"] > 0)
    got = sorted((e.get("message"), e.get("source", {}).get("ip")) for _, e in events)
    want = sent + [line.split(" - - - ")[1] for line in QUIET_LINES]
    check.eq("every message read back once, from the client", got, sorted((m, CLIENT) for m in want))
check.finish()
