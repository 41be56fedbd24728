"""Two gateways share flow templates through a compacted topic (flows.template_sharing) on a real
3-broker Apache Kafka cluster (scripts/kafka-cluster, replication factor 3, min.insync.replicas=2).

One NetFlow v9 exporter (source ID 7: a flow template, an options template and its options data)
and one IPFIX exporter (domain 3: two flow templates, one with a variable-length string, and an
options template and its options data) send their templates to gateway A only, as a tap
aggregation layer or ECMP may; their 12 data datagrams (54 records) are split between A and B.

  without   both gateways with template sharing off: A decodes its half, B decodes nothing (its
            data sets are held, then unresolved at shutdown).
  with      the same two captures with sharing on, A first: A publishes its 5 templates to the
            topic (which tapsift creates, cleanup.policy=compact); B, started afterwards, reads
            the topic from the beginning (plus one bad message put there by hand: refused,
            logged, counted) and installs the 5 through its offload backend before its first
            datagram: every record of its half decodes.

  run       the same two captures into two `tapsift run` gateways running at the same time, on a
            topic of their own: B starts first, reads its 6 data datagrams and holds their 9 data
            sets (no template anywhere yet: its log shows the datagrams decoded and 0 records);
            then A starts, learns the 5 templates from the wire and publishes them; B, still
            running, follows the topic, installs them and decodes the 9 held sets
            (sets_held = sets_resolved = 9, every event noted decoded_after_template_arrived).
            A's capture then has both exporters refresh their templates 31 s later (packet
            time; flows.template_timeout_s 60): A publishes the 5 again, and each key's latest
            message on the topic is the refresh.

Every record each gateway produced is compared with tshark's decoding of the whole capture (the
templates and all the data in one file: tests/e2e/flow_oracle.py), record by record, and each
gateway's accounting identity (with the template-sharing identity) must hold."""
import ipaddress
import json
import os
import signal
import struct
import time

from confluent_kafka import Producer
from confluent_kafka.admin import ConfigResource

from e2e_support import Check, OutputWatcher, WORK, accounting_balances, consume_all, consume_raw, replay, start_run, \
    write_config
from flow_craft import VAR, Capture, F, data_set, get, ipfix_message, options_template_set, record, template_set, \
    v9_packet
from flow_oracle import tshark_flow_records, values_agree
from kafka_cluster import KafkaCluster

check = Check()

E1, E1_PORT, E1_SOURCE_ID = "192.0.2.21", 50021, 7
E2, E2_PORT, E2_DOMAIN = "192.0.2.22", 50022, 3
T300 = [F(8, 4), F(12, 4), F(7, 2), F(11, 2), F(4, 1), F(1, 4), F(2, 4), F(22, 4), F(21, 4)]
T301_SCOPE, T301 = [F(1, 4)], [F(34, 4), F(35, 1)]
T400 = [F(27, 16), F(28, 16), F(7, 2), F(11, 2), F(4, 1), F(1, 8), F(2, 8), F(152, 8), F(153, 8)]
T401 = [F(8, 4), F(12, 4), F(4, 1), F(1, 8), F(2, 4), F(82, VAR)]
T402_SCOPE, T402 = [F(149, 4)], [F(305, 4), F(306, 4)]
N_TEMPLATES = 5
TEMPLATE_FRAMES = (0, 2)  # frames() that carry templates: E1's (v9) and E2's (IPFIX)
REFRESH_MS = 31_000
T0_MS = 1793491200 * 1000
# What is compared with tshark, field by field (flow_oracle's names and renderings).
FIELDS = ["source.ip", "destination.ip", "source.port", "destination.port", "network.iana_number",
          "netflow.octet_delta_count", "netflow.packet_delta_count", "netflow.template_id",
          "netflow.exporter.version", "netflow.exporter.source_id", "netflow.exporter.address",
          "tapsift.format", "event.action", "netflow.interface_name", "netflow.sampling_interval",
          "netflow.sampling_packet_interval", "netflow.sampling_packet_space"]


