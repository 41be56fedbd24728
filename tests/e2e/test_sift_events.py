"""What sifting adds to events, on hand-built captures (written under TAPSIFT_WORK_DIR):

(a) CEF / LEEF: the CEF lines of tests/corpus/wazuh/f5_big_ip.ini ("log N pass = <raw>"), sent
    as they are, plus a LEEF 1.0 (TAB-separated) and a LEEF 2.0 (custom '^' delimiter) message.
    Expected values come from the test's own small CEF/LEEF reader (header split on unescaped
    '|', extensions "key=value" up to the next " key=", CEF escapes \\= \\\\ \\n \\r): every
    cef.* / leef.* field, the ECS mapping (source.ip <- src, source.port <- spt / srcPort,
    destination.port <- dpt / dstPort, event.action <- act, ...), the syslog sender moved to
    log.source.address when the payload names a source, and the cef_events / leef_events
    counters.
(b) threat intel: tests/corpus/ioc/blocklist.txt + misp-export.csv; syslog messages writing
    listed IPv4 and IPv6 addresses (and a full stop after one), listed senders, unlisted ones;
    NetFlow v5 records with listed source / destination addresses and unlisted ones. Each
    record's enrichments are written out by hand (indicator, provider, MISP reference and
    description, matched field); a 'threat_intel' rule routes them to tapsift.alerts, except
    one sender whose events an earlier rule keeps: enriched all the same, in the syslog topic.
(c) dedup: sift.dedup.window_ms 600000, repeated identical (hostname, app-name, message) from
    the same and from other hosts / apps, with different header timestamps: one event per
    distinct key with tapsift.dedup.count = repeats, event.start / event.end = the capture times of the
    first / last repeat (replay uses the pcap's timestamps as arrival times), deduplicated =
    records - distinct, balanced. Then max_entries: 1 with alternating runs: every change of
    key evicts the held event early (dedup_evicted = the number of changes), and the counts
    still add up to the records (nothing lost).
"""
import ipaddress
import os
import re

from ecs_shape import check_ecs_shape
from e2e_support import (SRC, WORK, Broker, Check, accounting_balances, consume_topics, get_path, replay,
                         write_config)
from flow_craft import T0, Capture, v5_packet, v5_record
from flow_oracle import ns_of_rfc3339

check = Check()
COLLECTOR = "10.99.0.2"  # not in any test list: the syslog destination is checked too


def run(broker, name, capture, config, topics):
    """Replays a Capture with its own topics and config (YAML, sections other than kafka).
    topics: {role: (topic, events expected there)}, roles "syslog" and "flows" (kafka.topics.*)
    and "alerts" (the config's sift.alerts_topic). Returns (stats, {role: [(key, event)]})."""
    pcap = capture.write(os.path.join(WORK, f"{name}.pcap"))
    kafka = "kafka:\n  topics:\n" + "".join(f"    {r}: {t}\n" for r, (t, _) in topics.items() if r != "alerts")
    rc, c, out = replay(pcap, broker.bootstrap, name, ["--config", write_config(name, kafka + config)])
    check.eq(f"{name}: replay exit code", rc, 0)
    if c is None:
        print(out)
        check.finish()
    check.true(f"{name}: accounting identity", accounting_balances(c))
    got = consume_topics(broker.bootstrap, dict(topics.values()), timeout_s=10)
    check_ecs_shape(check, name, [e for events in got.values() for e in events])
    for role, (topic, n) in topics.items():
        check.eq(f"{name}: events read back from {topic}", len(got[topic]), n)
    check.eq(f"{name}: events read back = produced", sum(len(v) for v in got.values()),
             c["produced"] + c["flow"]["produced"])
    return c, {role: got[t] for role, (t, _) in topics.items()}


def by_sequence(events):
    return {e["event"]["sequence"]: (key, e) for key, e in events}


# ------------------------------------------------------------------ (a) CEF / LEEF

