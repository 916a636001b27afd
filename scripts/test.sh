#!/usr/bin/env bash
# The README's test command: install what is missing, build the dashboard, run every test
# (unit tests, the server against a real redis-server, the page in real headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-dashboard.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p pulseboard-frontend --target wasm32-unknown-unknown -- -D warnings
cargo test --workspace
