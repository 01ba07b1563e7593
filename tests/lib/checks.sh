# Copyright (c) FlowEngine contributors. Licensed under the MIT License.
# Counters and verdict lines shared by the shell smoke tests (tests/*/*_smoke.sh). Source it with the suite's name:
#   source "$root/tests/lib/checks.sh" NAME
# then call ok/bad/check per assertion and finish at the end, which prints 'NAME: N passed, M failed' (the line
# build/test.sh adds to its totals) and exits non-zero when anything failed.
checks_suite=$1
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "$checks_suite: $passed passed, $failed failed"; ((failed == 0)); exit $?; }
