"""Property-style end to end test of the accounting identity.

For a few fixed seeds, a random mixed capture is generated with scapy: valid RFC 3164 / RFC 5424
syslog (IPv4, IPv6, 802.1Q, QinQ, PPPoE, 6in4, jumbo frames), syslog lines over TCP (each on a
connection seen mid-stream), UDP to other ports, other TCP, ARP,
truncated frames, bad IPv4 headers and checksums, bad UDP lengths, empty payloads, bad PRIs,
datagrams to the sFlow port that are not sFlow, non-IP garbage, and IPv4 fragment sets: complete (in order and shuffled, some interleaved with
other traffic, some with jumbo fragments), incomplete (one fragment missing), with a duplicated
fragment, with more fragments than the reassembly table takes per datagram, to other ports, and
of TCP. Every frame's outcome is predicted from how it was built (never from our own output), and
after `tapsift replay` into a real 1-broker Kafka (scripts/kafka-cluster; each capture on its own
topic):

  - rx_packets == frames written, and the accounting identity holds;
  - every terminal counter equals its prediction, except that a fragment that can never be
    reassembled may end in either fragment_incomplete or fragment_discarded: their sum is exact;
  - the topic holds exactly `produced` events, each event.sequence unique and equal to a frame
    predicted to complete a valid syslog datagram, with the message and source we put there.

A last capture of random bytes (some behind valid-looking L2/L3 headers) asserts only the
identity, rx_packets and the read-back count, since its outcomes are not predictable by
construction.

In the emulated-card variant (e2e.emulated_card.accounting_property) each capture is replayed on
the emulated card and checked as above, then replayed again on the cpu backend: the counters must
be equal and the events byte-identical apart from event.created.

Fragment semantics assumed (DPDK rte_ip_frag, docs/architecture.md): a datagram completes when its
last missing fragment arrives (merged_fragments += fragments - 1, the datagram is then counted
once by whatever happens to it, its event.sequence is that last frame's); a duplicate that
arrives before completion makes the whole datagram fail (every copy received so far is
discarded, the rest wait forever); a duplicate that arrives after completion starts a new,
never-completing datagram.
"""
import base64
import collections
import ipaddress
import os
import random
import string
import struct
import sys
import time

from scapy.all import (ARP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, IPv6, IPv6ExtHdrFragment, Raw,
                       raw)

from e2e_support import (EMULATED_CARD, WORK, Check, accounting_balances, backend_output,
                         check_same_output, consume_all, replay)
from kafka_cluster import KafkaCluster

SEEDS = [1, 2, 3, 20261101, 424242]
NOT_OTHER_PORTS = {514, 2055, 2056, 4739, 9995, 9996, 6343}  # syslog, the default flow and sFlow ports
# TCP to these is syslog over TCP (followed, tcp.*; test_syslog_tcp.py): not_udp is any other.
SYSLOG_TCP_PORTS = {514, 601, 6514}
FRAMES_PER_SEED = 2000
GARBAGE_SEED = 77
GARBAGE_FRAMES = 3000

T0 = 1793491200  # 2026-11-01T00:00:00Z

MALFORMED = ["truncated_l2", "truncated_l3", "bad_ip_header", "bad_ipv4_checksum",
             "bad_udp_length", "syslog_empty", "syslog_bad_pri", "sflow_truncated_header",
             "sflow_bad_version"]
