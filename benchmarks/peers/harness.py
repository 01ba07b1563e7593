#!/usr/bin/env python3
# Copyright (c) FlowEngine contributors. Licensed under the MIT License.
"""Issue 5 peer harness: FlowEngine and the established packets-to-flows tools on the same captures.

Started by run.sh (which installs the peers and builds the .NET programs). Every tool reads the same pcap from the
page cache; each run is one whole process, timed by wall clock and by the user+sys CPU time and peak RSS that
wait4() reports for it (the process and the children it waited for). Flow counts are normalised to distinct
bidirectional flows (protocol and both endpoints, lower endpoint first; plus the VNI where the tool keys by it) and
checked against FlowEngine's count on the same capture. See README.md for what each number means.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FE = os.path.join(ROOT, "benchmarks/FlowEngine.Benchmarks/bin/Release/net10.0/FlowEngine.Benchmarks")
SHARPPCAP = os.path.join(ROOT, "benchmarks/SharpPcapBaseline/bin/Release/net10.0/SharpPcapBaseline.dll")
TUNNEL_PORTS = {"4789", "6081"}
RUN_TIMEOUT_S = 900


def log(msg):
    print(msg, flush=True)


def parse_count(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a count: {text}")
    return int(float(m.group(1)) * {"": 1, "k": 1000, "K": 1000, "m": 1000000, "M": 1000000}[m.group(2)])


def timed(cmd, out_path, timeout_s=RUN_TIMEOUT_S, cwd=None):
    """Runs cmd with stdout+stderr to out_path; returns (exit code, wall s, user+sys CPU s, max RSS KiB).

    The tool runs under /usr/bin/time: wait4() on time gives wall-clock-independent CPU time in microseconds (time's
    own is negligible; it includes the tool, which time waits for), and time's %M is the tool's peak RSS. The RSS is
    not taken from wait4() directly because a process forked from this Python keeps Python's peak RSS across exec.
    """
    rss_path = out_path + ".rss"
    with open(out_path, "wb") as out:
        start = time.monotonic()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_path] + cmd, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        timer = threading.Timer(timeout_s, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the tool left behind (pmacctd's plugin after a crash)
        except ProcessLookupError:
            pass
    rss = 0
    try:
        rss = int(read(rss_path).split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return proc.returncode, wall, ru.ru_utime + ru.ru_stime, rss


def read(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


def last_json(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in output")


def fold(proto, a, pa, b, pb):
    x, y = (a, pa), (b, pb)
    return (proto,) + (x + y if x <= y else y + x)


# ---- tools: each returns a dict with the command, and a parser giving records and distinct flows ----------------

def fe_cmd(cap, work, args):
    # A whole-process run over one file is a batch job: with --fe-jit full the runtime compiles every method once,
    # fully optimised, instead of starting at tier 0 and recompiling hot code with profile data (tiering pays off
    # in a long-running sensor, 8-25% in the steady state here (three alternated pairs), not in a run of about a second).
    env = ["env", "DOTNET_TieredCompilation=0"] if args.fe_jit == "full" else []
    return env + [FE, "file-throughput", cap, "--workers", "1", "--max-flows", str(args.max_flows), "--access", args.fe_access, "--json"]


def fe_parse(out_text, work):
    j = last_json(out_text)
    return {"packets": j["packets"], "records": j["records"], "in_process": j}


def sharppcap_cmd(cap, work, args):
    return ["dotnet", SHARPPCAP, cap, "--json"]


def sharppcap_parse(out_text, work):
    j = last_json(out_text)
    return {"packets": j["packets"], "records": j["distinct_flows"], "distinct": j["distinct_flows"]}


def tshark_cmd(cap, work, args):
    return ["tshark", "-n", "-q", "-r", cap, "-z", "conv,tcp", "-z", "conv,udp"]


def tshark_parse(out_text, work):
    proto, rows, keys = None, 0, set()
    for line in out_text.splitlines():
        if line.startswith("TCP Conversations"):
            proto = "tcp"
        elif line.startswith("UDP Conversations"):
            proto = "udp"
        elif "<->" in line and proto:
            f = line.split()
            a, b = f[0].rsplit(":", 1), f[2].rsplit(":", 1)
            if proto == "udp" and (a[1] in TUNNEL_PORTS or b[1] in TUNNEL_PORTS):
                continue  # the outer tunnel conversation, not a tenant flow
            rows += 1
            keys.add(fold(proto, a[0], a[1], b[0], b[1]))
    return {"records": rows, "distinct": len(keys)}


def softflowd_cmd(cap, work, args):
    # (-p/-c with paths of our own make 1.1.0 hang after reading the file; it keeps its /var/run defaults)
    return ["softflowd", "-d", "-6", "-r", cap, "-m", str(args.peer_max_flows)]


def softflowd_parse(out_text, work):
    m = re.search(r"Flows expired: (\d+) \((\d+) forced\)", out_text)
    maxflows = re.search(r"maxflows =\s+(\d+)", out_text)
    if not m:
        raise ValueError("no 'Flows expired' line")
    # With -m above the population and timeouts longer than the capture, every flow expires once, at the end
    # ('flushed'): records are distinct flows. A forced or maxflows expiry would split flows, so it voids that.
    split = int(m.group(2)) + (int(maxflows.group(1)) if maxflows else 0)
    return {"records": int(m.group(1)), "distinct": int(m.group(1)) if split == 0 else None}


def nfpcapd_cmd(cap, work, args):
    d = os.path.join(work, "nfpcapd")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return ["nfpcapd", "-r", cap, "-w", d, "-t", "86400", "-B", str(max(524288, 2 * args.max_flows))]


def nfpcapd_parse(out_text, work):
    text = subprocess.run(["nfdump", "-R", os.path.join(work, "nfpcapd"), "-q", "-6", "-o", "fmt:%pr %sa %sp %da %dp"],
                          check=True, capture_output=True, text=True).stdout
    rows, keys = 0, set()
    for line in text.splitlines():
        f = line.split()
        if len(f) == 5:
            rows += 1
            keys.add(fold(f[0].lower(), f[1], f[2], f[3], f[4]))
    return {"records": rows, "distinct": len(keys)}


def argus_cmd(cap, work, args):
    out = os.path.join(work, "out.argus")
    if os.path.exists(out):
        os.remove(out)
    return ["argus", "-X", "-r", cap, "-w", out]


def argus_parse(out_text, work):
    text = subprocess.run(["ra", "-r", os.path.join(work, "out.argus"), "-n", "-c", ",", "-s", "proto", "saddr",
                           "sport", "daddr", "dport"], check=True, capture_output=True, text=True).stdout
    rows, keys = 0, set()
    for line in text.splitlines()[1:]:
        f = line.split(",")
        if len(f) == 5 and f[0] != "man":
            rows += 1
            keys.add(fold(f[0], f[1], f[2], f[3], f[4]))
    return {"records": rows, "distinct": len(keys)}


def pmacctd_conf(cap, work, aggregate):
    # When the print plugin's cache fills (default print_cache_entries, 16411 buckets) it purges early; append keeps
    # those purges instead of letting the final one overwrite them. A cache sized for 1M flows (1000003 entries,
    # 4 GB) is still being allocated when the core has finished a small file and exits, and nothing is written.
    conf = os.path.join(work, "pmacctd.conf")
    with open(conf, "w") as f:
        f.write(f"""daemonize: false
