#!/usr/bin/env bash
# gpu-check.sh: what a GPU machine can train distilljs on, and how fast. One command, run as it is.
#
#   scripts/gpu-check.sh [--quick] [--budget SECONDS] OUTDIR
#       Prints what it finds (nvidia-smi, the Vulkan loader and drivers (ICDs), Node, PyTorch), then runs
#       `distill bench --json` on every backend that works here: webgpu (Dawn on the Vulkan driver),
#       tensorflow-gpu (when @tensorflow/tfjs-node-gpu is installed), the PyTorch yardstick
#       torch_reference.py on the GPU when python3 has torch with CUDA, and wasm (the CPU baseline). Writes JSON lines
#       to OUTDIR/gpu-check.jsonl (format below) and each command's output to OUTDIR/logs/. Stops starting
#       new work when the budget (default 420 s) is spent, so it ends within 8 minutes.
#       --quick: hinton-student, train, 1 step at batch 8 (a smoke test; the test on SwiftShader uses it).
#
#   scripts/gpu-check.sh --gather KITDIR [--without-node]
#       Gathers what a GPU machine needs beyond a shell into KITDIR, and prints each file's size and the
#       total (it fails above 60 MiB): this script, torch_reference.py, the single-file build distill.mjs
#       with its wasm files, Dawn's dawn.node (linux-x64), the Vulkan loader (Debian's libvulkan1 .deb),
#       and node.xz (this machine's Node binary, xz-compressed; --without-node leaves it out). Copy KITDIR
#       to the GPU machine and run `KITDIR/gpu-check.sh OUTDIR` there: no npm, no network, no repository.
#
# What it uses, first found: distill: $DISTILL (a command), distill.mjs beside this script (a kit),
# apps/runner/bundle/distill.mjs or apps/runner/dist/cli.js of the repository around it. Node: `node` on
# PATH, else node.xz beside this script (unpacked into OUTDIR). The Vulkan loader: the system's
# libvulkan.so.1, one beside distill.mjs, or the libvulkan1 .deb beside this script (unpacked into
# OUTDIR). The PyTorch yardstick: $TORCH_REFERENCE, else torch_reference.py beside this script (a verbatim
# copy of the project's yardstick ../shared/bench/torch_reference.py, kept here so that it travels with
# the script); python: $PYTHON, else python3.
# Overrides: GPU_CHECK_MODELS, GPU_CHECK_TASKS (distill bench's train, distill, distill-online),
# GPU_CHECK_STEPS, GPU_CHECK_WARMUP, GPU_CHECK_BATCH.
#
# Output: OUTDIR/gpu-check.jsonl, one JSON object per line, each with a "source":
#   {"source":"environment", "date", "host", "node", "distill", "nvidiaSmi": [lines] | null,
#    "vulkanLoader": path | null, "icds": [paths], "vkIcdFilenames": string | null, "python", "torch"}
#   {"source":"backends", "selection", "installed", ...}      `distill backends --json` (what auto picks, why)
#   {"source":"distill-bench", "backend", "model", "task", "batchSize", "samplesPerSec", "msPerStep",
#    "engine", "cpu", "cores", "cpuFlags"}                     one per row of `distill bench --json`
#   {"source":"torch", "device", "model", "task", "batchSize", "samplesPerSec", "msPerStep"}
#                                                              one per row of torch_reference.py
#                                                              (its "distill-cached" is distill bench's
#                                                              "distill", its "distill" is "distill-online")
#   {"source":"skipped", "what", "reason"}                     a backend or step that did not run, and why
#   {"source":"summary", "seconds", "benchRows", "torchRows", "skipped"}   always the last line
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
KIT_LIMIT_MIB=60

die() {
  echo "gpu-check: $*" >&2
  exit 2
}

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

