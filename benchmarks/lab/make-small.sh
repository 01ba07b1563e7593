#!/usr/bin/env bash
# Writes samples/data/lab-small.pcapng (+ .labels.csv, .inventory.csv, .vm-state.csv): a ~2-minute evaluation phase of the lab with
# all six attacks at reduced volume, underlay (VXLAN) capture with real timestamps. Run as root; about 3 minutes.
#   sudo benchmarks/lab/make-small.sh [SEED]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$here/../../samples/data" && pwd)"
seed=${1:-11}
tmp=$(mktemp -d /tmp/lab-small.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$here/run.sh" --out "$tmp" --minutes 2 --train-minutes 0 --seed "$seed" --days-eval 1 \
  --volume 0.05 --flood-count 600 --exfil-mb 1 --geneve-vni 0
cp "$tmp/eval-underlay.pcapng" "$data/lab-small.pcapng"
cp "$tmp/eval.labels.csv" "$data/lab-small.labels.csv"
cp "$tmp/inventory.csv" "$data/lab-small.inventory.csv"
cp "$tmp/eval.vm-state.csv" "$data/lab-small.vm-state.csv"
capinfos -c -s -u "$data/lab-small.pcapng"
echo "labels: $(($(wc -l <"$data/lab-small.labels.csv") - 1))"
