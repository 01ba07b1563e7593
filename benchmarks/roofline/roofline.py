#!/usr/bin/env python3
# Copyright (c) FlowEngine contributors. Licensed under the MIT License.
"""FlowEngine next to this machine's bound for turning packets into flows, measured side by side.

Started by run.sh (which builds roofline.c and FlowEngine.Benchmarks). Generates one capture with FlowEngine.Benchmarks
generate, then in each round runs FlowEngine's in-memory pipeline (decode-throughput --stage flows over the same
generated frames) and the C roofline over the capture file with 1-, 2- and 3-line entries, with and without prefetching.
Every number is packets per CPU-second, the median of a tool's timed passes; a tool's figure is the median over
rounds; the order of the tools rotates from round to round. The bound for an entry size is the faster prefetch
variant. Fails unless the frames FlowEngine generates in memory have the capture file's flow count and every roofline
variant counted exactly those flows (FlowEngine's harness itself fails a pass whose records miss a packet).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The peer harness's path to FlowEngine.Benchmarks, its count parser (100k, 1M) and its JSON-line reader.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from harness import FE, ROOT, last_json, parse_count as count  # noqa: E402

ROOFLINE = os.path.join(ROOT, "benchmarks/roofline/bin/roofline")
LINES = (1, 2, 3)
VARIANTS = [(lines, prefetch) for lines in LINES for prefetch in (1, 0)]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", type=count, default=100000, help="flow population (default 100k)")
    p.add_argument("--packets", type=count, default=2000000, help="frames in the capture (default 2M)")
    p.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of flow popularity (default 1.1)")
    p.add_argument("--max-flows", type=count, default=None, help="table size of both (default 1.25 x --flows)")
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds of every tool (default 3)")
    p.add_argument("--reps", type=int, default=5, help="timed passes per tool and round (default 5)")
    p.add_argument("--out", default="roofline-results.json", help="JSON results file")
    args = p.parse_args()
    max_flows = args.max_flows or args.flows + args.flows // 4
    profile = ["--flows", str(args.flows), "--zipf", str(args.zipf)]
    work = tempfile.mkdtemp(prefix="flowengine-roofline.")
    started = time.time()
    try:
        cap = os.path.join(work, "vxlan.pcap")
        gen = run([FE, "generate", "--out", cap, "--packets", str(args.packets)] + profile)
        seen = int(re.search(r"(\d+) of \d+ flows seen", gen).group(1))
        print(gen.strip().splitlines()[-1], flush=True)
        fe_runs, roof_runs, huge = [], {v: [] for v in VARIANTS}, {}
        def flowengine():
            out = run([FE, "decode-throughput", "--stage", "flows", "--packets", str(args.packets), "--reps", str(args.reps),
                       "--warmup", "1", "--max-flows", str(max_flows)] + profile)
            fe_seen = int(re.search(r"(\d+) of \d+ flows seen", out).group(1))
            if fe_seen != seen:
                raise SystemExit(f"FAIL: FlowEngine generated {fe_seen} flows in memory, the capture file has {seen}")
            fe = float(re.search(r"by process CPU time: median ([\d.]+) Mpps", out).group(1)) * 1e6
            fe_runs.append(fe)
            return f"flowengine {fe / 1e6:.2f}"

        def roofline(lines, prefetch):
            j = last_json(run([ROOFLINE, cap, "--entry-lines", str(lines), "--prefetch", str(prefetch), "--max-flows",
                               str(max_flows), "--reps", str(args.reps), "--warmup", "1", "--json"]))
            if j["flows"] != seen or j["packets"] != args.packets:
                raise SystemExit(f"FAIL: roofline counted {j['flows']} flows in {j['packets']} frames, expected {seen} in {args.packets}")
            roof_runs[(lines, prefetch)].append(j["median_pps_per_cpu_second"])
            huge[(lines, prefetch)] = j["anon_huge_kb"]
            return f"roofline {lines}-line prefetch {'on' if prefetch else 'off'} {j['median_pps_per_cpu_second'] / 1e6:.2f}"

        jobs = [flowengine] + [lambda v=v: roofline(*v) for v in VARIANTS]
        for r in range(args.rounds):
            shift = r % len(jobs)  # a different tool goes first each round, so drift does not always favour one
            print(f"round {r + 1}: " + ", ".join(job() for job in jobs[shift:] + jobs[:shift]) + " Mpps", flush=True)
        fe = statistics.median(fe_runs)
        roof = {v: statistics.median(x) for v, x in roof_runs.items()}
        bound = {lines: max(roof[(lines, 1)], roof[(lines, 0)]) for lines in LINES}
        print(f"\n{args.packets} frames, {seen} flows (Zipf {args.zipf}), table for {max_flows} flows; Mpps per CPU-second, "
              f"medians of {args.rounds} rounds:")
        print(f"  flowengine (FlowPipeline.ProcessBatch, 192-byte entries + tags + cold line): {fe / 1e6:6.2f}")
        for lines in LINES:
            print(f"  roofline, {lines}-line entries: {bound[lines] / 1e6:6.2f} (prefetch on {roof[(lines, 1)] / 1e6:.2f}, "
                  f"off {roof[(lines, 0)] / 1e6:.2f});  FlowEngine / bound = {fe / bound[lines]:.2f}")
        doc = {
            "command": " ".join(sys.argv),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "packets": args.packets, "flows": seen, "zipf": args.zipf, "max_flows": max_flows,
            "rate_definition": "packets per CPU-second of the timed passes, median of passes, then median of rounds",
            "flowengine_pps": fe, "flowengine_rounds": fe_runs,
            "roofline": [{"entry_lines": lines, "prefetch": bool(pf), "pps": roof[(lines, pf)], "rounds": roof_runs[(lines, pf)],
                          "anon_huge_kb_last_round": huge[(lines, pf)]}
                         for lines, pf in VARIANTS],
            "bound_pps": {f"{lines}_line": bound[lines] for lines in LINES},
            "flowengine_over_bound": {f"{lines}_line": fe / bound[lines] for lines in LINES},
        }
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"results: {os.path.abspath(args.out)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
