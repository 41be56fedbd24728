"""Sifting rules reloaded under traffic (SIGHUP), read back from the broker.

`tapsift run` loops a small capture on an in-process ring port (`ring:FILE`) as fast as it takes
it, into an external `tapsift broker`: the events must be read back after the run (the embedded
broker ends with the process), and a consumer reads them while they are written, so each phase
waits for evidence that its rules are in force instead of sleeping a fixed time.

  rules A (a-*)            drop noise, drop alpha, keep beta
  SIGHUP, rules B (b-*)    drop noise, tag threat intel, drop beta, keep alpha (regex, host stage)
  SIGHUP, invalid file     a bad regex: refused, B stays, the log names file:line and rule
  SIGHUP, new indicators   B again, the sender 10.9.0.3 now listed: its events carry threat intel
  SIGINT

Every frame's message says which loop position it is ("reload test frame N"); event.sequence is
the receive order on the one RX queue, so frame N = (sequence - 1) % loop length. From the
counters and the events this checks: reloads 2, failed 1; the accounting identity; every event
delivered and read back once; per rule, the events read back equal its counters, and the
counters of A and B add up to exactly the frames received; the switch from A to B (and to the new
indicators) happens once, at one sequence boundary, consistent with the counters.

In the emulated-card variant (e2e.emulated_card.sift_reload) the config selects the xrt backend
on the emulated card, where the rule tables are uploaded to device memory at each reload, and
every assertion above must hold the same. Two runs cannot be compared event for event: how many
loops each ruleset sees, and the sequence of each switch, depend on timing.

TAPSIFT_SANITIZED=1 (ASan build): longer phases, fewer events required per phase."""
import collections
import json
import os
import signal
import subprocess
import sys
import time

from scapy.all import IP, UDP, Ether, wrpcap

from e2e_support import BIN, EMULATED_CARD, OFFLOAD_YAML, WORK, Broker, Check, OutputWatcher, TopicTail, log_lines

check = Check()
SANITIZED = os.environ.get("TAPSIFT_SANITIZED") == "1"
PHASE_S = 3.0 if SANITIZED else 2.0     # at least this long under each ruleset
MIN_EVENTS = 50 if SANITIZED else 200   # and at least this many events decided by it, read back
WAIT_S = 90                             # for anything that should take a second or two
WORK = os.path.abspath(WORK)
NAME = "sift-reload"

# The looped capture: per sender, NOISE frames of app 'noise' (dropped by both rulesets, in the
# kernel), then one 'alpha', one 'beta', one 'gamma' (no rule: default keep). About 3% of what is
# received becomes an event, so the consumer keeps up at full speed on two cores.
SENDERS = ["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"]
IOC_SENDER = "10.9.0.3"
NOISE = 60
FRAMES = [(src, app) for src in SENDERS for app in ["noise"] * NOISE + ["alpha", "beta", "gamma"]]
LOOP = len(FRAMES)

RULES_A = """rules:
  - id: a-drop-noise
    match: {app_name: noise}
    action: drop
  - id: a-drop-alpha
    match: {app_name: alpha}
    action: drop
  - id: a-keep-beta
    match: {app_name: beta}
    action: keep
"""
RULES_B = """rules:
  - id: b-drop-noise
    match: {app_name: noise}
    action: drop
  - id: b-tag-ioc
    match: {threat_intel: source}
    action: tag
    tags: [ioc-hit]
  - id: b-drop-beta
    match: {app_name: beta}
    action: drop
  - id: b-keep-alpha
    match:
      app_name: alpha
      regex: 'reload test frame [0-9]+$'
    action: keep
"""
# Valid rules first, then one that cannot load: none of it may take effect.
RULES_BAD = """rules:
  - id: c-drop-noise
    match: {app_name: noise}
    action: drop
  - id: c-keep-beta
    match: {app_name: beta}
    action: keep
  - id: c-bad-regex
    match:
      app_name: gamma
      regex: 'frame (\\d+'
    action: drop
"""
IOC_BEFORE = "203.0.113.250  # not a sender of the capture\n"
IOC_AFTER = IOC_BEFORE + f"{IOC_SENDER}  # reload test\n"
A_IDS = {"a-drop-noise", "a-drop-alpha", "a-keep-beta"}
B_IDS = {"b-drop-noise", "b-tag-ioc", "b-drop-beta", "b-keep-alpha"}


