#!/usr/bin/env bash
# Run on the GPU machine, in the repo copy, in a device call that carried some .gpu/ files:
#   bash scripts/gpu/carry.sh cuda.partaa            (or .gpu/cuda.partaa; several names allowed)
# Copies them into /tmp/ftlab-gpu/parts/ (persists while the machine stays warm), checks sha256
# against scripts/gpu/SHA256SUMS, and lists the parts dir so the caller sees what survived so far.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROOT="${FTLAB_GPU_DIR:-/tmp/ftlab-gpu}"
PARTS="$ROOT/parts"
SUMS="$HERE/SHA256SUMS"
mkdir -p "$PARTS"
rc=0
echo "host=$(hostname) boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) up=$(cut -d' ' -f1 /proc/uptime)s"
for arg in "$@"; do
  name="$(basename "$arg")"
  src="$REPO/.gpu/$name"
  want="$(awk -v n="$name" '$2==n{print $1}' "$SUMS")"
  if [ -f "$PARTS/$name" ] && [ -n "$want" ] && [ "$(sha256sum "$PARTS/$name" | cut -d' ' -f1)" = "$want" ]; then
    echo "skip  $name (already in $PARTS, sha256 ok)"
    continue
  fi
  if [ ! -f "$src" ]; then echo "ERROR $name: $src not carried into this call"; rc=1; continue; fi
  cp "$src" "$PARTS/$name.tmp" && mv "$PARTS/$name.tmp" "$PARTS/$name"
  got="$(sha256sum "$PARTS/$name" | cut -d' ' -f1)"
  if [ -z "$want" ]; then echo "copy  $name (no sha256 on record)";
  elif [ "$got" = "$want" ]; then echo "copy  $name sha256 ok";
  else echo "ERROR $name sha256 mismatch ($got != $want)"; rm -f "$PARTS/$name"; rc=1; fi
done
df -h "$ROOT" | tail -1
ls -la "$PARTS"
exit $rc
