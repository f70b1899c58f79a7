#!/usr/bin/env bash
# Is the hot path's cost flat in the data? `tools/call list_tasks` (20 of the benchmark user's 1,000
# tasks) while the database holds 0 to 999,000 tasks and 0 to 100,000 API keys of 1,000 other users
# (bench/load.rs --other-tasks/--other-keys writes them before the server starts). p50 at one
# connection is the request's own cost; req/s at 16 connections its throughput. Server pinned to
# core 0, load generator to core 1; loopback only; stops by itself (about 4 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin navis --example bench-load
SECONDS_TO_RUN="${1:-5}"
run() {
  for connections in 1 16; do
    printf '| %s | %s ' "$1" "$2"
    taskset -c 1 target/release/examples/bench-load --navis target/release/navis --seconds "$SECONDS_TO_RUN" --connections "$connections" \
      --server-core 0 --tasks 1000 --other-tasks "$1" --other-keys "$2" 2>/dev/null
  done
}
echo "| other tasks | other keys | request | connections | req/s | p50 ms | p99 ms | requests | errors |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
for tasks in 0 9000 99000 999000; do run "$tasks" 0; done
for keys in 9 999 99999; do run 0 "$keys"; done
