#!/usr/bin/env bash
# Property-based API check (issue #11): schemathesis generates requests from the OpenAPI
# document the server serves and checks every answer against it. Run by ./test.sh; fails on
# any server error (5xx), any response that breaks its declared schema, status, content type
# or headers, and any schema-violating request the server accepts.
#
#   GUANXI_BIN  the binary (default target/debug/guanxi)
#   PYTHON      the venv python with schemathesis (default target/pyenv/bin/python)
#
# The budget is fixed (seed 1, 20 examples per operation and phase), so a run is repeatable
# and takes about a minute. Two things are left out, on purpose:
# - DELETE /api/v1/tokens/{id} (`revoke_token`): revoking the token the run signs in with ends
#   the run's authentication; revocation is covered by crates/guanxi-web/tests/web/api.rs.
# - the `positive_data_acceptance` check: it counts a 404 for a random id, or a 422 for a
#   random string that is not a phone number, as a "valid request rejected". Those answers are
#   right; the other checks still judge their status, body and headers.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${GUANXI_BIN:-$root/target/debug/guanxi}"
py="${PYTHON:-$root/target/pyenv/bin/python}"
[ -x "$bin" ] || { echo "ERROR: $bin not built" >&2; exit 1; }
"$py" -c "import schemathesis" || { echo "ERROR: schemathesis is not installed in $py (tests/requirements.txt)" >&2; exit 1; }

work="$(mktemp -d)"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
password="st-$(date +%s%N)"
# The fuzzer sends requests back to back from one address: the per-client rate limit (tested
# in the web tests) would answer most of them 429 and hide what the routes do.
(cd "$work" && GUANXI_DATABASE_URL="sqlite://$work/st.db" GUANXI_DEMO_PASSWORD="$password" GUANXI_RATE_LIMIT_PER_SECOND=0 RUST_LOG=warn \
  exec "$bin" demo --customers 150 --orders 1500 --bind "127.0.0.1:$port") >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 1; done
curl -sf "$base/api/v1/health" >/dev/null || { echo "ERROR: server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# A bearer token of the demo admin, so every operation is reachable.
token="$("$py" - "$base" "$password" <<'PY'
import json, sys, urllib.request
base, password = sys.argv[1], sys.argv[2]
def call(path, body, headers):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"content-type": "application/json", **headers})
    return urllib.request.urlopen(req)
r = call("/api/v1/auth/login", {"username": "admin", "password": password}, {})
cookie = r.headers["set-cookie"].split(";")[0]
csrf = json.load(r)["csrf_token"]
r = call("/api/v1/tokens", {"name": "schemathesis"}, {"cookie": cookie, "x-csrf-token": csrf})
print(json.load(r)["token"])
PY
)"

status=0
st="$(cd "$(dirname "$py")" && pwd)/schemathesis"
# From the scratch directory: schemathesis keeps a cache of earlier failures in the working
# directory, which would make one run depend on the last.
cd "$work"
"$st" run "$base/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --seed 1 --max-examples 20 --workers 2 --no-color \
  --exclude-operation-id revoke_token \
  --checks all --exclude-checks positive_data_acceptance || status=$?
if grep -qi "panicked" "$work/server.log"; then
  echo "ERROR: the server panicked during the run:" >&2
  grep -i -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"