CEF_ECS = {"src": "source.ip", "sourceAddress": "source.ip", "spt": "source.port", "sourcePort": "source.port",
           "suser": "source.user.name", "sourceUserName": "source.user.name", "shost": "source.domain",
           "sourceHostName": "source.domain", "dst": "destination.ip", "destinationAddress": "destination.ip",
           "dpt": "destination.port", "destinationPort": "destination.port", "duser": "destination.user.name",
           "dhost": "destination.domain", "act": "event.action", "deviceAction": "event.action",
           "app": "network.protocol", "proto": "network.transport", "request": "url.original",
           "fname": "file.name", "sproc": "process.name", "requestMethod": "http.request.method"}
LEEF_ECS = {"src": "source.ip", "srcPort": "source.port", "usrName": "source.user.name", "dst": "destination.ip",
            "dstPort": "destination.port", "proto": "network.transport", "url": "url.original"}
LOWER = {"network.protocol", "network.transport"}
LEEF_MESSAGES = [
    # IBM's LEEF 1.0 example: attributes separated by TAB.
    ("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.7\tdst=172.50.123.1\tsev=5\tcat=anomaly"
     "\tsrcPort=81\tdstPort=21\tusrName=joe.black\tproto=TCP"),
    # LEEF 2.0 with its delimiter field ('^').
    ("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21"
     "^url=https://example.com/a?b=c^proto=UDP^"),
]
# CEF escapes in the header (\| \\) and the extensions (\= \\ \n), and no source address: the
# sender stays source.ip.
OWN_CEF = (r"CEF:1|Vendor\|X|AV|1.0|100|Detected \| quarantined|7|act=quarantine fname=C:\\tmp\\evil.exe "
           r"dhost=ws1 msg=line1\nline2 cs1=a\=b cs1Label=query")


def header_fields(text, n):
    """n '|'-separated header fields (\\| and \\\\ unescaped) and the rest."""
    fields, cur, i = [], "", 0
    while len(fields) < n:
        c = text[i]
        if c == "\\" and text[i + 1:i + 2] in ("|", "\\"):
            cur, i = cur + text[i + 1], i + 2
        elif c == "|":
            fields, cur, i = fields + [cur], "", i + 1
        else:
            cur, i = cur + c, i + 1
    return fields, text[i:]


def cef_unescape(v):
    return re.sub(r"\\([\\=nr])", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), v)


def parse_sec(message):
    """(format, {"version", "vendor", ..., "extensions": [(k, v)]}) for the first CEF:/LEEF:."""
    m = re.search(r"(CEF):([01])\||(LEEF):(1\.0|1|2\.0|2)\|", message)
    if m.group(1):
        (vendor, product, version, cls, name, sev), rest = header_fields(message[m.end():], 6)
        starts = list(re.finditer(r"(?:^| )([A-Za-z0-9_.\[\]-]+)=", rest))
        ext = [(s.group(1), cef_unescape(rest[s.end():nxt.start() if nxt else len(rest)].rstrip(" ")))
               for s, nxt in zip(starts, starts[1:] + [None])]
        return "cef", dict(version=int(m.group(2)), vendor=vendor, product=product, dversion=version, cls=cls,
                           name=name, severity=sev, extensions=ext)
    (vendor, product, version, cls), rest = header_fields(message[m.end():], 4)
    delim = "\t"
    if m.group(4).startswith("2"):
        d, _, tail = rest.partition("|")
        if len(d) == 1:
            delim, rest = d, tail
    ext = [tuple(p.split("=", 1)) for p in rest.split(delim) if "=" in p and not p.startswith("=")]
    return "leef", dict(version=int(m.group(4)[0]), vendor=vendor, product=product, dversion=version, cls=cls,
                        extensions=ext)


def wazuh_cef_lines():
    path = os.path.join(SRC, "tests", "corpus", "wazuh", "f5_big_ip.ini")
    with open(path, encoding="utf-8") as f:
        return [m.group(1) for line in f if (m := re.match(r"log \d+ pass = (.*)$", line.rstrip("\n")))
                and "CEF:" in m.group(1)]


