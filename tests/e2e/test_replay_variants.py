"""End to end over the L2-L4 variants capture (VLAN, QinQ, IPv6, IPv4 fragments, malformed and
foreign frames): every frame must land in the counter its manifest entry names, the accounting
identity must hold, and every expected event must be read back from the broker."""
import collections

from e2e_support import Broker, Check, accounting_balances, consume_all, make_capture, replay

check = Check()
pcap, frames = make_capture("variants", "variants")

want = collections.Counter()
for fr in frames:
    kind, _, reason = fr["expect"].partition(":")
    want[(kind, reason)] += 1

with Broker("variants") as broker:
    rc, c, out = replay(pcap, broker.bootstrap, "variants")
    check.eq("replay exit code", rc, 0)
    if c is None:
        print(out)
        check.true("stats json written", False)
        check.finish()
    check.eq("rx_packets", c["rx_packets"], len(frames))
    check.true("accounting identity", accounting_balances(c))
    check.eq("balanced flag", c["balanced"], True)
    check.eq("produced", c["produced"], want[("event", "")])
    check.eq("delivered", c["delivered"], c["produced"])
    check.eq("merged_fragments", c["merged_fragments"], want[("merged", "ip_fragment")])
    check.eq("reassembled_datagrams", c["reassembled_datagrams"], 1)
    for (kind, reason), n in want.items():
        if kind == "malformed":
            check.eq(f"malformed.{reason}", c["malformed"][reason], n)
        elif kind == "dropped":
            check.eq(f"dropped.{reason}", c["dropped"][reason], n)
    check.eq("malformed total", sum(c["malformed"].values()),
             sum(n for (k, _), n in want.items() if k == "malformed"))
    check.eq("dropped total", sum(c["dropped"].values()),
             sum(n for (k, _), n in want.items() if k == "dropped"))
    check.eq("invalid_utf8_events", c["invalid_utf8_events"], 1)
    syslog_tcp = sum(1 for fr in frames if fr["case"] == "tcp_port514")
    check.eq("tcp.used: the syslog line over TCP", c["tcp"]["used"], syslog_tcp)
    check.eq("tcp.messages", c["tcp"]["messages"], syslog_tcp)

    events = consume_all(broker.bootstrap, "tapsift.syslog", c["produced"])
    check.eq("events read back", len(events), c["produced"])
    by_seq = {e["event"]["sequence"]: (key, e) for key, e in events}
    for fr in frames:
        if fr["expect"] != "event":
            check.true(f"frame {fr['frame']} ({fr['case']}) produced no event", fr["frame"] not in by_seq)
            continue
        got = by_seq.get(fr["frame"])
        check.true(f"frame {fr['frame']} ({fr['case']}) has an event", got is not None)
        if got is None:
            continue
        key, e = got
        check.eq(f"frame {fr['frame']} key is the source ip", key, e["source"]["ip"])
        body = fr["payload"].split(b": ", 1)[-1].rstrip(b"\n").decode("utf-8", errors="replace")
        check.eq(f"frame {fr['frame']} ({fr['case']}) message", e["message"], body)
check.finish()
