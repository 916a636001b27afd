#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the demo (a private
# redis-server, simulated workers and the server). Prints the dashboard URL; Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-dashboard.sh
cargo build --release -p pulseboard-server
exec target/release/pulseboard demo "$@"
