"""End to end over every syslog corpus message and the real syslog captures:
tapsift broker ► tapsift replay ► python3-confluent-kafka reads the topic back.
Asserts the event count, the fields of every event and the accounting identity."""
import datetime
import os
import subprocess

from e2e_support import SRC, Broker, Check, accounting_balances, consume_all, make_capture, replay
from ecs_shape import check_ecs_shape

check = Check()
FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
              "ftp", "ntp", "security", "console", "solaris-cron"] + [f"local{i}" for i in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def check_common(name, key, e):
    """Shape every event must have, whatever its input."""
    s = e["log"]["syslog"]
    check.eq(f"{name} key is source.ip", key, e["source"]["ip"])
    check.true(f"{name} @timestamp is RFC 3339 UTC", e["@timestamp"].endswith("Z")
               and datetime.datetime.fromisoformat(e["@timestamp"][:19]) is not None)
    check.eq(f"{name} facility code", s["facility"]["code"], s["priority"] >> 3)
    check.eq(f"{name} severity code", s["severity"]["code"], s["priority"] & 7)
    check.eq(f"{name} facility name", s["facility"]["name"], FACILITIES[s["priority"] >> 3])
    check.eq(f"{name} severity name", s["severity"]["name"], SEVERITIES[s["priority"] & 7])
    check.eq(f"{name} event.kind", e["event"]["kind"], "event")
    check.eq(f"{name} event.dataset", e["event"]["dataset"], "syslog")
    check.true(f"{name} observer.hostname", bool(e["observer"]["hostname"]))


def corpus():
    pcap, frames = make_capture("corpus", "corpus")
    with Broker("corpus") as broker:
        rc, c, out = replay(pcap, broker.bootstrap, "corpus")
        check.eq("corpus: replay exit code", rc, 0)
        check.eq("corpus: rx_packets", c["rx_packets"], len(frames))
        check.true("corpus: accounting identity", accounting_balances(c))
        empty = sum(1 for fr in frames if fr["payload"] == b"")
        check.eq("corpus: produced", c["produced"], len(frames) - empty - c["malformed"]["syslog_bad_pri"])
        check.eq("corpus: delivered", c["delivered"], c["produced"])
        events = consume_all(broker.bootstrap, "tapsift.syslog", c["produced"])
        check.eq("corpus: events read back (none lost, none duplicated)", len(events), c["produced"])
        check_ecs_shape(check, "corpus", events)
        by_seq = {e["event"]["sequence"]: (k, e) for k, e in events}
        check.eq("corpus: one event per frame", len(by_seq), len(events))
        for fr in frames:
            name = f"corpus frame {fr['frame']} ({fr['source']}#{fr['index']})"
            got = by_seq.get(fr["frame"])
            if got is None:
                continue
            key, e = got
            check_common(name, key, e)
            expected = fr.get("rsyslog_expected")
            # rsyslog's *.parse1 templates start with %PRI%,%syslogfacility-text%,%syslogseverity-text%.
            if expected and fr["source"].endswith("parse1") and expected.split(",")[0].isdigit():
                pri, fac, sev = expected.split(",")[:3]
                check.eq(f"{name} priority", e["log"]["syslog"]["priority"], int(pri))
                check.eq(f"{name} facility", e["log"]["syslog"]["facility"]["name"], fac)
                sev = {"warn": "warning", "error": "err", "emergency": "emerg"}.get(sev, sev)
                check.eq(f"{name} severity", e["log"]["syslog"]["severity"]["name"], sev)
            check.true(f"{name} message is part of the payload",
                       e["message"].encode("utf-8") in fr["payload"] or "\ufffd" in e["message"]
                       or "\\u" in e["message"])


def tshark_count(pcap, display_filter):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout
    return len(out.split())


def real_captures():
    caps = ["tests/corpus/pcap/ndpi/syslog.pcap", "tests/corpus/pcap/tcpdump/syslog_udp.pcap",
            "tests/corpus/pcap/zeek/syslog-single-udp.pcap", "tests/corpus/pcap/zeek/syslog-missing-pri.pcap",
            "data/captures/demo-syslog.pcap"]
    with Broker("captures") as broker:
        total = 0
        for cap in caps:
            path = os.path.join(SRC, cap)
            name = os.path.basename(cap)
            rc, c, out = replay(path, broker.bootstrap, name)
            check.eq(f"{name}: replay exit code", rc, 0)
            check.true(f"{name}: accounting identity", accounting_balances(c))
            # Independent count: tshark's UDP/514 datagrams that carry a payload (tshark reassembles
            # IPv4 fragments, so a fragmented datagram counts once).
            want = tshark_count(path, "udp.dstport == 514 && udp.length > 8")
            check.eq(f"{name}: produced = tshark's syslog datagrams", c["produced"] + c["malformed"]["syslog_bad_pri"],
                     want)
            check.eq(f"{name}: delivered", c["delivered"], c["produced"])
            total += c["produced"]
        events = consume_all(broker.bootstrap, "tapsift.syslog", total)
        check.eq("captures: events read back", len(events), total)
        check_ecs_shape(check, "captures", events)
        for i, (key, e) in enumerate(events):
            check_common(f"captures event {i}", key, e)


corpus()
real_captures()
check.finish()