def is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def test_cef_leef(broker):
    lines = wazuh_cef_lines()
    check.eq("f5_big_ip.ini: CEF lines", len(lines), 7)
    payloads = (lines + [f"<134>Nov  1 00:00:{10 + i:02d} qradar-src leef: {m}" for i, m in enumerate(LEEF_MESSAGES)]
                + [f"<132>Nov  1 00:00:20 av-server av: {OWN_CEF}"])
    sender = "10.98.0.5"
    cap = Capture()
    frames = {cap.add(p.encode(), sender, sport=5140 + i, dport=514, dst=COLLECTOR): (p, 5140 + i)
              for i, p in enumerate(payloads)}
    c, got = run(broker, "sift-cef", cap, "", {"syslog": ("sift.cef.syslog", len(frames))})
    check.eq("cef_events", c["cef_events"], len(lines) + 1)
    check.eq("leef_events", c["leef_events"], len(LEEF_MESSAGES))
    check.eq("sec_malformed", c["sec_malformed"], 0)
    events = by_sequence(got["syslog"])
    ecs_checked, not_ips = 0, []
    for frame, (payload, sport) in frames.items():
        key, e = events.get(frame, (None, None))
        what = f"CEF/LEEF frame {frame}"
        if e is None:
            check.true(f"{what}: has an event", False)
            continue
        fmt, want = parse_sec(payload)
        obj = e.get(fmt, {})
        check.eq(f"{what}: {fmt}.version", obj.get("version"), want["version"])
        check.eq(f"{what}: {fmt}.device", obj.get("device"),
                 {"vendor": want["vendor"], "product": want["product"], "version": want["dversion"],
                  "event_class_id": want["cls"]})
        if fmt == "cef":
            check.eq(f"{what}: cef.name", obj.get("name"), want["name"])
            check.eq(f"{what}: cef.severity", obj.get("severity"), want["severity"])
        check.eq(f"{what}: {fmt}.extensions", obj.get("extensions"), dict(want["extensions"]))
        # ECS: the last extension with a mapped key wins.
        ecs = {}
        for k, v in want["extensions"]:
            path = (CEF_ECS if fmt == "cef" else LEEF_ECS).get(k)
            if path:
                ecs[path] = v.lower() if path in LOWER else int(v) if path.endswith(".port") and v.isdigit() else v
        # An ip or port that does not parse would make Elasticsearch refuse the whole document:
        # tapsift leaves it under cef.* / leef.* only (f5_big_ip.ini has src=componentName,
        # src=00.00.00.00, dst=111.1111.11.1), and the sender stays the source.
        valid_src = is_ip(ecs.get("source.ip", ""))
        for path, v in ecs.items():
            if (path.endswith(".ip") and not is_ip(v)) or (path.endswith(".port") and not isinstance(v, int)):
                not_ips.append(v)
                if path.startswith("destination."):
                    check.eq(f"{what}: no {path} for {v!r}", get_path(e, path), None)
                continue
            if path == "source.port" and not valid_src:
                continue  # the sender's port, below
            check.eq(f"{what}: {path}", get_path(e, path), v)
            ecs_checked += 1
        if valid_src:
            check.eq(f"{what}: log.source.address (the sender)", get_path(e, "log.source.address"),
                     f"{sender}:{sport}")
        else:
            check.eq(f"{what}: source.ip (the sender)", get_path(e, "source.ip"), sender)
            check.eq(f"{what}: source.port (the sender's)", get_path(e, "source.port"), sport)
            check.eq(f"{what}: no log.source.address", get_path(e, "log.source.address"), None)
        check.eq(f"{what}: kafka key (the sender)", key, sender)
    # The hand-written CEF, by hand (guards the reader above against sharing a mistake with tapsift).
    _, own = events.get(max(frames), (None, {}))
    for path, v in (("cef.version", 1), ("cef.device.vendor", "Vendor|X"), ("cef.name", "Detected | quarantined"),
                    ("cef.extensions.fname", "C:\\tmp\\evil.exe"), ("cef.extensions.msg", "line1\nline2"),
                    ("cef.extensions.cs1", "a=b"), ("event.action", "quarantine"), ("file.name", "C:\\tmp\\evil.exe"),
                    ("destination.domain", "ws1")):
        check.eq(f"own CEF: {path}", get_path(own, path), v)
    print(f"(a) CEF/LEEF: {len(lines)} CEF lines from f5_big_ip.ini, 1 with escapes, {len(LEEF_MESSAGES)} LEEF "
          f"(1.0 TAB, 2.0 '^'): headers, extensions and {ecs_checked} ECS values compared "
          f"(left out of ECS, not an address or port: {sorted(set(not_ips))})")


