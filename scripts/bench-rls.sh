#!/usr/bin/env bash
# The cost of row-level security on the hot path: `tools/call list_tasks` (20 of 10,000 tasks)
# on PostgreSQL, the same release build served as a superuser (the policies do not bind it, and
# Navis then sets no acting user: the path as it was before them) and as a plain role
# (`NAVIS_POSTGRES_ROLE`: every statement in a transaction that first sets `navis.user_id`),
# alternated (and which goes first too), each run on a fresh database. Usage: scripts/bench-rls.sh [ROUNDS] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${NAVIS_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
ROUNDS="${1:-2}"
SECONDS_TO_RUN="${2:-10}"
CONNECTIONS="${3:-16}"
ROLE=navis_bench_serving
cargo build --release --bin navis --example bench-load
psql -q "$BASE" -c "DO \$\$ BEGIN CREATE ROLE $ROLE NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
echo "| policies | request | connections | req/s | p50 ms | p99 ms | requests | errors |"
echo "|---|---|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  # Which goes first alternates too, so that a drift in the machine's load favours neither.
  order="off on"
  [ $((round % 2)) = 0 ] && order="on off"
  for mode in $order; do
    db="navis_bench_$$_${round}_$mode"
    psql -q "$BASE" -c "CREATE DATABASE $db"
    url="${BASE%/*}/$db"
    role=""
    [ "$mode" = on ] && role=$ROLE
    line=$(NAVIS_DATABASE_URL="$url" NAVIS_POSTGRES_ROLE="$role" taskset -c 1 target/release/examples/bench-load \
      --navis target/release/navis --seconds "$SECONDS_TO_RUN" --connections "$CONNECTIONS" --server-core 0 2>/dev/null)
    echo "| $mode $line"
    psql -q "$BASE" -c "DROP DATABASE $db"
  done
done
