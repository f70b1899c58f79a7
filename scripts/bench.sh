#!/usr/bin/env bash
# The hot-path benchmark: authenticated `tools/call list_tasks` (20 of 10,000 tasks, SQLite), the
# seed's sessionless POST, against a release `navis serve` pinned to core 0, from a load generator
# pinned to core 1. Loopback only; stops by itself. Results go in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin navis --example bench-load
SECONDS_TO_RUN="${1:-10}"
echo "| request | connections | req/s | p50 ms | p99 ms | requests | errors |"
echo "|---|---|---|---|---|---|---|"
for connections in 1 16 64; do
  taskset -c 1 target/release/examples/bench-load --navis target/release/navis --seconds "$SECONDS_TO_RUN" --connections "$connections" --server-core 0 2>/dev/null
done
taskset -c 1 target/release/examples/bench-load --navis target/release/navis --seconds "$SECONDS_TO_RUN" --connections 16 --server-core 0 --request ping 2>/dev/null
