#!/usr/bin/env bash
# Hostile input (issue 7): schemathesis against the served /openapi.json.
#
# Builds the server, starts it on a fresh SQLite file with a known admin token on a free port,
# and runs schemathesis over every operation with positive and negative data and the stateful
# phase (create product -> stock -> checkout -> order -> pay/cancel, through the document's
# links). Fails on any 5xx or any response the document does not describe. Bounded to about
# five minutes on two cores; the budget and the number of examples can be changed with
# SCHEMATHESIS_MAX_TIME (seconds) and SCHEMATHESIS_MAX_EXAMPLES.
#
# The virtual environment lives in target/schemathesis-venv and is made on first use from the
# pinned requirements.txt beside this script (rebuilt when the pin changes).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

venv=target/schemathesis-venv
requirements=$here/requirements.txt
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-50}
max_time=${SCHEMATHESIS_MAX_TIME:-180}

if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "schemathesis: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
# A workaround for a CPython 3.11 thread race in ast.parse (see serial_ast.py), loaded at start.
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
cp "$here/serial_ast.py" "$site_packages/serial_ast.py"
echo "import serial_ast" >"$site_packages/serial_ast.pth"

echo "schemathesis: building checkout-api"
cargo build --quiet --bin checkout-api
bin=$root/target/debug/checkout-api

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A port the kernel just handed out and released: free unless someone races us for it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=schemathesis-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
base=http://127.0.0.1:$port

# No long polls of the event feed: schemathesis checks its shapes, and a `wait` of up to 30 s
# on a thousand generated requests would be the whole run.
CHECKOUT_ADMIN_TOKEN=$token \
  CHECKOUT_EVENTS_MAX_WAIT=0 \
  DATABASE_URL="sqlite://$work/checkout.db" \
  CHECKOUT_BIND=127.0.0.1:$port \
  RUST_LOG=warn \
  "$bin" serve </dev/null >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  if curl -fs "$base/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis: the server exited before it was ready:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fs "$base/readyz" >/dev/null || { echo "schemathesis: server not ready" >&2; exit 1; }

report=$work/report
status=0
# From the temporary directory: schemathesis keeps a cache (.schemathesis/) where it runs.
(cd "$work" && "$root/$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --mode all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$max_examples" \
  --max-time "$max_time" \
  --workers 2 \
  --seed "${SCHEMATHESIS_SEED:-7}" \
  --generation-database none \
  --no-color \
  --report junit \
  --report-junit-path "$report/junit.xml" \
  </dev/null) | tee "$work/output.txt" || status=$?

if [ -s "$work/server.log" ]; then
  echo "schemathesis: server log (warnings and errors):"
  sed 's/^/  /' "$work/server.log"
fi

# One line for the docs: operations, test cases, failing operations.
python3 - "$report/junit.xml" "$work/output.txt" "$status" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET

junit, output, status = sys.argv[1:]
try:
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    cases = [c for s in suites for c in s.iter("testcase")]
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
except (OSError, ET.ParseError):
    failed = "?"
text = open(output, encoding="utf-8", errors="replace").read()
tested = re.search(r"Tested: (\d+)", text)
generated = re.search(r"(\d+) generated", text)
print(
    f"schemathesis summary: {tested.group(1) if tested else '?'} operations, "
    f"{generated.group(1) if generated else '?'} test cases, {failed} failing operations, "
    f"exit status {status}"
)
EOF

exit "$status"
