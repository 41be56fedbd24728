"""Syslog over TCP (RFC 6587) through `tapsift replay`: a crafted capture, one connection per case,
every message read back from the broker and compared with what was sent, and the accounting
identity with exact numbers (docs/accounting.md, "Syslog over TCP").

  octet       octet-counting, a frame split across segments, sequence numbers wrapping past 2^32
  lf6         LF-delimited over IPv6
  nul         NUL-delimited (as rsyslog accepts)
  ooo         LF, segments sent 1 3 2: the third is held, then delivered after the second
  retrans     LF, a segment sent twice: one duplicate
  overlap     LF, a retransmission overlapping delivered bytes with different bytes: the first
              copy wins, one conflict
  gap         LF, a segment never seen: the line it cuts is counted cut, the framer skips to the
              next line start; the FIN lies beyond the gap, so the connection ends at shutdown
  midstream   octet-counting, no SYN, the first segment starts inside a frame: skipped up to the
              next header
  slowloris   LF, one message trickled one byte per segment
  rst         LF, a line without its LF ended by RST: emitted at close (as rsyslog does)
  server_rst  the same, the RST from the server
  oversize    LF, a line longer than dataplane.max_message_bytes: dropped whole, counted, the next
              line still arrives
  tls         port 6514 both ways: counted tcp.encrypted, nothing read
  other       TCP to port 80: dropped.not_udp
  udp         one UDP syslog datagram beside them
Server to client segments (acknowledgements) on a syslog TCP port are counted server_to_client.

A second run opens 3000 connections at once against dataplane.syslog_tcp_max_connections 2000:
the table takes 2000, the segments of the other 1000 are counted table_full, exactly.

A third replays the benchmark's TCP input (`scripts/make-syslog-pcap tcp`, scripts/pipeline-cost's
syslog-tcp): every message framed and read back once, every segment where its kind says.
"""
import os
import struct
import subprocess
import time

from scapy.all import IP, TCP, UDP, Ether, IPv6, Raw, raw

from e2e_support import SRC, WORK, Broker, Check, accounting_balances, consume_all, replay, write_config

T0 = 1793491200  # 2026-11-01T00:00:00Z
SERVER4, SERVER6 = "192.0.2.10", "2001:db8::10"
MAX_MESSAGE = 2048
TOPIC = "tapsift.syslog.tcp-e2e"

check = Check()


class Capture:
    """Ethernet frames to a classic pcap, 1 ms apart."""

    def __init__(self):
        self.frames = []

    def add(self, frame):
        self.frames.append(raw(frame))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for i, frame in enumerate(self.frames):
                t_us = i * 1000
                f.write(struct.pack("<IIII", T0 + t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)))
                f.write(frame)
        return path


def eth():
    return Ether(src="02:00:00:00:54:01", dst="02:00:00:00:54:02")


def l3(src, dst):
    return IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)


class Expect:
    """What the capture should produce: the messages by msgid, and the tcp counters."""

    def __init__(self):
        self.messages = {}  # msgid -> (message text, client ip, client port)
        self.n = {k: 0 for k in ("used", "duplicate", "out_of_window", "over_budget", "control",
                                 "table_full", "encrypted", "server_to_client", "messages")}
        self.conn = {k: 0 for k in ("opened", "mid_stream", "closed", "expired", "shutdown")}
        self.other = {"conflicts": 0, "gaps": 0, "cut_messages": 0, "oversize_messages": 0, "resyncs": 0,
                      "gap_bytes": 0, "duplicate_bytes": 0, "encrypted_bytes": 0, "payload": 0,
                      "not_udp": 0, "udp": 0}
        self.seq = 0

    def line(self, tag, client, body=None):
        """A new RFC 5424 message (no delimiter) expected from client=(ip, port)."""
        self.seq += 1
        msgid = f"ID{self.seq}"
        body = body or f"{tag} message {self.seq} over tcp"
        self.messages[msgid] = (body, client[0], client[1])
        return f"<14>1 2026-11-01T00:00:{self.seq % 60:02d}Z host-{tag} app - {msgid} - {body}".encode()


