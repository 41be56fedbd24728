"""Backend faults on the emulated card, through `tapsift replay --emulated-card`: a run that
never completes (aborted after offload.run_timeout_ms, its records counted backend_timeout), a
run that fails (backend_error), and a corrupted descriptor from the device (rejected by the
host's validation, backend_error). Nothing is lost silently: the accounting identity holds, the
other batches' events are delivered, and the emulated card's own counters agree."""
import json
import os

from e2e_support import SRC, WORK, Broker, Check, accounting_balances, replay, write_config

SYSLOG_PCAP = os.path.join(SRC, "data", "captures", "demo-syslog.pcap")
CLEAN_RECORDS = 193  # the demo capture's syslog datagrams (e2e.sift_ruleset checks the count)


def run_with_fault(check, broker, name, fault, timeout_ms=300):
    # 16 records a batch, so the capture spans several batches and one fault hits one of them.
    cfg = write_config(name, f"offload:\n  batch_records: 16\n  run_timeout_ms: {timeout_ms}\n")
    stats = os.path.join(WORK, f"{name}.emu.json")
    os.environ.update({"TAPSIFT_EMU_STATS": stats, **fault})
    try:
        rc, c, log = replay(SYSLOG_PCAP, broker.bootstrap, name, ["--config", cfg, "--emulated-card"])
    finally:
        for k in ("TAPSIFT_EMU_STATS", *fault):
            os.environ.pop(k, None)
    if c is None:
        print(log)
        check.true(f"{name}: replay wrote its counters", False)
        return None, None
    check.true(f"{name}: accounting identity", accounting_balances(c))
    with open(stats) as f:
        emu = json.load(f)
    return c, emu


def check_batch_lost(check, name, c, reason, offload_counter):
    """One batch of at most 16 records lost under reason, once, and every other record handled."""
    lost = c["dropped"][reason]
    check.true(f"{name}: the batch's records are counted {reason} ({lost})", 1 <= lost <= 16)
    check.eq(f"{name}: offload.{offload_counter}", c["offload"][offload_counter], 1)
    check.eq(f"{name}: the rest is produced", c["produced"] + c["filtered"] + c["malformed_total"] + lost,
             CLEAN_RECORDS)


def main():
    check = Check()
    with Broker("emulated-card-faults") as broker:
        c, emu = run_with_fault(check, broker, "emu-clean", {})
        if c:
            check.eq("clean: nothing lost", c["dropped"]["backend_error"] + c["dropped"]["backend_timeout"], 0)
            check.eq("clean: records in", c["produced"] + c["filtered"] + c["malformed_total"], CLEAN_RECORDS)

        c, emu = run_with_fault(check, broker, "emu-hang",
                                {"TAPSIFT_EMU_FAULT": "hang", "TAPSIFT_EMU_FAULT_RUN": "2"})
        if c:
            check_batch_lost(check, "hang", c, "backend_timeout", "timeouts")
            check.eq("hang: the emulated card aborted one run", sum(u["runs_aborted"] for u in emu["compute_units"].values()), 1)

        c, emu = run_with_fault(check, broker, "emu-error",
                                {"TAPSIFT_EMU_FAULT": "error", "TAPSIFT_EMU_FAULT_RUN": "3"})
        if c:
            check_batch_lost(check, "error", c, "backend_error", "device_errors")

        c, emu = run_with_fault(check, broker, "emu-corrupt",
                                {"TAPSIFT_EMU_FAULT": "corrupt", "TAPSIFT_EMU_FAULT_RUN": "1"})
        if c:
            check.eq("corrupt: the corrupted descriptor is rejected, once", c["dropped"]["backend_error"], 1)
            check.eq("corrupt: every other record is handled",
                     c["produced"] + c["filtered"] + c["malformed_total"] + 1, CLEAN_RECORDS)
            check.eq("corrupt: the emulated card corrupted one run",
                     sum(u["runs_corrupted"] for u in emu["compute_units"].values()), 1)
    check.finish()


if __name__ == "__main__":
    main()
