#!/usr/bin/env bash
# Issue 12's GPU measurements in one device call (after the carry calls of scripts/gpu/README.md; the
# last call carries dist/ and .gpu/gpt_ref.py). Rows in the issue's priority order, each appended to
# $OUT/results.jsonl as soon as it finishes, so a call cut short still returns the first rows:
#   0. ftlab doctor --json (the device report on a real GPU box; auto should pick CUDA)
#   1. GPT-2 124M full fine-tuning, batch 4 x 256: ours on CUDA through the IO-binding addon (state on
#      the GPU between runs; 1 and 8 steps per run; TF32 on, ORT's default, and off through the addon's
#      CUDA options), ours through onnxruntime-node's copying run() (the old path) and PyTorch eager on
#      the same card, TF32 on and off
#   2. the same at batch 4 x 512
#   3. LoRA (rank 8 on c_attn, alpha 16) at 4 x 256
#   4. bf16: PyTorch only (the engine has no mixed precision yet: recorded as such)
#   5. losses CUDA vs CPU on the same init and batch (bench --check-cuda, size c, 3 steps)
#   6. the built-in demo with --device auto, timed (its log shows the device auto chose)
#   bash scripts/gpu/measure-issue12.sh            (ROWS=0,1,2 to run some; SKIP_DEMO=1)
set -u
cd "$(dirname "$0")/../.."
bash scripts/gpu/unpack.sh > /dev/null || { echo "unpack incomplete: carry the parts first"; exit 3; }
source scripts/gpu/env.sh > /dev/null
# dist/cli.js loads the tokenizers binding at start: .gpu/tokenizers.tgz (see scripts/gpu/README.md)
# goes next to onnxruntime-node, where NODE_PATH finds it.
if [ -f .gpu/tokenizers.tgz ] && [ ! -f "$FTLAB_GPU_DIR/node_modules/tokenizers/index.js" ]; then tar -xzf .gpu/tokenizers.tgz -C "$FTLAB_GPU_DIR/node_modules"; fi
[ -f "$FTLAB_GPU_DIR/node_modules/tokenizers/index.js" ] || echo "WARNING: tokenizers not carried: rows 0 and 6 (dist/cli.js) will fail"
out="${OUT:-/tmp/ftlab-gpu/out}"; mkdir -p "$out"
res="$out/results.jsonl"; : > "$res"
ROWS="${ROWS:-0,1,2,3,4,5,6}"
want() { [[ ",$ROWS," == *",$1,"* ]]; }
py="${FTLAB_PYTHON_FOUND:-python3}"
unset FTLAB_DEVICE
# One JSON line per measurement, tagged with its row; a failure is a line too.
row() { # row <n> <label> <timeout s> <command...>
  local n="$1" label="$2" t="$3"; shift 3
  timeout "$t" "$@" > "$out/row$n-$label.out" 2> "$out/row$n-$label.err"; local rc=$?
  local line; line="$(tail -1 "$out/row$n-$label.out")"
  if [ -n "$line" ] && [ "${line:0:1}" = "{" ]; then echo "{\"row\":$n,\"label\":\"$label\",\"rc\":$rc,\"result\":$line}" >> "$res";
  else echo "{\"row\":$n,\"label\":\"$label\",\"rc\":$rc,\"error\":$(tail -c 600 "$out/row$n-$label.err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >> "$res"; fi
  echo "row $n $label rc=$rc"
}
ours() { node dist/bench.js --child --device cuda --steps 10 "$@"; }
torch() { "$py" tools/reference/torch_cuda_bench.py --ref-dir .gpu --steps 10 "$@"; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" 2>&1
if want 0; then node dist/cli.js doctor --json > "$out/doctor.json" 2> "$out/doctor.err"; node dist/cli.js doctor > "$out/doctor.txt" 2>&1; echo "doctor rc=$?"; fi
if want 1; then
  row 1 ours-bound-k1 240 ours --size c --steps-per-run 1 --runtime bound
  row 1 torch-tf32-on 120 torch --sizes c --tf32 on
  row 1 ours-bound-k8 240 ours --size c --steps-per-run 8 --runtime bound
  row 1 ours-bound-k1-tf32-off 240 env FTLAB_CUDA_TF32=0 node dist/bench.js --child --device cuda --steps 10 --size c --steps-per-run 1 --runtime bound
  row 1 torch-tf32-off 120 torch --sizes c --tf32 off
  row 1 ours-copying-k1 240 ours --size c --steps-per-run 1 --runtime onnxruntime-node
fi
if want 2; then
  row 2 ours-bound-k1 240 ours --size c512 --steps-per-run 1 --runtime bound
  row 2 torch-tf32-on 120 torch --sizes c512 --tf32 on
  row 2 ours-bound-k8 240 ours --size c512 --steps-per-run 8 --runtime bound
  row 2 torch-tf32-off 120 torch --sizes c512 --tf32 off
fi
if want 3; then
  row 3 ours-lora8-bound-k1 240 ours --size c --steps-per-run 1 --lora 8 --runtime bound
  row 3 torch-lora8-tf32-on 120 torch --sizes c --tf32 on --lora 8
  row 3 ours-lora8-bound-k8 240 ours --size c --steps-per-run 8 --lora 8 --runtime bound
fi
if want 4; then
  echo '{"row":4,"label":"ours-bf16","result":null,"note":"the engine has no mixed precision (bf16 compute, fp32 master weights) yet"}' >> "$res"
  row 4 torch-bf16-tf32-on 120 torch --sizes c --tf32 on --bf16
fi
if want 5; then row 5 check-cuda-c 300 node dist/bench.js --check-cuda --sizes c --steps 3; fi
if want 6 && [ -z "${SKIP_DEMO:-}" ]; then
  t0=$(date +%s.%N)
  timeout 400 node dist/cli.js demo --device auto --out "$out/demo" > "$out/demo.out" 2> "$out/demo.err"; rc=$?
  secs=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
  dev=$(grep -m1 '^device: ' "$out/demo.err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')
  echo "{\"row\":6,\"label\":\"demo-auto\",\"rc\":$rc,\"seconds\":$secs,\"device_line\":$dev}" >> "$res"
  echo "row 6 demo rc=$rc ${secs}s"
fi
cat "$res"