DROPPED = ["not_ip", "not_udp", "not_telemetry", "ipv6_fragment", "fragment_discarded",
           "fragment_incomplete", "backend_error", "producer_queue_full", "produce_error"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
SPECIAL_ETHERTYPES = {0x0800, 0x86DD, 0x8100, 0x88A8, 0x8864}
COLLECTOR4 = "192.0.2.200"
COLLECTOR6 = "2001:db8::200"
MAC_SRC = "02:00:00:00:00:01"
MAC_DST = "02:00:00:00:00:02"
TEXT = string.ascii_letters + string.digits + " .,;=/-_()#"


def write_pcap(path, frames):
    """Classic libpcap, LINKTYPE_ETHERNET, microseconds (as scripts/make-syslog-pcap writes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, data in enumerate(frames):
            t_us = k * 1000
            f.write(struct.pack("<IIII", T0 + t_us // 1000000, t_us % 1000000, len(data), len(data)))
            f.write(data)


def ipv4_checksum(hdr):
    s = 0
    for j in range(0, len(hdr), 2):
        s += (hdr[j] << 8) | hdr[j + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Frame:
    __slots__ = ("data", "label", "src", "message", "case")

    def __init__(self, data, label, case, src=None, message=None):
        self.data = data
        self.label = label      # "produced", "merged", "frag_lost", "malformed:X", "dropped:X"
        self.case = case
        self.src = src          # for "produced": the event's expected source.ip
        self.message = message  # for "produced": the event's expected message


class Gen:
    """Builds one random capture; every frame carries the outcome predicted by construction."""

    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)
        self.items = []  # each: list of (Frame, spread)
        self.n_frames = 0
        self.set_id = 0
        self.tcp_connections = 0  # syslog TCP connections so far: each its own client port
        self.cases = collections.Counter()

    # ---- building blocks -------------------------------------------------------------------
    def text(self, n):
        if n <= 0:
            return ""
        s = [self.r.choice(TEXT) for _ in range(n)]
        s[0], s[-1] = "x", "y"
        return "".join(s)

    def syslog(self, size=None):
        """Returns (payload bytes, expected message). size: exact payload length (ASCII body)."""
        r = self.r
        pri = r.randrange(192)
        host = f"host{r.randrange(100)}"
        marker = f"s{self.seed}i{len(self.items)} "
        bom = b""
        if r.random() < 0.5:
            pid = f"[{r.randrange(1, 99999)}]" if r.random() < 0.5 else ""
            hdr = (f"<{pri}>{MONTHS[r.randrange(12)]} {r.randrange(1, 29):2d} "
                   f"{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d} "
                   f"{host} app{r.randrange(10)}{pid}: ")
        else:
            sd = "-" if r.random() < 0.6 else '[exampleSDID@32473 iut="3" eventSource="App"]'
            hdr = (f"<{pri}>1 2026-11-0{r.randrange(1, 10)}T{r.randrange(24):02d}:"
                   f"{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}Z "
                   f"{host} app{r.randrange(10)} {r.randrange(1, 9999)} ID{r.randrange(100)} {sd} ")
            if r.random() < 0.2:
                bom = b"\xef\xbb\xbf"
        trailer = b"\n" if r.random() < 0.2 else b""
        if size is None:
            body = marker + self.text(r.randrange(1, 200))
            if r.random() < 0.1:
                body += " caf\u00e9 \u20ac\u4e2d"
        else:
            body = marker + self.text(size - len(hdr) - len(bom) - len(trailer) - len(marker))
        payload = hdr.encode() + bom + body.encode() + trailer
        assert size is None or len(payload) == size, (size, len(payload))
        return payload, body

    def ether(self, tags, ethertype=None):
        e = Ether(src=MAC_SRC, dst=MAC_DST)
        if ethertype is not None:
            e.type = ethertype
        for t in tags:
            e = e / (Dot1AD(vlan=t) if t >= 3000 else Dot1Q(vlan=t))
        return e

    def tags(self):
        x = self.r.random()
        if x < 0.6:
            return []
        if x < 0.9:
            return [self.r.randrange(1, 2999)]
        return [self.r.randrange(3000, 4095), self.r.randrange(1, 2999)]

    def src4(self):
        return f"192.0.2.{self.r.randrange(1, 120)}"

    def src6(self):
        return f"2001:db8::{self.r.randrange(1, 0xffff):x}"

    def udp_frame(self, payload, dport=514, v6=None, tags=None, udp_kw=None):
        """A valid single-frame UDP datagram; returns (bytes, source ip, l3 offset)."""
        v6 = self.r.random() < 0.3 if v6 is None else v6
        tags = self.tags() if tags is None else tags
        sport = self.r.randrange(1024, 65535)
        if v6:
            src = self.src6()
            l3 = IPv6(src=src, dst=COLLECTOR6, hlim=64)
        else:
            src = self.src4()
            l3 = IP(src=src, dst=COLLECTOR4, id=self.r.randrange(65536), ttl=64)
        p = self.ether(tags) / l3 / UDP(sport=sport, dport=dport, **(udp_kw or {})) / Raw(payload)
        return raw(p), src, 14 + 4 * len(tags)

    def add(self, frames, spread=False):
        self.items.append((frames, spread))
        self.n_frames += len(frames)
        for f in frames:
            self.cases[f.case] += 1

    # ---- single-frame cases ----------------------------------------------------------------
    def c_syslog(self):
        payload, msg = self.syslog()
        data, src, _ = self.udp_frame(payload)
        self.add([Frame(data, "produced", "syslog", src, msg)])

    def c_syslog_jumbo(self):
        payload, msg = self.syslog(size=self.r.randrange(2100, 9000))
        data, src, _ = self.udp_frame(payload)
        self.add([Frame(data, "produced", "syslog_jumbo", src, msg)])

    def c_syslog_pppoe(self):
        payload, msg = self.syslog()
        src = self.src4()
        ip = raw(IP(src=src, dst=COLLECTOR4, id=self.r.randrange(65536), ttl=64)
                 / UDP(sport=self.r.randrange(1024, 65535), dport=514) / Raw(payload))
        pppoe = struct.pack(">BBHH", 0x11, 0x00, self.r.randrange(1, 65535), len(ip) + 2) + b"\x00\x21"
        data = raw(self.ether([], ethertype=0x8864)) + pppoe + ip
        self.add([Frame(data, "produced", "syslog_pppoe", src, msg)])

    def c_syslog_6in4(self):
        payload, msg = self.syslog()
        src = self.src6()
        p = (self.ether(self.tags())
             / IP(src=self.src4(), dst=COLLECTOR4, proto=41, id=self.r.randrange(65536), ttl=64)
             / IPv6(src=src, dst=COLLECTOR6, hlim=64)
             / UDP(sport=self.r.randrange(1024, 65535), dport=514) / Raw(payload))
        self.add([Frame(raw(p), "produced", "syslog_6in4", src, msg)])

    def c_syslog_udp_len_short(self):
        # The UDP length covers only the syslog message; trailing bytes in the IP payload are not it.
        payload, msg = self.syslog()
        junk = bytes(self.r.randrange(256) for _ in range(self.r.randrange(1, 40)))
        data, src, _ = self.udp_frame(payload + junk, udp_kw={"len": 8 + len(payload)})
        self.add([Frame(data, "produced", "syslog_udp_len_short", src, msg)])

    def c_other_port(self):
        port = self.r.choice([53, 123, 161, 162, 513, 515, 2100, 6344, 6514, 8080,
                              self.r.randrange(1, 65536)])
        while port in NOT_OTHER_PORTS:
            port = self.r.randrange(1, 65536)
        payload = self.syslog()[0] if self.r.random() < 0.5 else b""
        data, _, _ = self.udp_frame(payload, dport=port)
        self.add([Frame(data, "dropped:not_telemetry", "udp_other_port")])

    def tcp_port(self):
        port = self.r.choice([22, 80, 443, 8080, self.r.randrange(1, 65536)])
        while port in SYSLOG_TCP_PORTS:
            port = self.r.randrange(1, 65536)
        return port

    def c_not_sflow(self):
        # To the sFlow port but not sFlow: syslog text (its first 4 bytes are not version 5), or
        # fewer bytes than an sFlow header's version and agent type.
        if self.r.random() < 0.7:
            payload, label = self.syslog()[0], "malformed:sflow_bad_version"
        else:
            payload = bytes(self.r.randrange(256) for _ in range(self.r.randrange(8)))
            label = "malformed:sflow_truncated_header"
        data, _, _ = self.udp_frame(payload, dport=6343)
        self.add([Frame(data, label, "not_sflow")])

    def c_tcp(self):
        payload = self.syslog()[0]
        if self.r.random() < 0.3:
            l3 = IPv6(src=self.src6(), dst=COLLECTOR6)
        else:
            l3 = IP(src=self.src4(), dst=COLLECTOR4, id=self.r.randrange(65536))
        p = self.ether(self.tags()) / l3 / TCP(sport=self.r.randrange(1024, 65535), dport=self.tcp_port(),
                                               flags="PA") / Raw(payload)
        self.add([Frame(raw(p), "dropped:not_udp", "tcp")])

    def c_tcp_syslog(self):
        # Syslog over TCP on a connection seen mid-stream, one whole line in the segment: framed
        # into an event like a UDP datagram's (its segment ends in tcp.used). Each on a connection
        # of its own.
        payload, msg = self.syslog()
        self.tcp_connections += 1
        if self.r.random() < 0.3:
            src = self.src6()
            l3 = IPv6(src=src, dst=COLLECTOR6)
        else:
            src = self.src4()
            l3 = IP(src=src, dst=COLLECTOR4, id=self.r.randrange(65536))
        line = payload if payload.endswith(b"\n") else payload + b"\n"
        p = self.ether(self.tags()) / l3 / TCP(sport=1024 + self.tcp_connections, dport=self.r.choice([514, 601]),
                                               seq=self.r.randrange(1 << 32), flags="PA") / Raw(line)
        self.add([Frame(raw(p), "produced", "tcp_syslog", src, msg)])

    def c_arp(self):
        p = self.ether(self.tags()) / ARP(op=self.r.choice([1, 2]), hwsrc=MAC_SRC, psrc=self.src4(),
                                          pdst=COLLECTOR4)
        self.add([Frame(raw(p), "dropped:not_ip", "arp")])

    def c_ipv6_fragment(self):
        payload = self.syslog()[0]
        p = (self.ether(self.tags()) / IPv6(src=self.src6(), dst=COLLECTOR6)
             / IPv6ExtHdrFragment(id=self.r.randrange(1 << 32), m=1, offset=0)
             / UDP(sport=self.r.randrange(1024, 65535), dport=514) / Raw(payload))
        self.add([Frame(raw(p), "dropped:ipv6_fragment", "ipv6_fragment")])

    def c_truncated(self):
        kind = self.r.choice(["v4", "v6", "pppoe", "6in4"])
        payload = self.syslog()[0]
        if kind == "pppoe":
            ip = raw(IP(src=self.src4(), dst=COLLECTOR4) / UDP(sport=1234, dport=514) / Raw(payload))
            full = raw(self.ether([], ethertype=0x8864)) + struct.pack(
                ">BBHH", 0x11, 0, 1, len(ip) + 2) + b"\x00\x21" + ip
            l3 = 22
        elif kind == "6in4":
            tags = self.tags()
            full = raw(self.ether(tags) / IP(src=self.src4(), dst=COLLECTOR4, proto=41)
                       / IPv6(src=self.src6(), dst=COLLECTOR6) / UDP(sport=1, dport=514) / Raw(payload))
            l3 = 14 + 4 * len(tags)
        else:
            full, _, l3 = self.udp_frame(payload, v6=(kind == "v6"))
        cut = self.r.randrange(0, len(full))
        # Cut before the L3 header starts: the L2 header (or a VLAN tag, or PPPoE) is incomplete.
        reason = "truncated_l2" if cut < l3 else "truncated_l3"
        self.add([Frame(full[:cut], "malformed:" + reason, f"truncated_{kind}")])

    def c_bad_checksum(self):
        data, _, l3 = self.udp_frame(self.syslog()[0], v6=False)
        b = bytearray(data)
        ck = struct.unpack(">H", b[l3 + 10:l3 + 12])[0]
        assert ipv4_checksum(bytes(b[l3:l3 + 20])) == 0
        while True:
            new = ck ^ self.r.randrange(1, 65536)
            if {new, ck} != {0, 0xFFFF}:  # 0x0000 and 0xffff are the same one's-complement zero
                break
        struct.pack_into(">H", b, l3 + 10, new)
        self.add([Frame(bytes(b), "malformed:bad_ipv4_checksum", "bad_ipv4_checksum")])

    def c_bad_ip_header(self):
        v6 = self.r.random() < 0.3
        data, _, l3 = self.udp_frame(self.syslog()[0], v6=v6)
        b = bytearray(data)
        if v6:
            b[l3] = (self.r.choice([0, 4, 5, 7, 15]) << 4) | (b[l3] & 0x0F)  # version != 6
        else:
            how = self.r.choice(["version", "ihl", "total"])
            if how == "version":
                b[l3] = (self.r.choice([0, 5, 6, 15]) << 4) | 5
            elif how == "ihl":
                b[l3] = 0x40 | self.r.randrange(0, 5)
            else:
                struct.pack_into(">H", b, l3 + 2, self.r.randrange(0, 20))
            struct.pack_into(">H", b, l3 + 10, 0)
            struct.pack_into(">H", b, l3 + 10, ipv4_checksum(bytes(b[l3:l3 + 20])))
        self.add([Frame(bytes(b), "malformed:bad_ip_header", "bad_ip_header")])

    def c_bad_udp_length(self):
        payload = self.syslog()[0]
        if self.r.random() < 0.5:
            ulen = min(65535, 8 + len(payload) + self.r.randrange(1, 2000))
        else:
            ulen = self.r.randrange(0, 8)
        data, _, _ = self.udp_frame(payload, udp_kw={"len": ulen})
        self.add([Frame(data, "malformed:bad_udp_length", "bad_udp_length")])

    def c_empty(self):
        data, _, _ = self.udp_frame(b"")
        self.add([Frame(data, "malformed:syslog_empty", "syslog_empty")])

    def c_bad_pri(self):
        payload = self.r.choice([b"<999>", b"<192>", b"<>", b"<1a>", b"<1234>", b"<", b"<12",
                                 b"<-1>", b"< 13>"])
        if self.r.random() < 0.7:
            payload += b"Nov  1 00:00:00 host app: " + self.text(self.r.randrange(1, 80)).encode()
        data, _, _ = self.udp_frame(payload)
        self.add([Frame(data, "malformed:syslog_bad_pri", "syslog_bad_pri")])

    def c_garbage_not_ip(self):
        n = self.r.randrange(0, 300)
        b = bytearray(self.r.randrange(256) for _ in range(n))
        if n < 14:
            self.add([Frame(bytes(b), "malformed:truncated_l2", "garbage_short")])
            return
        et = self.r.randrange(65536)
        while et in SPECIAL_ETHERTYPES:
            et = self.r.randrange(65536)
        struct.pack_into(">H", b, 12, et)
        self.add([Frame(bytes(b), "dropped:not_ip", "garbage_not_ip")])

    # ---- IPv4 fragment sets ----------------------------------------------------------------
    def fragment_set(self, n, chunk, dport=514, proto=17):
        """n fragments of one datagram; returns (frames in offset order, src, message)."""
        self.set_id += 1
        assert self.set_id < 65536
        src = f"198.51.100.{self.r.randrange(1, 255)}"
        ident = self.set_id
        size = (n - 1) * chunk + self.r.randrange(1, chunk + 1)  # bytes after the IP header
        tags = self.tags()
        sport = self.r.randrange(1024, 65535)
        msg = None
        if proto == 17:
            payload, msg = self.syslog(size=size - 8)
            l4 = raw(IP(src=src, dst=COLLECTOR4, proto=17) / UDP(sport=sport, dport=dport) / Raw(payload))[20:]
        else:
            payload = self.text(size - 20).encode()
            l4 = raw(IP(src=src, dst=COLLECTOR4, proto=6) / TCP(sport=sport, dport=dport, flags="PA")
                     / Raw(payload))[20:]
        assert len(l4) == size
        frames = []
        for k in range(n):
            part = l4[k * chunk:(k + 1) * chunk]
            p = (self.ether(tags)
                 / IP(src=src, dst=COLLECTOR4, id=ident, ttl=64, proto=proto,
                      flags="MF" if k < n - 1 else 0, frag=k * chunk // 8)
                 / Raw(part))
            frames.append(raw(p))
        return frames, src, msg

    def chunk(self, jumbo=False):
        return 8 * (self.r.randrange(270, 1000) if jumbo else self.r.randrange(24, 180))

    def c_frag_complete(self, shuffled, jumbo=False, dport=514):
        n = self.r.randrange(2, 9)
        frames, src, msg = self.fragment_set(n, self.chunk(jumbo), dport=dport)
        order = list(range(n))
        if shuffled:
            self.r.shuffle(order)
        case = "frag_complete_" + ("jumbo" if jumbo else "shuffled" if shuffled else "in_order")
        if dport != 514:
            case = "frag_complete_other_port"
        out = [Frame(frames[k], "merged", case) for k in order]
        out[-1].label = "produced" if dport == 514 else "dropped:not_telemetry"
        out[-1].src, out[-1].message = src, msg
        self.add(out, spread=self.r.random() < 0.5)

    def c_frag_incomplete(self):
        n = self.r.randrange(2, 9)
        frames, _, _ = self.fragment_set(n, self.chunk())
        missing = self.r.randrange(n)
        order = [k for k in range(n) if k != missing]
        if self.r.random() < 0.5:
            self.r.shuffle(order)
        self.add([Frame(frames[k], "frag_lost", "frag_incomplete") for k in order],
                 spread=self.r.random() < 0.5)

    def c_frag_duplicate(self):
        n = self.r.randrange(2, 9)
        frames, src, msg = self.fragment_set(n, self.chunk())
        order = list(range(n))
        if self.r.random() < 0.5:
            self.r.shuffle(order)
        dup = self.r.randrange(n)
        order.insert(self.r.randrange(n + 1), dup)
        # The datagram completes when the last distinct fragment arrives, unless both copies of
        # the duplicate arrived before that: then every frame of the set is lost.
        seen, complete_at = set(), None
        for pos, k in enumerate(order):
            seen.add(k)
            if len(seen) == n:
                complete_at = pos
                break
        second_copy = max(i for i, k in enumerate(order) if k == dup)
        out = []
        if second_copy < complete_at:
            out = [Frame(frames[k], "frag_lost", "frag_dup_before_completion") for k in order]
        else:
            for pos, k in enumerate(order):
                if pos < complete_at:
                    out.append(Frame(frames[k], "merged", "frag_dup_after_completion"))
                elif pos == complete_at:
                    out.append(Frame(frames[k], "produced", "frag_dup_after_completion", src, msg))
                else:
                    out.append(Frame(frames[k], "frag_lost", "frag_dup_after_completion"))
        self.add(out, spread=self.r.random() < 0.5)

    def c_frag_too_many(self):
        # More fragments than a reassembly entry holds (8): the datagram can never complete.
        n = self.r.randrange(9, 13)
        frames, _, _ = self.fragment_set(n, 8 * self.r.randrange(8, 40))
        order = list(range(n))
        if self.r.random() < 0.5:
            self.r.shuffle(order)
        self.add([Frame(frames[k], "frag_lost", "frag_too_many") for k in order])

    def c_frag_tcp(self):
        n = self.r.randrange(2, 5)
        frames, _, _ = self.fragment_set(n, self.chunk(), dport=self.tcp_port(), proto=6)
        self.add([Frame(f, "dropped:not_udp", "frag_tcp") for f in frames])

    # ---- the capture ------------------------------------------------------------------------
    def build(self, target):
        cases = [
            (30, self.c_syslog), (1, self.c_syslog_jumbo), (1, self.c_syslog_pppoe),
            (1, self.c_syslog_6in4), (1, self.c_syslog_udp_len_short),
            (6, self.c_other_port), (4, self.c_tcp), (2, self.c_tcp_syslog), (3, self.c_arp),
            (1, self.c_ipv6_fragment),
            (6, self.c_truncated), (4, self.c_bad_checksum), (2, self.c_bad_ip_header),
            (4, self.c_bad_udp_length), (3, self.c_empty), (3, self.c_bad_pri),
            (3, self.c_garbage_not_ip), (1, self.c_not_sflow),
            (2, lambda: self.c_frag_complete(False)), (2, lambda: self.c_frag_complete(True)),
            (0.3, lambda: self.c_frag_complete(True, jumbo=True)),
            (0.5, lambda: self.c_frag_complete(True, dport=self.r.choice([53, 2100, 6514]))),
            (1.5, self.c_frag_incomplete), (1, self.c_frag_duplicate), (0.3, self.c_frag_too_many),
            (0.5, self.c_frag_tcp),
        ]
        weights = [w for w, _ in cases]
        while self.n_frames < target:
            self.r.choices(cases, weights)[0][1]()
        # Interleave: a "spread" set's frames drift forward among later items, in their order.
        keyed = []
        for i, (frames, spread) in enumerate(self.items):
            at = float(i)
            for j, f in enumerate(frames):
                keyed.append(((at, i, j), f))
                at += self.r.uniform(0.0, 4.0) if spread else 0.0
        keyed.sort(key=lambda kf: kf[0])
        return [f for _, f in keyed]


def bucket_of(label):
    if label in ("produced", "merged", "frag_lost"):
        return label
    return label.replace(":", ".")


def actual_buckets(c):
    got = {"produced": c["produced"], "merged": c["merged_fragments"], "filtered": c["filtered"],
           "frag_lost": c["dropped"]["fragment_discarded"] + c["dropped"]["fragment_incomplete"]}
    for m in MALFORMED:
        got["malformed." + m] = c["malformed"][m]
    for d in DROPPED:
        if d not in ("fragment_discarded", "fragment_incomplete"):
            got["dropped." + d] = c["dropped"][d]
    return got


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s


def same_as_cpu_backend(check, cluster, what, pcap, name, c, broker):
    """Emulated-card variant: the capture again on the cpu backend, on a topic of its own; the
    counters must be equal and the events byte-identical apart from event.created."""
    emulated = backend_output(c, broker.bootstrap, [(broker.topic, c["produced"])])
    with cluster.topic_for(name + "-cpu") as ref:
        rc, cpu_c, out = replay(pcap, ref.bootstrap, name + "-cpu", ref.replay_args, emulated_card=False)
        check.eq(f"{what}: cpu backend replay exit code", rc, 0)
        if cpu_c is None:
            print(out)
            check.true(f"{what}: cpu backend stats json written", False)
            return
        check_same_output(check, what, emulated,
                          backend_output(cpu_c, ref.bootstrap, [(ref.topic, cpu_c["produced"])]))
        print(f"{what}: emulated card and cpu backend compared: {len(emulated[0])} counters, "
              f"{sum(len(e) for e in emulated[1][0].values())} events")


def run_seed(check, cluster, seed):
    t0 = time.time()
    gen = Gen(seed)
    frames = gen.build(FRAMES_PER_SEED)
    name = f"prop-{seed}"
    pcap = os.path.join(WORK, name + ".pcap")
    write_pcap(pcap, [f.data for f in frames])
    t_gen = time.time() - t0

    want = collections.Counter(bucket_of(f.label) for f in frames)
    expected_seq = {}
    for k, f in enumerate(frames, start=1):
        if f.label == "produced":
            expected_seq[k] = f
    completed_sets = sum(1 for f in frames if f.label in ("produced", "dropped:not_telemetry")
                         and f.case.startswith("frag_"))

    with cluster.topic_for(name) as broker:
        rc, c, out = replay(pcap, broker.bootstrap, name, broker.replay_args)
        check.eq(f"seed {seed}: replay exit code", rc, 0)
        if c is None:
            print(out)
            check.true(f"seed {seed}: stats json written", False)
            return
        check.eq(f"seed {seed}: rx_packets", c["rx_packets"], len(frames))
        check.true(f"seed {seed}: accounting identity", accounting_balances(c))
        check.eq(f"seed {seed}: balanced flag", c["balanced"], True)
        got = actual_buckets(c)
        for b in sorted(set(got) | set(want)):
            check.eq(f"seed {seed}: {b}", got.get(b), want.get(b, 0))
        check.eq(f"seed {seed}: reassembled_datagrams", c["reassembled_datagrams"], completed_sets)
        tcp_lines = sum(1 for f in frames if f.case == "tcp_syslog")
        check.eq(f"seed {seed}: tcp.used (one per syslog TCP segment)", c["tcp"]["used"], tcp_lines)
        check.eq(f"seed {seed}: tcp.messages", c["tcp"]["messages"], tcp_lines)
        check.eq(f"seed {seed}: tcp.segments", c["tcp"]["segments"], tcp_lines)
        check.eq(f"seed {seed}: delivered", c["delivered"], c["produced"])

        events = consume_all(broker.bootstrap, broker.topic, c["produced"])
        check.eq(f"seed {seed}: events read back", len(events), c["produced"])
        seqs = collections.Counter(e["event"]["sequence"] for _, e in events)
        dups = [s for s, n in seqs.items() if n > 1]
        check.eq(f"seed {seed}: duplicate event sequences", dups, [])
        check.eq(f"seed {seed}: event sequences == frames predicted to produce",
                 sorted(set(seqs) ^ set(expected_seq))[:20], [])
        for key, e in events:
            f = expected_seq.get(e["event"]["sequence"])
            if f is None:
                continue
            s = e["event"]["sequence"]
            check.eq(f"seed {seed}: frame {s} ({f.case}) message", e.get("message"), f.message)
            check.eq(f"seed {seed}: frame {s} ({f.case}) source.ip",
                     norm_ip(e["source"]["ip"]), norm_ip(f.src))
            check.eq(f"seed {seed}: frame {s} key is source.ip", key, e["source"]["ip"])
        if EMULATED_CARD:
            same_as_cpu_backend(check, cluster, f"seed {seed}", pcap, name, c, broker)
    print(f"seed {seed}: {len(frames)} frames, {c['produced']} events, "
          f"{c['merged_fragments']} merged, {c['dropped']['fragment_discarded']} discarded + "
          f"{c['dropped']['fragment_incomplete']} incomplete fragments; "
          f"generated in {t_gen:.1f} s, total {time.time() - t0:.1f} s")
    return gen.cases


def garbage_frame(r):
    n = r.randrange(0, 400)
    b = bytearray(r.randrange(256) for _ in range(n))
    mode = r.random()
    if n >= 14 and mode < 0.6:
        et = r.choice([0x0800, 0x0800, 0x86DD, 0x8100, 0x88A8, 0x8864])
        struct.pack_into(">H", b, 12, et)
        l3 = 14
        if et in (0x8100, 0x88A8) and n >= 18:
            struct.pack_into(">H", b, 16, r.choice([0x0800, 0x86DD]))
            l3 = 18
        if et == 0x0800 or (l3 == 18 and b[16:18] == b"\x08\x00"):
            if n >= l3 + 20 and mode < 0.45:
                # A plausible IPv4 header: version 4, IHL 5, a total length within the frame,
                # UDP most of the time, sometimes a fragment, and a valid checksum.
                b[l3] = 0x45
                struct.pack_into(">H", b, l3 + 2, r.randrange(20, n - l3 + 1))
                b[l3 + 9] = r.choice([17, 17, 17, 6, 41])
                if r.random() < 0.5:
                    struct.pack_into(">H", b, l3 + 6, r.randrange(0, 0x4000) & ~0x8000)
                else:
                    struct.pack_into(">H", b, l3 + 6, 0)
                struct.pack_into(">H", b, l3 + 10, 0)
                struct.pack_into(">H", b, l3 + 10, ipv4_checksum(bytes(b[l3:l3 + 20])))
                if b[l3 + 9] == 17 and n >= l3 + 28 and r.random() < 0.7:
                    struct.pack_into(">H", b, l3 + 22, r.choice([514, 514, 53]))
    return bytes(b)


def run_garbage(check, cluster):
    t0 = time.time()
    r = random.Random(GARBAGE_SEED)
    frames = [garbage_frame(r) for _ in range(GARBAGE_FRAMES)]
    name = "prop-garbage"
    pcap = os.path.join(WORK, name + ".pcap")
    write_pcap(pcap, frames)
    with cluster.topic_for(name) as broker:
        rc, c, out = replay(pcap, broker.bootstrap, name, broker.replay_args)
        check.eq("garbage: replay exit code", rc, 0)
        if c is None:
            print(out)
            check.true("garbage: stats json written", False)
            return
        check.eq("garbage: rx_packets", c["rx_packets"], len(frames))
        check.true("garbage: accounting identity", accounting_balances(c))
        check.eq("garbage: delivered", c["delivered"], c["produced"])
        events = consume_all(broker.bootstrap, broker.topic, c["produced"])
        check.eq("garbage: events read back", len(events), c["produced"])
        seqs = collections.Counter(e["event"]["sequence"] for _, e in events)
        check.eq("garbage: duplicate event sequences", [s for s, n in seqs.items() if n > 1], [])
        if EMULATED_CARD:
            same_as_cpu_backend(check, cluster, "garbage", pcap, name, c, broker)
    nz = {k: v for k, v in actual_buckets(c).items() if v}
    print(f"garbage: {len(frames)} frames -> {nz}; {time.time() - t0:.1f} s")


def main():
    check = Check()
    t0 = time.time()
    cases = collections.Counter()
    with KafkaCluster("accounting", brokers=1) as cluster:
        for seed in SEEDS:
            cases.update(run_seed(check, cluster, seed) or {})
        run_garbage(check, cluster)
    print("frames per case over all seeds:", dict(sorted(cases.items())))
    print(f"total {time.time() - t0:.1f} s")
    check.finish()


if __name__ == "__main__":
    main()