def frames():
    """[(gateway, payload, src, sport, dport)]: templates and options data to A, data split."""
    out = [("A", v9_packet([template_set([(300, T300)], False),
                            options_template_set([(301, T301_SCOPE, T301)], False)], E1_SOURCE_ID, seq=1,
                           count=2),
            E1, E1_PORT, 2055),
           ("A", v9_packet([data_set(301, [record(T301_SCOPE + T301, [0x0A000001, 100, 2])], pad=True)],
                           E1_SOURCE_ID, seq=2, count=1), E1, E1_PORT, 2055),
           ("A", ipfix_message([template_set([(400, T400), (401, T401)], True),
                                options_template_set([(402, T402_SCOPE, T402)], True)], E2_DOMAIN, seq=0),
            E2, E2_PORT, 4739),
           ("A", ipfix_message([data_set(402, [record(T402_SCOPE + T402, [E2_DOMAIN, 1, 511])])], E2_DOMAIN,
                               seq=0), E2, E2_PORT, 4739)]
    for i in range(6):
        gw = "AB"[i % 2]
        recs = [record(T300, [f"10.1.{i}.{k + 1}", f"172.16.{i}.{k + 1}", 1000 + 10 * i + k, 443, 6,
                              1000 * (i + 1) + k, 10 * (i + 1) + k, 3_500_000, 3_590_000]) for k in range(4)]
        # count: records, as RFC 3954 says (tshark stops after count records)
        out.append((gw, v9_packet([data_set(300, recs, pad=True)], E1_SOURCE_ID, seq=10 + i, count=4), E1, E1_PORT,
                    2055))
        recs400 = [record(T400, [str(ipaddress.ip_address(f"2001:db8:{i}::{k + 1}")), f"2001:db8:ff::{k + 1}",
                                 2000 + k, 53, 17, 500 + 100 * i + k, 5 + k, T0_MS - 5000, T0_MS - 1000])
                   for k in range(3)]
        recs401 = [record(T401, [f"10.2.{i}.{k + 1}", "192.0.2.99", 1, 84 * (k + 1), k + 1, f"ge-0/0/{i}.{k}"])
                   for k in range(2)]
        out.append((gw, ipfix_message([data_set(400, recs400), data_set(401, recs401)], E2_DOMAIN, seq=3 * i),
                    E2, E2_PORT, 4739))
    return out


def captures():
    """The whole capture (for tshark), each gateway's part, and where each whole frame went; and
    "A-run": A's part, then both exporters' template datagrams again REFRESH_MS later (packet
    time: the capture's), past half of the run case's flows.template_timeout_s."""
    whole, parts, where = Capture(), {"A": Capture(), "B": Capture(), "A-run": Capture()}, {}
    for t, (gw, payload, src, sport, dport) in enumerate(frames()):
        n = whole.add(payload, src, sport, dport, t_ms=t)
        where[n] = (gw, parts[gw].add(payload, src, sport, dport, t_ms=t))
        if gw == "A":
            parts["A-run"].add(payload, src, sport, dport, t_ms=t)
    for k, i in enumerate(TEMPLATE_FRAMES):
        _, payload, src, sport, dport = frames()[i]
        parts["A-run"].add(payload, src, sport, dport, t_ms=REFRESH_MS + k)
    return whole, parts, where


def gateway_config(name, topic, sharing):
    return write_config(name, f"""kafka:
  topics: {{flows: {topic}}}
  flush_timeout_ms: 60000
flows:
  template_sharing: {{enabled: {str(sharing).lower()}, topic: tapsift.flow-templates}}
""")


def run(kc, name, pcap, sharing):
    topic = f"sharing.{name}"
    kc.create_topic(topic, 2)
    t0 = time.time()
    rc, c, out = replay(pcap, kc.bootstrap, name, ["--config", gateway_config(name, topic, sharing)])
    took = time.time() - t0
    check.eq(f"{name}: exit code", rc, 0)
    if c is None:
        print(out[-3000:])
        check.finish()
    check.true(f"{name}: accounting identity (with template sharing's)", accounting_balances(c))
    events = consume_all(kc.plaintext, topic, c["flow"]["produced"], timeout_s=60)
    print(f"{name}: {c['flow']['records']} records decoded, {c['flow']['sets_unresolved']} sets unresolved, "
          f"sharing {c['flow']['template_sharing']} ({took:.1f} s)", flush=True)
    return c, out, events


