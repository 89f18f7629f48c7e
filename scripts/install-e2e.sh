#!/usr/bin/env bash
# Installs what the end-to-end tests need: Debian's Chromium and code-server (the real VS Code
# workbench from the npm registry), into a cache folder outside the repository's tracked files.
# Idempotent: a finished install is marked with a stamp file and reused.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3   # newest line that runs on Node 20
cache="${CONVLENS_E2E_CACHE:-$HOME/.cache/convlens-e2e}"
stamp="$cache/.installed-$CODE_SERVER_VERSION"

if [ -f "$stamp" ] && [ -x /usr/bin/chromium ]; then
  echo "e2e environment ready in $cache"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "Installing Debian packages (chromium, build headers for code-server's native modules)..."
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends \
  chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep fonts-dejavu-core >/dev/null

echo "Installing code-server $CODE_SERVER_VERSION into $cache ..."
mkdir -p "$cache"
cd "$cache"
[ -f package.json ] || echo '{"name":"convlens-e2e-cache","private":true}' > package.json
# Its postinstall refuses root and downloads ripgrep from the internet, so its steps are done by hand.
npm install --ignore-scripts --no-save --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >/dev/null

vscode="$cache/node_modules/code-server/lib/vscode"
(
  cd "$vscode"
  npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild kerberos node-pty @vscode/spdlog @parcel/watcher native-watchdog @vscode/deviceid >/dev/null
  ln -sfn node_modules node_modules.asar
  cd extensions && npm install --omit=dev --no-audit --no-fund >/dev/null
)
npm rebuild argon2 >/dev/null

touch "$stamp"
echo "e2e environment ready in $cache"
