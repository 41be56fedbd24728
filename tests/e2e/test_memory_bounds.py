"""Bounded memory under floods, measured by the gateway itself: `tapsift replay --stats-json`
reports peak_rss_bytes (VmHWM from /proc/self/status at exit).

  baseline          the shipped demo capture (data/captures/demo-syslog.pcap)
  fragment flood    200k first fragments of distinct IPv4 datagrams that never complete: the
                    reassembly table holds at most dataplane.fragment_flows (256) datagrams, so
                    the rest are discarded on arrival; every one of them must still be counted
                    (fragment_discarded + fragment_incomplete == 200k)
  max datagrams     2000 syslog datagrams of 65000 bytes (IPv6, one jumbo frame each): batches
                    are 1 MiB and events are produced and freed, so memory must not follow the
                    capture's size (130 MB)

Each flood must stay within baseline + 64 MiB: the producer queue is bounded at 32 MiB
(queue.buffering.max.kbytes, set by tapsift), batches at 1 MiB, the reassembly table by
fragment_flows. A line per case reports the numbers. Under ASan (TAPSIFT_SANITIZED=1) the
quarantine holds freed memory by design, so the test reports itself skipped (exit 77).
The captures are generated here: frames built with scapy, then (for the 200k flood) the
per-frame fields patched into a scapy-built template so generation stays fast.
"""
import os
import random
import struct
import string
import time

from scapy.all import IP, UDP, Ether, IPv6, Raw, raw

from e2e_support import SRC, WORK, Broker, Check, accounting_balances, replay

MIB = 1 << 20
BOUND_MIB = 64
FRAGMENT_FLOWS = 256  # dataplane.fragment_flows default (config/tapsift.yaml)
N_FRAGMENTS = 200_000
N_SMALL_FRAGMENTS = 20_000
N_MAX_DATAGRAMS = 2000
MAX_PAYLOAD = 65000
T0 = 1793491200  # 2026-11-01T00:00:00Z


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


