#!/usr/bin/env bash
# Smoke test of the traffic lab (benchmarks/lab/run.sh), bounded to < 3 minutes. Run as root.
# Runs a 1-minute evaluation phase with two attacks, then checks: the captures exist and are nanosecond pcapng,
# tshark decodes VXLAN with >= 2 VNIs, every label's attacker IP is in the capture (as the inner source on its VNI)
# inside [start_ts, end_ts], the same holds after the time warp, the Geneve copy decodes, and no namespace, link or
# file of the run is left behind, also after a run is interrupted. Closes with 'lab: N passed, M failed'.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lab="$root/benchmarks/lab/run.sh"
source "$root/tests/lib/checks.sh" lab

if ((EUID != 0)); then bad "must run as root (network namespaces)"; finish; fi
out=$(mktemp -d /tmp/lab-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

# leftovers of one run, by its prefix: namespaces, links in the root namespace, resolver dirs, work dirs, VM cgroups
leftovers() {
  local p=$1
  { ip netns list | awk '{print $1}' | grep "^$p-"
    ip -o link show | grep -- "$p"
    ls -d /etc/netns/"$p"-* /tmp/"$p".* 2>/dev/null
    find /sys/fs/cgroup -maxdepth 6 -type d -name "$p.lab" 2>/dev/null; } | head -5
}
prefix_of() { grep -o '\[lab fl[0-9]\{4\} ' "$1" | head -1 | awk '{print $2}'; }

# 1. an interrupted run tears down what it built
timeout -s TERM 6 "$lab" --out "$out/int" --check-only >"$out/int.log" 2>&1
p=$(prefix_of "$out/int.log")
check "interrupted run printed its prefix ($p)" test -n "$p"
if [[ -n "$p" ]]; then
  left=$(leftovers "$p"); check "interrupted run left nothing behind${left:+: $left}" test -z "$left"
fi

# 2. a short run with attacks
start=$SECONDS
timeout 170 "$lab" --out "$out/run" --minutes 1 --train-minutes 0 --seed 7 --attacks portscan,dnstunnel \
  --exfil-mb 2 >"$out/run.log" 2>&1
rc=$?
check "run.sh exited 0 (rc $rc, $((SECONDS - start)) s)" test "$rc" = 0
((rc == 0)) || tail -30 "$out/run.log"
p=$(prefix_of "$out/run.log")
check "run printed its prefix ($p)" test -n "$p"
if [[ -n "$p" ]]; then
  left=$(leftovers "$p"); check "run left nothing behind${left:+: $left}" test -z "$left"
fi

cap="$out/run/eval-underlay.pcapng"
check "underlay capture exists and is not empty" test -s "$cap"
check "gateway capture exists and is not empty" test -s "$out/run/eval-gateway.pcapng"
info=$(capinfos -t -i "$cap" 2>/dev/null)
check "underlay capture is pcapng with nanosecond timestamps" \
  bash -c '[[ "$1" == *pcapng* ]] && capinfos -a "$2" 2>/dev/null | grep -q "\.[0-9]\{9\}"' _ "$info" "$cap"
nvni=$(tshark -n -r "$cap" -Y vxlan -T fields -e vxlan.vni 2>/dev/null | sort -u | grep -c .)
check "tshark decodes VXLAN with >= 2 VNIs (found $nvni)" test "${nvni:-0}" -ge 2
nvm=$(grep -vc ",gateway," "$out/run/inventory.csv"); nvm=$((nvm - 1))
check "inventory lists >= 10 VMs ($nvm)" test "$nvm" -ge 10

# every label: its attacker (inner source address on its VNI) sends packets inside [start_ts, end_ts]
labels_ok() { # capture labels
  local cap=$1 labels=$2 n=0 s e vni ip c
  [[ -s "$labels" ]] || return 1
  while IFS=, read -r s e type vm tenant vni ip rest; do
    [[ $s == start_ts ]] && continue
    n=$((n + 1))
    c=$(tshark -n -r "$cap" -Y "vxlan.vni == $vni && ip.src == $ip && frame.time_epoch >= $s && frame.time_epoch <= $e" \
      -T fields -e frame.number 2>/dev/null | wc -l)
    echo "     $type $vm vni $vni $ip: $c packets in [$s, $e]"
    ((c > 0)) || return 1
  done <"$labels"
  ((n >= 2))
}
check "every label's attacker IP is in the capture during [start,end]" labels_ok "$cap" "$out/run/eval.labels.csv"
check "the same after the time warp (eval-underlay-days.pcapng, eval-days.labels.csv)" \
  labels_ok "$out/run/eval-underlay-days.pcapng" "$out/run/eval-days.labels.csv"
span_days=$(capinfos -T -r -u "$out/run/eval-underlay-days.pcapng" 2>/dev/null | cut -f2 | cut -d. -f1)
check "time-warped capture spans more than 6 hours (${span_days:-?} s)" test "${span_days:-0}" -gt 21600
gen=$(tshark -n -r "$out/run/eval-geneve.pcapng" -Y "geneve.vni == 5002 && geneve.option.class == 0xff01" \
  -T fields -e ip.src 2>/dev/null | grep -c '^192\.0\.2\.[0-9]*,10\.0\.0\.')
check "Geneve copy decodes: VNI 5002 with options and an inner IPv4 packet ($gen packets)" test "${gen:-0}" -gt 0

# the VM resource state timeline: every VM sampled about once a second across the capture, from its own cgroup
state="$out/run/eval.vm-state.csv"
first=$(capinfos -a -S -r -T "$cap" 2>/dev/null | cut -f2); last=$(capinfos -e -S -r -T "$cap" 2>/dev/null | cut -f2)
state_ok() { # timeline inventory first_ts last_ts
  python3 - "$@" <<'PYEOF'
import csv, sys
path, inventory, first, last = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
lines = open(path).read().splitlines()
assert lines[0] == "time_ns,vm,cpu_ns,memory_bytes,disk_read_bytes,disk_write_bytes", lines[0]
vms = {r["name"] for r in csv.DictReader(open(inventory)) if r["role"] != "gateway"}
series = {}
for row in csv.DictReader(lines):
    series.setdefault(row["vm"], []).append((int(row["time_ns"]), int(row["cpu_ns"]), int(row["memory_bytes"])))
assert set(series) == vms, f"VMs in the timeline {sorted(series)} != inventory {sorted(vms)}"
busy = 0
for vm, s in series.items():
    times = [t for t, _, _ in s]
    assert times == sorted(times), f"{vm}: samples out of order"
    assert times[0] <= first * 1e9 + 1.5e9 and times[-1] >= last * 1e9 - 1.5e9, f"{vm}: samples do not cover the capture"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 3e9, f"{vm}: a gap of {max(gaps) / 1e9:.1f} s between samples"
    assert all(b[1] >= a[1] for a, b in zip(s, s[1:])), f"{vm}: cpu_ns goes backwards"
    busy += s[-1][1] > s[0][1]
print(f"     {len(series)} VMs, {sum(map(len, series.values()))} samples, {busy} VMs used CPU")
assert busy == len(vms), f"only {busy} of {len(vms)} VMs show CPU time: their processes are not in their cgroups"
PYEOF
}
check "eval.vm-state.csv: every VM's cgroup sampled each second over the capture, all used CPU" \
  state_ok "$state" "$out/run/inventory.csv" "${first:-0}" "${last:-0}"

finish
