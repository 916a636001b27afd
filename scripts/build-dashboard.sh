#!/usr/bin/env bash
# Builds the dashboard bundle into dist/ with trunk (release, offline: no tool downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --offline
