"""The oracle tests' inputs through both backends: each capture replayed once on the xrt backend
over the emulated card and once on the cpu backend, each into a fresh `tapsift broker`. The
counters must be equal (the timing-dependent ones aside: batches, ring waits, peak RSS) and every
topic's events byte-identical apart from event.created, partition by partition in offset order
(e2e_support.check_same_output; key by key for held flow sets, see below). The oracle tests check what the events say on each backend
(e2e.emulated_card.*); this checks that the two backends say exactly the same."""
import os
import subprocess

from e2e_support import (SRC, Broker, Check, backend_output, check_same_output, make_capture, replay,
                         write_config)

check = Check()
TOPICS = ("tapsift.syslog", "tapsift.flows", "tapsift.alerts")
FLOW_PORTS = write_config("same-output-flows", "dataplane:\n  flow_ports: [2055, 4739]\n")
SHIPPED = os.path.join(SRC, "config", "tapsift.yaml")


def flow_capture():
    pcap = os.path.join(os.path.dirname(FLOW_PORTS), "same-output-flows.pcap")
    subprocess.run([os.path.join(SRC, "scripts", "make-flow-pcap"), pcap, pcap + ".manifest.jsonl"], check=True,
                   stdout=subprocess.DEVNULL)
    return pcap


def through_both(what, pcap, config=None, per_key=False):
    outputs = {}
    for emulated in (True, False):
        name = f"same-output-{len(outputs)}"
        with Broker(name) as broker:
            rc, c, out = replay(pcap, broker.bootstrap, name, ["--config", config] if config else [],
                                emulated_card=emulated)
            backend = "emulated card" if emulated else "cpu"
            check.eq(f"{what}: {backend} replay exit code", rc, 0)
            if c is None:
                print(out[-3000:])
                check.true(f"{what}: {backend} stats JSON written", False)
                return
            outputs[emulated] = backend_output(c, broker.bootstrap, [(t, 0) for t in TOPICS])
    check_same_output(check, what, outputs[True], outputs[False], per_key)
    events = sum(len(e) for topic in outputs[True][1] for e in topic.values())
    check.true(f"{what}: something to compare ({events} events)", events > 0)
    print(f"{what}: {len(outputs[True][0])} counters and {events} events identical on both backends", flush=True)


through_both("syslog corpus (make-syslog-pcap corpus)", make_capture("corpus", "same-output-corpus")[0])
for path in ["tests/corpus/pcap/ndpi/syslog.pcap", "tests/corpus/pcap/tcpdump/syslog_udp.pcap",
             "tests/corpus/pcap/zeek/syslog-single-udp.pcap", "tests/corpus/pcap/zeek/syslog-missing-pri.pcap"]:
    through_both(path, os.path.join(SRC, path))
# Its data sets that come before their templates are held and resubmitted once the template
# arrives: in order per exporter on both backends, but among the other exporters' events where
# the ring's timing puts that batch.
through_both("flow oracle capture (make-flow-pcap)", flow_capture(), FLOW_PORTS, per_key=True)
for path in ["data/captures/demo-syslog.pcap", "data/captures/demo-flows.pcap"]:
    through_both(f"{path} with the shipped ruleset", os.path.join(SRC, path), SHIPPED)
check.finish()
