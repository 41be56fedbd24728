"""The shipped example ruleset (config/tapsift.yaml -> config/rules/example.yaml and
config/ioc/example-blocklist.txt) over both demo captures, against an independent oracle.

The oracle evaluates the rules in Python, without tapsift's code or its events:
  * syslog records: the datagrams to a syslog port, read with scapy; the header is parsed by
    parse_syslog() below (RFC 5424, and RFC 3164 the way docs/syslog-rules.md describes it:
    PRI, a "Mmm dd [yyyy] hh:mm:ss[:]" or RFC 3339 timestamp, the hostname up to SP, the tag up
    to ':', '[' or SP, an optional "[procid]", ':' and one SP, then the message; no timestamp =>
    no hostname). Good enough for the demo's lines, odd ones included: it splits on SP only, as
    tapsift does, so a Snare line's TABs stay inside the hostname / tag.
  * flow records: tshark's cflow dissector (flow_oracle.tshark_flow_records).
  * rules: read from the YAML with PyYAML and applied with the semantics of docs/rules.md:
    in order, first terminal match decides, 'tag' rules add their tags and go on, the deciding
    rule's own tags last, sample keeps the 1st, N+1th, ... match of that rule, default_action
    for the rest; per-rule counters as the stats define them (a tag rule counts matched and
    tagged even when a later rule drops the record).
  * threat intel: the plain-text lists parsed with ipaddress (longest prefix wins); a syslog
    record's sender (source.ip), collector (destination.ip) and the dotted quads written in its
    message (the prefilter's rule: a run of digits and dots that is exactly four octets, a
    trailing full stop allowed unless a letter follows); a flow's addresses.
Not modelled (checked instead that the demo does not need it): IPv6 addresses written in
messages (no demo message has one), CEF/LEEF fields (no demo message has "CEF:" / "LEEF:", so
a cef/leef rule cannot match; the oracle fails loudly if one ever does), MISP CSV lists.

Then `tapsift replay` of both captures with config/tapsift.yaml into `tapsift broker`, and
EXACT comparisons: syslog records in / produced / filtered, flow records in / produced /
filtered, every rule's counters, routed, threat_matches, the accounting identity, every
produced event read back from its topic (tapsift.syslog, tapsift.flows, tapsift.alerts) with
the tags, tapsift.rule and threat.enrichments the oracle predicts for that record, the header
fields (re-checked against the oracle's parse) and the noise-reduction ratio as a fraction.
"""
import ipaddress
import os
import re
from collections import Counter, OrderedDict
from fractions import Fraction

import yaml

from e2e_support import (SRC, Broker, Check, accounting_balances, consume_topics, get_path, replay,
                         udp_datagrams)
from flow_oracle import tshark_flow_records

