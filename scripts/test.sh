#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and the integration binary that starts real Navis
# servers and drives them with HTTP, the admin CLI and the official TypeScript and Python MCP SDKs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real MCP clients the integration tests run: the official TypeScript SDK (pinned by
# package-lock.json) and the official Python SDK (pinned by requirements.txt).
npm ci --prefix tests/clients/ts --no-audit --no-fund --loglevel=error
# The official conformance suite and the Node 22 it needs, as an npm package.
npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error
if [ ! -x tests/clients/py/.venv/bin/python ]; then
  python3 -m venv tests/clients/py/.venv
fi
tests/clients/py/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/py/requirements.txt

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo nextest run --no-fail-fast "$@"