# ------------------------------------------------------------------ (b) threat intel

BLOCKLIST = os.path.join(SRC, "tests", "corpus", "ioc", "blocklist.txt")
MISP = os.path.join(SRC, "tests", "corpus", "ioc", "misp-export.csv")


def ind(listed, provider, description=None, reference=None):
    """An enrichment's indicator as listed (tapsift leaves empty strings out); hit() adds the
    address that matched as indicator.ip."""
    i = {"name": listed, "type": f"ipv{ipaddress.ip_network(listed).version}-addr", "provider": provider}
    if description:
        i["description"] = description
    if reference:
        i["reference"] = reference
    return i


def hit(indicator, atomic, field):
    return {"indicator": {"ip": atomic, **indicator},
            "matched": {"atomic": atomic, "field": field, "type": "indicator_match_rule"}}


# Read from the two files by eye: most specific indicator wins; blocklist.txt comes first, so a
# prefix in both keeps its blocklist entry.
I_203_0_113_7 = ind("203.0.113.7", "blocklist", "scanner")
I_203_0_113_64 = ind("203.0.113.64/26", "blocklist", "leading tab and trailing whitespace are trimmed")
I_203_0_113_0 = ind("203.0.113.0/24", "misp-export", "scanner subnet",
                    "misp:event/1337/attribute/0b6f8e2a-31c4-4d7e-a5b9-2c8d1e0f7a43")
I_192_0_2_1 = ind("192.0.2.1", "blocklist", "single host inside the /24 below")
I_192_0_2_128 = ind("192.0.2.128/25", "blocklist", "upper half of TEST-NET-1")
I_192_0_2_77 = ind("192.0.2.77", "misp-export", None, "misp:event/1338/attribute/7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908")
I_198_51_100_0 = ind("198.51.100.0/24", "blocklist")
I_198_51_100_23 = ind("198.51.100.23", "misp-export", 'C2 server, seen in "Operation Example" beacons',
                      "misp:event/1337/attribute/5f1c2a3e-8b4d-4c6e-9f0a-1b2c3d4e5f60")
I_198_51_100_99 = ind("198.51.100.99", "misp-export", "first seen 2024-05-03\nreported by a partner CERT",
                      "misp:event/1339/attribute/4d5e6f70-8192-4a3b-9c4d-5e6f708192a3")
I_2001_DB8_1 = ind("2001:db8::1", "blocklist")
I_2001_DB8_1234 = ind("2001:db8:1234::/48", "blocklist", "IPv6 range")
I_2001_DB8_BEEF = ind("2001:db8::beef", "blocklist", "upper case, uncompressed")
I_2001_DB8_BAD_1 = ind("2001:db8:bad::1", "misp-export", "IPv6 scanner",
                       "misp:event/1338/attribute/e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9")
I_2001_DB8_DEAD = ind("2001:db8:dead::/48", "misp-export", None,
                      "misp:event/1338/attribute/f0e1d2c3-b4a5-4697-8877-695a4b3c2d1e")

