#!/usr/bin/env bash
# Full test run for a fresh Debian 12 machine (run as root). Idempotent: installs the Debian packages the tests
# use only when missing, builds everything, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build/apt-ensure.sh python3 jq make gcc tshark tcpdump iputils-ping pkg-config libdpdk-dev iproute2 dnsutils nmap hping3 \
  iperf3 nfdump dnsmasq-base nftables ethtool curl time softflowd argus-server argus-client pmacct libpcap0.8

if [[ -f native/Makefile ]]; then
  make -C native
fi

dotnet build FlowEngine.sln -c Release -warnaserror
dotnet format FlowEngine.sln --verify-no-changes --no-restore
set +e
dotnet test FlowEngine.sln -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee /tmp/flowengine-test.log
rc=${PIPESTATUS[0]}
set -e
# Hot paths must allocate nothing: BenchmarkDotNet's MemoryDiagnoser over the benchmarks in allocations.json.
set +e
bash benchmarks/check-allocations.sh
alloc_rc=$?
# The traffic lab: namespaces, kernel VXLAN, real tools and attacks, bounded to a few minutes.
bash tests/lab/lab_smoke.sh 2>&1 | tee /tmp/flowengine-lab.log
lab_rc=${PIPESTATUS[0]}
# The peer harness (issue 5) on a tiny capture: every peer runs, counts agree, the JSON is complete.
bash tests/peers/peers_smoke.sh 2>&1 | tee /tmp/flowengine-peers.log
peers_rc=${PIPESTATUS[0]}
# The roofline benchmark (a minimal C flow meter beside FlowEngine) on tiny captures: it runs, counts right, refuses bad input.
bash tests/roofline/roofline_smoke.sh 2>&1 | tee /tmp/flowengine-roofline.log
roofline_rc=${PIPESTATUS[0]}
set -e
if (( alloc_rc != 0 && rc == 0 )); then rc=$alloc_rc; fi
if (( lab_rc != 0 && rc == 0 )); then rc=$lab_rc; fi
if (( peers_rc != 0 && rc == 0 )); then rc=$peers_rc; fi
if (( roofline_rc != 0 && rc == 0 )); then rc=$roofline_rc; fi
# One closing line with the totals, as 'N passed, N failed'.
python3 - <<'PY'
import re
text = open('/tmp/flowengine-test.log').read()
passed = sum(int(x) for x in re.findall(r'Passed:\s+(\d+)', text))
failed = sum(int(x) for x in re.findall(r'Failed:\s+(\d+)', text))
skipped = sum(int(x) for x in re.findall(r'Skipped:\s+(\d+)', text))
lab = re.findall(r'^lab: (\d+) passed, (\d+) failed', open('/tmp/flowengine-lab.log').read(), re.M)
if lab:
    passed += int(lab[-1][0]); failed += int(lab[-1][1])
else:
    failed += 1
peers = re.findall(r'^peers: (\d+) passed, (\d+) failed', open('/tmp/flowengine-peers.log').read(), re.M)
if peers:
    passed += int(peers[-1][0]); failed += int(peers[-1][1])
else:
    failed += 1
roofline = re.findall(r'^roofline: (\d+) passed, (\d+) failed', open('/tmp/flowengine-roofline.log').read(), re.M)
if roofline:
    passed += int(roofline[-1][0]); failed += int(roofline[-1][1])
else:
    failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