def write(path, text):
    """Replaces the file at once: a reload never reads half of it."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def make_capture():
    pcap = os.path.join(WORK, f"{NAME}.pcap")
    frames = []
    for i, (src, app) in enumerate(FRAMES):
        host = SENDERS.index(src) + 1
        msg = f"<14>Nov  1 00:00:00 host{host} {app}[{100 + host}]: reload test frame {i}"
        frames.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst="10.9.0.254")
                      / UDP(sport=40000 + i, dport=514) / msg.encode())
    wrpcap(pcap, frames)
    return pcap


def frames_before(seq, want):
    """How many frames with seq' < seq (the first seq - 1 received) satisfy want(src, app)."""
    n = seq - 1
    per_loop = sum(1 for f in FRAMES if want(*f))
    return n // LOOP * per_loop + sum(1 for f in FRAMES[:n % LOOP] if want(*f))


# What the consumer keeps of each event, and running counts the phases wait on.
Rec = collections.namedtuple("Rec", "partition offset key seq rule app src frame enriched tags kind")
seen = collections.Counter()


def extract(partition, offset, key, e):
    rule = e.get("tapsift", {}).get("rule")
    enriched = bool(e.get("threat", {}).get("enrichments"))
    seen[rule] += 1
    seen["enriched"] += enriched
    return Rec(partition, offset, key, e["event"]["sequence"], rule, e["log"]["syslog"].get("appname"),
               e["source"]["ip"], int(e["message"].rsplit(" ", 1)[1]), enriched, tuple(e.get("tags", ())),
               e["event"]["kind"])


