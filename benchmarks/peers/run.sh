#!/usr/bin/env bash
# Issue 5 peer harness: generates (or takes) captures and runs FlowEngine, tshark, softflowd, nfpcapd, argus,
# pmacctd and a SharpPcap baseline on them; prints packets per second per core, FlowEngine/peer ratios, peak memory
# and flow-count checks, and writes one JSON file. Run as root on Debian 12 (installs missing peers).
#   benchmarks/peers/run.sh [--flows 100k|1M] [--packets N] [--reps 3] [--out FILE.json] [--no-build]
#   benchmarks/peers/run.sh --capture VXLAN.pcap [--plain-capture PLAIN.pcap] ...
# See benchmarks/peers/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

build=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-build" ]]; then build=0; else args+=("$a"); fi
done

bash "$root/build/apt-ensure.sh" python3 time tshark softflowd argus-server argus-client pmacct nfdump libpcap0.8
# The Debian packages may start daemons of their own; the harness runs its own processes only.
for svc in softflowd argus-server pmacctd nfdump; do
  systemctl is-active --quiet "$svc" 2>/dev/null && systemctl stop "$svc" || true
done

if ((build)); then
  dotnet build benchmarks/FlowEngine.Benchmarks -c Release -warnaserror -v q -nologo >/dev/null
  dotnet build benchmarks/SharpPcapBaseline -c Release -warnaserror -v q -nologo >/dev/null
fi

exec python3 benchmarks/peers/harness.py "${args[@]}"