class Conn:
    """One client -> server connection; offsets are stream offsets (0 = first byte after SYN)."""

    def __init__(self, cap, exp, client, sport, dport=514, server=SERVER4, isn=1000):
        self.cap, self.exp, self.client, self.sport, self.dport, self.server = cap, exp, client, sport, dport, server
        self.isn = isn

    def seg(self, off, payload=b"", flags="PA", outcome=None):
        seq = (self.isn + 1 + off) & 0xFFFFFFFF
        self.cap.add(eth() / l3(self.client, self.server)
                     / TCP(sport=self.sport, dport=self.dport, seq=seq, ack=1, flags=flags) / Raw(payload))
        if outcome:
            self.exp.n[outcome] += 1
            self.exp.other["payload"] += len(payload)

    def syn(self):
        self.cap.add(eth() / l3(self.client, self.server)
                     / TCP(sport=self.sport, dport=self.dport, seq=self.isn, flags="S"))
        self.exp.n["control"] += 1
        self.exp.conn["opened"] += 1

    def fin(self, off):
        self.seg(off, b"", "FA", "control")

    def ack_from_server(self):
        self.cap.add(eth() / l3(self.server, self.client) / TCP(sport=self.dport, dport=self.sport, seq=1,
                                                                 ack=self.isn + 1, flags="A"))
        self.exp.n["server_to_client"] += 1

    @property
    def who(self):
        return (self.client, self.sport)


