#!/usr/bin/env bash
# Run on the GPU machine from the repo root:  bash scripts/gpu/unpack.sh
# Idempotent. Uses the parts already in /tmp/ftlab-gpu/parts (put there by carry.sh) plus any
# .gpu/ parts carried into this call, and builds:
#   /tmp/ftlab-gpu/node/bin/node                                   (Node 20, from node.xz.part*)
#   /tmp/ftlab-gpu/node_modules/onnxruntime-node, onnxruntime-common  (from ort.tar.xz)
#   .../onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_{cuda,shared}.so
#                                                                  (from cuda.part*, next to libonnxruntime.so.1)
# Exit 0 when all three are in place, 3 when some parts are still missing, 1 on errors.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROOT="${FTLAB_GPU_DIR:-/tmp/ftlab-gpu}"
PARTS="$ROOT/parts"
SUMS="$HERE/SHA256SUMS"
BIN="$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
mkdir -p "$PARTS"
err=0; missing=0

sum_of() { awk -v n="$1" '$2==n{print $1}' "$SUMS"; }
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$(sum_of "$(basename "$1")")" ]; }
# xz may be absent on the GPU box: fall back to Python's lzma module.
unxz_stream() {
  if command -v xz >/dev/null 2>&1; then xz -dc
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer, 1<<20)'
  fi
}
# parts for a prefix, in order, as listed in SHA256SUMS
parts_of() { awk -v p="$1" 'index($2,p)==1{print $2}' "$SUMS" | sort; }
have_all() { local ok=0 n; for n in $(parts_of "$1"); do [ -f "$PARTS/$n" ] || { echo "      missing part: $n"; ok=1; }; done; return $ok; }
cat_parts() { local n; for n in $(parts_of "$1"); do cat "$PARTS/$n"; done; }

echo "== ftlab-gpu unpack: ROOT=$ROOT"
# 0. pick up parts carried into this call (.gpu/ in the repo copy)
for n in $(awk '{print $2}' "$SUMS"); do
  src="$REPO/.gpu/$n"
  [ -f "$src" ] || continue
  if sha_ok "$PARTS/$n"; then echo "skip  parts/$n (present, sha256 ok)"; continue; fi
  cp "$src" "$PARTS/$n.tmp" && mv "$PARTS/$n.tmp" "$PARTS/$n" && echo "copy  .gpu/$n -> parts/"
done
for n in $(awk '{print $2}' "$SUMS"); do
  [ -f "$PARTS/$n" ] || continue
  sha_ok "$PARTS/$n" || { echo "ERROR parts/$n sha256 mismatch: removing it"; rm -f "$PARTS/$n"; err=1; }
done

# 1. node
NODE="$ROOT/node/bin/node"
if [ -x "$NODE" ] && sha_ok "$NODE"; then
  echo "skip  node: $NODE $("$NODE" --version)"
elif have_all node.xz.part; then
  mkdir -p "$ROOT/node/bin"
  if cat_parts node.xz.part | unxz_stream > "$NODE.tmp" && [ "$(sha256sum "$NODE.tmp" | cut -d' ' -f1)" = "$(sum_of node)" ]; then
    chmod 755 "$NODE.tmp" && mv "$NODE.tmp" "$NODE" && echo "done  node: $NODE $("$NODE" --version)"
  else echo "ERROR node: decompression failed or sha256 mismatch"; rm -f "$NODE.tmp"; err=1; fi
else echo "wait  node: parts missing"; missing=1; fi

# 2. onnxruntime-node + onnxruntime-common
if [ -f "$ROOT/node_modules/onnxruntime-node/package.json" ] && [ -f "$ROOT/node_modules/onnxruntime-common/package.json" ] && [ -f "$BIN/libonnxruntime.so.1" ]; then
  echo "skip  ort: $ROOT/node_modules/onnxruntime-node already there"
elif [ -f "$PARTS/ort.tar.xz" ]; then
  if unxz_stream < "$PARTS/ort.tar.xz" | tar -xf - -C "$ROOT"; then
    echo "done  ort: extracted to $ROOT/node_modules ($(grep -m1 '"version"' "$ROOT/node_modules/onnxruntime-node/package.json" | tr -d ' ,'))"
  else echo "ERROR ort: extraction failed"; err=1; fi
else echo "wait  ort: parts/ort.tar.xz missing"; missing=1; fi

# 3. CUDA provider libraries next to libonnxruntime.so.1
if sha_ok "$BIN/libonnxruntime_providers_cuda.so" && sha_ok "$BIN/libonnxruntime_providers_shared.so"; then
  echo "skip  cuda provider: already in $BIN"
elif [ ! -d "$BIN" ]; then echo "wait  cuda provider: ORT not unpacked yet"; missing=1
elif have_all cuda.part; then
  if cat_parts cuda.part | unxz_stream | tar -xf - -C "$BIN" --no-same-owner \
     && sha_ok "$BIN/libonnxruntime_providers_cuda.so" && sha_ok "$BIN/libonnxruntime_providers_shared.so"; then
    echo "done  cuda provider: $BIN/libonnxruntime_providers_{cuda,shared}.so (sha256 ok)"
  else echo "ERROR cuda provider: extraction failed or sha256 mismatch"; err=1; fi
else echo "wait  cuda provider: parts missing"; missing=1; fi

echo "== parts:"; ls -la "$PARTS"
echo "== bin dir:"; ls -la "$BIN" 2>/dev/null
df -h "$ROOT" | tail -1
if [ $err -ne 0 ]; then echo "== unpack: ERRORS"; exit 1; fi
if [ $missing -ne 0 ]; then echo "== unpack: INCOMPLETE (parts missing)"; exit 3; fi
echo "== unpack: COMPLETE"