def compare_with_tshark(name, gw, events, oracle, where):
    """Every record tshark decodes from the frames gw received is one event of gw's, and agrees."""
    want = {}
    for r in oracle:
        g, frame = where[r["frame"]]
        if g == gw:
            want[(frame, r["record"])] = r
    got = {}
    for _, e in events:
        got.setdefault((get(e, "event.sequence"), get(e, "tapsift.flow_record")), []).append(e)
    check.eq(f"{name}: events", len(events), len(want))
    check.eq(f"{name}: records tshark decodes and the gateway produced", sorted(got), sorted(want))
    disagree = 0
    for key, r in sorted(want.items()):
        es = got.get(key, [])
        if len(es) != 1:
            continue
        for field in FIELDS:
            if field in r and not values_agree(field, r[field], get(es[0], field), r):
                disagree += 1
                print(f"{name}: frame {key[0]} record {key[1]} {field}: tshark {r[field]!r}, "
                      f"ours {get(es[0], field)!r}")
    check.eq(f"{name}: fields that disagree with tshark", disagree, 0)
    return len(want)


RUN_TOPIC = "tapsift.flow-templates.run"  # its own: what the replay case shared is not on it
RUN_TEMPLATE_TIMEOUT_S = 60  # the least flows.template_timeout_s: refreshes are due after 30 s
B_DATA_SETS = 9  # B's data sets: 3 v9 (one per datagram), 6 IPFIX (two per datagram)
WAIT_S = 60


def run_config(name, pcap, bootstrap, topic, lcore):
    return write_config(name, f"""dataplane:
  lcores: [{lcore}]
  ports:
    - device: "net_pcap0,rx_pcap={pcap}"
kafka:
  brokers: "{bootstrap}"
  topics: {{flows: {topic}}}
  flush_timeout_ms: 60000
flows:
  template_timeout_s: {RUN_TEMPLATE_TIMEOUT_S}
  template_sharing: {{enabled: true, topic: {RUN_TOPIC}}}
metrics:
  listen: "off"
  log_interval_s: 1
  snapshot_ms: 50
""")


class RunningGateway:
    """`tapsift run` on a net_pcap port (its capture read once, then idle), its log watched: the
    stats line it logs every second (metrics.log_interval_s) says how far it got."""

    def __init__(self, kc, name, pcap, lcore):
        self.name = name
        self.topic = f"sharing.{name}"
        kc.create_topic(self.topic, 2)
        self.stats = os.path.join(WORK, f"{name}.stats.json")
        if os.path.exists(self.stats):
            os.remove(self.stats)
        self.proc = start_run(run_config(name, pcap, kc.bootstrap, self.topic, lcore), self.stats)
        self.log = OutputWatcher(self.proc.stdout)

    def reached(self, flow_packets, flow_records):
        """Whether a stats line shows these counts (within WAIT_S)."""
        line = rf"stats: .*\bflow_packets={flow_packets} .*\bflow_records={flow_records} "
        return self.log.wait_for(line, WAIT_S) is not None

    def stop(self):
        """SIGTERM; its exit counters."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        out = self.log.text()
        check.eq(f"{self.name}: exit code after SIGTERM", self.proc.returncode, 0)
        if not os.path.exists(self.stats):
            print(out[-3000:])
            check.finish()
        with open(self.stats) as f:
            c = json.load(f)
        check.true(f"{self.name}: accounting identity (with template sharing's)", accounting_balances(c))
        return c


def check_refreshed_on_topic(kc):
    """Each template's latest message on the topic (what compaction keeps) is A's refresh: its
    learned time (value offset 16, shared_template.hpp) is REFRESH_MS after the first's."""
    first, last = {}, {}
    for _, key, value in consume_raw(kc.plaintext, RUN_TOPIC, 2 * N_TEMPLATES):
        learned_ns = struct.unpack_from("<q", value, 16)[0]
        first.setdefault(key, learned_ns)
        last[key] = learned_ns
    check.eq("run topic: keys", len(last), N_TEMPLATES)
    late = sum(1 for k in last if last[k] - first[k] >= (REFRESH_MS - 1000) * 1_000_000)
    check.eq("run topic: keys whose latest message is the refresh", late, N_TEMPLATES)


