#!/usr/bin/env bash
# Alternating rounds of `distill bench --json` (ours, first in each round) and PyTorch's
# ../shared/bench/torch_reference.py on the same machine, like for like, every model of the bench:
#   bash scripts/bench-rounds.sh OUTDIR [ROUNDS (default 5)] [STEPS (default 15)]
# Writes OUTDIR/ours.jsonl, OUTDIR/torch.jsonl, OUTDIR/rounds.txt (each run's start time and load average),
# OUTDIR/host.txt (lscpu's model and flags, node, python) and OUTDIR/compare.md (scripts/compare-bench.mjs).
# Needs the built runner (`npx -y pnpm@9.15.9 build`); TORCH_REFERENCE overrides the reference's path.
set -euo pipefail
out=${1:?usage: bench-rounds.sh OUTDIR [ROUNDS] [STEPS]}
rounds=${2:-5}
steps=${3:-15}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
torch=${TORCH_REFERENCE:-$repo/../../shared/bench/torch_reference.py}
[ -f "$torch" ] || torch=/work/shared/bench/torch_reference.py
mkdir -p "$out"
: >"$out/ours.jsonl"
: >"$out/torch.jsonl"
: >"$out/rounds.txt"
load() { cut -d' ' -f1-3 /proc/loadavg; }
{
  date -u +%FT%TZ
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Flags)'
  echo "node $(node --version)"
  /usr/bin/python3 -c 'import torch; print("torch", torch.__version__, "threads", 2)'
} >"$out/host.txt"
for r in $(seq 1 "$rounds"); do
  echo "round $r ours $(date -u +%T) load $(load)" >>"$out/rounds.txt"
  node "$repo/apps/runner/dist/cli.js" bench --json --steps "$steps" --backend wasm >>"$out/ours.jsonl"
  echo "round $r torch $(date -u +%T) load $(load)" >>"$out/rounds.txt"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$torch" --steps "$steps" >>"$out/torch.jsonl"
done
echo "done $(date -u +%T) load $(load)" >>"$out/rounds.txt"
node "$here/compare-bench.mjs" "$out/ours.jsonl" "$out/torch.jsonl" >"$out/compare.md"
cat "$out/rounds.txt" "$out/compare.md"
