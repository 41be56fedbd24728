"""tshark as an oracle: for syslog captures, tshark's syslog dissector (Debian 4.0) and tapsift
(events read back from the broker) must agree field by field.

Every frame tshark decodes as UDP syslog must have exactly one event (event.sequence ==
frame.number) and every event must belong to such a frame. Every disagreement must be listed,
with its reason, in tshark-known-differences.tsv (capture<TAB>frame<TAB>field<TAB>reason);
anything else fails the test, and so does a listed difference that no longer occurs. The test
also fails if it compared no fields (or none for some capture).

What tshark 4.0's dissector (epan/dissectors/packet-syslog.c) gives, and how it is mapped:

  PRI       syslog.facility / syslog.level: '<', up to 3 digits, an optional '>';
            facility = (pri & 0x3f8) >> 3, level = pri & 7. No '<' -> no fields.
            Compared with log.syslog.facility.code / severity.code. An event noted "no_pri"
            carries the RFC 3164 default PRI 13, not one from the wire: its facility and
            severity are compared as absent.
  syslog.msg  everything after the PRI. When tshark recognises no header (below) our message
            must be a suffix of it ("message" field; not compared when our message is empty,
            since an empty suffix proves nothing).
  RFC 5424  only when syslog.msg starts with "1 ": syslog.version, syslog.timestamp (parsed
            as ISO 8601), syslog.hostname, syslog.appname, syslog.procid are the next
            SP-terminated tokens; syslog.msgid is everything after procid (MSGID, SD and MSG).
            Compared: version, timestamp, hostname, appname, procid exactly; msgid with the
            first SP-terminated token of tshark's syslog.msgid; message: after that token and
            one SP, tshark's text must be  SD SP [BOM] + our message  (just  SD [SP] [BOM]  when
            our message is empty), where SD is "-" exactly when we report no structured_data
            and "[...]" when we do -- or, for an event noted "bad_structured_data" (we found
            the SD not well-formed and, as documented, kept it in the message), our message
            must be all of that text. tshark does not decode STRUCTURED-DATA, so its content
            is not compared.
  RFC 3164  only when the 16 bytes after the PRI look like "Mmm dd hh:mm:ss " (positions of
            the spaces and colons only): syslog.timestamp_rfc3164 (the 15 characters),
            syslog.hostname (the next SP-terminated token), syslog.procid (the leading run of
            ASCII letters/digits of the next token, if shorter than 32) and syslog.msgid
            (everything after that run). Compared:
              timestamp  tshark's text read as month (English abbreviation, any case), day,
                         hh:mm:ss in UTC (our configured rfc3164_timezone default), in the year
                         docs/syslog-rules.md gives for tshark's frame.time_epoch -- the
                         documented rule for yearless timestamps -- against our @timestamp,
                         exactly;
              hostname   exactly;
              appname    tshark's syslog.procid against the leading ASCII letter/digit run
                         of our log.syslog.appname (absent = "");
              message    tshark's syslog.msgid must be  R + our message, R = the rest of our
                         appname after that run, then "[" procid "]" when we report a procid,
                         then ':' if one follows, then SP if one follows, then a BOM if one
                         follows: i.e. our appname, procid and message partition exactly what
                         tshark left after its procid.
  format    tapsift.format must be rfc5424 / rfc3164 when tshark decoded that header.

Normalisations (and nothing else):
  * Strings are compared as bytes: tshark's field extent (the hex `-x` exports as FIELD_raw)
    against our JSON string. tshark's display strings are lossy (syslog.msgid and the RFC 3164
    fields use ENC_ASCII, which shows every byte >= 0x80 as U+FFFD). JSON cannot carry invalid
    UTF-8, so our events replace every byte that is not part of a valid RFC 3629 sequence with
    U+FFFD; tshark's bytes get the same replacement before comparing (a no-op for valid UTF-8).
  * RFC 5424 NILVALUE: tshark shows "-" literally; we omit the field. An empty token (two SPs)
    is shown by tshark as "" and omitted by us (our events never carry empty strings). Both map
    to absent.
  * Trailing CR, LF and NUL bytes: our message drops them (line terminators and padding that
    senders append), tshark keeps them. They are stripped from tshark's text before comparing
    messages.
  * A UTF-8 BOM (EF BB BF) right before the message: RFC 5424 marks UTF-8 MSG text with it and
    we drop it; tshark keeps it in the text, so it may sit between the header and our message.
  * syslog.timestamp "Jan  1, 1970 00:00:00 UTC" (no fraction: tshark's rendering of a token its
    ISO 8601 parser rejected, e.g. the NILVALUE "-") means "no timestamp"; an event noted
    "no_timestamp" (arrival time stands in) has no timestamp either. tshark runs with TZ=UTC.

Run: TAPSIFT_BIN=... TAPSIFT_SOURCE_DIR=... [TAPSIFT_WORK_DIR=...] python3 test_tshark_oracle.py
TAPSIFT_ORACLE_VERBOSE=1 also prints every known difference with both values;
TAPSIFT_ORACLE_DUMP=1 prints every comparison (tab-separated).
"""
import calendar
import codecs
import json
import os
import re
import subprocess
import time

