"""Syslog over TCP from real forwarders: rsyslog (omfwd, protocol tcp: its default LF framing and
TCP_Framing="octet-counted") and syslog-ng (network(transport("tcp")): LF framing; the
syslog(transport("tcp")) driver: RFC 6587 octet counting), run from their unpacked Debian .debs
(scripts/fetch-peers, as scripts/bench runs them) in a client network namespace. Each gets RFC 3164
lines on loopback UDP inputs and forwards them over TCP to a server in another namespace, through a
bridge; `tapsift run` listens on the client's bridge port (net_af_packet), as a tap would.
What the server received is parsed independently and compared with what was injected (hostname,
app name, pid, text), and so is every event read back from the broker; the accounting identity holds
with exact numbers. Needs root (netns, veth, bridge, apt for the peers' libraries); reports itself
skipped (exit 77) otherwise."""
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter

from e2e_support import SRC, WORK, Broker, Check, accounting_balances, consume_all
from live_tcp_support import CLIENT, SERVER, LiveTcp

if os.geteuid() != 0:
    print("skipped: creating network namespaces needs root")
    raise SystemExit(77)

check = Check()
TOPIC = "tapsift.syslog.live-tcp-peers"
PER_PATH = 25  # messages through each forwarder and framing
# Where scripts/bench keeps them: one fetch serves the bench and the release and ASan runs of this test.
PEERS = os.path.join(SRC, "build", "bench", "peers")
DIR = os.path.join(WORK, f"live-tcp-peers-{os.getpid()}")

# (forwarder, framing, loopback UDP port of its input, hostname the injected lines carry)
PATHS = [("rsyslog", "lf", 5141, "rsy-lf"), ("rsyslog", "octet", 5142, "rsy-octet"),
         ("syslog-ng", "lf", 5143, "sng-lf"), ("syslog-ng", "octet", 5144, "sng-octet")]
APP, PROCID = "fwdtest", "4242"

RSYSLOG_CONF = f"""
global(workDirectory="{DIR}" net.enableDNS="off")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="5141" ruleset="lf")
input(type="imudp" address="127.0.0.1" port="5142" ruleset="octet")
# omfwd's default template, RSYSLOG_TraditionalForwardFormat: RFC 3164 with the original hostname.
ruleset(name="lf") {{ action(type="omfwd" target="{SERVER}" port="601" protocol="tcp") }}
ruleset(name="octet") {{
  action(type="omfwd" target="{SERVER}" port="514" protocol="tcp" TCP_Framing="octet-counted")
}}
*.* action(type="omfile" file="{DIR}/rsyslog-internal.log")
"""

SYSLOG_NG_CONF = f"""@version: 3.38
options {{ use-dns(no); dns-cache(no); keep-hostname(yes); chain-hostnames(no); stats-freq(0); }};
source s_internal {{ internal(); }};
destination d_internal {{ file("{DIR}/syslog-ng-internal.log"); }};
log {{ source(s_internal); destination(d_internal); }};
source s_lf {{ network(transport("udp") ip("127.0.0.1") port(5143)); }};
source s_octet {{ network(transport("udp") ip("127.0.0.1") port(5144)); }};
# network(): RFC 3164, one per line; syslog(): RFC 5424, octet counted (RFC 6587).
destination d_lf {{ network("{SERVER}" transport("tcp") port(601)); }};
destination d_octet {{ syslog("{SERVER}" transport("tcp") port(514)); }};
log {{ source(s_lf); destination(d_lf); }};
log {{ source(s_octet); destination(d_octet); }};
"""

# What the server got, parsed here independently of tapsift: (hostname, app, pid, text).
RFC3164 = re.compile(r"<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d (\S+) ([^\[:]+)\[(\d+)\]: (.*)")
RFC5424 = re.compile(r"<\d+>1 \S+ (\S+) (\S+) (\S+) \S+ (?:-|\[.*?\]) (.*)")


def parsed(frame):
    text = frame.decode().removesuffix("\n")  # syslog-ng's syslog() ends each counted frame in LF
    m = RFC3164.fullmatch(text) or RFC5424.fullmatch(text)
    return m.groups() if m else ("unparsed", text)


def same_messages(what, got, want):
    """got and want as multisets, a failure listing only what is missing and what is unexpected."""
    missing, unexpected = Counter(want) - Counter(got), Counter(got) - Counter(want)
    check.eq(f"{what} (missing, unexpected)", (sorted(missing.elements()), sorted(unexpected.elements())), ([], []))


