#!/usr/bin/python3
"""The table of scripts/idle-cost, from a scripts/bench results directory (steps.csv, run.json):
CPU-s per million events per system at each offered rate (median over repetitions), and tapsift
run busy_poll ÷ adaptive. Usage: idle_cost.py RESULTS_DIR SATURATION COMMAND"""
import csv
import json
import os
import statistics
import sys

ORDER = ["tapsift-run", "tapsift-run-busy-poll", "rsyslog", "syslog-ng"]


def main():
    results, saturation, command = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(os.path.join(results, "run.json")) as f:
        run = json.load(f)
    with open(os.path.join(results, "steps.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["target_rate"] != "max"]
    rates = sorted({int(r["target_rate"]) for r in rows})

    def cell(name, rate):
        st = [r for r in rows if r["system"] == name and int(r["target_rate"]) == rate and r["cpu_s_per_M"]]
        if not st:
            return None, ""
        cpu = statistics.median(float(r["cpu_s_per_M"]) for r in st)
        lost = sum(int(r["lost"]) for r in st)
        return cpu, "" if lost == 0 else f" (lost {lost})"

    lines = [f"# Idle cost: `{command}`", "",
             f"- {run['started'][:19]} UTC, {run['machine']}; load average at the start {run['load_start']}, "
             f"at the end {run['load_end']}; {run['reps']} repetition(s), {run['count']} messages a step, medians.",
             f"- 100% = {saturation:,} msg/s. CPU-s per million events delivered: the system's utime+stime "
             "from the step's start to its last delivered event (scripts/bench).", "",
             "| system | " + " | ".join(f"{100 * r // saturation}% ({r:,}/s)" for r in rates) + " |",
             "|---|" + "---|" * len(rates)]
    for name in ORDER:
        cells = []
        for rate in rates:
            cpu, note = cell(name, rate)
            cells.append("–" if cpu is None else f"{cpu:.2f}{note}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ratio = []
    for rate in rates:
        a, _ = cell("tapsift-run", rate)
        b, _ = cell("tapsift-run-busy-poll", rate)
        ratio.append(f"{b / a:.2f}" if a and b is not None else "–")
    lines.append("| busy_poll ÷ adaptive | " + " | ".join(ratio) + " |")
    md = "\n".join(lines) + "\n"
    with open(os.path.join(results, "idle-cost.md"), "w") as f:
        f.write(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
