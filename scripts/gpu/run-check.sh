#!/usr/bin/env bash
# Last device call: does the engine's training step run on the CUDA provider and match the CPU
# step? Then the PyTorch peer on the same GPU. Results under $OUT.
set -u
cd "$(dirname "$0")/../.."
bash scripts/gpu/unpack.sh || exit $?
source scripts/gpu/env.sh
out="${OUT:-/tmp/ftlab-gpu/out}"; mkdir -p "$out"
node scripts/gpu/smoke.mjs > "$out/smoke.json" 2> "$out/smoke.err"; echo "smoke rc=$?"
timeout 300 node dist/bench.js --check-cuda --sizes "${SIZES:-a,b,c}" --steps 10 > "$out/check.jsonl" 2> "$out/check.err"; echo "check rc=$?"
timeout 150 "${FTLAB_PYTHON_FOUND:-python3}" tools/reference/torch_cuda_bench.py --ref-dir .gpu --sizes "${SIZES:-a,b,c}" > "$out/torch.jsonl" 2> "$out/torch.err"; echo "torch rc=$?"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" 2>&1
cat "$out/smoke.json" "$out/check.jsonl" "$out/torch.jsonl"; tail -c 3000 "$out/check.err"; tail -c 1500 "$out/torch.err"
