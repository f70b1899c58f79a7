#!/usr/bin/env bash
# The full load test (tests/it/load.rs): 60 s at 256 connections of mixed reads and writes through
# MCP and the HTTP API, with API keys and OAuth tokens refreshed as they go; then 60 s with a third
# of the connections misbehaving. Release build; loopback only; ends by itself. CI runs the same test
# for 5 s at 32 connections. Set NAVIS_TEST_POSTGRES to run it on PostgreSQL.
#   ./scripts/load.sh                 # 60 s, 256 connections
#   ./scripts/load.sh 30 128          # 30 s, 128 connections
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
NAVIS_LOAD_SECS="${1:-60}" NAVIS_LOAD_CONNECTIONS="${2:-256}" \
  cargo test --release --test it -- --exact load::mixed_load_with_and_without_misbehaving_clients_has_no_errors_and_no_growth --nocapture
