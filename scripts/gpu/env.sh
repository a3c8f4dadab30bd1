# Source on the GPU machine (bash), after scripts/gpu/unpack.sh:   source scripts/gpu/env.sh
# Finds the Python that has torch, adds every site-packages/nvidia/*/lib of it (CUDA 13 runtime,
# cuBLAS, cuDNN, ...) plus the ORT bin dir to LD_LIBRARY_PATH, puts the unpacked node first on
# PATH and sets NODE_PATH so that require('onnxruntime-node') from dist/*.js resolves.
# Does not `exit` or `set -e` (it is sourced). Override the Python with FTLAB_PYTHON=/path/python.
FTLAB_GPU_DIR="${FTLAB_GPU_DIR:-/tmp/ftlab-gpu}"
export FTLAB_GPU_DIR
_ftl_bin="$FTLAB_GPU_DIR/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"

FTLAB_PYTHON_FOUND=""
for _ftl_py in ${FTLAB_PYTHON:-} python3 python /usr/bin/python3 /usr/local/bin/python3 \
    /opt/conda/bin/python /opt/venv/bin/python /venv/bin/python "$HOME/.venv/bin/python" \
    /opt/*/bin/python3 /workspace/*/bin/python3; do
  command -v "$_ftl_py" >/dev/null 2>&1 || continue
  if "$_ftl_py" -c 'import torch' >/dev/null 2>&1; then FTLAB_PYTHON_FOUND="$(command -v "$_ftl_py")"; break; fi
done
export FTLAB_PYTHON_FOUND

_ftl_libdirs=""
if [ -n "$FTLAB_PYTHON_FOUND" ]; then
  echo "== python with torch: $FTLAB_PYTHON_FOUND"
  _ftl_libdirs="$("$FTLAB_PYTHON_FOUND" - <<'PY'
import glob, os, site, sys
roots = []
try: roots += site.getsitepackages()
except Exception: pass
try: roots.append(site.getusersitepackages())
except Exception: pass
roots += [p for p in sys.path if p.endswith('-packages')]
try:
    import torch; roots.append(os.path.dirname(os.path.dirname(torch.__file__)))
except Exception: pass
seen = []
for r in roots:
    for pat in ('nvidia/*/lib', 'nvidia/*/lib64'):
        for d in sorted(glob.glob(os.path.join(r, pat))):
            d = os.path.realpath(d)
            if d not in seen: seen.append(d)
print(':'.join(seen))
PY
)"
  "$FTLAB_PYTHON_FOUND" -c 'import torch; print("   torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "cuda_available", torch.cuda.is_available())' 2>&1
else
  echo "== WARNING: no python with torch found (set FTLAB_PYTHON=/path/to/python)"
fi
export FTLAB_NVIDIA_LIBDIRS="$_ftl_libdirs"

export LD_LIBRARY_PATH="$_ftl_bin${_ftl_libdirs:+:$_ftl_libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$FTLAB_GPU_DIR/node/bin:$PATH"
export NODE_PATH="$FTLAB_GPU_DIR/node_modules${NODE_PATH:+:$NODE_PATH}"

echo "== nvidia-smi -L"; nvidia-smi -L 2>&1 || echo "   (nvidia-smi failed)"
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader 2>/dev/null
echo "== node: $(command -v node) $(node --version 2>&1)"
echo "== nvidia lib dirs:"; echo "$_ftl_libdirs" | tr ':' '\n' | sed '/^$/d; s/^/   /'
echo "== libraries the CUDA provider needs:"
for _ftl_lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcufft.so.12 libcudnn.so.9 libnvrtc.so.13; do
  _ftl_hit=""
  for _ftl_d in $(echo "$_ftl_libdirs" | tr ':' ' '); do
    [ -e "$_ftl_d/$_ftl_lib" ] && { _ftl_hit="$_ftl_d/$_ftl_lib"; break; }
  done
  echo "   $_ftl_lib: ${_ftl_hit:-MISSING}"
done
_ftl_hit="$(ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1' | sed 's/.*=> //')"
echo "   libcuda.so.1 (driver): ${_ftl_hit:-MISSING from ldconfig cache}"
if [ -f "$_ftl_bin/libonnxruntime_providers_cuda.so" ]; then
  echo "== ldd libonnxruntime_providers_cuda.so (unresolved):"
  ldd "$_ftl_bin/libonnxruntime_providers_cuda.so" 2>&1 | grep -E 'not found' || echo "   all resolved"
else
  echo "== CUDA provider not unpacked yet ($_ftl_bin)"
fi
unset _ftl_bin _ftl_py _ftl_libdirs _ftl_lib _ftl_hit _ftl_d
