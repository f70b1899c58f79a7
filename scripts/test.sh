#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and the integration binary that starts real Navis
# servers and drives them with HTTP, the admin CLI and the official TypeScript MCP SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real MCP clients the integration tests run (pinned by package-lock.json).
npm ci --prefix tests/clients/ts --no-audit --no-fund --loglevel=error

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo nextest run --no-fail-fast "$@"
