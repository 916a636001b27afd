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
mkdir -p target
# Every test binary runs even when one fails, so one run shows every failure.
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.log
# One closing line with the totals over every test binary (cargo prints one line per binary,
# the last of them often the doc-tests' "0 passed").
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' \
  target/test-output.log