def build():
    cap, exp = Capture(), Expect()

    # octet: three frames over two segments, the second frame split; ISN near the wrap.
    c = Conn(cap, exp, "198.51.100.1", 40001, isn=0xFFFFFFF0)
    c.syn()
    c.ack_from_server()
    frames = b"".join(b"%d %s" % (len(m), m) for m in (exp.line("octet", c.who) for _ in range(3)))
    half = len(frames) // 2
    c.seg(0, frames[:half], outcome="used")
    c.seg(half, frames[half:], outcome="used")
    c.ack_from_server()
    c.fin(len(frames))
    exp.n["messages"] += 3
    exp.conn["closed"] += 1

    # lf6: LF over IPv6, FIN on the last data segment.
    c = Conn(cap, exp, "2001:db8:100::1", 40002, server=SERVER6)
    c.syn()
    a = exp.line("lf6", c.who) + b"\n" + exp.line("lf6", c.who) + b"\n"
    b = exp.line("lf6", c.who) + b"\n"
    c.seg(0, a, outcome="used")
    c.seg(len(a), b, flags="FPA", outcome="used")
    exp.n["messages"] += 3
    exp.conn["closed"] += 1

    # nul
    c = Conn(cap, exp, "198.51.100.3", 40003)
    c.syn()
    a = exp.line("nul", c.who) + b"\0" + exp.line("nul", c.who) + b"\0"
    c.seg(0, a, outcome="used")
    c.fin(len(a))
    exp.n["messages"] += 2
    exp.conn["closed"] += 1

    # ooo: 1 3 2
    c = Conn(cap, exp, "198.51.100.4", 40004)
    c.syn()
    s = [exp.line("ooo", c.who) + b"\n" for _ in range(3)]
    offs = [0, len(s[0]), len(s[0]) + len(s[1])]
    for k in (0, 2, 1):
        c.seg(offs[k], s[k], outcome="used")
    c.fin(sum(map(len, s)))
    exp.n["messages"] += 3
    exp.conn["closed"] += 1

    # retrans: the second segment twice
    c = Conn(cap, exp, "198.51.100.5", 40005)
    c.syn()
    s = [exp.line("retrans", c.who) + b"\n" for _ in range(3)]
    c.seg(0, s[0], outcome="used")
    c.seg(len(s[0]), s[1], outcome="used")
    c.seg(len(s[0]), s[1], outcome="duplicate")
    c.seg(len(s[0]) + len(s[1]), s[2], outcome="used")
    c.fin(sum(map(len, s)))
    exp.other["duplicate_bytes"] += len(s[1])
    exp.n["messages"] += 3
    exp.conn["closed"] += 1

    # overlap: 10 delivered bytes sent again, different, with the rest of the line
    c = Conn(cap, exp, "198.51.100.6", 40006)
    c.syn()
    first = exp.line("overlap", c.who) + b"\n"
    second = exp.line("overlap", c.who) + b"\n"
    c.seg(0, first + second[:10], outcome="used")
    c.seg(len(first), b"X" * 10 + second[10:], outcome="used")
    c.fin(len(first) + len(second))
    exp.other["conflicts"] += 1
    exp.other["duplicate_bytes"] += 10
    exp.n["messages"] += 2
    exp.conn["closed"] += 1

    # gap: line 2's end and line 3's start never seen
    c = Conn(cap, exp, "198.51.100.7", 40007)
    c.syn()
    line1 = exp.line("gap", c.who) + b"\n"
    cut = b"<14>1 2026-11-01T00:00:00Z host-gap app - CUT - this line loses its end"
    lost = b" in the gap\n<14>1 2026-11-01T00:00:00Z host-gap app - LOST - "
    tail = b"and this one its start\n"
    line4 = exp.line("gap", c.who) + b"\n"
    line5 = exp.line("gap", c.who) + b"\n"
    c.seg(0, line1 + cut, outcome="used")
    at = len(line1 + cut + lost)
    c.seg(at, tail + line4, outcome="used")
    c.seg(at + len(tail + line4), line5, outcome="used")
    c.fin(at + len(tail + line4 + line5))
    exp.other["gaps"] += 1
    exp.other["gap_bytes"] += len(lost)
    exp.other["cut_messages"] += 1
    exp.other["resyncs"] += 1
    exp.n["messages"] += 3
    exp.conn["shutdown"] += 1

    # midstream: no SYN, the first segment starts inside a frame
    c = Conn(cap, exp, "198.51.100.8", 40008, isn=77777)
    m = [exp.line("midstream", c.who) for _ in range(3)]
    framed = [b"%d %s" % (len(x), x) for x in m]
    head = b"ail of a frame sent before the tap saw this connection"
    c.seg(0, head + framed[0] + framed[1], outcome="used")
    c.seg(len(head + framed[0] + framed[1]), framed[2], outcome="used")
    c.fin(len(head + b"".join(framed)))
    exp.conn["opened"] += 1
    exp.conn["mid_stream"] += 1
    exp.n["messages"] += 3
    exp.conn["closed"] += 1

    # slowloris: one byte per segment
    c = Conn(cap, exp, "198.51.100.9", 40009)
    c.syn()
    trickle = exp.line("slowloris", c.who) + b"\n"
    for i in range(len(trickle)):
        c.seg(i, trickle[i:i + 1], outcome="used")
    c.fin(len(trickle))
    exp.n["messages"] += 1
    exp.conn["closed"] += 1

    # rst: the line without its LF is emitted when the RST closes the connection
    c = Conn(cap, exp, "198.51.100.10", 40010)
    c.syn()
    a = exp.line("rst", c.who) + b"\n" + exp.line("rst", c.who)
    c.seg(0, a, outcome="used")
    c.seg(len(a), b"", flags="R", outcome="control")
    exp.n["messages"] += 2
    exp.conn["closed"] += 1

    # server_rst: the server resets the connection: closed, its unterminated line emitted
    c = Conn(cap, exp, "198.51.100.15", 40015)
    c.syn()
    a = exp.line("server-rst", c.who) + b"\n" + exp.line("server-rst", c.who)
    c.seg(0, a, outcome="used")
    cap.add(eth() / IP(src=SERVER4, dst=c.client) / TCP(sport=514, dport=c.sport, seq=1, flags="R"))
    exp.n["server_to_client"] += 1
    exp.n["messages"] += 2
    exp.conn["closed"] += 1

    # oversize: a line longer than max_message_bytes, then a normal one
    c = Conn(cap, exp, "198.51.100.11", 40011)
    c.syn()
    big = b"<14>1 2026-11-01T00:00:00Z host-oversize app - BIG - " + b"x" * (MAX_MESSAGE + 500) + b"\n"
    after = exp.line("oversize", c.who) + b"\n"
    stream = big + after
    for off in range(0, len(stream), 1000):
        c.seg(off, stream[off:off + 1000], outcome="used")
    c.fin(len(stream))
    exp.other["oversize_messages"] += 1
    exp.other["resyncs"] += 1
    exp.n["messages"] += 1
    exp.conn["closed"] += 1

    # tls: 6514 both ways
    c = Conn(cap, exp, "198.51.100.12", 40012, dport=6514)
    for payload in (b"\x16\x03\x01\x00\x05hello", b"\x17\x03\x03\x00\x04abcd"):
        c.seg(0, payload)
        exp.n["encrypted"] += 1
        exp.other["encrypted_bytes"] += len(payload)
    cap.add(eth() / IP(src=SERVER4, dst=c.client) / TCP(sport=6514, dport=c.sport, flags="PA") / Raw(b"\x16\x03"))
    exp.n["encrypted"] += 1
    exp.other["encrypted_bytes"] += 2

    # other: TCP to port 80
    cap.add(eth() / IP(src="198.51.100.13", dst=SERVER4) / TCP(sport=40013, dport=80, flags="PA")
            / Raw(b"GET / HTTP/1.0\r\n\r\n"))
    exp.other["not_udp"] += 1

    # udp: one UDP syslog datagram
    udp_line = exp.line("udp", ("198.51.100.14", 40014))
    cap.add(eth() / IP(src="198.51.100.14", dst=SERVER4) / UDP(sport=40014, dport=514) / Raw(udp_line))
    exp.other["udp"] += 1
    return cap, exp