CONFIG = os.path.join(SRC, "config", "tapsift.yaml")
SYSLOG_PCAP = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
FLOWS_PCAP = os.path.join(SRC, "data", "captures", "demo-flows.pcap")

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
              "ftp", "ntp", "security", "console", "solaris-cron"] + [f"local{i}" for i in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmpv6": 58, "sctp": 132}
SYSLOG_ONLY = {"facility", "severity", "hostname", "app_name", "msgid", "contains", "regex", "cef", "leef"}
FLOW_ONLY = {"exporter", "src_port", "dst_port", "protocol", "bytes_min", "bytes_max", "packets_min",
             "packets_max"}

check = Check()


# ------------------------------------------------------------------ syslog header reader

PRI = re.compile(rb"<(\d{1,3})>")
TS_3164 = re.compile(rb"(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) +\d{1,2} +(?:\d{4} +)?"
                     rb"\d\d:\d\d:\d\d:? |\d{4}-\d\d-\d\dT\S+ ")
TAG = re.compile(rb"([^:\[ ]*)(?:\[([^\]]*)\])?:? ?")
SD = re.compile(rb'(?:\[[^\s\]="]+(?:\s+[^\s\]="]+\s*=\s*"(?:[^"\\]|\\.)*")*\s*\])+')


def parse_syslog(payload):
    """{facility, severity, format, hostname, app_name, procid, msgid, message} (bytes; None =
    absent)."""
    m = PRI.match(payload)
    pri, rest = (int(m.group(1)), payload[m.end():]) if m else (13, payload)
    out = {"facility": pri >> 3, "severity": pri & 7, "hostname": None, "app_name": None, "procid": None,
           "msgid": None}
    v = re.match(rb"[1-9]\d{0,2} ", rest)
    if v:
        out["format"] = "rfc5424"
        parts = rest[v.end():].split(b" ", 5)
        nil = lambda b: None if b in (b"-", b"") else b  # noqa: E731
        _, out["hostname"], out["app_name"], out["procid"], out["msgid"] = [nil(p) for p in parts[:5]]
        tail = parts[5] if len(parts) > 5 else b""
        if tail.startswith(b"-"):
            msg = tail[2:] if tail.startswith(b"- ") else tail[1:]
        else:
            sd = SD.match(tail)
            msg = tail[sd.end():] if sd else tail  # SD not well-formed: kept in the message
            if sd and msg.startswith(b" "):
                msg = msg[1:]
    else:
        out["format"] = "rfc3164"
        rest = rest.lstrip(b" ")
        ts = TS_3164.match(rest)
        if ts:
            rest = rest[ts.end():]
            host, _, rest = rest.partition(b" ")
            out["hostname"] = host or None
        t = TAG.match(rest)
        out["app_name"], out["procid"] = t.group(1) or None, t.group(2)
        msg = rest[t.end():]
    if msg.startswith(b"\xef\xbb\xbf"):
        msg = msg[3:]
    out["message"] = msg.rstrip(b"\r\n\0")
    return out


def message_ipv4s(msg):
    """The dotted quads written in a message, in order (the prefilter's scan rule)."""
    out = []
    for m in re.finditer(rb"[0-9.]+", msg):
        run, after = m.group(0), msg[m.end():m.end() + 1]
        if run.endswith(b".") and not after.isalpha():
            run = run[:-1]
        q = re.fullmatch(rb"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", run)
        if q and all(int(o) <= 255 for o in q.groups()):
            out.append(ipaddress.ip_address(run.decode()))
    return out


def has_ipv6_candidate(msg):
    return any(tok.count(b":") >= 2 and re.search(rb"[0-9a-fA-F]", tok)
               and not re.fullmatch(rb"\d\d:\d\d:\d\d", tok) for tok in re.findall(rb"[0-9A-Fa-f:]+", msg))


# ------------------------------------------------------------------ threat intel

class Blocklists:
    """Plain-text indicator files; lookup() = the most specific indicator holding an address."""

    def __init__(self, paths):
        self.entries = {}  # network -> indicator dict (the first file / line wins)
        for path in paths:
            provider = os.path.splitext(os.path.basename(path))[0]
            with open(path) as f:
                first = f.readline()
                if "," in first and "type" in first and "value" in first:
                    raise SystemExit(f"{path}: MISP CSV is not modelled by this oracle")
                f.seek(0)
                for line in f:
                    body, _, comment = line.partition("#")
                    body, _, _ = body.partition(";")
                    if not body.strip():
                        continue
                    net = ipaddress.ip_network(body.strip(), strict=True)
                    self.entries.setdefault(net, {
                        "name": str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net),
                        "type": f"ipv{net.version}-addr", "provider": provider,
                        "description": comment.strip() or None})

    def lookup(self, addr):
        hits = [n for n in self.entries if n.version == addr.version and addr in n]
        return self.entries[max(hits, key=lambda n: n.prefixlen)] if hits else None


# ------------------------------------------------------------------ rules

def as_list(v):
    return v if isinstance(v, list) else [v]


def networks(v):
    return [ipaddress.ip_network(str(x), strict=True) for x in as_list(v)]