KEEP_SENDER = "10.97.0.3"  # an earlier rule keeps its events: enriched, not routed
THREAT_SYSLOG = [  # (sender, message, [enrichments])
    ("10.97.0.1", "sshd[1]: Failed password for root from 203.0.113.7 port 22",
     [hit(I_203_0_113_7, "203.0.113.7", "message")]),
    ("10.97.0.1", "fw: drop 203.0.113.70. Next.", [hit(I_203_0_113_64, "203.0.113.70", "message")]),
    ("10.97.0.1", "fw: allow 203.0.113.9 -> 198.51.100.23:443 (C2?)",
     [hit(I_203_0_113_0, "203.0.113.9", "message"), hit(I_198_51_100_23, "198.51.100.23", "message")]),
    ("10.97.0.1", "proxy: CONNECT 192.0.2.77:8443 from 10.1.1.1", [hit(I_192_0_2_77, "192.0.2.77", "message")]),
    ("10.97.0.1", "dns: answer 198.51.100.99 for bad.example.com",
     [hit(I_198_51_100_99, "198.51.100.99", "message")]),
    ("10.97.0.1", "sshd[2]: Accepted publickey from 2001:db8::1 port 50022",
     [hit(I_2001_DB8_1, "2001:db8::1", "message")]),
    ("10.97.0.1", "nginx: [2001:db8:1234::5]:443 upstream timed out",
     [hit(I_2001_DB8_1234, "2001:db8:1234::5", "message")]),
    ("10.97.0.1", "ids: alert src=2001:DB8:0:0:0:0:0:BEEF dst=2001:db8:dead::9",
     [hit(I_2001_DB8_BEEF, "2001:db8::beef", "message"), hit(I_2001_DB8_DEAD, "2001:db8:dead::9", "message")]),
    ("192.0.2.1", "app: nothing to see here", [hit(I_192_0_2_1, "192.0.2.1", "source.ip")]),
    ("192.0.2.200", "sshd[3]: probe from 2001:db8:bad::1",
     [hit(I_192_0_2_128, "192.0.2.200", "source.ip"), hit(I_2001_DB8_BAD_1, "2001:db8:bad::1", "message")]),
    (KEEP_SENDER, "app: talked to 198.51.100.5", [hit(I_198_51_100_0, "198.51.100.5", "message")]),
    # CEF: its src/dst are the event's source/destination (an address written twice is listed
    # once); a listed sender is then log.source.address.
    ("10.97.0.1", "fw: CEF:0|V|P|1|7|deny|5|src=203.0.113.7 dst=198.51.100.23 cs1=203.0.113.7",
     [hit(I_203_0_113_7, "203.0.113.7", "source.ip"), hit(I_198_51_100_23, "198.51.100.23", "destination.ip")]),
    ("192.0.2.1", "fw: CEF:0|V|P|1|7|deny|5|src=10.0.0.1 dst=10.0.0.2",
     [hit(I_192_0_2_1, "192.0.2.1", "log.source.address")]),
    # Not listed: no enrichment, not routed.
    ("10.97.0.1", "app: 8.8.8.8 and 2001:db8:ffff::1 and 203.0.114.7 and std::string and 12:34:56", []),
    ("10.97.0.2", "app: version 1.2.3.4.5 and 192.0.2.1.in-addr.arpa", []),
]
THREAT_FLOWS = [  # (src, dst, [enrichments])
    ("203.0.113.9", "10.0.0.5", [hit(I_203_0_113_0, "203.0.113.9", "source.ip")]),
    ("10.0.0.6", "198.51.100.23", [hit(I_198_51_100_23, "198.51.100.23", "destination.ip")]),
    ("192.0.2.1", "198.51.100.7",
     [hit(I_192_0_2_1, "192.0.2.1", "source.ip"), hit(I_198_51_100_0, "198.51.100.7", "destination.ip")]),
    ("10.0.0.7", "10.0.0.8", []),
]
THREAT_CONFIG = f"""sift:
  ioc_files: [{BLOCKLIST}, {MISP}]
  rules:
    - id: keep-lab
      match: {{source: {KEEP_SENDER}/32}}
      action: keep
    - id: threats-to-alerts
      match: {{threat_intel: true}}
      action: route
      topic: alerts
"""