def write(name, text):
    path = os.path.join(DIR, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def forwarders(net):
    """rsyslogd and syslog-ng as plain processes in the client namespace, from the unpacked .debs."""
    rsyslog = [f"{PEERS}/usr/sbin/rsyslogd", "-n", "-f", write("rsyslog.conf", RSYSLOG_CONF), "-i", f"{DIR}/rsyslog.pid",
               "-M", f"{PEERS}/usr/lib/x86_64-linux-gnu/rsyslog"]
    syslog_ng = [f"{PEERS}/usr/sbin/syslog-ng", "-F", "--no-caps", "-f", write("syslog-ng.conf", SYSLOG_NG_CONF),
                 f"--module-path={PEERS}/usr/lib/syslog-ng/3.38", "-R", f"{DIR}/persist", "-p", f"{DIR}/syslog-ng.pid",
                 "-c", f"{DIR}/ctl"]
    env = dict(os.environ, LD_LIBRARY_PATH=f"{PEERS}/usr/lib/syslog-ng")
    log = open(os.path.join(DIR, "forwarders.log"), "w")
    return [subprocess.Popen(net.in_client(*cmd), env=env, stdout=log, stderr=subprocess.STDOUT)
            for cmd in (rsyslog, syslog_ng)]


def wait_for_inputs(net, ports, timeout_s=20):
    """Until every forwarder's UDP input is bound in the client namespace."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        ss = subprocess.run(net.in_client("ss", "-uln"), capture_output=True, text=True, check=True).stdout
        if all(f"127.0.0.1:{p} " in ss for p in ports):
            return True
        time.sleep(0.1)
    return False


INJECT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for line in sys.stdin.read().splitlines():
    port, text = line.split(" ", 1)
    s.sendto(text.encode(), ("127.0.0.1", int(port)))
"""

subprocess.run([os.path.join(SRC, "scripts", "fetch-peers"), PEERS], check=True)
os.makedirs(DIR, exist_ok=True)
with LiveTcp("tpr") as net:
    with Broker("live-tcp-peers") as b:
        gw, stats = net.start_tapsift("live-tcp-peers", b.bootstrap, TOPIC)
        t0 = time.time()
        procs = forwarders(net)
        try:
            check.true("the forwarders' inputs are up", wait_for_inputs(net, [p for _, _, p, _ in PATHS]))
            sent, lines = [], []
            for fwd, framing, port, host in PATHS:
                for i in range(PER_PATH):
                    text = f"{fwd} {framing} message {i} forwarded over tcp"
                    sent.append((host, APP, PROCID, text))
                    lines.append(f"{port} <134>Nov  1 00:00:{i:02d} {host} {APP}[{PROCID}]: {text}")
            subprocess.run(net.in_client("/usr/bin/python3", "-c", INJECT), input="\n".join(lines) + "\n",
                           text=True, check=True)
            deadline = time.time() + 20
            while sum(len(f) for f in net.received().values()) < len(sent) and time.time() < deadline:
                time.sleep(0.1)
        finally:
            for p in procs:  # their shutdown closes the connections (FIN)
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
        time.sleep(1)
        gw.send_signal(signal.SIGTERM)
        gw.communicate(timeout=60)
        print(f"forwarding and shutdown took {time.time() - t0:.1f} s")
        check.eq("run exit code", gw.returncode, 0)
        with open(stats) as f:
            c = json.load(f)
        events = consume_all(b.bootstrap, TOPIC, c["produced"])

    received = net.received()
    if sum(len(f) for f in received.values()) != len(sent):  # the forwarders' own words on why
        with open(os.path.join(DIR, "forwarders.log")) as f:
            print(f.read()[-3000:])
    same_messages("the server received what was injected", [parsed(m) for f in received.values() for m in f], sent)
    # Each connection carries one path's messages, octet counted exactly where that path asked for it.
    framing = {}
    for name, frames in received.items():
        with open(os.path.join(net.recv_dir, name), "rb") as f:
            counted = f.read(1).isdigit()
        for host in {parsed(m)[0] for m in frames}:
            framing[host] = framing.get(host, []) + ["octet" if counted else "lf"]
    check.eq("one connection per forwarder and framing, framed as configured", framing,
             {host: [kind] for _, kind, _, host in PATHS})

t = c["tcp"]
print(f"live tcp peers: rx_packets {c['rx_packets']}, dropped {c['dropped']}, "
      f"tcp {json.dumps({k: t[k] for k in ('segments', 'used', 'control', 'server_to_client', 'messages')})}, "
      f"connections {json.dumps(t['connections'])}, produced {c['produced']}")
check.true("accounting identity", accounting_balances(c))
check.eq("tcp.messages: one per message forwarded", t["messages"], len(sent))
check.eq("produced: one event per message", c["produced"], len(sent))
check.eq("nothing filtered", c["filtered"], 0)
check.eq("nothing malformed", sum(c["malformed"].values()), 0)
check.eq("every packet that is not dropped (ARP) is a TCP segment", t["segments"],
         c["rx_packets"] - sum(c["dropped"].values()))
check.eq("tcp.connections.opened: one per forwarder and framing", t["connections"]["opened"], 4)
check.eq("tcp.connections.closed by their FIN at the forwarders' shutdown", t["connections"]["closed"], 4)
check.eq("none seen mid-stream", t["connections"]["mid_stream"], 0)
check.eq("nothing cut", t["cut_messages"], 0)
check.eq("nothing skipped", t["bytes"]["skipped"], 0)
got = [(e.get("log", {}).get("syslog", {}).get("hostname"), e.get("log", {}).get("syslog", {}).get("appname"),
              e.get("log", {}).get("syslog", {}).get("procid"), e.get("message"), e.get("source", {}).get("ip"))
       for _, e in events]
same_messages("every message read back once: hostname, app name, pid, text, from the client", got,
              [s + (CLIENT,) for s in sent])
check.finish()
