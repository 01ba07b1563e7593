#!/usr/bin/env bash
# Smoke test of the roofline benchmark (benchmarks/roofline) on tiny captures, every command under a timeout (about
# 10 s in all), after the solution is built (build/test.sh, which also installs gcc). Checks: run.sh exits 0 and
# writes JSON with FlowEngine and all six roofline variants at positive rates over the generator's flows; the C tool
# counts the generator's flows on a plain capture too; it refuses captures cut inside a frame or inside a record
# header (naming the byte offset), an empty capture, and captures with frames it does not parse (ARP; a VXLAN frame
# after plain ones), instead of reporting a rate over them. Closes with 'roofline: N passed, M failed'.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/tests/lib/checks.sh" roofline

out=$(mktemp -d /tmp/roofline-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
fe="$root/benchmarks/FlowEngine.Benchmarks/bin/Release/net10.0/FlowEngine.Benchmarks"
tool="$root/benchmarks/roofline/bin/roofline"

timeout 120 "$root/benchmarks/roofline/run.sh" --no-build --flows 2000 --packets 30000 --rounds 1 --reps 2 \
  --out "$out/r.json" >"$out/run.log" 2>&1
rc=$?
check "run.sh exited 0 (rc $rc)" test "$rc" = 0
((rc == 0)) || tail -20 "$out/run.log"
check "results JSON exists" test -s "$out/r.json"
python3 - "$out/r.json" >"$out/checks.txt" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def say(cond, what): print(("ok " if cond else "FAIL ") + what)
say(doc["packets"] == 30000, f"30000 frames ({doc['packets']})")
say(1500 < doc["flows"] <= 2000, f"a plausible share of the 2000-flow population was seen ({doc['flows']})")
say(doc["flowengine_pps"] > 0, f"FlowEngine rate positive ({doc['flowengine_pps']:.0f})")
variants = {(v["entry_lines"], v["prefetch"]) for v in doc["roofline"] if v["pps"] > 0}
say(variants == {(lines, pf) for lines in (1, 2, 3) for pf in (True, False)}, f"all six roofline variants ran ({sorted(variants)})")
say(all(doc["flowengine_over_bound"][k] > 0 for k in ("1_line", "2_line", "3_line")), "FlowEngine / bound ratios present")
PY
py_rc=$?
check "JSON assertions ran (python exit $py_rc)" test "$py_rc" = 0
while read -r verdict what; do
  if [[ "$verdict" == ok ]]; then ok "$what"; else bad "$what"; fi
done <"$out/checks.txt"
check "all five JSON assertions were evaluated" test "$(grep -c '^ok \|^FAIL ' "$out/checks.txt")" = 5

# Plain frames (no tunnel): the same flow count as the generator's.
seen=$(timeout 30 "$fe" generate --out "$out/plain.pcap" --plain --flows 500 --packets 5000 | grep -o '[0-9]* of 500 flows seen' | cut -d' ' -f1)
line=$(timeout 10 "$tool" "$out/plain.pcap" --max-flows 1000 --reps 1 --warmup 0)
check "plain capture: roofline counts the generator's $seen flows ($line)" grep -q "5000 frames, $seen flows, plain" <<<"$line"

# Captures cut inside the last frame, inside a record header, or with no frames: refused with the byte offset, exit 2.
size=$(stat -c %s "$out/plain.pcap")
last=$(python3 -c "
import struct, sys
d = open(sys.argv[1], 'rb').read(); at = 24; last = 24
while at + 16 <= len(d): last = at; at += 16 + struct.unpack_from('<I', d, at + 8)[0]
print(last)" "$out/plain.pcap")
head -c $((size - 7)) "$out/plain.pcap" >"$out/cut.pcap"
timeout 10 "$tool" "$out/cut.pcap" --reps 1 >"$out/cut.log" 2>&1
rc=$?
check "capture cut inside its last frame refused (rc $rc: $(cat "$out/cut.log"))" test "$rc" = 2
check "the refusal names the last record's byte offset ($last)" grep -q "record 4999 at byte $last runs past the end of the file" "$out/cut.log"
head -c $((last + 8)) "$out/plain.pcap" >"$out/cut-header.pcap"
timeout 10 "$tool" "$out/cut-header.pcap" --reps 1 >"$out/cut-header.log" 2>&1
rc=$?
check "capture cut inside a record header refused (rc $rc: $(cat "$out/cut-header.log"))" test "$rc" = 2
check "the refusal names where the partial header starts" grep -q "8 bytes at byte $last are not a whole record header" "$out/cut-header.log"
head -c 24 "$out/plain.pcap" >"$out/empty.pcap"
timeout 10 "$tool" "$out/empty.pcap" --reps 1 >"$out/empty.log" 2>&1
rc=$?
check "capture without frames refused (rc $rc: $(cat "$out/empty.log"))" test "$rc" = 2

# Frames the tool does not parse among plain UDP frames (ARP; a VXLAN frame): no rate, exit 1.
python3 - "$out/arp.pcap" "$out/mixed.pcap" <<'PY'
import struct, sys
def udp(dport, payload=b""):
    ip = bytes([0x45, 0, 0, 28 + len(payload), 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    return bytes(12) + b"\x08\x00" + ip + struct.pack(">HHHH", 1000, dport, 8 + len(payload), 0) + payload
arp = bytes(12) + b"\x08\x06" + bytes(28)
vxlan = udp(4789, b"\x08\x00\x00\x00\x00\x00\x07\x00" + udp(53)[:42])
for path, frames in ((sys.argv[1], (udp(53), arp, udp(53))), (sys.argv[2], (udp(53), vxlan, udp(53)))):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for frame in frames:
            f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
PY
for name in arp mixed; do
  timeout 10 "$tool" "$out/$name.pcap" --reps 1 >"$out/$name.log" 2>&1
  rc=$?
  check "$name capture refused (rc $rc: $(cat "$out/$name.log"))" test "$rc" = 1
  check "$name: the refusal counts the frame it did not parse" grep -q "1 of 3 frames are not plain TCP/UDP" "$out/$name.log"
done
finish
