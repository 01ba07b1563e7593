#!/usr/bin/env bash
# Smoke test of the roofline benchmark (benchmarks/roofline) on tiny captures, bounded to < 60 s, after the solution
# is built (build/test.sh). Checks: run.sh exits 0 and writes JSON with FlowEngine and all six roofline variants at
# positive rates over the same flows as the generator's ground truth; the C tool counts the generator's flows on a
# plain capture too; it refuses a truncated capture (naming the byte offset) and a capture with frames it does not
# parse (ARP), instead of reporting a rate over them. Closes with 'roofline: N passed, M failed'.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "roofline: $passed passed, $failed failed"; ((failed == 0)); exit $?; }

out=$(mktemp -d /tmp/roofline-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
fe="$root/benchmarks/FlowEngine.Benchmarks/bin/Release/net10.0/FlowEngine.Benchmarks"
tool="$root/benchmarks/roofline/bin/roofline"

timeout 60 "$root/benchmarks/roofline/run.sh" --no-build --flows 2000 --packets 30000 --rounds 1 --reps 2 \
  --out "$out/r.json" >"$out/run.log" 2>&1
rc=$?
check "run.sh exited 0 (rc $rc)" test "$rc" = 0
((rc == 0)) || tail -20 "$out/run.log"
python3 - "$out/r.json" >"$out/checks.txt" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def say(cond, what): print(("ok " if cond else "FAIL ") + what)
say(doc["packets"] == 30000, f"30000 frames ({doc['packets']})")
say(1500 < doc["flows"] <= 2000, f"flows seen by all tools are the generator's ({doc['flows']} of 2000)")
say(doc["flowengine_pps"] > 0, f"FlowEngine rate positive ({doc['flowengine_pps']:.0f})")
variants = {(v["entry_lines"], v["prefetch"]) for v in doc["roofline"] if v["pps"] > 0}
say(variants == {(lines, pf) for lines in (1, 2, 3) for pf in (True, False)}, f"all six roofline variants ran ({sorted(variants)})")
say(all(doc["flowengine_over_bound"][k] > 0 for k in ("1_line", "2_line", "3_line")), "FlowEngine / bound ratios present")
PY
while read -r verdict what; do
  if [[ "$verdict" == ok ]]; then ok "$what"; else bad "$what"; fi
done <"$out/checks.txt"
check "JSON assertions were evaluated" test "$(wc -l <"$out/checks.txt")" -ge 5

# Plain frames (no tunnel): the same flow count as the generator's.
seen=$("$fe" generate --out "$out/plain.pcap" --plain --flows 500 --packets 5000 | grep -o '[0-9]* of 500 flows seen' | cut -d' ' -f1)
line=$("$tool" "$out/plain.pcap" --max-flows 1000 --reps 1 --warmup 0)
check "plain capture: roofline counts the generator's $seen flows ($line)" grep -q "5000 frames, $seen flows, plain" <<<"$line"

# A capture cut inside its last record: refused with the record's byte offset, exit 2.
size=$(stat -c %s "$out/plain.pcap")
head -c $((size - 7)) "$out/plain.pcap" >"$out/cut.pcap"
"$tool" "$out/cut.pcap" --reps 1 >"$out/cut.log" 2>&1
rc=$?
check "truncated capture refused (rc $rc: $(cat "$out/cut.log"))" test "$rc" = 2
check "the refusal names the record's byte offset" grep -q "runs past the end of the file" "$out/cut.log"

# A frame the tool does not parse (ARP) among UDP frames: no rate, exit 1.
python3 - "$out/arp.pcap" <<'PY'
import struct, sys
udp = bytes(12) + b"\x08\x00" + bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + struct.pack(">HHHH", 1000, 53, 8, 0)
arp = bytes(12) + b"\x08\x06" + bytes(28)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for frame in (udp, arp, udp):
        f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
PY
"$tool" "$out/arp.pcap" --reps 1 >"$out/arp.log" 2>&1
rc=$?
check "a capture with an ARP frame is refused (rc $rc: $(cat "$out/arp.log"))" test "$rc" = 1
check "the refusal counts the frame it did not parse" grep -q "1 of 3 frames are not plain TCP/UDP" "$out/arp.log"
finish