def record(k, data):
    t_us = k * 10
    return struct.pack("<IIII", T0 + t_us // 1000000, t_us % 1000000, len(data), len(data)) + data


def ones_sum(data):
    s = 0
    for j in range(0, len(data), 2):
        s += (data[j] << 8) | data[j + 1]
    return s


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fragment_frame_builder():
    """First fragment (offset 0, MF) of a UDP/514 syslog datagram; returns build(i) giving the
    frame for datagram i: source 10.x.y.z = i, IP id = i * 7919 mod 2^16, valid checksum."""
    udp_and_start = raw(IP(src="10.0.0.0", dst="192.0.2.200") / UDP(sport=5140, dport=514, len=8 + 1000)
                        / Raw(b"<13>Nov  1 00:00:00 host app: flood " + b"F" * 964))[20:20 + 64]

    def scapy_frame(i):
        return raw(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                   / IP(src="10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), dst="192.0.2.200",
                        id=(i * 7919) & 0xFFFF, ttl=64, proto=17, flags="MF", frag=0)
                   / Raw(udp_and_start))

    template = bytearray(scapy_frame(0))
    struct.pack_into(">H", template, 24, 0)   # checksum
    struct.pack_into(">H", template, 18, 0)   # id
    template[26:30] = b"\0\0\0\0"              # source
    base = ones_sum(bytes(template[14:34]))

    def build(i):
        ident = (i * 7919) & 0xFFFF
        src = (10 << 24) | (i & 0xFFFFFF)
        ck = (~fold(base + ident + (src >> 16) + (src & 0xFFFF))) & 0xFFFF
        b = bytearray(template)
        struct.pack_into(">H", b, 18, ident)
        struct.pack_into(">H", b, 24, ck)
        struct.pack_into(">I", b, 26, src)
        return bytes(b)

    for i in (0, 1, 65537, 199_999):  # the patched frames are exactly what scapy builds
        assert build(i) == scapy_frame(i), i
    return build


def write_fragment_flood(path, n):
    build = fragment_frame_builder()
    with open(path, "wb") as f:
        f.write(pcap_header())
        chunk = []
        for i in range(n):
            chunk.append(record(i, build(i)))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def write_max_datagrams(path, n):
    r = random.Random(65000)
    head = b"<13>Jan  1 00:00:00 host app: "
    body = "".join(r.choice(string.ascii_letters + string.digits + " ") for _ in range(MAX_PAYLOAD - len(head)))
    payload = head + body.encode()
    assert len(payload) == MAX_PAYLOAD
    templates = [raw(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                     / IPv6(src="2001:db8::%x" % (s + 1), dst="2001:db8::200", hlim=64)
                     / UDP(sport=40000 + s, dport=514) / Raw(payload)) for s in range(16)]
    with open(path, "wb") as f:
        f.write(pcap_header())
        for i in range(n):
            f.write(record(i, templates[i % len(templates)]))


def run_case(name, pcap):
    t0 = time.time()
    with Broker(name) as broker:
        rc, c, out = replay(pcap, broker.bootstrap, name)
    if c is None:
        print(out)
    return rc, c, out, time.time() - t0


def mib(n):
    return n / MIB


def main():
    if os.environ.get("TAPSIFT_SANITIZED"):
        print("skipped: ASan's quarantine keeps freed memory resident, so RSS bounds do not apply")
        raise SystemExit(77)
    check = Check()
    t_start = time.time()

    demo = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
    rc, c, out, dt = run_case("mem-baseline", demo)
    check.eq("baseline: replay exit code", rc, 0)
    if c is None:
        check.true("baseline: stats json written", False)
        check.finish()
    baseline = c["peak_rss_bytes"]
    check.true("baseline: peak_rss_bytes reported", baseline > 0)
    bound = baseline + BOUND_MIB * MIB
    print(f"baseline (demo capture, {c['rx_packets']} frames): peak RSS {mib(baseline):.1f} MiB; "
          f"bound for the floods {mib(bound):.1f} MiB ({dt:.1f} s)")

    # (a) fragment flood, small then full size: the reassembly table is bounded, so RSS is not.
    for n in (N_SMALL_FRAGMENTS, N_FRAGMENTS):
        name = f"mem-fragments-{n}"
        pcap = os.path.join(WORK, name + ".pcap")
        t0 = time.time()
        write_fragment_flood(pcap, n)
        t_gen = time.time() - t0
        rc, c, out, dt = run_case(name, pcap)
        check.eq(f"{name}: replay exit code", rc, 0)
        if c is None:
            check.true(f"{name}: stats json written", False)
            continue
        disc, inc = c["dropped"]["fragment_discarded"], c["dropped"]["fragment_incomplete"]
        check.eq(f"{name}: rx_packets", c["rx_packets"], n)
        check.true(f"{name}: accounting identity", accounting_balances(c))
        check.eq(f"{name}: fragment_discarded + fragment_incomplete", disc + inc, n)
        check.true(f"{name}: fragment_incomplete ({inc}) <= fragment_flows ({FRAGMENT_FLOWS})",
                   inc <= FRAGMENT_FLOWS)
        check.eq(f"{name}: produced", c["produced"], 0)
        check.eq(f"{name}: merged_fragments", c["merged_fragments"], 0)
        rss = c["peak_rss_bytes"]
        if n == N_FRAGMENTS:
            check.true(f"{name}: peak RSS {mib(rss):.1f} MiB <= baseline {mib(baseline):.1f} MiB "
                       f"+ {BOUND_MIB} MiB", rss <= bound)
        print(f"{name}: peak RSS {mib(rss):.1f} MiB, baseline {mib(baseline):.1f} MiB "
              f"(+{mib(rss - baseline):.1f} MiB); {disc} fragment_discarded + {inc} fragment_incomplete; "
              f"generated in {t_gen:.1f} s, replayed in {dt:.1f} s")

    # (b) maximal datagrams: 2000 x 65000-byte syslog payloads over IPv6.
    name = "mem-max-datagrams"
    pcap = os.path.join(WORK, name + ".pcap")
    t0 = time.time()
    write_max_datagrams(pcap, N_MAX_DATAGRAMS)
    t_gen = time.time() - t0
    rc, c, out, dt = run_case(name, pcap)
    check.eq(f"{name}: replay exit code", rc, 0)
    if c is not None:
        check.eq(f"{name}: rx_packets", c["rx_packets"], N_MAX_DATAGRAMS)
        check.true(f"{name}: accounting identity", accounting_balances(c))
        check.eq(f"{name}: produced", c["produced"], N_MAX_DATAGRAMS)
        check.eq(f"{name}: delivered", c["delivered"], N_MAX_DATAGRAMS)
        check.eq(f"{name}: syslog_truncated", c["syslog_truncated"], 0)
        rss = c["peak_rss_bytes"]
        check.true(f"{name}: peak RSS {mib(rss):.1f} MiB <= baseline {mib(baseline):.1f} MiB "
                   f"+ {BOUND_MIB} MiB", rss <= bound)
        print(f"{name}: peak RSS {mib(rss):.1f} MiB, baseline {mib(baseline):.1f} MiB "
              f"(+{mib(rss - baseline):.1f} MiB); {c['produced']} events of {MAX_PAYLOAD} B, "
              f"{c['batches']} batches; generated in {t_gen:.1f} s, replayed in {dt:.1f} s")
    else:
        check.true(f"{name}: stats json written", False)
    os.remove(pcap)  # 130 MB

    print(f"total {time.time() - t_start:.1f} s")
    check.finish()


if __name__ == "__main__":
    main()