def concurrent_runs(kc, pcaps, oracle, where, figures):
    """Two `tapsift run` at the same time: B holds its data sets until A's templates reach it
    through the topic, and decodes them while it runs."""
    datagrams = {gw: sum(1 for g, _ in where.values() if g == gw) for gw in "AB"}
    datagrams["A"] += len(TEMPLATE_FRAMES)  # the refreshes
    records = {gw: sum(1 for r in oracle if where[r["frame"]][0] == gw) for gw in "AB"}
    lcore_a, lcore_b = (0, 1) if os.cpu_count() >= 2 else (0, 0)
    started = time.time()
    a = b = None
    try:
        b = RunningGateway(kc, "run-B", pcaps["B"], lcore_b)
        # Every datagram of B's decoded, not one record: its data sets wait for their templates.
        check.true("run-B: its datagrams handled, 0 records, before A starts", b.reached(datagrams["B"], 0))
        a_started = time.time()
        a = RunningGateway(kc, "run-A", pcaps["A-run"], lcore_a)
        check.true("run-A: its records decoded", a.reached(datagrams["A"], records["A"]))
        check.true("run-B: its held sets decoded while it runs", b.reached(datagrams["B"], records["B"]))
        resolved_s = time.time() - a_started
        ca, cb = a.stop(), b.stop()
    finally:  # a failed check above must not leave a gateway running
        for g in (a, b):
            if g is not None and g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait()
    sa, sb = ca["flow"]["template_sharing"], cb["flow"]["template_sharing"]
    check.eq("run-A: templates published, learned then refreshed", (sa["published"], sa["republished"]),
             (2 * N_TEMPLATES, N_TEMPLATES))
    check.eq("run-A: publish failures", sa["publish_failed"], 0)
    # Its follower may not have read all 5 back when SIGTERM came: none is taken, whatever it read.
    check.eq("run-A: its own publications not taken", (sa["taken"], sa["installed"]), (0, 0))
    check.true(f"run-A: its own publications read back: {sa['own']} of at most {sa['published']}",
               sa["own"] <= sa["published"])
    check.eq("run-A: sets without template", ca["flow"]["sets_without_template"], 0)
    check.eq("run-B: sets without template, all held", (cb["flow"]["sets_without_template"],
                                                         cb["flow"]["sets_held"]), (B_DATA_SETS, B_DATA_SETS))
    check.eq("run-B: held sets resolved", cb["flow"]["sets_resolved"], B_DATA_SETS)
    check.eq("run-B: held sets expired or unresolved",
             (cb["flow"]["sets_expired"], cb["flow"]["sets_unresolved"]), (0, 0))
    # B reads A's 5 refreshes unless SIGTERM comes first (A publishes them with the 5 templates).
    refreshes_read = sb["taken"] - N_TEMPLATES
    check.eq("run-B: every message taken", sb["received"], sb["taken"])
    check.true(f"run-B: the templates and up to {N_TEMPLATES} refreshes taken ({sb['taken']})",
               0 <= refreshes_read <= N_TEMPLATES)
    check.eq("run-B: installed through the offload backend", sb["installed"], N_TEMPLATES)
    check.eq("run-B: each refresh it read refreshed its engine's copy (or waited at SIGTERM)",
             sb["refreshed"] + sb["unapplied"], refreshes_read)
    check.eq("run-B: nothing published", sb["published"], 0)
    check.eq("run-B: flow_packets (the shared datagrams are not received ones)", cb["flow_packets"],
             datagrams["B"])
    for gw, c, topic in (("A", ca, a.topic), ("B", cb, b.topic)):
        name = f"run-{gw}"
        events = consume_all(kc.plaintext, topic, c["flow"]["produced"], timeout_s=60)
        n = compare_with_tshark(name, gw, events, oracle, where)
        check.eq(f"{name}: records", c["flow"]["records"], n)
        late = sum(1 for _, e in events if get(e, "tapsift.notes") == "decoded_after_template_arrived")
        check.eq(f"{name}: events decoded after their template arrived", late, n if gw == "B" else 0)
        figures.append(("two `tapsift run` at once", gw, c["flow"]["records"], n))
    check_refreshed_on_topic(kc)
    print(f"run: A published {sa['published']} ({sa['republished']} refreshes {REFRESH_MS / 1000:.0f} s of packet "
          f"time later), B refreshed {sb['refreshed']} templates from them", flush=True)
    print(f"run: B held {cb['flow']['sets_held']} sets, resolved {cb['flow']['sets_resolved']} from the topic "
          f"{resolved_s:.1f} s after A started (A's start-up included); both runs {time.time() - started:.1f} s",
          flush=True)


