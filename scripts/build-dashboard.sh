#!/usr/bin/env bash
# Builds the dashboard bundle into dist/ with trunk (release, offline: no tool downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# `--offline` keeps trunk from downloading tools; it also builds with cargo offline, so fetch the
# crates first (a no-op when the cache has them).
cargo fetch --locked
trunk build --release --offline
