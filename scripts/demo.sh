#!/usr/bin/env bash
# `bun run demo`: installs the lab's Debian tools when root and missing, then runs the appliance in demo mode
# (embedded PostgreSQL, simulated EC25 modems, live proxy ports). Extra arguments go to `lteproxy demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then bash scripts/ensure-deps.sh || true; fi
exec bun src/main.ts demo "$@"
