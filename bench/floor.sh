#!/usr/bin/env bash
# How fast can the service answer at all, without its database? An outside driver (wrk) against
# our release server on a fresh SQLite file: `GET /healthz` (no database, the smallest answer) and
# a `POST /v1/checkout` refused as invalid before any database work (a cart line of quantity 0:
# the whole checkout route's middleware, JSON parsing and a problem answer), at one connection
# (p50) and at 64 (requests/s). Beside them, the raw SQLite baselines of bench/run.sh
# (bench/raw_sqlite.py, the C API, one writer) on the same machine in the same run, and the
# service's own statements for one checkout through that C API (`--scenario service`). A checkout
# that must also reach the database cannot answer faster than these floors, so they bound what
# any driver or statement batching could give the embedded default.
#
#   bash bench/floor.sh            (needs wrk: apt-get install wrk; a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
SECONDS_EACH=${BENCH_SECONDS:-8}
PORT=18194
command -v wrk >/dev/null || { echo "bench/floor.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
WORK=$(mktemp -d)
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap 'stop_server; rm -rf "$WORK"' EXIT

RUST_LOG=warn "$BIN/checkout-api" --database-url "sqlite://$WORK/floor.db?mode=rwc" \
  --bind "127.0.0.1:$PORT" --admin-token t --log-format json >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
cat > "$WORK/invalid.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"items":[{"product_id":"00000000-0000-7000-8000-000000000001","quantity":0}]}'
LUA
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"items":[{"product_id":"00000000-0000-7000-8000-000000000001","quantity":0}]}' \
  "http://127.0.0.1:$PORT/v1/checkout")
echo "an invalid checkout is answered $status (a 4xx, before any database work)"

# wrk's summary as "requests/s p50_ms p99_ms".
measure() {
  local connections=$1 threads=$2; shift 2
  wrk -t"$threads" -c"$connections" -d"${SECONDS_EACH}s" --latency "$@" 2>/dev/null | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {ms(50):.3f} {ms(99):.3f}")'
}

# A JSON report (loadgen's or raw_sqlite.py's) as "what clients rate p50_ms p99_ms"; `rate`
# names the report's throughput field.
row() {
  python3 -c '
import json, sys
what, clients, path, rate = sys.argv[1:]
r = json.load(open(path))
p50, p99 = r["latency_us"]["p50"] / 1000, r["latency_us"]["p99"] / 1000
print(f"{what} {clients} {r[rate]:.0f} {p50:.3f} {p99:.3f}")' "$@"
}

echo "what clients requests/s p50_ms p99_ms"
echo "healthz 1 $(measure 1 1 "http://127.0.0.1:$PORT/healthz")"
echo "healthz 64 $(measure 64 2 "http://127.0.0.1:$PORT/healthz")"
echo "invalid-checkout 1 $(measure 1 1 -s "$WORK/invalid.lua" "http://127.0.0.1:$PORT/v1/checkout")"
echo "invalid-checkout 64 $(measure 64 2 -s "$WORK/invalid.lua" "http://127.0.0.1:$PORT/v1/checkout")"
# Our whole checkout on the same server, through our load generator, for scale.
for scenario in spread hot; do
  for clients in 1 64; do
    extra=(--products 1000 --lines 3 --initial-stock 100000000)
    [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
    "$BIN/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario "$scenario" \
      -c "$clients" --duration "${SECONDS_EACH}s" --warmup 1s "${extra[@]}" --json "$WORK/ours.json" >/dev/null 2>&1
    row "checkout-$scenario" "$clients" "$WORK/ours.json" orders_per_sec
  done
done
stop_server

# The raw baselines bench/run.sh divides by, same machine, same run, and (service) the
# service's own statements for a lone spread checkout through the same C API.
for scenario in spread service hot; do
  rm -f "$WORK"/raw.db*
  "$BIN/checkout-api" --database-url "sqlite://$WORK/raw.db?mode=rwc" migrate >/dev/null 2>&1
  products=1000; [ "$scenario" = hot ] && products=1
  python3 bench/raw_sqlite.py "$WORK/raw.db" --seconds "$SECONDS_EACH" --scenario "$scenario" \
    --products "$products" --json "$WORK/raw.json" >/dev/null
  row "raw-sqlite-$scenario" 1 "$WORK/raw.json" tps
done