def port_ranges(v):
    out = []
    for x in as_list(v):
        lo, _, hi = str(x).partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def name_or_code(names, v):
    return names.index(v) if v in names else int(v)


class Rule:
    def __init__(self, r):
        self.id, self.action, self.tags = r["id"], r["action"], list(r.get("tags", []))
        self.topic, self.sample = r.get("topic"), r.get("sample", 1)
        self.match = m = r.get("match") or {}
        fields = set(m) - {"kind"}
        self.kinds = ({m["kind"]} if "kind" in m else {"syslog"} if fields & SYSLOG_ONLY
                      else {"flow"} if fields & FLOW_ONLY else {"syslog", "flow"})
        self.facilities = {name_or_code(FACILITIES, x) for x in as_list(m["facility"])} if "facility" in m else None
        self.severities = {name_or_code(SEVERITIES, x) for x in as_list(m["severity"])} if "severity" in m else None
        self.strings = {k: {str(x).encode() for x in as_list(m[k])} for k in ("hostname", "app_name", "msgid")
                        if k in m}
        self.contains = [str(x).encode() for x in as_list(m["contains"])] if "contains" in m else None
        self.regex = re.compile(m["regex"].encode()) if "regex" in m else None
        self.sec = m.get("cef") or m.get("leef")
        self.cidrs = {k: networks(m[k]) for k in ("source", "destination", "exporter") if k in m}
        self.ports = {k: port_ranges(m[k]) for k in ("src_port", "dst_port") if k in m}
        self.protocols = ({PROTOCOLS.get(str(x), None) or int(x) for x in as_list(m["protocol"])}
                          if "protocol" in m else None)
        self.bounds = {k: int(m[k]) for k in ("bytes_min", "bytes_max", "packets_min", "packets_max") if k in m}
        ti = m.get("threat_intel")
        self.threat = (None if ti in (None, False) else {"source", "destination", "message"}
                       if ti is True or ti == "any" else set(as_list(ti)))

    def matches(self, r):
        if r["kind"] not in self.kinds:
            return False
        if r["kind"] == "syslog":
            if self.facilities is not None and r["facility"] not in self.facilities:
                return False
            if self.severities is not None and r["severity"] not in self.severities:
                return False
            if any(r[k] not in v for k, v in self.strings.items()):
                return False
            if self.contains is not None and not any(lit in r["message"] for lit in self.contains):
                return False
            if self.regex is not None and not self.regex.search(r["message"]):
                return False
            if self.sec is not None:
                if b"CEF:" in r["message"] or b"LEEF:" in r["message"]:
                    raise SystemExit(f"rule {self.id}: CEF/LEEF fields are not modelled by this oracle")
                return False
        if any(not any(r[k] in n for n in nets) for k, nets in self.cidrs.items()):
            return False
        if r["kind"] == "flow":
            if any(not any(lo <= r[k] <= hi for lo, hi in rs) for k, rs in self.ports.items()):
                return False
            if self.protocols is not None and r["protocol"] not in self.protocols:
                return False
            for k, limit in self.bounds.items():
                have = r["bytes" if k.startswith("bytes") else "packets"]
                if (have < limit) if k.endswith("_min") else (have > limit):
                    return False
        if self.threat is not None and not any(place in self.threat for place, _, _ in r["hits"]):
            return False
        return True


