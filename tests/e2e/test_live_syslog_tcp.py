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

from e2e_support import WORK, Broker, Check, accounting_balances, consume_all, start_run, write_config

if os.geteuid() != 0:
    print("skipped: creating network namespaces needs root")
    raise SystemExit(77)

check = Check()
PID = os.getpid()
NSC, NSS = f"tcpc{PID}", f"tcps{PID}"
BR, CLIENT_TAP, SERVER_PORT = f"tbr{PID}", f"tcr{PID}", f"tsr{PID}"
CLIENT, SERVER = "10.77.0.2", "10.77.0.1"
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

# Accepts connections on 514 and 601 and writes what each one sent to a file of its own.
SERVER_SCRIPT = r"""
import os, selectors, socket, sys
out = sys.argv[1]
sel = selectors.DefaultSelector()
for port in (514, 601):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("%s", port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ, "listen")
print("listening", flush=True)
n = 0
while True:
    for key, _ in sel.select():
        if key.data == "listen":
            conn, _ = key.fileobj.accept()
            n += 1
            sel.register(conn, selectors.EVENT_READ, open(os.path.join(out, "conn%%d" %% n), "wb"))
        else:
            data = key.fileobj.recv(65536)
            if data:
                key.data.write(data)
                key.data.flush()
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                key.data.close()
""" % SERVER


def sh(*cmd):
    subprocess.run(cmd, check=True)


def frames_of(data):
    """RFC 6587 framing of what the server received, done independently of tapsift."""
    if data[:1].isdigit():
        msgs, i = [], 0
        while i < len(data):
            sp = data.index(b" ", i)
            n = int(data[i:sp])
            msgs.append(data[sp + 1:sp + 1 + n])
            i = sp + 1 + n
        return msgs
    return [m for m in data.split(b"\n") if m]


def body_of(msg):
    """The MSG of logger's RFC 5424 line: after the header and the structured data."""
    text = msg.decode()
    sd = text.index("[timeQuality")
    return text[text.index("] ", sd) + 2:]


def logger(*args, stdin=None):
    subprocess.run(["ip", "netns", "exec", NSC, "logger", "--tcp", "--server", SERVER, "--rfc5424",
                    "-t", "live", *args], input=stdin, check=True, text=True)


server = None
recv_dir = os.path.join(WORK, f"live-tcp-{PID}")
os.makedirs(recv_dir, exist_ok=True)
try:
    sh("ip", "netns", "add", NSC)
    sh("ip", "netns", "add", NSS)
    sh("ip", "link", "add", BR, "type", "bridge", "forward_delay", "0")
    sh("sysctl", "-qw", f"net.ipv6.conf.{BR}.disable_ipv6=1")
    for ns, inside, outside, addr in ((NSC, "c0", CLIENT_TAP, CLIENT), (NSS, "s0", SERVER_PORT, SERVER)):
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}p")
        sh("ip", "link", "set", f"{outside}p", "netns", ns)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", f"{outside}p", "name", inside)
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{inside}.disable_ipv6=1")
        sh("sysctl", "-qw", f"net.ipv6.conf.{outside}.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", inside)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up")
        sh("ip", "link", "set", outside, "master", BR)
        sh("ip", "link", "set", outside, "up")
    sh("ip", "link", "set", BR, "up")
    server = subprocess.Popen(["ip", "netns", "exec", NSS, "/usr/bin/python3", "-c", SERVER_SCRIPT, recv_dir],
                              stdout=subprocess.PIPE, text=True)
    check.eq("server listening", server.stdout.readline().strip(), "listening")

    with Broker("live-tcp") as b:
        stats = os.path.join(WORK, "live-tcp.stats.json")
        cfg = write_config("live-tcp", f"""dataplane:
  ports:
    - device: "net_af_packet0,iface={CLIENT_TAP},framecnt=8192"
kafka:
  brokers: "{b.bootstrap}"
  topics: {{syslog: {TOPIC}}}
""".replace("dataplane:\n", f"dataplane:\n  syslog_tcp_idle_timeout_ms: {IDLE_TIMEOUT_MS}\n"))
        gw = start_run(cfg, stats)
        t0 = time.time()
        sent = []
        for framing, port, extra in (("octet", "514", ["--octet-count"]), ("lf", "601", [])):
            lines = [f"live {framing} message {i} via logger" for i in range(PER_CONNECTION)]
            logger("--port", port, *extra, stdin="\n".join(lines) + "\n")  # one connection
            single = f"live {framing} single message"
            logger("--port", port, *extra, single)  # a connection of its own
            sent += lines + [single]
        subprocess.run(["ip", "netns", "exec", NSC, "/usr/bin/python3", "-c", QUIET_CLIENT, *QUIET_LINES],
                       check=True)
        time.sleep(2)
        gw.send_signal(signal.SIGTERM)
        out, _ = gw.communicate(timeout=60)
        print(f"logger and shutdown took {time.time() - t0:.1f} s")
        check.eq("run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
        events = consume_all(b.bootstrap, TOPIC, c["produced"])

    received = []
    for name in sorted(os.listdir(recv_dir)):
        with open(os.path.join(recv_dir, name), "rb") as f:
            received += [body_of(m) if b"[timeQuality" in m else m.decode() for m in frames_of(f.read())]
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
finally:
    if server:
        server.kill()
        server.wait()
    for link in (CLIENT_TAP, SERVER_PORT, BR):
        subprocess.run(["ip", "link", "del", link], stderr=subprocess.DEVNULL)
    for ns in (NSC, NSS):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
check.finish()
