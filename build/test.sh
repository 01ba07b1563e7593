#!/usr/bin/env bash
# Full test run for a fresh Debian 12 machine (run as root). Idempotent: installs the Debian packages the tests
# use only when missing, builds everything, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash build/apt-ensure.sh python3 jq make gcc tshark tcpdump iputils-ping pkg-config libdpdk-dev iproute2 dnsutils nmap hping3 \
  iperf3 nfdump dnsmasq-base nftables ethtool curl time softflowd argus-server argus-client pmacct libpcap0.8 rsyslog

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
# The shell suites, each closing with 'NAME: N passed, M failed' (tests/lib/checks.sh):
#   lab: the traffic lab: namespaces, kernel VXLAN, real tools and attacks, bounded to a few minutes;
#   peers: the peer harness (issue 5) on a tiny capture: every peer runs, counts agree, the JSON is complete;
#   roofline: the minimal C flow meter beside FlowEngine on tiny captures: it runs, counts right, refuses bad input.
suites=(lab peers roofline)
for suite in "${suites[@]}"; do
  bash "tests/$suite/${suite}_smoke.sh" 2>&1 | tee "/tmp/flowengine-$suite.log"
  suite_rc=${PIPESTATUS[0]}
  if (( suite_rc != 0 && rc == 0 )); then rc=$suite_rc; fi
done
set -e
if (( alloc_rc != 0 && rc == 0 )); then rc=$alloc_rc; fi
# One closing line with the totals, as 'N passed, N failed'.
python3 - "${suites[@]}" <<'PY'
import re, sys
text = open('/tmp/flowengine-test.log').read()
passed = sum(int(x) for x in re.findall(r'Passed:\s+(\d+)', text))
failed = sum(int(x) for x in re.findall(r'Failed:\s+(\d+)', text))
skipped = sum(int(x) for x in re.findall(r'Skipped:\s+(\d+)', text))
for suite in sys.argv[1:]:
    found = re.findall(rf'^{suite}: (\d+) passed, (\d+) failed', open(f'/tmp/flowengine-{suite}.log').read(), re.M)
    if found:
        passed += int(found[-1][0]); failed += int(found[-1][1])
    else:
        failed += 1  # a suite that did not reach its closing line failed
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
