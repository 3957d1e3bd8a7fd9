#!/usr/bin/env bash
# Runs the script-based performance measurements of docs/performance.md against the release
# build, one after another, and prints what each found (build first: bash scripts/bundle.sh and
# cargo build --release -p headroom-cli). Takes about 20 minutes.
#   1. cold start to an interactive dashboard, demo with a year of history (bench/startup.sh)
#   2. idle memory of the app's process tree 30 s after start (bench/idle_memory.sh)
#   3. memory of `headroom poll` over about 5,400 polls of 50 sources (bench/poll_load.sh)
#   4. release binary and .deb sizes
#   5. reading-ingest rate against bare rusqlite (cargo bench --bench ingest)
#   6. CPU of `headroom poll` polling 200 sources every minute (bench/poll_load.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
step() { printf '\n==> %s\n' "$*"; }
step "1. cold start (median of 5, 365 days of demo history)"
bash bench/startup.sh 5 365 | tail -n 1
step "2. idle memory, 30 s after start"
bash bench/idle_memory.sh 30 | tail -n 1
step "3. memory over about 5,400 polls of 50 sources"
bash bench/poll_load.sh --sources 50 --interval 5s --minutes 9 --every 15 | tail -n 4
step "4. sizes (goal: binary < 15 MB, .deb < 8 MB)"
ls -l "$target/release/headroom-app" "$target"/release/bundle/deb/*.deb | awk '{print $5, $NF}'
step "5. reading ingest, 10,000 readings"
cargo bench -p headroom-core --bench ingest 2>/dev/null | grep -E '^ingest|thrpt'
step "6. CPU, 200 sources polled every minute"
bash bench/poll_load.sh --sources 200 --interval 1m --minutes 4 --every 30 | tail -n 4
