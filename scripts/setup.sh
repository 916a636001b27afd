#!/usr/bin/env bash
# Installs what pulseboard needs to build, run and test on a fresh Debian machine, skipping
# whatever is already there. Safe to run again. Everything it fetches comes from apt, rustup,
# crates.io and npm.
#   apt:    redis-server, chromium, chromium-driver, fonts (Korean glyphs, emoji), python3 (the
#           seed-worker fixture in tests/fixtures/)
#   rustup: the wasm32-unknown-unknown target
#   cargo:  wasm-bindgen-cli (the exact version in Cargo.lock), trunk 0.21.14
#   npm:    binaryen 132 (wasm-opt) into .tools/ (Debian's binaryen 108 breaks wasm-bindgen output)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

# --- apt ---------------------------------------------------------------------------------------
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need_apt+=(fonts-noto-color-emoji)
command -v npm >/dev/null || need_apt+=(npm)
command -v python3 >/dev/null || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# --- Rust ----------------------------------------------------------------------------------------
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 min)"
  # Not --locked: its lockfile asks for a webpki-roots release the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "cargo install trunk $TRUNK_VERSION (10-15 min on 2 cores; trunk 0.22 needs a newer rustc)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

# --- wasm-opt --------------------------------------------------------------------------------------
if [ "$(.tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -o 'version_[0-9]*')" != "version_$BINARYEN_VERSION" ]; then
  say "npm install binaryen@$BINARYEN_VERSION into .tools/"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --prefix .tools "binaryen@$BINARYEN_VERSION" >/dev/null
fi
say "ready: redis-server $(redis-server --version | grep -o 'v=[0-9.]*'), $(chromium --version 2>/dev/null), trunk $TRUNK_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, wasm-opt $BINARYEN_VERSION, $(python3 --version)"