def run():
    t_start = time.time()
    pcap = make_capture()
    cfg = os.path.join(WORK, f"{NAME}.yaml")
    rules = os.path.join(WORK, f"{NAME}.rules.yaml")
    ioc = os.path.join(WORK, f"{NAME}.ioc.txt")
    stats_path = os.path.join(WORK, f"{NAME}.stats.json")
    if os.path.exists(stats_path):
        os.remove(stats_path)
    write(rules, RULES_A)
    write(ioc, IOC_BEFORE)
    with Broker(NAME) as broker:
        # Relative rule and indicator paths: found from the config file's folder.
        write(cfg, f"""dataplane:
  ports:
    - device: "ring:{pcap}"
kafka:
  brokers: "{broker.bootstrap}"
  queue_full_timeout_ms: 600000   # RX waits for the producer: nothing dropped on a full queue
  flush_timeout_ms: 60000
observer:
  name: {NAME}
sift:
  rule_files: [{os.path.basename(rules)}]
  ioc_files: [{os.path.basename(ioc)}]
{OFFLOAD_YAML}""")
        tail = TopicTail(broker.bootstrap, "tapsift.syslog", extract)
        proc = subprocess.Popen([BIN, "run", "--config", cfg, "--stats-json", stats_path],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log = OutputWatcher(proc.stdout)
        try:
            phases = drive(proc, log, tail, rules, ioc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out = log.text()
        check.eq("exit code after SIGINT", proc.returncode, 0)
        if EMULATED_CARD:
            check.true("offloaded through the xrt backend on the emulated card",
                       "offload backend: xrt on the emulated card" in out)
        if not os.path.exists(stats_path):
            print(out[-3000:])
            check.true("the stats JSON was written", False)
            return
        with open(stats_path) as f:
            c = json.load(f)
        # Everything produced is read back; then a moment more, for a duplicate to show up.
        tail.wait_until(lambda r: len(r) >= c["produced"], 60)
        time.sleep(1.0)
        events = tail.stop()
    verify(cfg, rules, out, c, events, phases)
    print(f"{NAME}: {c['rx_packets']} frames received ({c['rx_packets'] / LOOP:.0f} loops), produced "
          f"{c['produced']}, filtered {c['filtered']}, read back {len(events)}; reloads "
          f"{c['sift']['reloads']} (failed {c['sift']['reloads_failed']}); A to B at sequence "
          f"{phases.get('switch_ab')}, new indicators at {phases.get('switch_ioc')}; "
          f"{time.time() - t_start:.1f} s")


def drive(proc, log, tail, rules, ioc):
    """The reloads, each once the previous rules have shown in the events."""
    phases = {}

    def running(what):
        check.true(f"tapsift still running {what}", proc.poll() is None)
        return proc.poll() is None

    def settle(what, predicate):
        t0 = time.time()
        ok = tail.wait_until(predicate, WAIT_S)
        check.true(f"{what} (waited {time.time() - t0:.1f} s)", ok)
        left = PHASE_S - (time.time() - t0)
        if left > 0:
            time.sleep(left)

    def reload(pattern, after):
        proc.send_signal(signal.SIGHUP)
        at = log.wait_for(pattern, WAIT_S, start=after + 1)
        check.true(f"the log says {pattern!r}", at is not None)
        return at if at is not None else after

    started = log.wait_for(r"tapsift_ring0 \(net_ring\) started", WAIT_S)
    check.true("the ring port started", started is not None)
    if started is None or not running("after start"):
        return phases
    settle(f"{MIN_EVENTS} events kept by rules A", lambda r: seen["a-keep-beta"] >= MIN_EVENTS)

    write(rules, RULES_B)
    at = reload(r"\[info\] sift: reloaded ", started)
    settle(f"{MIN_EVENTS} events kept by rules B", lambda r: seen["b-keep-alpha"] >= MIN_EVENTS)
    if not running("under rules B"):
        return phases

    write(rules, RULES_BAD)
    at = reload(r"\[error\] sift: reload of .* failed", at)
    b_before = seen["b-keep-alpha"]
    settle(f"{MIN_EVENTS} more events kept by rules B after the refused reload",
           lambda r: seen["b-keep-alpha"] >= b_before + MIN_EVENTS)
    check.eq("no event decided by the refused rules", sum(n for k, n in seen.items() if k and k.startswith("c-")), 0)
    if not running("after the refused reload"):
        return phases

    write(rules, RULES_B)
    write(ioc, IOC_AFTER)
    reload(r"\[info\] sift: reloaded ", at)
    settle(f"{MIN_EVENTS} events with threat intel", lambda r: seen["enriched"] >= MIN_EVENTS)
    if running("before SIGINT"):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            check.true("exits within 120 s of SIGINT", False)
    return phases


def verify(cfg, rules, out, c, events, phases):
    lines = log_lines(out)
    reloaded = [line for line in lines if line.startswith("[info] sift: reloaded ")]
    failed = [line for line in lines if line.startswith("[error] sift: reload of ")]
    check.eq("reload log lines", len(reloaded), 2)
    check.eq("failed reload log lines", len(failed), 1)
    if len(reloaded) == 2:
        check.true(f"first reload names the rules added and removed: {reloaded[0]}",
                   reloaded[0].startswith(f"[info] sift: reloaded {cfg}: 4 rule(s) (1 regex")
                   and reloaded[0].endswith("; rules added: b-drop-beta, b-drop-noise, b-keep-alpha, b-tag-ioc; "
                                            "removed: a-drop-alpha, a-drop-noise, a-keep-beta; indicators 1 (was 1)"))
        check.true(f"indicator reload: same rules, one more indicator: {reloaded[1]}",
                   reloaded[1].startswith(f"[info] sift: reloaded {cfg}: 4 rule(s) (1 regex")
                   and reloaded[1].endswith("; rules added: none; removed: none; indicators 2 (was 1)"))
    if failed:
        line = 1 + RULES_BAD.splitlines().index("      regex: 'frame (\\d+'")
        want = (f"[error] sift: reload of {cfg} failed, the rules in force stay: {rules}:{line}: "
                f"rule 'c-bad-regex': match.regex: 'frame (\\d+' is not a valid regex: ")
        check.true(f"the refused reload names file:line, rule and key:\n  got  {failed[0]}\n  want {want}...",
                   failed[0].startswith(want) and len(failed[0]) > len(want))

    s = c["sift"]
    check.eq("sift.reloads", s["reloads"], 2)
    check.eq("sift.reloads_failed", s["reloads_failed"], 1)

    # The accounting identity, from the flag and recomputed.
    check.true("balanced flag", c["balanced"])
    terminal = (c["produced"] + c["filtered"] + c["deduplicated"] + c["flow_packets"] + c["merged_fragments"]
                + sum(c["malformed"].values()) + sum(c["dropped"].values()))
    check.eq("rx_packets = produced + filtered + deduplicated + flow + fragments + malformed + dropped",
             c["rx_packets"], terminal)
    check.eq("nothing malformed", c["malformed_total"], 0)
    check.eq("nothing dropped (all reasons)", c["dropped_total"], 0)
    check.eq("nothing deduplicated (dedup is off)", c["deduplicated"], 0)
    check.eq("delivered == produced", c["delivered"], c["produced"])
    check.eq("delivery_failed", c["delivery_failed"], 0)
    check.true(f"several loops of the capture received ({c['rx_packets']})", c["rx_packets"] > 10 * LOOP)

    # Per rule: both rulesets were in force; the refused one never was.
    r = s["rules"]
    check.eq("rules in the counters: A's and B's, none of the refused file's", set(r), A_IDS | B_IDS)
    zero = {"matched": 0, "dropped": 0, "kept": 0, "routed": 0, "tagged": 0}
    for rid in sorted(A_IDS | B_IDS):
        rc = r.get(rid, zero)
        check.true(f"rule {rid} matched records ({rc['matched']})", rc["matched"] > 0)
        if rid == "b-tag-ioc":
            check.eq(f"{rid}: matched == tagged", rc["matched"], rc["tagged"])
        else:
            check.eq(f"{rid}: matched == dropped + kept + routed", rc["matched"],
                     rc["dropped"] + rc["kept"] + rc["routed"])
    get = lambda rid, k: r.get(rid, zero)[k]  # noqa: E731
    dropped = sum(x["dropped"] for x in r.values())
    kept = sum(x["kept"] + x["routed"] for x in r.values())
    check.eq("sum of the rules' dropped == filtered", dropped, c["filtered"])
    check.true(f"sum of kept + routed ({kept}) <= produced ({c['produced']})", kept <= c["produced"])

    # The frames received are the first rx_packets of the looped capture: each one was decided
    # once, by A or by B, whatever the moment of the switch.
    rx = c["rx_packets"] + 1
    app = lambda name: frames_before(rx, lambda src, a: a == name)  # noqa: E731
    check.eq("noise frames == a-drop-noise + b-drop-noise",
             get("a-drop-noise", "dropped") + get("b-drop-noise", "dropped"), app("noise"))
    check.eq("alpha frames == a-drop-alpha + b-keep-alpha",
             get("a-drop-alpha", "dropped") + get("b-keep-alpha", "kept"), app("alpha"))
    check.eq("beta frames == a-keep-beta + b-drop-beta", get("a-keep-beta", "kept") + get("b-drop-beta", "dropped"),
             app("beta"))
    check.eq("gamma frames == produced - kept by rules (default keep)", c["produced"] - kept, app("gamma"))

    # The events read back: each once, and what its sequence says it is.
    check.eq("events read back == produced", len(events), c["produced"])
    seqs = [e.seq for e in events]
    check.eq("events with the same event.sequence (read twice)", len(seqs) - len(set(seqs)), 0)
    wrong = [e for e in events if e.frame != (e.seq - 1) % LOOP or (e.src, e.app) != FRAMES[e.frame]
             or e.key != e.src]
    check.eq(f"events whose sequence, message, sender and key disagree (first: {wrong[:1]})", len(wrong), 0)
    by_rule = collections.Counter(e.rule for e in events)
    check.eq("events read back, by tapsift.rule",
             dict(by_rule), {k: v for k, v in {"a-keep-beta": get("a-keep-beta", "kept"),
                                                "b-keep-alpha": get("b-keep-alpha", "kept"),
                                                None: c["produced"] - kept}.items() if v})
    check.eq("events without a rule are the gamma frames", {e.app for e in events if e.rule is None}, {"gamma"})
    per_partition = collections.defaultdict(list)
    for e in sorted(events, key=lambda e: (e.partition, e.offset)):
        per_partition[e.partition].append(e.seq)
    check.true("in every partition, event.sequence increases with the offset",
               all(all(a < b for a, b in zip(p, p[1:])) for p in per_partition.values()))

    # One switch from A to B: every A decision before every B decision, at a sequence S that also
    # explains A's and B's counters (A decided exactly the frames before S).
    a_seqs = [e.seq for e in events if e.rule in A_IDS]
    b_seqs = [e.seq for e in events if e.rule in B_IDS]
    if a_seqs and b_seqs:
        a_last, b_first = max(a_seqs), min(b_seqs)
        check.true(f"the last event decided by A ({a_last}) comes before the first decided by B ({b_first})",
                   a_last < b_first)
        after_switch = [e.seq for e in events if e.rule in A_IDS and e.seq > b_first]
        check.eq("events decided by A after B took effect", len(after_switch), 0)
        fits = [S for S in range(a_last + 1, b_first + 1)
                if frames_before(S, lambda src, a: a == "alpha") == get("a-drop-alpha", "dropped")
                and frames_before(S, lambda src, a: a == "beta") == get("a-keep-beta", "kept")
                and frames_before(S, lambda src, a: a == "noise") == get("a-drop-noise", "dropped")]
        check.true(f"one sequence S in ({a_last}, {b_first}] has exactly A's counts before it and B's after",
                   bool(fits))
        phases["switch_ab"] = fits[0] if fits else None
    else:
        check.true("events decided by both A and B were read back", False)

    # The new indicators: threat intel on the listed sender's events only, from one sequence on.
    enriched = [e for e in events if e.enriched]
    check.true("events with threat intel were read back", bool(enriched))
    check.eq("events with threat intel == threat_matches", len(enriched), c["threat_matches"])
    check.eq("threat intel only on the listed sender", {e.src for e in enriched}, {IOC_SENDER})
    check.true("threat intel events are tagged ioc-hit and of kind alert",
               all("ioc-hit" in e.tags and e.kind == "alert" for e in enriched))
    check.true("no ioc-hit tag without threat intel", all(e.enriched for e in events if "ioc-hit" in e.tags))
    plain = [e.seq for e in events if e.src == IOC_SENDER and not e.enriched]
    if enriched and plain:
        t_last, t_first = max(plain), min(e.seq for e in enriched)
        check.true(f"the sender's last event without threat intel ({t_last}) comes before its first with "
                   f"({t_first})", t_last < t_first)
        listed = lambda src, a: src == IOC_SENDER and a != "noise"  # noqa: E731
        fits = [T for T in range(t_last + 1, t_first + 1)
                if frames_before(rx, listed) - frames_before(T, listed) == get("b-tag-ioc", "tagged")]
        check.true("one sequence T has exactly b-tag-ioc's matches after it", bool(fits))
        phases["switch_ioc"] = fits[0] if fits else None
        if phases.get("switch_ab") and fits:
            check.true("the indicators changed after the rules did", phases["switch_ab"] < fits[0])


if __name__ == "__main__":
    if not os.access(BIN, os.X_OK):
        print(f"{BIN} not found")
        sys.exit(1)
    run()
    check.finish()
