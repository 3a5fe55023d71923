#!/usr/bin/env bash
# The test command (README): installs missing Debian test dependencies (as root), runs every test with bun, and
# ends with "N passed, N failed[, N skipped]" from the JUnit report. Exit code is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || echo "ensure-deps failed; continuing, tests that need missing tools will skip" >&2
if [ -z "${TEST_DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && pg_lsclusters 2>/dev/null | grep -q '^15 '; then
  # Debian's PostgreSQL 15 (the appliance's production database) when it is installed; else the embedded one.
  pg_ctlcluster 15 main start 2>/dev/null || true
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 && \
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
fi
echo "test database: ${TEST_DATABASE_URL:-embedded PostgreSQL (embedded-postgres)}" >&2
rm -rf test-results && mkdir -p test-results
bun test --timeout 30000 --reporter=junit --reporter-outfile=test-results/junit.xml "$@"
code=$?
bun scripts/junit-summary.ts test-results/junit.xml
summary=$?
if [ $code -ne 0 ] || [ $summary -ne 0 ]; then exit 1; fi
exit 0
