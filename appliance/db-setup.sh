#!/usr/bin/env bash
# Creates or repairs lteproxy's PostgreSQL role and database from [database] url in /etc/lteproxy/lteproxy.toml.
# Idempotent; run by the installer (as root) and, at boot, by lteproxy-db-setup.service (as postgres, with the config
# passed in as a systemd credential), so a box staged with `install.sh --root` gets its database on first boot.
# Leaves remote or hand-made URLs alone.
set -euo pipefail

CONFIG="${1:-${CREDENTIALS_DIRECTORY:+$CREDENTIALS_DIRECTORY/lteproxy.toml}}"
CONFIG="${CONFIG:-/etc/lteproxy/lteproxy.toml}"
WAIT_S="${LTEPROXY_DB_WAIT_S:-90}"

[[ -r "$CONFIG" ]] || { echo "db-setup: cannot read $CONFIG" >&2; exit 1; }
url=$(sed -n 's/^[[:space:]]*url[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$CONFIG" | head -n 1)
if [[ -z "$url" ]]; then
  echo "db-setup: no [database] url in $CONFIG: nothing to do"
  exit 0
fi
# Only the shape the installer writes: a local server, a generated alphanumeric password.
re='^postgres(ql)?://([a-z_][a-z0-9_]*):([A-Za-z0-9]+)@(127\.0\.0\.1|localhost)(:([0-9]+))?/([a-z_][a-z0-9_]*)$'
if [[ ! "$url" =~ $re ]]; then
  echo "db-setup: [database] url is not a local database made by the installer: leaving it alone"
  exit 0
fi
role="${BASH_REMATCH[2]}" password="${BASH_REMATCH[3]}" port="${BASH_REMATCH[6]:-5432}" db="${BASH_REMATCH[7]}"

# Peer authentication as the postgres superuser over the local socket. setpriv, not su/runuser: no PAM session.
if [[ $(id -u) -eq 0 ]]; then AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups --); else AS_POSTGRES=(); fi
psql_postgres() { "${AS_POSTGRES[@]}" psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

# PostgreSQL may still be starting (first boot, or right after apt installed it).
for ((i = 0; i < WAIT_S; i++)); do
  if psql_postgres -tAc 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 1
done
psql_postgres -tAc 'SELECT 1' >/dev/null || { echo "db-setup: PostgreSQL on port $port did not answer within ${WAIT_S}s" >&2; exit 1; }

# SQL on stdin, so the password never shows up in a process list. Names and password are [a-z0-9_] / [A-Za-z0-9].
psql_postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') \gexec
ALTER ROLE "$role" WITH LOGIN PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I', '$db', '$role') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$db') \gexec
SQL
echo "db-setup: role $role and database $db ready on port $port"
