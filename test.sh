#!/usr/bin/env bash
# The test command (README): formatting, lints, and every test on SQLite and PostgreSQL.
# PostgreSQL is required: it is started if it is installed but down, and a missing or
# unreachable PostgreSQL fails the run — store and API tests never skip a backend silently.
set -euo pipefail
cd "$(dirname "$0")"

PG_URL="${GUANXI_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export GUANXI_TEST_PG_URL="$PG_URL"

step() { printf '\n==> %s\n' "$*"; }

step "disk space for the build"
# The debug build of every test target takes about 6 GB here; a full disk shows up as a linker
# "Bus error" deep in cargo's output, so say it plainly first.
avail_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
echo "$((avail_kb / 1024 / 1024)) GB free"
if [ "${avail_kb:-0}" -lt $((3 * 1024 * 1024)) ]; then
  echo "ERROR: less than 3 GB of disk is free here; a build from scratch takes about 6 GB." >&2
  exit 1
fi

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

step "Python reference packages (target/pyenv from tests/requirements.txt)"
# The warehouse export test loads the export into DuckDB, as a user would.
command -v python3 >/dev/null 2>&1 || { echo "ERROR: python3 is required (apt-get install python3 python3-venv)." >&2; exit 1; }
mkdir -p target
if [ ! -x target/pyenv/bin/python ] || ! cmp -s tests/requirements.txt target/pyenv/requirements.txt; then
  rm -rf target/pyenv
  python3 -m venv target/pyenv
  target/pyenv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt target/pyenv/requirements.txt
fi
target/pyenv/bin/python -c "import duckdb; print('duckdb', duckdb.__version__)"
export GUANXI_PYTHON="$PWD/target/pyenv/bin/python"

step "local SMTP server (aiosmtpd, tests/smtp/server.py)"
# Campaign e-mail is tested against a real SMTP server that records what it received.
SMTP_PORT="${GUANXI_TEST_SMTP_PORT:-2525}"
export GUANXI_TEST_SMTP="127.0.0.1:$SMTP_PORT"
export GUANXI_TEST_SMTP_LOG="$PWD/target/smtp-received.jsonl"
"$GUANXI_PYTHON" tests/smtp/server.py "$SMTP_PORT" "$GUANXI_TEST_SMTP_LOG" > target/smtp-server.log 2>&1 &
smtp_pid=$!

step "local SMS provider server (Aliyun and Tencent Cloud request shapes, tests/sms/server.py)"
SMS_PORT="${GUANXI_TEST_SMS_PORT:-2626}"
export GUANXI_TEST_SMS="127.0.0.1:$SMS_PORT"
export GUANXI_TEST_SMS_LOG="$PWD/target/sms-received.jsonl"
"$GUANXI_PYTHON" tests/sms/server.py "$SMS_PORT" "$GUANXI_TEST_SMS_LOG" > target/sms-server.log 2>&1 &
sms_pid=$!
trap 'kill $smtp_pid $sms_pid 2>/dev/null || true' EXIT
for log in target/smtp-server.log target/sms-server.log; do
  for _ in $(seq 1 50); do grep -q ready "$log" 2>/dev/null && break; sleep 0.2; done
  grep -q ready "$log" || { echo "ERROR: a local test server did not start ($log):" >&2; cat "$log" >&2; exit 1; }
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (SQLite + PostgreSQL)"
mkdir -p target
log=target/test-output.log
cargo test --workspace --locked 2>&1 | tee "$log"

step "API fuzzing (schemathesis against the served OpenAPI document)"
cargo build -p guanxi --locked --quiet
export GUANXI_BIN="$PWD/target/debug/guanxi"
st_log=target/schemathesis-output.log
set +e
PYTHON="$GUANXI_PYTHON" tests/schemathesis/run.sh 2>&1 | tee "$st_log"
st_status=${PIPESTATUS[0]}
set -e

step "browser tests (tests/e2e: playwright-core + Debian Chromium)"
# The browser is the system's Chromium; playwright must never download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "ERROR: $tool is required for the browser tests (apt-get install nodejs npm)." >&2; exit 1; }
done
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || { echo "ERROR: Chromium not found at $CHROMIUM (apt-get install chromium)." >&2; exit 1; }
export CHROMIUM
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
e2e_log=target/e2e-output.log
set +e
(cd tests/e2e && node --test-reporter=tap run.mjs) 2>&1 | tee "$e2e_log"
e2e_status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run (cargo's own last line is the doc-test runner's).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nrust tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log"
awk '/^# pass / { p = $3 } /^# fail / { f = $3 }
     END { printf "browser tests: %d passed, %d failed (screenshots in target/e2e/)\n", p, f; if (p == 0 || f > 0) exit 1 }' "$e2e_log"
if [ "$st_status" -eq 0 ]; then
  echo "schemathesis: $(grep -Eo '[0-9]+ generated, [0-9]+ passed' "$st_log" | tail -n1), 0 server errors, 0 schema violations"
else
  echo "schemathesis: FAILED (see $st_log)"
  exit "$st_status"
fi
exit "$e2e_status"
