#!/usr/bin/env bash
# FlowEngine next to this machine's bound (benchmarks/roofline/README.md): builds roofline.c and FlowEngine.Benchmarks,
# then runs roofline.py, which passes on every option:
#   benchmarks/roofline/run.sh [--flows 100k] [--packets 2M] [--zipf 1.1] [--max-flows N] [--rounds 3] [--reps 5]
#                              [--out FILE.json] [--no-build]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

build=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-build" ]]; then build=0; else args+=("$a"); fi
done

bash "$root/build/apt-ensure.sh" gcc python3
mkdir -p benchmarks/roofline/bin
# -march=native: the bound is this machine's, with every instruction it has (CRC32C, AVX-512 where present).
gcc -O3 -march=native -Wall -Wextra -Werror -o benchmarks/roofline/bin/roofline benchmarks/roofline/roofline.c
if ((build)); then
  dotnet build benchmarks/FlowEngine.Benchmarks -c Release -warnaserror -v q -nologo >/dev/null
fi

exec python3 benchmarks/roofline/roofline.py "${args[@]}"