pcap_savefile: {cap}
aggregate: {aggregate}
plugins: print
print_output: csv
print_output_file: {os.path.join(work, 'pmacctd.csv')}
print_refresh_time: 86400
print_output_file_append: true
plugin_pipe_size: 104857600
plugin_buffer_size: 102400
""")
    if os.path.exists(os.path.join(work, "pmacctd.csv")):
        os.remove(os.path.join(work, "pmacctd.csv"))
    return conf


def pmacctd_cmd(cap, work, args):
    return ["pmacctd", "-f", pmacctd_conf(cap, work, "proto, src_host, dst_host, src_port, dst_port")]


def pmacctd_parse(out_text, work):
    rows, keys = 0, set()
    with open(os.path.join(work, "pmacctd.csv")) as f:
        for line in f.read().splitlines():
            x = line.split(",")  # SRC_IP,DST_IP,SRC_PORT,DST_PORT,PROTOCOL,PACKETS,BYTES (a header per purge)
            if len(x) >= 5 and x[0] != "SRC_IP":
                rows += 1
                keys.add(fold(x[4], x[0], x[2], x[1], x[3]))
    return {"records": rows, "distinct": len(keys)}


# decap: True = decapsulates VXLAN and keys by the VNI; "no-vni" = decapsulates but keys by the inner 5-tuple only;
# False = reads the outer headers only (run on the plain variant).
TOOLS = [
    {"name": "flowengine", "cmd": fe_cmd, "parse": fe_parse, "decap": True},
    {"name": "sharppcap", "cmd": sharppcap_cmd, "parse": sharppcap_parse, "decap": True},
    {"name": "tshark", "cmd": tshark_cmd, "parse": tshark_parse, "decap": "no-vni"},
    {"name": "softflowd", "cmd": softflowd_cmd, "parse": softflowd_parse, "decap": False},
    {"name": "nfpcapd", "cmd": nfpcapd_cmd, "parse": nfpcapd_parse, "decap": False},
    {"name": "argus", "cmd": argus_cmd, "parse": argus_parse, "decap": False},
    {"name": "pmacctd", "cmd": pmacctd_cmd, "parse": pmacctd_parse, "decap": False},
]


def version(tool):
    cmds = {
        "flowengine": None, "sharppcap": None,
        "tshark": ["dpkg-query", "-W", "-f=${Version}", "tshark"],
        "softflowd": ["dpkg-query", "-W", "-f=${Version}", "softflowd"],
        "nfpcapd": ["dpkg-query", "-W", "-f=${Version}", "nfdump"],
        "argus": ["dpkg-query", "-W", "-f=${Version}", "argus-server"],
        "pmacctd": ["dpkg-query", "-W", "-f=${Version}", "pmacct"],
    }
    if tool == "sharppcap":
        return "SharpPcap 6.3.1 + PacketDotNet 1.4.8"
    if cmds.get(tool) is None:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return subprocess.run(cmds[tool], capture_output=True, text=True).stdout.strip()


def generate(path, flows, packets, plain, seed):
    cmd = [FE, "generate", "--out", path, "--packets", str(packets), "--flows", str(flows), "--seed", str(seed)]
    if plain:
        cmd.append("--plain")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"(\d+) of (\d+) flows seen", out)
    log("  " + out.strip())
    return int(m.group(1))


def verify_decap(work, vxlan_cap, args):
    """Runs each outer-only peer on the VXLAN capture: proves it does not decapsulate (every flow it reports is a
    tunnel flow on UDP 4789). pmacctd's VXLAN primitives are tried as well."""
    findings = {}
    for tool in TOOLS:
        if tool["decap"] is not False:
            continue
        wdir = os.path.join(work, tool["name"] + "-decap")
        os.makedirs(wdir, exist_ok=True)
        out = os.path.join(wdir, "out.txt")
        rc, *_ = timed(tool["cmd"](vxlan_cap, wdir, args), out)
        text = read(out)
        if tool["name"] == "softflowd":
            # -d prints no flows; -D prints each one
            rc, *_ = timed(["softflowd", "-D", "-r", vxlan_cap, "-m", str(args.max_flows)], out)
            flows = re.findall(r"ADD FLOW seq:\d+ \[(.*?)\]:(\d+) <> \[(.*?)\]:(\d+) proto:(\d+)", read(out))
            total, tunnel = len(flows), sum(1 for f in flows if f[1] in TUNNEL_PORTS or f[3] in TUNNEL_PORTS)
        else:
            parsed = tool["parse"](text, wdir)
            total = parsed["records"]
            tunnel = count_tunnel_records(tool["name"], wdir)
        findings[tool["name"]] = {"flows_on_vxlan_capture": total, "of_which_outer_udp_4789": tunnel,
                                  "decapsulates_vxlan": not (total > 0 and tunnel == total)}
        log(f"  {tool['name']}: on the VXLAN capture it reports {total} flows, {tunnel} of them the outer UDP 4789 tunnels")
    # pmacctd 1.7.7 documents VXLAN primitives (vxlan, tunnel_*); try them.
    wdir = os.path.join(work, "pmacctd-vxlan")
    os.makedirs(wdir, exist_ok=True)
    conf = pmacctd_conf(vxlan_cap, wdir, "vxlan, tunnel_proto, tunnel_src_host, tunnel_dst_host, tunnel_src_port, tunnel_dst_port")
    rc, *_ = timed(["pmacctd", "-f", conf], os.path.join(wdir, "out.txt"), timeout_s=120)
    tail = " ".join(read(os.path.join(wdir, "out.txt")).strip().splitlines()[-1:])
    findings["pmacctd"]["vxlan_primitives"] = f"exit {rc}: {tail}"
    log(f"  pmacctd with its VXLAN primitives (vxlan, tunnel_*): exit {rc}: {tail}")
    return findings