MANY, TABLE = 3000, 2000


def table_full_run(broker):
    """SYNs of all connections, then a line on each, then their FINs (each FIN frees a slot, but
    only after every data segment has come)."""
    def line(i):
        return f"<13>Nov  1 00:00:00 host app: connection {i}\n".encode()

    cap = Capture()
    conns = [(f"198.18.{i // 250}.{i % 250 + 1}", 20000 + i) for i in range(MANY)]
    isn = 5000
    for step in ("syn", "line", "fin"):
        for i, (ip, port) in enumerate(conns):
            seq, flags, payload = {"syn": (isn, "S", b""), "line": (isn + 1, "PA", line(i)),
                                   "fin": (isn + 1 + len(line(i)), "FA", b"")}[step]
            cap.add(eth() / IP(src=ip, dst=SERVER4) / TCP(sport=port, dport=514, seq=seq, flags=flags) / Raw(payload))
    pcap = cap.write(os.path.join(WORK, "syslog-tcp-many.pcap"))
    topic = TOPIC + ".many"
    cfg = write_config("syslog-tcp-many", f"dataplane:\n  syslog_tcp_max_connections: {TABLE}\n"
                                          f"kafka:\n  topics:\n    syslog: {topic}\n")
    t0 = time.time()
    rc, c, out = replay(pcap, broker.bootstrap, "syslog-tcp-many", ["--config", cfg])
    print(f"table_full run: replay of {len(cap.frames)} frames took {time.time() - t0:.1f} s")
    check.eq("many: replay exit code", rc, 0)
    if c is None:
        print(out)
        return
    t = c["tcp"]
    check.true("many: accounting identity", accounting_balances(c))
    check.eq("many: table_full (the SYN and the line of each connection past the table)", t["table_full"],
             2 * (MANY - TABLE))
    check.eq("many: used", t["used"], TABLE)
    check.eq("many: control (every SYN taken, every FIN)", t["control"], TABLE + MANY)
    check.eq("many: connections opened", t["connections"]["opened"], TABLE)
    check.eq("many: connections closed", t["connections"]["closed"], TABLE)
    check.eq("many: messages", t["messages"], TABLE)
    check.eq("many: bytes of the lines not followed", t["bytes"]["unfollowed"],
             sum(len(line(i)) for i in range(TABLE, MANY)))
    events = consume_all(broker.bootstrap, topic, c["produced"])
    got = sorted(int(e["message"].split()[-1]) for _, e in events)
    check.eq("many: the lines of the connections in the table, each read back once", got, list(range(TABLE)))