def test_threat_intel(broker):
    cap = Capture()
    syslog = {}
    for i, (sender, msg, want) in enumerate(THREAT_SYSLOG):
        f = cap.add(f"<134>Nov  1 00:01:{i:02d} host{i} {msg}".encode(), sender, sport=514, dport=514, dst=COLLECTOR)
        syslog[f] = (sender, msg, want)
    exporter = "10.20.0.1"
    recs = [v5_record(s, d, packets=10, octets=1000, sport=40000 + k, dport=443, proto=6)
            for k, (s, d, _) in enumerate(THREAT_FLOWS)]
    flow_frame = cap.add(v5_packet(recs), exporter, sport=2055, dport=2055)
    n_hit = sum(1 for _, _, w in THREAT_SYSLOG + THREAT_FLOWS if w)
    n_kept = sum(1 for s, _, w in THREAT_SYSLOG if w and s == KEEP_SENDER)
    n_flow_hit = sum(1 for _, _, w in THREAT_FLOWS if w)
    c, got = run(broker, "sift-threat", cap, THREAT_CONFIG,
                 {"syslog": ("sift.threat.syslog", len(THREAT_SYSLOG) - (n_hit - n_flow_hit - n_kept)),
                  "flows": ("sift.threat.flows", len(THREAT_FLOWS) - n_flow_hit),
                  "alerts": ("tapsift.alerts", n_hit - n_kept)})
    check.eq("threat: threat_matches", c["threat_matches"], n_hit)
    check.eq("threat: routed", c["routed"], n_hit - n_kept)
    check.eq("threat: rule threats-to-alerts routed", c["sift"]["rules"]["threats-to-alerts"]["routed"],
             n_hit - n_kept)
    check.eq("threat: rule keep-lab kept", c["sift"]["rules"]["keep-lab"]["kept"], len(
        [s for s, _, _ in THREAT_SYSLOG if s == KEEP_SENDER]))
    where = {}
    for role, events in got.items():
        for key, e in events:
            where[(e["event"]["sequence"], get_path(e, "tapsift.flow_record"))] = (role, key, e)
    for f, (sender, msg, want) in syslog.items():
        role, key, e = where.get((f, None), (None, None, None))
        what = f"threat syslog '{msg[:40]}' from {sender}"
        if e is None:
            check.true(f"{what}: has an event", False)
            continue
        check.eq(f"{what}: topic", role, "alerts" if want and sender != KEEP_SENDER else "syslog")
        check.eq(f"{what}: threat.enrichments", get_path(e, "threat.enrichments", []), want)
        check.eq(f"{what}: event.kind", get_path(e, "event.kind"), "alert" if want else "event")
        check.eq(f"{what}: tapsift.rule", get_path(e, "tapsift.rule"),
                 "keep-lab" if sender == KEEP_SENDER else "threats-to-alerts" if want else None)
    for k, (s, d, want) in enumerate(THREAT_FLOWS):
        role, key, e = where.get((flow_frame, k), (None, None, None))
        what = f"threat flow {s} -> {d}"
        if e is None:
            check.true(f"{what}: has an event", False)
            continue
        check.eq(f"{what}: topic", role, "alerts" if want else "flows")
        check.eq(f"{what}: key (the exporter)", key, exporter)
        check.eq(f"{what}: threat.enrichments", get_path(e, "threat.enrichments", []), want)
    print(f"(b) threat intel: {len(THREAT_SYSLOG)} syslog messages and {len(THREAT_FLOWS)} v5 flows, "
          f"{n_hit} enriched ({n_kept} kept by an earlier rule), the rest routed to alerts")


# ------------------------------------------------------------------ (c) dedup

DEDUP_MESSAGES = [  # (t_ms, sender, hostname, tag, message): header times differ on purpose
    (0, "10.96.0.1", "web01", "app", "disk /var is 91% full"),
    (1500, "10.96.0.1", "web01", "app", "disk /var is 91% full"),
    (2000, "10.96.0.2", "web02", "app", "disk /var is 91% full"),  # other host
    (2750, "10.96.0.1", "web01", "cron", "disk /var is 91% full"),  # other app
    (3000, "10.96.0.1", "web01", "app", "disk /var is 92% full"),  # other message
    (4200, "10.96.0.1", "web01", "app", "disk /var is 91% full"),
    (5000, "10.96.0.2", "web02", "app", "disk /var is 91% full"),
    (6100, "10.96.0.1", "web01", "app", "disk /var is 91% full"),
    (7000, "10.96.0.1", "web01", "cron", "disk /var is 91% full"),
    # Same hostname from another sender: its own event, the key has the sender (docs/rules.md).
    (9999, "10.96.0.3", "web01", "app", "disk /var is 91% full"),
]
DEDUP_CONFIG = "sift:\n  dedup: {window_ms: 600000%s}\n"