def count_tunnel_records(name, wdir):
    if name == "nfpcapd":
        text = subprocess.run(["nfdump", "-R", os.path.join(wdir, "nfpcapd"), "-q", "-o", "fmt:%sp %dp"],
                              capture_output=True, text=True).stdout
        return sum(1 for l in text.splitlines() if set(l.split()) & TUNNEL_PORTS)
    if name == "argus":
        text = subprocess.run(["ra", "-r", os.path.join(wdir, "out.argus"), "-n", "-c", ",", "-s", "proto", "sport",
                               "dport"], capture_output=True, text=True).stdout
        return sum(1 for l in text.splitlines()[1:] if l.split(",")[0] != "man" and set(l.split(",")[1:]) & TUNNEL_PORTS)
    if name == "pmacctd":
        with open(os.path.join(wdir, "pmacctd.csv")) as f:
            return sum(1 for l in f.read().splitlines()[1:] if set(l.split(",")[2:4]) & TUNNEL_PORTS)
    return 0


def fe_reference(cap, args):
    out = subprocess.run([FE, "file-throughput", cap, "--max-flows", str(args.max_flows), "--distinct", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return last_json(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", type=parse_count, default=100000, help="flow population of generated captures (100k, 1M)")
    p.add_argument("--packets", type=parse_count, default=None, help="packets per capture (default 40 per flow, at most 8M)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--capture", help="use this capture (VXLAN or anything) instead of generating")
    p.add_argument("--plain-capture", help="with --capture: the variant for peers that cannot decapsulate VXLAN")
    p.add_argument("--reps", type=int, default=3, help="runs of each tool per capture; medians are reported")
    p.add_argument("--scaling-reps", type=int, default=5, help="in-process passes per worker count")
    p.add_argument("--tolerance", type=float, default=0.005, help="allowed relative difference of flow counts")
    p.add_argument("--peer-max-flows", type=parse_count, default=None,
                   help="softflowd's flow table size (default 2 x --flows; smaller forces early expiry)")
    p.add_argument("--tools", default=",".join(t["name"] for t in TOOLS))
    p.add_argument("--fe-access", choices=("buffered", "mapped"), default="buffered",
                   help="how FlowEngine reads the capture file (CaptureFileAccess; default buffered, the faster here)")
    p.add_argument("--fe-jit", choices=("full", "tiered"), default="full",
                   help="FlowEngine's whole-process runs: full (DOTNET_TieredCompilation=0, the batch-job setting; default) "
                        "or tiered (the runtime's default, for long-running processes)")
    p.add_argument("--skip", default="", help="tool:capture pairs not to run, e.g. tshark:plain (tshark is the slowest)")
    p.add_argument("--out", default="peers-results.json", help="JSON results file")
    p.add_argument("--workdir", default=None, help="where captures and tool outputs go (default: a new dir in /tmp, removed)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if args.reps < 1 or args.reps > 20 or args.scaling_reps < 1 or args.scaling_reps > 50:
        p.error("--reps 1..20, --scaling-reps 1..50")
    if args.packets is None:
        args.packets = min(8_000_000, 40 * args.flows)
    args.max_flows = max(65536, 1 << (args.flows * 2 - 1).bit_length())  # a power of two: the table's capacity
    args.peer_max_flows = args.peer_max_flows or args.max_flows
    selected = [t for t in TOOLS if t["name"] in args.tools.split(",")]
    if not selected or selected[0]["name"] != "flowengine":
        p.error("--tools must start with flowengine (the reference for counts and ratios)")

    work = args.workdir or tempfile.mkdtemp(prefix="fe-peers-", dir="/tmp")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    try:
        return run(args, work, selected, started)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work, selected, started):
    captures = {}
    if args.capture:
        captures["vxlan"] = {"path": os.path.abspath(args.capture), "expected_flows": None}
        if args.plain_capture:
            captures["plain"] = {"path": os.path.abspath(args.plain_capture), "expected_flows": None}
        verify_cap = None
    else:
        log(f"generating captures in {work} ({args.packets} packets, {args.flows} flows, seed {args.seed})")
        for variant in ("vxlan", "plain"):
            path = os.path.join(work, f"{variant}.pcap")
            seen = generate(path, args.flows, args.packets, variant == "plain", args.seed)
            captures[variant] = {"path": path, "expected_flows": seen}
        verify_cap = os.path.join(work, "verify-vxlan.pcap")
        generate(verify_cap, 2000, 20000, False, args.seed)
    for c in captures.values():
        c["bytes"] = os.path.getsize(c["path"])

    log("FlowEngine reference counts (untimed pass with --distinct)")
    for variant, c in captures.items():
        ref = fe_reference(c["path"], args)
        c["packets"] = ref["packets"]
        c["flowengine_distinct"] = ref["distinct_flows"]
        c["flowengine_distinct_without_vn"] = ref["distinct_flows_without_vn"]
        c["flowengine_records"] = ref["records"]
        log(f"  {variant}: {ref['packets']} packets, {ref['records']} records, {ref['distinct_flows']} distinct flows "
            f"({ref['distinct_flows_without_vn']} without the VNI), generator ground truth {c['expected_flows']}")

    decap = {}
    if verify_cap:
        log("checking which peers decapsulate VXLAN (20k-packet VXLAN capture)")
        decap = verify_decap(work, verify_cap, args)

    results = []
    failures = []
    for tool in selected:
        for variant, c in captures.items():
            if variant == "vxlan" and tool["decap"] is False and "plain" in captures:
                continue
            if f"{tool['name']}:{variant}" in args.skip.split(",") and tool["name"] != "flowengine":
                continue
            wdir = os.path.join(work, f"{tool['name']}-{variant}")
            os.makedirs(wdir, exist_ok=True)
            runs = []
            parsed = None
            for r in range(args.reps):
                out = os.path.join(wdir, f"out{r}.txt")
                rc, wall, cpu, rss = timed(tool["cmd"](c["path"], wdir, args), out)
                if rc != 0:
                    failures.append(f"{tool['name']} on {variant}: exit {rc}")
                    log(f"  {tool['name']} {variant}: exit {rc}\n" + read(out)[-2000:])
                    break
                parsed = tool["parse"](read(out), wdir)
                runs.append({"wall_s": wall, "cpu_s": cpu, "max_rss_kb": rss, "in_process": parsed.get("in_process")})
            if not runs:
                results.append({"tool": tool["name"], "capture": variant, "ran": False})
                continue
            entry = summarize(tool, variant, c, runs, parsed, args, decap)
            if not entry["count_ok"]:
                failures.append(f"{tool['name']} on {variant}: {entry['count_check']}")
            results.append(entry)
            log(f"  {tool['name']:10s} {variant:5s} {entry['pps_per_core']/1e6:8.3f} Mpps/core  {entry['pps_wall']/1e6:8.3f} Mpps wall  "
                f"rss {entry['max_rss_kb']/1024:7.1f} MiB  flows {entry['distinct_flows']} ({entry['count_check']})")

    fe = {r["capture"]: r for r in results if r["tool"] == "flowengine" and r.get("ran", True)}
    for r in results:
        if r.get("ran", True) and r["capture"] in fe:
            r["ratio_flowengine_per_core"] = fe[r["capture"]]["pps_per_core"] / r["pps_per_core"]
            r["ratio_flowengine_wall"] = fe[r["capture"]]["pps_wall"] / r["pps_wall"]

    scaling = measure_scaling(captures["vxlan"]["path"], args) if args.scaling_reps > 0 else None
    if scaling and scaling["counts_equal"] is False:
        failures.append("scaling: 2 workers' flow counts differ from 1 worker's")

    doc = {
        "command": " ".join(sys.argv),
        "flowengine_access": args.fe_access,
        "flowengine_jit": args.fe_jit,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": machine(),
        "tolerance": args.tolerance,
        "rate_definition": "pps_per_core = packets / (user + sys CPU seconds of the whole process, from wait4); "
                           "ratios use pps_per_core of whole processes for every tool, FlowEngine included",
        "captures": captures,
        "decapsulation_check": decap,
        "tools": results,
        "flowengine_scaling": scaling,
        "failures": failures,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
    print_table(results, scaling, args.fe_access, args.fe_jit)
    log(f"results: {os.path.abspath(args.out)}")
    for f in failures:
        log(f"FAIL: {f}")
    return 1 if failures else 0


def summarize(tool, variant, c, runs, parsed, args, decap):
    packets = c["packets"]
    wall = statistics.median(r["wall_s"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    rss = statistics.median(r["max_rss_kb"] for r in runs)
    if tool["decap"] == "no-vni" and variant == "vxlan":
        reference, ref_name = c["flowengine_distinct_without_vn"], "FlowEngine's distinct flows without the VNI"
    else:
        reference, ref_name = c["flowengine_distinct"], "FlowEngine's distinct flows"
    distinct = parsed.get("distinct") if tool["name"] != "flowengine" else c["flowengine_distinct"]
    if parsed.get("packets") is not None and parsed["packets"] != packets:
        ok, check = False, f"read {parsed['packets']} packets of {packets}"
    elif distinct is None:
        ok, check = False, "count unusable (flows split by forced expiry)"
    else:
        diff = abs(distinct - reference) / max(1, reference)
        ok = diff <= args.tolerance
        check = f"{distinct} vs {reference} ({ref_name}): {diff * 100:.2f}% {'<=' if ok else '>'} {args.tolerance * 100:.2f}%"
        if ok and c["expected_flows"] is not None and tool["name"] == "flowengine":
            gt = abs(distinct - c["expected_flows"]) / max(1, c["expected_flows"])
            ok = gt <= args.tolerance
            check += f"; generator ground truth {c['expected_flows']} ({gt * 100:.2f}%)"
    in_process = [r["in_process"] for r in runs if r["in_process"]]
    entry = {
        "tool": tool["name"],
        "version": version(tool["name"]),
        "capture": variant,
        "capture_note": "plain variant: this tool reads the outer headers only (no VXLAN decapsulation)"
        if tool["decap"] is False else ("decapsulates VXLAN but keys flows by the inner 5-tuple without the VNI"
                                         if tool["decap"] == "no-vni" else "decapsulates VXLAN, keys flows by VNI and 5-tuple"),
        "decapsulation_check": decap.get(tool["name"]),
        "reps": len(runs),
        "packets": packets,
        "records": parsed["records"],
        "distinct_flows": distinct,
        "count_ok": ok,
        "count_check": check,
        "median_wall_s": wall,
        "median_cpu_s": cpu,
        "max_rss_kb": rss,
        "pps_wall": packets / wall,
        "pps_per_core": packets / max(cpu, 1e-3),
        "runs": [{k: v for k, v in r.items() if k != "in_process"} for r in runs],
    }
    if in_process:
        entry["in_process_pipeline"] = {
            "median_wall_s": statistics.median(j["median_wall_s"] for j in in_process),
            "median_cpu_s": statistics.median(j["median_cpu_s"] for j in in_process),
            "pps_wall": packets / statistics.median(j["median_wall_s"] for j in in_process),
            "pps_per_cpu_second": packets / statistics.median(j["median_cpu_s"] for j in in_process),
            "process_seconds_before_pipeline": statistics.median(j["process_seconds_before_first_timed_pass"] for j in in_process),
            "table_bytes_per_flow": in_process[0]["table_bytes_per_flow"],
            "access": in_process[0].get("access"),
            "tiered_compilation": in_process[0].get("tiered_compilation"),
        }
    return entry


def measure_scaling(cap, args):
    log(f"FlowEngine scaling on the VXLAN capture: {args.scaling_reps} in-process passes (after 1 warm-up) per worker count")
    res = {}
    for workers in (1, 2):
        out = subprocess.run([FE, "file-throughput", cap, "--workers", str(workers), "--reps", str(args.scaling_reps),
                              "--warmup", "1", "--max-flows", str(args.max_flows), "--access", args.fe_access, "--json"],
                             check=True, capture_output=True, text=True).stdout
        j = last_json(out)
        res[workers] = j
        passes = ", ".join(f"{j['packets'] / w / 1e6:.2f}" for w in j["wall_s"])
        log(f"  {workers} worker(s): median {j['median_mpps']:.2f} Mpps (passes {passes})")
    factor = res[2]["median_mpps"] / res[1]["median_mpps"]
    log(f"  scaling 2w/1w = {factor:.2f}")
    return {
        "design": "capture split untimed into 2 files by a symmetric hash of the inner flow (VNI, protocol, addresses, "
                  "ports), as symmetric RSS would queue it; each worker reads its own file on a thread pinned to its own CPU",
        "one_worker": res[1], "two_workers": res[2], "factor": factor,
        "counts_equal": res[1]["records"] == res[2]["records"] and res[1]["packets"] == res[2]["packets"],
    }


def machine():
    model = ""
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "logical_cpus": os.cpu_count(), "kernel": platform.release(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "note": "shared 2-vCPU VM; other work may run beside the harness"}


def print_table(results, scaling, fe_access, fe_jit):
    log("")
    log(f"{'tool':10s} {'capture':7s} {'Mpps/core':>10s} {'Mpps wall':>10s} {'FE/peer':>8s} {'max RSS MiB':>11s} {'flows':>9s} {'records':>9s}  check")
    for r in results:
        if not r.get("ran", True):
            log(f"{r['tool']:10s} {r['capture']:7s} did not run")
            continue
        log(f"{r['tool']:10s} {r['capture']:7s} {r['pps_per_core']/1e6:10.3f} {r['pps_wall']/1e6:10.3f} "
            f"{r.get('ratio_flowengine_per_core', float('nan')):8.2f} {r['max_rss_kb']/1024:11.1f} "
            f"{str(r['distinct_flows']):>9s} {r['records']:9d}  {'ok' if r['count_ok'] else 'FAIL'}")
    for r in results:
        if r["tool"] == "flowengine" and "in_process_pipeline" in r:
            ip = r["in_process_pipeline"]
            log(f"flowengine {r['capture']} ({fe_access} reads, {fe_jit} JIT): in-process pipeline {ip['pps_wall']/1e6:.2f} Mpps wall, "
                f"{ip['pps_per_cpu_second']/1e6:.2f} Mpps per CPU-second; {ip['process_seconds_before_pipeline']:.2f} s of "
                f"process start before it")
    if scaling:
        log(f"flowengine scaling (in-process, VXLAN): 1w {scaling['one_worker']['median_mpps']:.2f} Mpps, "
            f"2w {scaling['two_workers']['median_mpps']:.2f} Mpps, factor {scaling['factor']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
