#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and the integration binary that starts real Navis
# servers and drives them with HTTP, the admin CLI and the official TypeScript and Python MCP SDKs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium, for the pages tested in a real browser (playwright-core drives it).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Debian's chromium is needed by the browser test: sudo apt-get install chromium" >&2
  fi
fi

# Debian's nginx, for the reverse-proxy tests (each starts its own on a loopback port; the
# system service is never used).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
  else
    echo "Debian's nginx is needed by the reverse-proxy tests: sudo apt-get install nginx" >&2
  fi
fi

# The real MCP clients the integration tests run, pinned: the official TypeScript SDK, mcp-remote
# and the Vercel AI SDK (package-lock.json); the official Python SDK, FastMCP, the OpenAI Agents SDK
# and LangChain's `langchain.mcp` (requirements.txt); LangChain's older `langchain-mcp-adapters`,
# which need the Python SDK 1.x, in a venv of their own (requirements-langchain.txt).
npm ci --prefix tests/clients/ts --no-audit --no-fund --loglevel=error
# The official conformance suite and the Node 22 it needs, as an npm package.
npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error
if [ ! -x tests/clients/py/.venv/bin/python ]; then
  python3 -m venv tests/clients/py/.venv
fi
tests/clients/py/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/py/requirements.txt
if [ ! -x tests/clients/py/.venv-langchain/bin/python ]; then
  python3 -m venv tests/clients/py/.venv-langchain
fi
tests/clients/py/.venv-langchain/bin/pip install --quiet --disable-pip-version-check -r tests/clients/py/requirements-langchain.txt
# The HTTP API's checkers, pinned: openapi-spec-validator and schemathesis (tests/it/api.rs).
if [ ! -x tests/api/.venv/bin/python ]; then
  python3 -m venv tests/api/.venv
fi
tests/api/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/api/requirements.txt

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
# 1. Everything, on the embedded SQLite database.
cargo nextest run --no-fail-fast "$@"

# 2. The integration suite again, on PostgreSQL, whenever a server is reachable (each test
#    creates its own database). CI requires it: .ci/run sets NAVIS_REQUIRE_POSTGRES=1.
PG_URL="${NAVIS_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
drop_test_databases() {
  psql "$PG_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'navis_t_%'" 2>/dev/null |
    while read -r db; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}
if psql "$PG_URL" -Atc "SELECT 1" >/dev/null 2>&1; then
  drop_test_databases
  trap drop_test_databases EXIT
  NAVIS_TEST_POSTGRES="$PG_URL" cargo nextest run --no-fail-fast -E 'binary(it)' "$@"
elif [ "${NAVIS_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required but not reachable at $PG_URL" >&2
  exit 1
else
  echo "PostgreSQL not reachable at $PG_URL: the PostgreSQL pass was skipped" >&2
fi

# 3. Fuzzing, briefly: each fuzz target for 8 s from its committed corpus, with the quicker
#    build of `--quick` (README "Fuzzing": on 2 idle cores about 1 min to install cargo-fuzz,
#    5 min to build the targets, 2 min to run them). `cargo nextest run` above already replayed
#    every corpus and regression input; this looks for new ones, and fails the run if a target
#    finds a crash, a hang or a memory blow-up. The long runs: see scripts/fuzz.sh.
scripts/fuzz.sh --quick 8