def bench_capture_run(broker, messages=2000, conns=16):
    """`make-syslog-pcap tcp`: per connection a handshake (SYN, SYN-ACK, ACK), messages / conns
    segments of one octet-counted message, the server's ACK every second one, FIN, FIN-ACK, ACK."""
    pcap = os.path.join(WORK, "syslog-tcp-bench.pcap")
    subprocess.run([os.path.join(SRC, "scripts", "make-syslog-pcap"), "tcp", str(messages), pcap,
                    "--connections", str(conns)], check=True, stdout=subprocess.DEVNULL)
    topic = TOPIC + ".bench"
    cfg = write_config("syslog-tcp-bench", f"kafka:\n  topics:\n    syslog: {topic}\n")
    rc, c, out = replay(pcap, broker.bootstrap, "syslog-tcp-bench", ["--config", cfg])
    check.eq("bench: replay exit code", rc, 0)
    if c is None:
        print(out)
        return
    t, per_conn = c["tcp"], messages // conns
    check.true("bench: accounting identity", accounting_balances(c))
    check.eq("bench: used (one segment per message)", t["used"], messages)
    check.eq("bench: control (SYN, ACK, FIN, last ACK of each connection)", t["control"], 4 * conns)
    check.eq("bench: server_to_client (SYN-ACK, an ACK per two segments, FIN-ACK)", t["server_to_client"],
             conns * (2 + per_conn // 2))
    check.eq("bench: rx_packets = segments", c["rx_packets"], t["segments"])
    check.eq("bench: connections opened and closed by their FIN", (t["connections"]["opened"],
             t["connections"]["closed"]), (conns, conns))
    check.eq("bench: messages, produced", (t["messages"], c["produced"]), (messages, messages))
    check.eq("bench: nothing skipped, cut, duplicate or gapped", (t["bytes"]["skipped"], t["cut_messages"],
             t["duplicate"], t["gaps"]), (0, 0, 0, 0))
    events = consume_all(broker.bootstrap, topic, c["produced"])
    got = sorted((int(e["log"]["syslog"]["msgid"][2:]), e["source"]["ip"]) for _, e in events)
    check.eq("bench: every message read back once, from its connection's client", got,
             [(n, f"198.51.100.{1 + (n - 1) % conns % 16}") for n in range(1, messages + 1)])


def main():
    cap, exp = build()
    pcap = cap.write(os.path.join(WORK, "syslog-tcp.pcap"))
    cfg = write_config("syslog-tcp", f"dataplane:\n  max_message_bytes: {MAX_MESSAGE}\n"
                                     f"kafka:\n  topics:\n    syslog: {TOPIC}\n")
    with Broker("syslog-tcp") as broker:
        t0 = time.time()
        rc, c, out = replay(pcap, broker.bootstrap, "syslog-tcp", ["--config", cfg])
        took = time.time() - t0
        check.eq("replay exit code", rc, 0)
        if c is None:
            print(out)
            check.finish()
        events = consume_all(broker.bootstrap, TOPIC, c["produced"])
        table_full_run(broker)
        bench_capture_run(broker)
    print(f"replay of {len(cap.frames)} frames took {took:.1f} s")
    t = c["tcp"]

    # Every frame: the identity, and each terminal exactly.
    check.eq("rx_packets", c["rx_packets"], len(cap.frames))
    check.true("accounting identity", accounting_balances(c))
    for k, v in exp.n.items():
        check.eq(f"tcp.{k}", t[k], v)
    check.eq("tcp.segments", t["segments"], sum(v for k, v in exp.n.items() if k != "messages"))
    for k, v in exp.conn.items():
        check.eq(f"tcp.connections.{k}", t["connections"][k], v)
    for k in ("conflicts", "gaps", "cut_messages", "oversize_messages", "resyncs"):
        check.eq(f"tcp.{k}", t[k], exp.other[k])
    check.eq("tcp.framed_messages (the framers') = tcp.messages (into batches)", t["framed_messages"],
             t["messages"])
    check.eq("dropped.not_udp", c["dropped"]["not_udp"], exp.other["not_udp"])
    check.eq("produced: every TCP message and the UDP one", c["produced"], exp.n["messages"] + exp.other["udp"])
    check.eq("nothing malformed", sum(c["malformed"].values()), 0)

    # Bytes: every payload byte of a followed segment, then every delivered byte, in one place.
    b = t["bytes"]
    check.eq("bytes.payload", b["payload"], exp.other["payload"])
    check.eq("bytes.payload = unfollowed + delivered + duplicate + out_of_window + over_budget", b["payload"],
             b["unfollowed"] + b["delivered"] + b["duplicate"] + b["out_of_window"] + b["over_budget"])
    check.eq("bytes.delivered = framed + skipped + cut + oversize", b["delivered"],
             b["framed"] + b["skipped"] + b["cut"] + b["oversize"])
    check.eq("bytes.duplicate", b["duplicate"], exp.other["duplicate_bytes"])
    check.eq("bytes.gap", b["gap"], exp.other["gap_bytes"])
    check.eq("bytes.encrypted", b["encrypted"], exp.other["encrypted_bytes"])
    check.true("the TLS port is said in the log", "syslog over TLS seen on port 6514" in out)

    # Every message read back, once, from its client, as sent (the overlap's first copy).
    got = {}
    for _, e in events:
        msgid = e.get("log", {}).get("syslog", {}).get("msgid")
        check.true(f"{msgid}: read back once", msgid not in got)
        got[msgid] = (e.get("message"), e.get("source", {}).get("ip"), e.get("source", {}).get("port"))
    check.eq("messages read back", len(events), len(exp.messages))
    for msgid, want in exp.messages.items():
        check.eq(f"{msgid}: message, source.ip, source.port", got.get(msgid), want)
    check.finish()


if __name__ == "__main__":
    main()