def main():
    whole, parts, where = captures()
    pcaps = {gw: cap.write(os.path.join(WORK, f"sharing-{gw}.pcap")) for gw, cap in parts.items()}
    oracle = tshark_flow_records(whole.write(os.path.join(WORK, "sharing-whole.pcap")))
    data_records = sum(1 for r in oracle if not r["options"])
    check.eq("tshark decodes every data record of the whole capture", data_records, 54)
    figures = []
    started = time.time()
    with KafkaCluster("sharing", brokers=3) as kc:
        print(f"cluster up in {time.time() - started:.1f} s", flush=True)
        # without sharing
        c, _, events = run(kc, "without-A", pcaps["A"], sharing=False)
        n = compare_with_tshark("without-A", "A", events, oracle, where)
        figures.append(("without sharing", "A", c["flow"]["records"], n))
        c, _, events = run(kc, "without-B", pcaps["B"], sharing=False)
        check.eq("without-B: records", c["flow"]["records"], 0)
        check.eq("without-B: events", len(events), 0)
        check.eq("without-B: sets unresolved (3 v9, 6 IPFIX)", c["flow"]["sets_unresolved"], B_DATA_SETS)
        figures.append(("without sharing", "B", c["flow"]["records"],
                        sum(1 for r in oracle if where[r["frame"]][0] == "B")))
        # with sharing: A publishes, B learns
        c, _, events = run(kc, "with-A", pcaps["A"], sharing=True)
        check.eq("with-A: templates published", c["flow"]["template_sharing"]["published"], N_TEMPLATES)
        check.eq("with-A: publish failures", c["flow"]["template_sharing"]["publish_failed"], 0)
        n = compare_with_tshark("with-A", "A", events, oracle, where)
        figures.append(("with sharing", "A", c["flow"]["records"], n))
        resources = kc.admin.describe_configs([ConfigResource("topic", "tapsift.flow-templates")])
        policy = list(resources.values())[0].result()["cleanup.policy"].value
        check.eq("the topic tapsift created is compacted", policy, "compact")
        p = Producer({"bootstrap.servers": kc.plaintext})
        p.produce("tapsift.flow-templates", key=b"192.0.2.21/7/999", value=b"\x07not a template")
        check.eq("bad message on the topic: delivered", p.flush(30), 0)
        c, out, events = run(kc, "with-B", pcaps["B"], sharing=True)
        s = c["flow"]["template_sharing"]
        check.eq("with-B: messages received (5 templates, 1 bad)", s["received"], N_TEMPLATES + 1)
        check.eq("with-B: rejected", s["rejected"], 1)
        check.true("with-B: the bad message is logged", "refused: unknown format version" in out)
        check.eq("with-B: templates taken", s["taken"], N_TEMPLATES)
        check.eq("with-B: installed through the offload backend", s["installed"], N_TEMPLATES)
        check.eq("with-B: engine learned them", c["flow"]["engine"]["templates_learned"], N_TEMPLATES)
        check.eq("with-B: nothing published back", s["published"], 0)
        check.eq("with-B: sets without template", c["flow"]["sets_without_template"], 0)
        check.eq("with-B: flow_packets (the shared datagrams are not received ones)", c["flow_packets"], 6)
        n = compare_with_tshark("with-B", "B", events, oracle, where)
        check.eq("with-B: records", c["flow"]["records"], n)
        figures.append(("with sharing", "B", c["flow"]["records"], n))
        concurrent_runs(kc, pcaps, oracle, where, figures)
    print(f"\ntotal {time.time() - started:.1f} s (cluster start and stop included)")
    print("\n| run | gateway | records decoded | records tshark decodes from its datagrams |")
    print("|---|---|---|---|")
    for run_name, gw, got, want in figures:
        print(f"| {run_name} | {gw} | {got} | {want} |")
    check.finish()


if __name__ == "__main__":
    main()
