#!/usr/bin/python3
"""sFlow v5 made by a real exporter: pmacct's pmacctd (Debian 12's .deb, unpacked under
build/bench/peers by scripts/fetch-peers) reads a capture (pcap_savefile) and its sfprobe plugin
samples every packet (sampling_rate 1) of PASSES passes over it and exports sFlow v5 over
loopback to a UDP socket here; the datagrams received are written into a capture
(sflow_oracle.write_datagrams: one frame each, to port 6343). Makes the corpus capture
tests/corpus/sflow/pcap/pmacct/ (see tests/corpus/SOURCES.md); test_sflow_sfprobe_live.py runs
pmacctd the same way (write_config, run_pmacctd), exporting to tapsift over a veth instead:

  /usr/bin/python3 tests/e2e/sfprobe_export.py IN.pcap OUT.pcap
"""
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("TAPSIFT_BIN", "")  # e2e_support wants them; unused when run as a script
os.environ.setdefault("TAPSIFT_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))

from sfacctd_oracle import PMACCT_DIR, fetch_pmacct  # noqa: E402
from sflow_oracle import write_datagrams  # noqa: E402

AGENT = "192.0.2.10"
# The input is read twice: an exiting pmacctd does not send sfprobe's last, partly filled
# datagram, so only the first pass is sure to be complete.
PASSES = 2


def write_config(pcap, receiver, work):
    """pmacctd's configuration in work: sfprobe over pcap (PASSES times, every packet sampled) to
    receiver ("address:port"). Returns its path."""
    conf = os.path.join(work, "pmacctd.conf")
    with open(conf, "w") as fh:
        fh.write("daemonize: false\n"
                 f"pcap_savefile: {os.path.abspath(pcap)}\n"
                 "plugins: sfprobe[s]\n"
                 f"sfprobe_receiver[s]: {receiver}\n"
                 f"sfprobe_agentip[s]: {AGENT}\n"
                 "sampling_rate[s]: 1\n"
                 f"pcap_savefile_replay: {PASSES}\n")
    return conf


def run_pmacctd(conf, work, prefix=()):
    """pmacctd with conf, to its end (prefix: e.g. `ip netns exec NS`); raises if it fails."""
    log = os.path.join(work, "pmacctd.log")
    with open(log, "w") as fh:
        done = subprocess.run([*prefix, os.path.join(PMACCT_DIR, "usr", "sbin", "pmacctd"), "-f", conf],
                              stdout=fh, stderr=subprocess.STDOUT, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"pmacctd exited {done.returncode}: {open(log).read()[-2000:]}")


def export(pcap, out, work):
    """pmacctd/sfprobe over pcap (PASSES times), the datagrams into out; returns the datagram
    count. Raises when pmacctd fails or sends nothing."""
    os.makedirs(work, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # pmacctd sends as fast as it reads, and is read only once it is done: room for all of it, past
    # net.core.rmem_max when root may (SO_RCVBUFFORCE).
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    conf = write_config(pcap, f"127.0.0.1:{sock.getsockname()[1]}", work)
    run_pmacctd(conf, work)
    sock.settimeout(0.5)
    datagrams = []
    try:
        while True:
            datagrams.append(sock.recv(65535))
    except socket.timeout:
        pass
    if not datagrams:
        raise RuntimeError("pmacctd/sfprobe sent nothing")
    sock.close()
    write_datagrams(datagrams, out)
    return len(datagrams)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sfprobe_export.py IN.pcap OUT.pcap")
    error = fetch_pmacct()
    if error:
        sys.exit(error)
    with tempfile.TemporaryDirectory(prefix="sfprobe-export-") as work:
        n = export(sys.argv[1], sys.argv[2], work)
    print(f"{n} sFlow datagrams from pmacctd/sfprobe over {sys.argv[1]} written to {sys.argv[2]}")


if __name__ == "__main__":
    main()