def dedup_capture(messages):
    cap = Capture()
    frames = []
    for i, (t_ms, sender, host, tag, msg) in enumerate(messages):
        line = f"<13>Nov  1 00:00:{i:02d} {host} {tag}: {msg}"
        frames.append(cap.add(line.encode(), sender, sport=514, dport=514, t_ms=t_ms, dst=COLLECTOR))
    return cap, frames


def test_dedup(broker):
    cap, frames = dedup_capture(DEDUP_MESSAGES)
    groups = {}  # (sender, host, tag, message) -> [(frame, t_ms)]; the PRI is the same for all
    for f, (t_ms, sender, host, tag, msg) in zip(frames, DEDUP_MESSAGES):
        groups.setdefault((sender, host, tag, msg), []).append((f, t_ms))
    c, got = run(broker, "sift-dedup", cap, DEDUP_CONFIG % "", {"syslog": ("sift.dedup.syslog", len(groups))})
    check.eq("dedup: deduplicated = records - distinct", c["deduplicated"], len(frames) - len(groups))
    check.eq("dedup: produced = distinct", c["produced"], len(groups))
    check.eq("dedup: dedup_evicted", c["dedup_evicted"], 0)
    events = by_sequence(got["syslog"])
    for (sender, host, tag, msg), hits in groups.items():
        first, last = hits[0], hits[-1]
        key, e = events.get(first[0], (None, None))
        what = f"dedup {sender}/{host}/{tag}/{msg!r}"
        if e is None:
            check.true(f"{what}: one event, from the first repeat (frame {first[0]})", False)
            continue
        check.eq(f"{what}: tapsift.dedup.count", get_path(e, "tapsift.dedup.count"), len(hits))
        check.eq(f"{what}: event.start (capture time of the first)", ns_of_rfc3339(get_path(e, "event.start")),
                 (T0 * 1000 + first[1]) * 1_000_000)
        check.eq(f"{what}: event.end (capture time of the last)", ns_of_rfc3339(get_path(e, "event.end")),
                 (T0 * 1000 + last[1]) * 1_000_000)
    check.eq("dedup: no event from a folded repeat", sorted(events), sorted(h[0][0] for h in groups.values()))

    # Room for one entry: runs of A, B, A, B... Each change of key evicts the held event early.
    runs = [("A", 3), ("B", 2), ("A", 1), ("B", 4), ("A", 2)]
    seq = [k for k, n in runs for _ in range(n)]
    msgs = [(100 * i, "10.96.0.9", "db01", "app", f"message {k}") for i, k in enumerate(seq)]
    cap, frames = dedup_capture(msgs)
    c, got = run(broker, "sift-dedup-bound", cap, DEDUP_CONFIG % ", max_entries: 1",
                 {"syslog": ("sift.bound.syslog", len(runs))})
    counts = [get_path(e, "tapsift.dedup.count") for _, e in sorted(got["syslog"], key=lambda ke: ke[1]["event"]["sequence"])]
    check.eq("dedup bound: dedup_evicted (one per change of key)", c["dedup_evicted"], len(runs) - 1)
    check.true("dedup bound: dedup_evicted > 0", c["dedup_evicted"] > 0)
    check.eq("dedup bound: sum of tapsift.dedup.count = records (nothing lost)", sum(counts), len(frames))
    check.eq("dedup bound: one event per run, its length as tapsift.dedup.count", counts, [n for _, n in runs])
    check.eq("dedup bound: produced + deduplicated = records", c["produced"] + c["deduplicated"], len(frames))
    print(f"(c) dedup: {len(DEDUP_MESSAGES)} messages -> {len(groups)} events (count, start, end = capture times); "
          f"max_entries 1: {len(frames)} messages in {len(runs)} runs -> {len(counts)} events, "
          f"{c['dedup_evicted']} evicted, counts {counts}")


def main():
    with Broker("sift-events") as broker:
        test_cef_leef(broker)
        test_threat_intel(broker)
        test_dedup(broker)
    check.finish()


if __name__ == "__main__":
    main()