class Oracle:
    def __init__(self, config_path):
        with open(config_path) as f:
            cfg = yaml.safe_load(f)
        here = os.path.dirname(config_path)
        sift = cfg.get("sift") or {}
        rel = lambda p: p if os.path.isabs(p) else os.path.join(here, p)  # noqa: E731
        rules = list(sift.get("rules") or [])
        for path in sift.get("rule_files") or []:
            with open(rel(path)) as f:
                doc = yaml.safe_load(f)
            rules += doc["rules"] if isinstance(doc, dict) else doc or []
        self.rules = [Rule(r) for r in rules]
        self.iocs = Blocklists([rel(p) for p in sift.get("ioc_files") or []])
        self.default_drop = sift.get("default_action", "keep") == "drop"
        topics = (cfg.get("kafka") or {}).get("topics") or {}
        self.topics = {"syslog": topics.get("syslog", "tapsift.syslog"), "flow": topics.get("flows", "tapsift.flows"),
                       "alerts": sift.get("alerts_topic", "tapsift.alerts")}
        self.syslog_ports = set((cfg.get("dataplane") or {}).get("syslog_ports", [514]))
        self.counters = OrderedDict((r.id, Counter(matched=0, dropped=0, kept=0, routed=0, tagged=0))
                                    for r in self.rules)
        self.sampled = Counter()

    def threat_hits(self, r):
        """[(place, field, address)] in the order tapsift lists enrichments."""
        places = [("source", "source.ip", r["source"]), ("destination", "destination.ip", r["destination"])]
        if r["kind"] == "syslog":
            places += [("message", "message", a) for a in message_ipv4s(r["message"])]
        return [(p, f, a) for p, f, a in places if self.iocs.lookup(a)]

    def decide(self, r):
        """Sets r["outcome"] (drop / keep / route), r["rule"], r["tags"], r["topic"], r["enrichments"]."""
        r["hits"] = self.threat_hits(r)
        r.update(outcome="drop" if self.default_drop else "keep", rule=None, tags=[], topic=self.topics[r["kind"]])
        for rule in self.rules:
            if not rule.matches(r):
                continue
            c = self.counters[rule.id]
            c["matched"] += 1
            if rule.action == "tag":
                c["tagged"] += 1
                r["tags"] += rule.tags
                continue
            r["rule"] = rule.id
            r["tags"] += rule.tags
            if rule.action == "drop":
                r["outcome"] = "drop"
            elif rule.action == "sample":
                kept = self.sampled[rule.id] % rule.sample == 0
                self.sampled[rule.id] += 1
                r["outcome"] = "keep" if kept else "drop"
            elif rule.action == "route":
                r["outcome"] = "route"
                r["topic"] = self.topics["alerts"] if rule.topic == "alerts" else rule.topic
            else:
                r["outcome"] = "keep"
            c[{"drop": "dropped", "keep": "kept", "route": "routed"}[r["outcome"]]] += 1
            break
        r["enrichments"] = [{"indicator": {"ip": str(a), **{k: v for k, v in self.iocs.lookup(a).items() if v is not None}},
                             "matched": {"atomic": str(a), "field": f, "type": "indicator_match_rule"}}
                            for _, f, a in r["hits"]]
        return r


def syslog_records(oracle):
    out = []
    for d in udp_datagrams(SYSLOG_PCAP, oracle.syslog_ports):
        h = parse_syslog(d["payload"])
        check.true(f"syslog frame {d['frame']}: no IPv6 text in the message (not modelled)",
                   not has_ipv6_candidate(h["message"]))
        out.append(dict(h, kind="syslog", key=("syslog", d["frame"]), frame=d["frame"],
                        source=ipaddress.ip_address(d["src"]), destination=ipaddress.ip_address(d["dst"])))
    return out


def flow_records():
    out = []
    for t in tshark_flow_records(FLOWS_PCAP):
        if t["options"]:
            continue
        out.append({"kind": "flow", "key": ("flow", t["frame"], t["record"]), "tshark": t,
                    "source": ipaddress.ip_address(t["source.ip"]),
                    "destination": ipaddress.ip_address(t["destination.ip"]),
                    "exporter": ipaddress.ip_address(t["observer.ip"]), "src_port": t["source.port"],
                    "dst_port": t["destination.port"], "protocol": t["netflow.protocol_identifier"],
                    "bytes": t["netflow.octet_delta_count"], "packets": t["netflow.packet_delta_count"]})
    return out


# ------------------------------------------------------------------ comparison

def text(b):
    return None if b is None else b.decode("utf-8", errors="replace")


