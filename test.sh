#!/usr/bin/env bash
# The test command (README): formatting, lints, and every test on SQLite and PostgreSQL.
# PostgreSQL is required: it is started if it is installed but down, and a missing or
# unreachable PostgreSQL fails the run — store and API tests never skip a backend silently.
set -euo pipefail
cd "$(dirname "$0")"

PG_URL="${GUANXI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export GUANXI_TEST_PG_URL="$PG_URL"

step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL at $PG_URL"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "ERROR: PostgreSQL is not reachable on 127.0.0.1:5432. The store and API tests need it." >&2
  echo "Install it (apt-get install postgresql) and start it, or set GUANXI_TEST_PG_URL." >&2
  exit 1
fi
if [ "$PG_URL" = "postgres://postgres@127.0.0.1:5432/test" ]; then
  # The default test database must exist (the machine image has it; a fresh cluster does not).
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (SQLite + PostgreSQL)"
mkdir -p target
log=target/test-output.log
cargo test --workspace --locked 2>&1 | tee "$log"

# One closing line for the whole run (cargo's own last line is the doc-test runner's).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ntests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log"