from e2e_support import Broker, Check, SRC, WORK, consume_all, make_capture, replay, tsv_rows

KNOWN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tshark-known-differences.tsv")
VERBOSE = os.environ.get("TAPSIFT_ORACLE_VERBOSE") == "1"
DUMP = os.environ.get("TAPSIFT_ORACLE_DUMP") == "1"  # every comparison, tab-separated
FIELDS = {"event", "format", "facility", "severity", "version", "timestamp", "hostname", "appname",
          "procid", "msgid", "message"}

# (label used in the TSV, pcap path; None = built by make_capture("corpus", ...))
CAPTURES = [
    ("corpus", None),
    ("demo-syslog", "data/captures/demo-syslog.pcap"),
    ("ndpi/syslog", "tests/corpus/pcap/ndpi/syslog.pcap"),
    ("tcpdump/syslog_udp", "tests/corpus/pcap/tcpdump/syslog_udp.pcap"),
    ("zeek/syslog-single-udp", "tests/corpus/pcap/zeek/syslog-single-udp.pcap"),
    ("zeek/syslog-missing-pri", "tests/corpus/pcap/zeek/syslog-missing-pri.pcap"),
    ("zeek/fake-syslog-with-padding", "tests/corpus/pcap/zeek/fake-syslog-with-padding.pcap"),
]

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
TSHARK_NO_TIME = "Jan  1, 1970 00:00:00 UTC"
ASCII_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
BOM = "\ufeff"

check = Check()


# ---------------------------------------------------------------- value helpers

def _one_byte_replace(err):
    return ("\ufffd", err.start + 1)


codecs.register_error("tapsift-per-byte", _one_byte_replace)


def text(raw):
    """tshark field bytes -> str, invalid UTF-8 replaced byte by byte (as our JSON writer does)."""
    return raw.decode("utf-8", errors="tapsift-per-byte")


def nil(s):
    """RFC 5424 NILVALUE / empty token -> absent."""
    return None if s in ("-", "") else s


def strip_trailing(s):
    return s.rstrip("\r\n\0")


def ns_of_iso(ts):
    """Our @timestamp (YYYY-MM-DDThh:mm:ss.fffZ, 3/6/9 fraction digits) -> ns since the epoch."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", ts)
    if not m:
        return f"unparseable {ts!r}"
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = int((m.group(7) or "0").ljust(9, "0"))
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + frac


def ns_of_tshark_time(disp):
    """tshark's absolute-time display ("Oct 11, 2003 22:14:15.003000000 UTC") -> ns."""
    if disp == TSHARK_NO_TIME:
        return None
    m = re.fullmatch(r"(\w{3}) +(\d+), (\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d{9}))? UTC", disp)
    if not m:
        return f"unparseable {disp!r}"
    mo = MONTHS.index(m.group(1).lower()) + 1
    d, y, h, mi, s = (int(m.group(i)) for i in (2, 3, 4, 5, 6))
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**9 + int(m.group(7) or 0)


