"""The live syslog-over-TCP topology shared by test_live_syslog_tcp.py (util-linux logger) and
test_live_syslog_tcp_peers.py (rsyslog and syslog-ng forwarding): a client namespace and a server
namespace joined by a bridge; `tapsift run` listens on the client's bridge port as a tap would. The
server accepts TCP on 514 and 601 and writes what each connection sent to a file of its own, so what
was really sent can be compared with what tapsift made of it."""
import os
import subprocess

from e2e_support import WORK, start_run, write_config

CLIENT, SERVER = "10.77.0.2", "10.77.0.1"
SERVER_PORTS = (514, 601)

# Accepts connections on SERVER_PORTS and writes what each one sent to a file of its own.
SERVER_SCRIPT = r"""
import os, selectors, socket, sys
out = sys.argv[1]
sel = selectors.DefaultSelector()
for port in %r:
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
""" % (SERVER_PORTS, SERVER)


def sh(*cmd):
    subprocess.run(cmd, check=True)


def frames_of(data):
    """RFC 6587 framing of what the server received, done independently of tapsift; the complete
    frames only (a connection still sending may end in part of one)."""
    if data[:1].isdigit():
        msgs, i = [], 0
        while (sp := data.find(b" ", i)) > 0 and sp + 1 + int(data[i:sp]) <= len(data):
            n = int(data[i:sp])
            msgs.append(data[sp + 1:sp + 1 + n])
            i = sp + 1 + n
        return msgs
    return [m for m in data.split(b"\n")[:-1] if m]


class LiveTcp:
    """The namespaces, the bridge and the server; `with LiveTcp("name") as net:` builds them and
    tears them down. net.client_ns runs the senders, net.tap is the interface tapsift listens on,
    net.received() the frames the server got, per connection."""

    def __init__(self, name):
        pid = os.getpid()
        self.client_ns, self.server_ns = f"{name}c{pid}", f"{name}s{pid}"
        self.bridge, self.tap, self.server_port = f"{name}b{pid}", f"{name}r{pid}", f"{name}v{pid}"
        self.recv_dir = os.path.join(WORK, f"live-{name}-{pid}")
        self.server = None

    def __enter__(self):
        try:
            self._build()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _build(self):
        os.makedirs(self.recv_dir, exist_ok=True)
        sh("ip", "netns", "add", self.client_ns)
        sh("ip", "netns", "add", self.server_ns)
        sh("ip", "netns", "exec", self.client_ns, "ip", "link", "set", "lo", "up")  # senders' local inputs
        sh("ip", "link", "add", self.bridge, "type", "bridge", "forward_delay", "0")
        sh("sysctl", "-qw", f"net.ipv6.conf.{self.bridge}.disable_ipv6=1")
        for ns, inside, outside, addr in ((self.client_ns, "c0", self.tap, CLIENT),
                                          (self.server_ns, "s0", self.server_port, SERVER)):
            sh("ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}p")
            sh("ip", "link", "set", f"{outside}p", "netns", ns)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", f"{outside}p", "name", inside)
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{inside}.disable_ipv6=1")
            sh("sysctl", "-qw", f"net.ipv6.conf.{outside}.disable_ipv6=1")
            # Wire-sized segments, as a tap on a wire sees them: without this the veth hands the tap
            # TCP's unsegmented (TSO/GSO) super-packets, longer than the capture's frames.
            sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "gso_max_size", "1500")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", inside)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up")
            sh("ip", "link", "set", outside, "master", self.bridge)
            sh("ip", "link", "set", outside, "up")
        sh("ip", "link", "set", self.bridge, "up")
        self.server = subprocess.Popen(["ip", "netns", "exec", self.server_ns, "/usr/bin/python3", "-c",
                                        SERVER_SCRIPT, self.recv_dir], stdout=subprocess.PIPE, text=True)
        line = self.server.stdout.readline().strip()
        if line != "listening":
            raise RuntimeError(f"the TCP server did not start: {line!r}")

    def start_tapsift(self, name, bootstrap, topic, dataplane_extra=""):
        """`tapsift run` on the client's bridge port, syslog into topic; returns it and its stats
        path. dataplane_extra: more dataplane keys, one "key: value" line each."""
        stats = os.path.join(WORK, f"{name}.stats.json")
        cfg = write_config(name, f"""dataplane:
{dataplane_extra}  ports:
    - device: "net_af_packet0,iface={self.tap},framecnt=8192"
kafka:
  brokers: "{bootstrap}"
  topics: {{syslog: {topic}}}
""")
        return start_run(cfg, stats), stats

    def in_client(self, *cmd):
        """cmd as run inside the client namespace."""
        return ["ip", "netns", "exec", self.client_ns, *cmd]

    def received(self):
        """{connection file: [frames]} of what the server got so far."""
        out = {}
        for name in sorted(os.listdir(self.recv_dir)):
            with open(os.path.join(self.recv_dir, name), "rb") as f:
                out[name] = frames_of(f.read())
        return out

    def __exit__(self, *exc):
        if self.server:
            self.server.kill()
            self.server.wait()
        for link in (self.tap, self.server_port, self.bridge):
            subprocess.run(["ip", "link", "del", link], stderr=subprocess.DEVNULL)
        for ns in (self.client_ns, self.server_ns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