def event_key(e):
    if get_path(e, "event.dataset") == "syslog":
        return ("syslog", e["event"]["sequence"])
    return ("flow", e["event"]["sequence"], e["tapsift"]["flow_record"])


def check_event(r, key, e, topic):
    what = f"{r['kind']} {'/'.join(map(str, r['key'][1:]))}"
    check.eq(f"{what}: topic", topic, r["topic"])
    check.eq(f"{what}: tags", e.get("tags", []), r["tags"])
    check.eq(f"{what}: tapsift.rule", get_path(e, "tapsift.rule"), r["rule"])
    check.eq(f"{what}: threat.enrichments", get_path(e, "threat.enrichments", []), r["enrichments"])
    if r["kind"] == "syslog":
        check.eq(f"{what}: key", key, str(r["source"]))
        check.eq(f"{what}: event.kind", get_path(e, "event.kind"), "alert" if r["enrichments"] else "event")
        # The oracle's header reader against tapsift's parse.
        check.eq(f"{what}: facility", get_path(e, "log.syslog.facility.name"), FACILITIES[r["facility"]])
        check.eq(f"{what}: severity", get_path(e, "log.syslog.severity.name"), SEVERITIES[r["severity"]])
        check.eq(f"{what}: format", get_path(e, "tapsift.format"), r["format"])
        for field, ours in (("hostname", "hostname"), ("appname", "app_name"), ("procid", "procid"),
                            ("msgid", "msgid")):
            check.eq(f"{what}: log.syslog.{field}", get_path(e, f"log.syslog.{field}"), text(r[ours]))
        check.eq(f"{what}: message", e.get("message"), text(r["message"]))
    else:
        check.eq(f"{what}: key", key, str(r["exporter"]))
        for field, ours in (("source.ip", "source"), ("destination.ip", "destination"),
                            ("observer.ip", "exporter")):
            check.eq(f"{what}: {field}", get_path(e, field), str(r[ours]))
        for field, ours in (("source.port", "src_port"), ("destination.port", "dst_port"),
                            ("netflow.octet_delta_count", "bytes"), ("netflow.packet_delta_count", "packets")):
            check.eq(f"{what}: {field}", get_path(e, field), r[ours])
        check.eq(f"{what}: network.iana_number", get_path(e, "network.iana_number"), str(r["protocol"]))


