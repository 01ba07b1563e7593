#!/usr/bin/env bash
# Fails when a benchmark listed in benchmarks/allocations.json allocates more bytes per operation than its limit.
# Runs the listed benchmarks in one BenchmarkDotNet process with the job named in the file (short: 3 warm-ups,
# 3 iterations), then reads the JSON exporter's Memory.BytesAllocatedPerOperation.
#
# BDN divides allocated bytes by OperationsPerInvoke with integer division, so an allocation made once per
# invocation (rather than per packet) smaller than OperationsPerInvoke bytes reads as 0. The decode-throughput
# pass at the end counts bytes exactly (GC.GetAllocatedBytesForCurrentThread) to close that gap for the decoder.
#
# Usage: benchmarks/check-allocations.sh            (needs dotnet and jq; about 1 minute on 2 cores)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$root/benchmarks/allocations.json"
project="benchmarks/FlowEngine.Benchmarks"
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT

job="$(jq -r '.job // "short"' "$config")"
mapfile -t names < <(jq -r '.benchmarks | keys[]' "$config")
if [[ ${#names[@]} -eq 0 ]]; then
    echo "check-allocations: no benchmarks listed in $config" >&2
    exit 1
fi

# BenchmarkDotNet looks for the project file below the current directory.
cd "$root"
dotnet build "$project" -c Release --nologo -v quiet
dotnet run -c Release --no-build --project "$project" -- \
    --filter "${names[@]}" --job "$job" --exporters json --artifacts "$artifacts" >"$artifacts/bdn.log" 2>&1 || {
    tail -n 40 "$artifacts/bdn.log" >&2
    echo "check-allocations: BenchmarkDotNet failed" >&2
    exit 1
}

results=("$artifacts"/results/*-report-full-compressed.json)
failed=0
for name in "${names[@]}"; do
    limit="$(jq -r --arg n "$name" '.benchmarks[$n]' "$config")"
    # With [Params] a benchmark reports once per case ("Name(Flows: 1000)"): the largest allocation counts.
    allocated="$(jq -r --arg n "$name" '.Benchmarks[] | select(.FullName == $n or (.FullName | startswith($n + "("))) | .Memory.BytesAllocatedPerOperation' "${results[@]}" | sort -n | tail -n 1)"
    if [[ -z "$allocated" || "$allocated" == "null" ]]; then
        echo "FAIL $name: no result (renamed, or MemoryDiagnoser missing?)"
        failed=1
    elif (( allocated > limit )); then
        echo "FAIL $name: $allocated B/op allocated, limit $limit"
        failed=1
    else
        echo "ok   $name: $allocated B/op (limit $limit)"
    fi
done

# Exact byte counts over whole passes: the decoder alone, then the shipped FlowPipeline.ProcessBatch (decode,
# flow table, expiry; new flows and records included).
for stage in decode flows; do
    line="$(dotnet run -c Release --no-build --project "$project" -- decode-throughput --stage "$stage" --packets 100k --reps 3 --warmup 2 | tail -n 1)"
    if [[ "$line" =~ allocated\ 0\ B ]]; then
        echo "ok   decode-throughput --stage $stage: 0 B in timed passes"
    else
        echo "FAIL decode-throughput --stage $stage: $line"
        failed=1
    fi
done

exit "$failed"
