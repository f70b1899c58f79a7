#!/usr/bin/env bash
# Navis side by side with the other MCP servers (official TypeScript and Python SDKs, a plain rmcp
# server, the bare HTTP ceiling) in one interleaved pass of the shared harness
# (../shared/bench-peers, or BENCH_PEERS=path): same workload, pinning and wrk settings.
# Compare ratios within one pass, never absolute numbers across passes. Loopback only; ends by itself.
#   ./scripts/bench-peers.sh                                   # rmcp, ceiling, navis; 3 x 10 s
#   SERVERS=ts,py1,rmcp,ceiling,navis ./scripts/bench-peers.sh # every peer
#   RUNS=1 DURATION=3 WARMUP=1 ./scripts/bench-peers.sh        # a short smoke pass
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS="${BENCH_PEERS:-../shared/bench-peers}"
[ -x "$HARNESS/run-all.sh" ] || { echo "the peer harness is not at $HARNESS (set BENCH_PEERS)" >&2; exit 1; }
cargo build --release --bin navis
export NAVIS_BIN="$PWD/target/release/navis"
export SERVERS="${SERVERS:-rmcp,ceiling,navis}"
export SCENARIOS="${SCENARIOS:-call:32,call:128,list:32,unauth:32}"
exec "$HARNESS/run-all.sh"