def main():
    oracle = Oracle(CONFIG)
    syslog = [oracle.decide(r) for r in syslog_records(oracle)]
    flows = [oracle.decide(r) for r in flow_records()]
    records = syslog + flows
    out = [r for r in records if r["outcome"] != "drop"]
    n_out = {kind: sum(1 for r in out if r["kind"] == kind) for kind in ("syslog", "flow")}
    by_topic = Counter(r["topic"] for r in out)
    routed = sum(1 for r in out if r["outcome"] == "route")
    with_threats = sum(1 for r in out if r["enrichments"])
    want_ratio = Fraction(len(out), len(records))
    check.true("the oracle sees the demo's 193 syslog datagrams and 320 flow records",
               (len(syslog), len(flows)) == (193, 320))

    with Broker("sift-ruleset") as broker:
        rc, c, log = replay([SYSLOG_PCAP, FLOWS_PCAP], broker.bootstrap, "sift-ruleset", ["--config", CONFIG])
        check.eq("replay exit code", rc, 0)
        if c is None:
            print(log)
            check.finish()
        check.true("accounting identity (balanced)", accounting_balances(c))
        check.eq("syslog records in (produced + filtered)", c["produced"] + c["filtered"], len(syslog))
        check.eq("syslog produced", c["produced"], n_out["syslog"])
        check.eq("syslog filtered", c["filtered"], len(syslog) - n_out["syslog"])
        check.eq("deduplicated", c["deduplicated"], 0)
        check.eq("flow records in", c["flow"]["records"], len(flows))
        check.eq("flow produced", c["flow"]["produced"], n_out["flow"])
        check.eq("flow filtered", c["flow"]["filtered"], len(flows) - n_out["flow"])
        check.eq("routed", c["routed"], routed)
        check.eq("threat_matches", c["threat_matches"], with_threats)
        check.eq("cef_events + leef_events", c["cef_events"] + c["leef_events"], 0)
        check.eq("delivered", c["delivered"], len(out))
        check.eq("delivery_failed", c["delivery_failed"], 0)
        check.eq("sift.reloads", (c["sift"]["reloads"], c["sift"]["reloads_failed"]), (0, 0))
        check.eq("rules with counters", sorted(c["sift"]["rules"]), sorted(oracle.counters))
        for rid, want in oracle.counters.items():
            check.eq(f"rule {rid} counters", c["sift"]["rules"].get(rid), dict(want))
        got_ratio = Fraction(c["produced"] + c["flow"]["produced"],
                             c["produced"] + c["filtered"] + c["flow"]["records"])
        check.eq("noise reduction: events out / records in", got_ratio, want_ratio)

        topics = consume_topics(broker.bootstrap, {t: by_topic[t] for t in oracle.topics.values()})
    want = {r["key"]: r for r in out}
    seen = Counter()
    for topic, events in topics.items():
        check.eq(f"events read back from {topic}", len(events), by_topic[topic])
        for key, e in events:
            k = event_key(e)
            seen[k] += 1
            if k not in want:
                check.true(f"{topic}: event {k} is one the oracle drops (rule {oracle_rule(records, k)})", False)
                continue
            check_event(want[k], key, e, topic)
    check.eq("events read back twice", [k for k, n in seen.items() if n > 1], [])
    check.eq("kept records with no event", [k for k in want if k not in seen], [])
    alerts = [e for _, e in topics[oracle.topics["alerts"]]]
    check.true("the alerts topic holds syslog and flow events",
               {get_path(e, "event.dataset") for e in alerts} == {"syslog", "netflow.log"})
    check.true("every alert names the example list",
               all(m["indicator"].get("provider") == "example-blocklist"
                   for e in alerts for m in get_path(e, "threat.enrichments", [])) and
               all(get_path(e, "threat.enrichments") for e in alerts))
    summary(syslog, flows, out, by_topic, want_ratio, oracle)
    check.finish()


def oracle_rule(records, k):
    return next((r["rule"] for r in records if r["key"] == k), "?")


def summary(syslog, flows, out, by_topic, ratio, oracle):
    n_in, n_out = len(syslog) + len(flows), len(out)
    print(f"syslog: {len(syslog)} records in, {sum(1 for r in out if r['kind'] == 'syslog')} events out; "
          f"flows: {len(flows)} records in, {sum(1 for r in out if r['kind'] == 'flow')} events out")
    print(f"topics: {dict(by_topic)}")
    print(f"noise reduction: {n_out}/{n_in} = {ratio.numerator}/{ratio.denominator} of the records reach Kafka "
          f"({float(ratio):.1%}); {len(oracle.rules)} rules, each one's counters compared")
    examples = [("routed syslog", lambda r: r["kind"] == "syslog" and r["outcome"] == "route"),
                ("routed flow", lambda r: r["kind"] == "flow" and r["outcome"] == "route"),
                ("sampled", lambda r: (r["rule"] or "").startswith("sample-")),
                ("kept by a rule, tagged", lambda r: r["rule"] and r["tags"] and r["outcome"] == "keep"),
                ("kept by default, tagged", lambda r: r["rule"] is None and r["tags"])]
    for what, pick in examples:
        r = next((r for r in out if pick(r)), None)
        if r:
            print(f"  e.g. {what}: {r['kind']} {'/'.join(map(str, r['key'][1:]))} -> {r['topic']}, "
                  f"tapsift.rule {r['rule']}, tags {r['tags']}, {len(r['enrichments'])} enrichment(s)")


if __name__ == "__main__":
    main()