# ---------------------------------------------------------------------------------------------- gather
gather() {
  local kit="$1" with_node="$2"
  mkdir -p "$kit" || die "cannot create $kit"
  kit="$(cd "$kit" && pwd)"
  local bundle="$repo/apps/runner/bundle"
  if [ ! -f "$bundle/distill.mjs" ]; then
    echo "gpu-check: building the single-file distill (pnpm --filter @distilljs/runner bundle)" >&2
    (cd "$repo" && npx -y pnpm@9.15.9 --filter @distilljs/runner bundle >/dev/null) ||
      die "could not build apps/runner/bundle/distill.mjs; run: npx -y pnpm@9.15.9 build && npx -y pnpm@9.15.9 --filter @distilljs/runner bundle"
  fi
  cp "$bundle"/* "$kit/" || die "cannot copy $bundle into $kit"
  cp "$here/gpu-check.sh" "$kit/gpu-check.sh" && chmod +x "$kit/gpu-check.sh"

  cp "${TORCH_REFERENCE:-$here/torch_reference.py}" "$kit/torch_reference.py" ||
    die "cannot copy the PyTorch yardstick ${TORCH_REFERENCE:-$here/torch_reference.py} into the kit"

  local dawn
  dawn="$(cd "$repo/apps/runner" && node -e "const p=require('node:path');process.stdout.write(p.join(p.dirname(require.resolve('webgpu/package.json')),'dist','linux-x64','dawn.node'))" 2>/dev/null)"
  [ -n "$dawn" ] && [ -f "$dawn" ] ||
    die "dawn.node not found: install the runner's dependencies (npx -y pnpm@9.15.9 install), which bring webgpu@0.6.2"
  cp "$dawn" "$kit/dawn.node"

  rm -f "$kit"/libvulkan1_*.deb
  if ! (cd "$kit" && apt-get download libvulkan1 >/dev/null 2>&1); then
    if [ -f /usr/lib/chromium/libvulkan.so.1 ]; then
      echo "gpu-check: apt-get download libvulkan1 failed; taking Chromium's Vulkan loader instead" >&2
      cp /usr/lib/chromium/libvulkan.so.1 "$kit/libvulkan.so.1"
    else
      echo "gpu-check: no Vulkan loader gathered (apt-get download libvulkan1 failed); the GPU machine needs libvulkan1" >&2
    fi
  fi

  rm -f "$kit/node.xz"
  if [ "$with_node" = 1 ]; then
    echo "gpu-check: compressing $(command -v node) ($(node -v)) with xz -9 (a minute or two)" >&2
    xz -9 -T0 -c "$(readlink -f "$(command -v node)")" >"$kit/node.xz" || die "xz failed"
  fi

  local total=0 size f
  echo "kit: $kit"
  for f in "$kit"/*; do
    size=$(stat -c %s "$f")
    total=$((total + size))
    printf '  %10s MiB  %s\n' "$(mib "$size")" "$(basename "$f")"
  done
  printf '  %10s MiB  in all (limit %s MiB)\n' "$(mib "$total")" "$KIT_LIMIT_MIB"
  [ "$total" -le $((KIT_LIMIT_MIB * 1048576)) ] || die "the kit is $(mib "$total") MiB, over $KIT_LIMIT_MIB MiB"
  echo "next: copy $kit to the GPU machine (scp -r, or tar), then run there: $(basename "$kit")/gpu-check.sh OUTDIR"
}

# ------------------------------------------------------------------------------------------------- check
quick=0
budget=420
gather_dir=""
with_node=1
out=""
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) quick=1 ;;
  --budget)
    shift
    [[ "${1:-}" =~ ^[0-9]+$ ]] || die "--budget: expected a number of seconds, got '${1:-}'"
    budget="$1"
    ;;
  --gather)
    shift
    gather_dir="${1:-}"
    [ -n "$gather_dir" ] || die "--gather: give the kit's directory"
    ;;
  --without-node) with_node=0 ;;
  -h | --help)
    sed -n '2,41p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  -*) die "unknown option $1 (see --help)" ;;
  *)
    [ -z "$out" ] || die "one OUTDIR only (got '$out' and '$1')"
    out="$1"
    ;;
  esac
  shift
done
if [ -n "$gather_dir" ]; then
  gather "$gather_dir" "$with_node"
  exit $?
fi
[ -n "$out" ] || die "usage: gpu-check.sh [--quick] [--budget SECONDS] OUTDIR, or gpu-check.sh --gather KITDIR"
mkdir -p "$out/logs" || die "cannot create $out"
out="$(cd "$out" && pwd)"
jsonl="$out/gpu-check.jsonl"
: >"$jsonl"
start=$(date +%s)
bench_rows=0
torch_rows=0
skipped=0

emit() { printf '%s\n' "$1" >>"$jsonl"; }
skip() { # what reason
  skipped=$((skipped + 1))
  echo "  skipped $1: $2"
  emit "$(WHAT="$1" WHY="$2" "$NODE" -e 'console.log(JSON.stringify({source:"skipped",what:process.env.WHAT,reason:process.env.WHY}))')"
}
left() { echo $((budget - ($(date +%s) - start))); }

# Node
if command -v node >/dev/null; then
  NODE="$(command -v node)"
elif [ -f "$here/node.xz" ]; then
  mkdir -p "$out/node" && xz -dc "$here/node.xz" >"$out/node/node" && chmod +x "$out/node/node" ||
    die "cannot unpack $here/node.xz"
  NODE="$out/node/node"
else
  die "no node on PATH and no node.xz beside this script: install Node.js 20, or gather a kit on a machine that has it (gpu-check.sh --gather KITDIR)"
fi

# distill
if [ -n "${DISTILL:-}" ]; then
  read -r -a distill <<<"$DISTILL"
elif [ -f "$here/distill.mjs" ]; then
  distill=("$NODE" "$here/distill.mjs")
elif [ -f "$repo/apps/runner/bundle/distill.mjs" ]; then
  distill=("$NODE" "$repo/apps/runner/bundle/distill.mjs")
elif [ -f "$repo/apps/runner/dist/cli.js" ]; then
  distill=("$NODE" "$repo/apps/runner/dist/cli.js")
else
  die "no distill found: gather a kit (gpu-check.sh --gather KITDIR), build the repository (npx -y pnpm@9.15.9 build), or set DISTILL"
fi
distill_dir="$(dirname "${distill[-1]}")"

# The Vulkan loader: the system's, one beside distill, or the kit's .deb unpacked
system_loader() { ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 /{print $NF; exit}'; }
loader=""
for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }}; do [ -f "$d/libvulkan.so.1" ] && loader="$d/libvulkan.so.1" && break; done
[ -n "$loader" ] || loader="$(system_loader)"
[ -n "$loader" ] || { [ -f "$distill_dir/libvulkan.so.1" ] && loader="$distill_dir/libvulkan.so.1"; }
if [ -z "$loader" ]; then
  deb="$(ls "$here"/libvulkan1_*.deb 2>/dev/null | head -1)"
  if [ -n "$deb" ]; then
    mkdir -p "$out/vulkan"
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$out/vulkan"
    else
      (cd "$out/vulkan" && ar p "$deb" "$(ar t "$deb" | grep '^data\.tar')" | tar -xJ)
    fi
    found="$(find "$out/vulkan" -name 'libvulkan.so.1' | head -1)"
    if [ -n "$found" ]; then
      loader="$found"
      export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi
fi
icds=()
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/*.json; do [ -f "$f" ] && icds+=("$f"); done
done

# PyTorch
PYTHON="${PYTHON:-python3}"
torch_ref=""
for f in "${TORCH_REFERENCE:-}" "$here/torch_reference.py"; do
  [ -n "$f" ] && [ -f "$f" ] && torch_ref="$f" && break
done
torch_info="$("$PYTHON" -c 'import torch; print(torch.__version__, "cuda" if torch.cuda.is_available() else "no-cuda", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' 2>/dev/null)"

echo "gpu-check: results in $jsonl (budget ${budget}s)"
smi="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
echo "nvidia-smi: ${smi:-not found or no NVIDIA GPU}"
echo "Vulkan loader: ${loader:-not found (apt-get install libvulkan1, or gather a kit)}"
echo "Vulkan drivers (ICDs): ${icds[*]:-none in the standard places}${VK_ICD_FILENAMES:+; VK_ICD_FILENAMES=$VK_ICD_FILENAMES}"
echo "Node: $NODE $("$NODE" -v)"
echo "distill: ${distill[*]}"
echo "PyTorch: ${torch_info:-not importable by $PYTHON}${torch_ref:+ (yardstick $torch_ref)}"
emit "$(SMI="$smi" LOADER="$loader" ICDS="${icds[*]:-}" DISTILL_CMD="${distill[*]}" PY="$PYTHON" TORCH="$torch_info" \
  "$NODE" -e '
  const e = process.env, os = require("node:os");
  console.log(JSON.stringify({
    source: "environment", date: new Date().toISOString(), host: os.hostname(), node: process.version,
    distill: e.DISTILL_CMD, nvidiaSmi: e.SMI ? e.SMI.split("\n") : null, vulkanLoader: e.LOADER || null,
    icds: e.ICDS ? e.ICDS.split(" ") : [], vkIcdFilenames: e.VK_ICD_FILENAMES || null,
    python: e.PY, torch: e.TORCH || null,
  }));')"

if [ "$quick" = 1 ]; then
  models="${GPU_CHECK_MODELS:-hinton-student}" tasks="${GPU_CHECK_TASKS:-train}"
  steps="${GPU_CHECK_STEPS:-1}" warmup="${GPU_CHECK_WARMUP:-1}" batch="${GPU_CHECK_BATCH:-8}"
else
  models="${GPU_CHECK_MODELS:-hinton-teacher,hinton-student,mnist-cnn,cifar-vgg-small}"
  tasks="${GPU_CHECK_TASKS:-train,distill,distill-online}"
  steps="${GPU_CHECK_STEPS:-20}" warmup="${GPU_CHECK_WARMUP:-3}" batch="${GPU_CHECK_BATCH:-128}"
fi

# What `distill backends` finds (and which tfjs-node-gpu / webgpu it could load)
backends_json="$(timeout 120 "${distill[@]}" backends --json 2>"$out/logs/backends.log")"
if [ -n "$backends_json" ]; then
  emit "$(printf '%s' "$backends_json" | sed 's/^{/{"source":"backends",/')"
  printf '%s' "$backends_json" | "$NODE" -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const { selection: x } = JSON.parse(s);
      console.log(`  auto -> ${x.backend}: ${x.reason}`);
      for (const a of x.attempts) console.log(`    ${a.ok ? "ok  " : "skip"} ${a.backend}: ${a.reason}`);
    });'
else
  skip backends "distill backends --json failed: $(tail -1 "$out/logs/backends.log")"
fi

bench() { # backend [most seconds]
  local b="$1" t
  t=$(left)
  [ -n "${2:-}" ] && [ "$2" -lt "$t" ] && t="$2"
  if [ "$t" -le 10 ]; then
    skip "$b" "the budget of ${budget}s was spent before it"
    return
  fi
  echo "bench $b: $models; $tasks; $steps steps at batch $batch (at most ${t}s)"
  local log="$out/logs/bench-$b.log" rows
  rows="$(timeout "$t" "${distill[@]}" bench --backend "$b" --json --models "$models" --tasks "$tasks" \
    --steps "$steps" --warmup "$warmup" --batch "$batch" 2>"$log")"
  local rc=$?
  rows="$(printf '%s\n' "$rows" | grep '^{' || true)"
  if [ -n "$rows" ]; then
    printf '%s\n' "$rows" | sed "s/^{/{\"source\":\"distill-bench\",\"backend\":\"$b\",/" >>"$jsonl"
    bench_rows=$((bench_rows + $(printf '%s\n' "$rows" | wc -l)))
    printf '%s\n' "$rows" | sed 's/^/  /'
  fi
  if [ "$rc" = 124 ]; then
    skip "$b" "stopped by the budget after $(printf '%s' "$rows" | grep -c '^{') rows"
  elif [ "$rc" != 0 ]; then
    skip "$b" "$(grep -v '^\s*$' "$log" | tail -1)"
  fi
}

# Every backend is tried: one that cannot run here gives distill's one-line reason as a "skipped" line
# (tensorflow-gpu needs @tensorflow/tfjs-node-gpu@4.22.0 installed beside distill, with CUDA 11.2 and cuDNN
# 8.1). The GPU backends first, each with at most half of the budget; the PyTorch yardstick; then the wasm
# baseline with what is left (rows finished before the budget ends are kept).
bench webgpu $((budget / 2))
bench tensorflow-gpu $((budget / 2))

# The PyTorch yardstick, on the GPU
if [ -z "$torch_ref" ]; then
  skip torch "torch_reference.py not found (beside this script, or TORCH_REFERENCE=FILE)"
elif [ -z "$torch_info" ]; then
  skip torch "$PYTHON cannot import torch (pip install torch, or PYTHON=/path/to/python3)"
elif [[ "$torch_info" != *" cuda "* && "$torch_info" != *" cuda" ]]; then
  skip torch "torch ${torch_info%% *} sees no CUDA device"
elif [ "$(left)" -le 10 ]; then
  skip torch "the budget of ${budget}s was spent before it"
else
  ttasks="$(printf '%s' "$tasks" | sed 's/distill-online/ONLINE/; s/\bdistill\b/distill-cached/; s/ONLINE/distill/')"
  echo "torch (cuda): $models; $ttasks; $steps steps at batch $batch"
  rows="$(timeout "$(left)" "$PYTHON" "$torch_ref" --device cuda --models "$models" --tasks "$ttasks" \
    --steps "$steps" --batch "$batch" 2>"$out/logs/torch.log" | grep '^{')"
  if [ -n "$rows" ]; then
    printf '%s\n' "$rows" | sed 's/^{/{"source":"torch","device":"cuda",/' >>"$jsonl"
    torch_rows=$(printf '%s\n' "$rows" | wc -l)
    printf '%s\n' "$rows" | sed 's/^/  /'
  else
    skip torch "torch_reference.py gave no rows: $(tail -1 "$out/logs/torch.log")"
  fi
fi

bench wasm

seconds=$(($(date +%s) - start))
emit "{\"source\":\"summary\",\"seconds\":$seconds,\"benchRows\":$bench_rows,\"torchRows\":$torch_rows,\"skipped\":$skipped}"
echo "gpu-check: done in ${seconds}s: $bench_rows distill bench rows, $torch_rows PyTorch rows, $skipped skipped; $jsonl"