def ns_of_bsd(txt, frame_ns):
    """tshark's syslog.timestamp_rfc3164 text, in UTC, in the year docs/syslog-rules.md gives:
    the latest that dates it no later than the month after the frame time's."""
    m = re.fullmatch(r"([A-Za-z]{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d)", txt)
    if not m or m.group(1).lower() not in MONTHS or not m.group(2).strip().isdigit():
        return f"not a date: {txt!r}"
    mo = MONTHS.index(m.group(1).lower()) + 1
    d, h, mi, s = int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))
    if not (1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return f"not a date: {txt!r}"
    frame = time.gmtime(frame_ns // 10**9)
    frame_month = frame.tm_year * 12 + frame.tm_mon - 1
    year = max(y for y in (frame.tm_year - 1, frame.tm_year, frame.tm_year + 1)
               if y * 12 + mo - 1 <= frame_month + 1)
    return calendar.timegm((year, mo, d, h, mi, s, 0, 0, 0)) * 10**9


def fmt_ns(v):
    if not isinstance(v, int):
        return v
    secs, frac = divmod(v, 10**9)
    y, mo, d, h, mi, s = time.gmtime(secs)[:6]
    return f"{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:09}Z"


def alnum_prefix(s):
    b = (s or "").encode()
    n = 0
    while n < len(b) and b[n] in ASCII_ALNUM:
        n += 1
    return b[:n].decode()


# ---------------------------------------------------------------- tshark

def tshark_frames(pcap, extra_ports=()):
    """{frame number: {"time_ns", "dst_port", "fields": {name: (display, bytes, frame offset)}}}
    for every frame tshark decodes as UDP syslog."""
    cmd = ["tshark", "-n", "-r", pcap, "-T", "json", "-x", "--no-duplicate-keys", "-Y", "udp && syslog"]
    for p in extra_ports:
        cmd += ["-d", f"udp.port=={p},syslog"]
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"tshark failed: {p.stderr.decode(errors='replace')}")
    frames = {}
    for pkt in json.loads(p.stdout or b"[]"):
        layers = pkt["_source"]["layers"]
        fr = layers["frame"]
        num = int(fr["frame.number"])
        sec, _, frac = fr["frame.time_epoch"].partition(".")
        fields = {}

        def walk(d):
            for k, v in d.items():
                if k.endswith("_tree") and isinstance(v, dict):
                    walk(v)
                elif k.startswith("syslog.") and not k.endswith("_raw"):
                    if isinstance(v, list):
                        raise RuntimeError(f"{pcap} frame {num}: {k} occurs more than once")
                    raw = d.get(k + "_raw")  # [hex, offset in frame, length, bitmask, type]
                    if raw is None and v == "":  # tshark exports no _raw for a zero-length field
                        fields[k] = (v, b"", None)
                        continue
                    is_bytes = len(raw[0]) == 2 * raw[2]  # not for the PRI bit fields
                    fields[k] = (v, bytes.fromhex(raw[0]) if is_bytes else None, raw[1])

        walk(layers["syslog"])
        udp = layers["udp"][-1] if isinstance(layers["udp"], list) else layers["udp"]  # innermost
        frames[num] = {"time_ns": int(sec) * 10**9 + int(frac.ljust(9, "0")[:9]),
                       "dst_port": int(udp["udp.dstport"]), "fields": fields}
    return frames


# ---------------------------------------------------------------- field mapping

def compare_frame(t, e):
    """[(field, tshark value, our value, note[, agree])] for one frame: tshark's view vs our event.
    agree defaults to tshark value == our value; the message checks give it explicitly."""
    f = t["fields"]
    s = e["log"]["syslog"]
    notes = e.get("tapsift", {}).get("notes", "").split(",")
    out = []

    def ours(k):
        return s.get(k)

    our_message = e["message"]
    no_pri = "no_pri" in notes
    tf = f.get("syslog.facility")
    out.append(("facility", int(tf[0]) if tf else None, None if no_pri else s["facility"]["code"], ""))
    tl = f.get("syslog.level")
    out.append(("severity", int(tl[0]) if tl else None, None if no_pri else s["severity"]["code"], ""))
    our_ts = None if "no_timestamp" in notes else ns_of_iso(e["@timestamp"])

    _, msg_raw, msg_off = f["syslog.msg"]
    if "syslog.version" in f:  # RFC 5424 header
        out.append(("format", "rfc5424", e["tapsift"]["format"], ""))
        out.append(("version", text(f["syslog.version"][1]), ours("version"), ""))
        if "syslog.timestamp" in f:
            out.append(("timestamp", fmt_ns(ns_of_tshark_time(f["syslog.timestamp"][0])), fmt_ns(our_ts),
                        f"token {text(f['syslog.timestamp'][1])!r}"))
        for name in ("hostname", "appname", "procid"):
            if f"syslog.{name}" in f:
                out.append((name, nil(text(f[f"syslog.{name}"][1])), ours(name), ""))
        starts = [f[k][2] for k in ("syslog.msgid_bom", "syslog.msgid") if k in f and f[k][2] is not None]
        if starts:
            rest = strip_trailing(text(msg_raw[min(starts) - msg_off:]))
            msgid, _, after = rest.partition(" ")
            out.append(("msgid", nil(msgid), ours("msgid"), ""))
            m = strip_trailing(our_message)
            has_sd = "structured_data" in s
            ok = False
            if after.endswith(m):
                sd_part = after[:len(after) - len(m)]
                if sd_part.endswith(BOM):
                    sd_part = sd_part[:-1]
                if sd_part.endswith(" "):
                    sd_part = sd_part[:-1]
                elif m:
                    sd_part = None  # RFC 5424: SD SP MSG -- a non-empty message needs its SP
                if sd_part is not None:
                    ok = (not after and not m) or (sd_part == "-" and not has_sd) or (
                        has_sd and sd_part.startswith("[") and sd_part.endswith("]"))
                # SD we found not well-formed stays in the message: then it is all of tshark's text
                ok = ok or ("bad_structured_data" in notes and not has_sd and after == m)
            out.append(("message", after, our_message,
                        f"SD {'present' if has_sd else 'absent'} in ours; notes {','.join(notes)}", ok))
    elif "syslog.timestamp_rfc3164" in f:  # RFC 3164 header
        out.append(("format", "rfc3164", e["tapsift"]["format"], ""))
        bsd = text(f["syslog.timestamp_rfc3164"][1])
        out.append(("timestamp", fmt_ns(ns_of_bsd(bsd, t["time_ns"])), fmt_ns(our_ts), f"text {bsd!r}"))
        if "syslog.hostname" in f:
            out.append(("hostname", text(f["syslog.hostname"][1]), ours("hostname"), ""))
        if "syslog.procid" in f:
            tp = text(f["syslog.procid"][1])
            out.append(("appname", tp, alnum_prefix(ours("appname")),
                        f"our appname {ours('appname')!r}"))
        if "syslog.msgid" in f:
            tm = strip_trailing(text(f["syslog.msgid"][1]))
            tp = text(f["syslog.procid"][1]) if "syslog.procid" in f else ""
            appname = ours("appname") or ""
            r = (appname[len(tp):] if appname.startswith(tp) else None)
            m = strip_trailing(our_message)
            ok = False
            if r is not None:
                if ours("procid") is not None:
                    r += f"[{ours('procid')}]"
                # then ':' if one follows, SP if one follows, a BOM if one follows -- greedily
                for sep in (":", " ", BOM):
                    if tm.startswith(r + sep):
                        r += sep
                ok = tm == r + m
            out.append(("message", tm, our_message,
                        f"our appname {ours('appname')!r} procid {ours('procid')!r}", ok))
    else:  # tshark recognised no header: only the suffix of syslog.msg can be checked
        m = strip_trailing(our_message)
        if m:
            whole = strip_trailing(text(msg_raw))
            out.append(("message", whole, our_message, "tshark: no header; ours must be a suffix",
                        whole.endswith(m)))
    return out


# ---------------------------------------------------------------- known differences

def load_known():
    known = {}
    for where, n, line, cols in tsv_rows(KNOWN_FILE):
        ok = (len(cols) == 4 and cols[1].isdigit() and cols[2] in FIELDS and cols[3].strip()
              and cols[0] in {c for c, _ in CAPTURES})
        check.true(f"{where}: want capture<TAB>frame<TAB>field<TAB>reason, got {line!r}", ok)
        if not ok:
            continue
        key = (cols[0], int(cols[1]), cols[2])
        check.true(f"{where}: duplicate entry {key}", key not in known)
        known[key] = cols[3]
    return known


def short(v, n=160):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "...'"


# ---------------------------------------------------------------- main

def run():
    known = load_known()
    seen_known = set()
    agreed_known = {}
    total_fields = 0
    for label, path in CAPTURES:
        if path is None:
            pcap, _ = make_capture("corpus", "oracle-corpus")
        else:
            pcap = os.path.join(SRC, path)
        name = "oracle-" + re.sub(r"[^A-Za-z0-9]+", "-", label)
        tframes = tshark_frames(pcap)
        ports = sorted({fr["dst_port"] for fr in tframes.values()} - {514})
        extra = []
        if ports:  # tshark decoded syslog by the source port 514: make tapsift listen there too
            tframes = tshark_frames(pcap, ports)
            cfg = os.path.join(WORK, f"{name}.yaml")
            with open(cfg, "w") as fh:
                fh.write("dataplane:\n  syslog_ports: [%s]\n" % ", ".join(str(p) for p in [514] + ports))
            extra = ["--config", cfg]
        with Broker(name) as broker:
            rc, c, out = replay(pcap, broker.bootstrap, name, extra=extra)
            check.eq(f"{label}: replay exit code", rc, 0)
            if c is None:
                print(out)
                check.true(f"{label}: stats json written", False)
                continue
            events = consume_all(broker.bootstrap, "tapsift.syslog", c["produced"])
        check.eq(f"{label}: events read back", len(events), c["produced"])
        by_seq = {}
        for _, e in events:
            seq = e["event"]["sequence"]
            check.true(f"{label}: one event per frame (frame {seq} twice)", seq not in by_seq)
            by_seq[seq] = e

        stats = {"frames": 0, "fields": 0, "agree": 0, "known": 0, "unexplained": 0}

        def judge(frame, field, tval, oval, note, agree):
            key = (label, frame, field)
            if field != "event":  # event presence is a per-frame check, not a field comparison
                stats["fields"] += 1
            if DUMP:
                print(f"DUMP\t{label}\t{frame}\t{field}\t{agree}\t{short(tval, 100)}\t"
                      f"{short(oval, 100)}\t{note}")
            if agree:
                stats["agree"] += field != "event"
                check.true("", True)
                if key in known:
                    agreed_known[key] = tval
                return
            what = f"{label} frame {frame} {field}: tshark {short(tval)}, tapsift {short(oval)}" + (
                f" [{note}]" if note else "")
            if key in known:
                stats["known"] += 1
                seen_known.add(key)
                check.true("", True)
                if VERBOSE:
                    print(f"KNOWN: {what} -- {known[key]}")
            else:
                stats["unexplained"] += 1
                check.true(f"{what} (a parser bug, or list it in {os.path.basename(KNOWN_FILE)})", False)

        for num in sorted(set(tframes) | set(by_seq)):
            t, e = tframes.get(num), by_seq.get(num)
            # tshark: a UDP syslog frame or not; tapsift: an event for that frame or not.
            judge(num, "event", "syslog" if t else "none", "syslog" if e else "none", "", bool(t) == bool(e))
            if t is None or e is None:
                continue
            stats["frames"] += 1
            for field, tval, oval, note, *agree in compare_frame(t, e):
                judge(num, field, tval, oval, note, agree[0] if agree else tval == oval)
        total_fields += stats["fields"]
        check.true(f"{label}: compared no fields", stats["fields"] > 0)
        print(f"{label}: {stats['frames']} frames compared, {stats['fields']} fields compared, "
              f"{stats['agree']} agree, {stats['known']} known differences, "
              f"{stats['unexplained']} unexplained")

    for key, reason in sorted(known.items()):
        if key not in seen_known:
            now = (f"tshark and tapsift now agree ({short(agreed_known[key])})" if key in agreed_known
                   else "that field is no longer compared")
            check.true(f"{key[0]} frame {key[1]} {key[2]}: listed in {os.path.basename(KNOWN_FILE)} "
                       f"({reason}) but {now}", False)
    check.true("compared no fields at all", total_fields > 0)
    print(f"total: {total_fields} fields compared")


run()
check.finish()
