#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of the src projects from their code (the RS0016 code fix, applied to an
# emptied file, so removed symbols disappear too). Review the diff: it is the change to the public surface.
set -euo pipefail
cd "$(dirname "$0")/.."
for p in src/FlowEngine src/Interop src/Inference; do
  printf '#nullable enable\n' > "$p/PublicAPI.Unshipped.txt"
  dotnet format analyzers "$p"/*.csproj --diagnostics RS0016 --severity error -v q || true
  LC_ALL=C sort -u -o "$p/PublicAPI.Unshipped.txt.tmp" <(grep -v '^#nullable' "$p/PublicAPI.Unshipped.txt")
  { printf '#nullable enable\n'; cat "$p/PublicAPI.Unshipped.txt.tmp"; } > "$p/PublicAPI.Unshipped.txt"
  rm -f "$p/PublicAPI.Unshipped.txt.tmp"
done
