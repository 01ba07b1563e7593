#!/usr/bin/env bash
# Smoke test of the peer harness (benchmarks/peers/run.sh) on a tiny capture, bounded to < 90 s. Run as root after
# the solution is built (build/test.sh does both). Checks: the harness exits 0; every tool ran on its capture and its
# distinct-flow count matches FlowEngine's within the tolerance; the JSON has every tool with a positive rate and
# peak memory; the outer-only peers were shown not to decapsulate VXLAN; scaling ran with equal counts; and a
# mismatched plain capture makes the harness fail. Closes with 'peers: N passed, M failed'.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/tests/lib/checks.sh" peers

if ((EUID != 0)); then bad "must run as root (installs peers)"; finish; fi
out=$(mktemp -d /tmp/peers-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

start=$SECONDS
timeout 120 "$root/benchmarks/peers/run.sh" --no-build --flows 2000 --packets 30000 --reps 1 --scaling-reps 2 \
  --workdir "$out/work" --keep --out "$out/r.json" >"$out/run.log" 2>&1
rc=$?
check "run.sh exited 0 (rc $rc, $((SECONDS - start)) s)" test "$rc" = 0
((rc == 0)) || tail -30 "$out/run.log"
check "results JSON exists" test -s "$out/r.json"

# Assertions over the JSON, one line each: 'ok|FAIL <what>'.
python3 - "$out/r.json" >"$out/checks.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
tools = {(t["tool"], t["capture"]): t for t in doc.get("tools", [])}
def say(cond, what): print(("ok " if cond else "FAIL ") + what)
expected = [("flowengine", "vxlan"), ("flowengine", "plain"), ("sharppcap", "vxlan"), ("sharppcap", "plain"),
            ("tshark", "vxlan"), ("tshark", "plain"), ("softflowd", "plain"), ("nfpcapd", "plain"),
            ("argus", "plain"), ("pmacctd", "plain")]
for key in expected:
    t = tools.get(key)
    name = f"{key[0]} on {key[1]}"
    say(t is not None and t.get("ran", True), f"{name} ran")
    if t is None or not t.get("ran", True):
        continue
    say(t["count_ok"], f"{name}: flow count within tolerance ({t['count_check']})")
    say(t["pps_per_core"] > 0 and t["pps_wall"] > 0, f"{name}: positive rates ({t['pps_per_core']:.0f} pps/core)")
    say(t["max_rss_kb"] > 0, f"{name}: peak memory recorded ({t['max_rss_kb']} KiB)")
    say(t["packets"] == doc["captures"][key[1]]["packets"] == 30000, f"{name}: all 30000 packets")
    if key[0] != "flowengine":
        say(t.get("ratio_flowengine_per_core", 0) > 0, f"{name}: FlowEngine/peer ratio present")
fe = tools.get(("flowengine", "vxlan"))
say(fe is not None and fe["distinct_flows"] == doc["captures"]["vxlan"]["expected_flows"],
    "FlowEngine's distinct flows equal the generator's ground truth")
for peer in ("softflowd", "nfpcapd", "argus", "pmacctd"):
    d = doc["decapsulation_check"].get(peer, {})
    say(d.get("decapsulates_vxlan") is False and d.get("flows_on_vxlan_capture", 0) > 0,
        f"{peer}: shown to read outer headers only ({d.get('of_which_outer_udp_4789')} of {d.get('flows_on_vxlan_capture')} flows on UDP 4789)")
s = doc.get("flowengine_scaling") or {}
say(s.get("factor", 0) > 0 and s.get("counts_equal") is True, f"scaling measured with equal counts (factor {s.get('factor', 0):.2f})")
say(doc.get("failures") == [], f"no failures listed ({doc.get('failures')})")
say(doc.get("flowengine_access") == "buffered" and fe is not None and fe.get("in_process_pipeline", {}).get("access") == "buffered",
    "FlowEngine read the capture as recorded (buffered, the default)")
say(doc.get("flowengine_jit") == "full" and fe is not None and fe.get("in_process_pipeline", {}).get("tiered_compilation") is False,
    "FlowEngine ran as recorded (full JIT, tiered compilation off, the default)")
PY
while read -r verdict what; do
  if [[ "$verdict" == ok ]]; then ok "$what"; else bad "$what"; fi
done <"$out/checks.txt"
check "assertions were evaluated ($(wc -l <"$out/checks.txt") lines)" test "$(wc -l <"$out/checks.txt")" -ge 50

# The check can fail: softflowd with a table smaller than the flows expires flows early and splits them, which the
# harness must report (exit 1). Also exercises --capture/--plain-capture.
timeout 60 "$root/benchmarks/peers/run.sh" --no-build --capture "$out/work/vxlan.pcap" --plain-capture "$out/work/plain.pcap" \
  --tools flowengine,softflowd --peer-max-flows 500 --reps 1 --scaling-reps 1 --out "$out/bad.json" >"$out/bad.log" 2>&1
rc=$?
check "softflowd with a 500-flow table fails the harness (rc $rc)" test "$rc" = 1
check "the failure names softflowd on the plain capture" grep -q "FAIL: softflowd on plain" "$out/bad.log"
finish
