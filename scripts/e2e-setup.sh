#!/usr/bin/env bash
# Installs what test/e2e needs (recipe: ../shared/e2e/README.md):
#   apt (root only): chromium (the browser Playwright drives), ripgrep (code-server's search and its
#   @vscode/ripgrep install), libkrb5-dev (headers for a native dependency of code-server);
#   npm: code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) into .e2e/, git-ignored.
# Idempotent: does nothing when everything is already there. Exits non-zero when it cannot install;
# the e2e test then skips and says why.
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.100.3
RIPGREP_CACHE_VERSION=1.15.11   # the @vscode/ripgrep version code-server 4.100.3 depends on
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
dir=.e2e

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "e2e-setup: missing ${missing[*]}; install them with apt-get as root (Debian/Ubuntu), then rerun" >&2
    exit 1
  fi
  echo "e2e-setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

installed=$(node -p "try { require('./$dir/node_modules/code-server/package.json').version } catch { '' }")
if [ "$installed" != "$CODE_SERVER_VERSION" ] || [ ! -x "$dir/node_modules/.bin/code-server" ]; then
  echo "e2e-setup: installing code-server@$CODE_SERVER_VERSION into $dir/ (one time, about 300 MB)"
  # @vscode/ripgrep downloads rg from GitHub at install time unless its cache under os.tmpdir() has it.
  cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RIPGREP_CACHE_VERSION"
  mkdir -p "$cache"
  [ -f "$cache/$RIPGREP_ASSET" ] || tar czf "$cache/$RIPGREP_ASSET" -C "$(dirname "$(command -v rg)")" rg
  mkdir -p "$dir"
  # A package.json of its own keeps npm from walking up into the project.
  [ -f "$dir/package.json" ] || echo '{ "name": "ftlab-e2e-tools", "private": true }' > "$dir/package.json"
  # --unsafe-perm: code-server's postinstall refuses to run as root without it;
  # npm_config_yes: node-pty's postinstall fetches node-gyp through npx.
  (cd "$dir" && npm_config_yes=true npm install --unsafe-perm --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION")
fi
echo "e2e-setup: ready (code-server $CODE_SERVER_VERSION in $dir/, $(chromium --version 2>/dev/null | head -1))"
