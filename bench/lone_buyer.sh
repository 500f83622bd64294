#!/usr/bin/env bash
# The lone buyer: does group commit cost anything without contention? One buyer (-c 1) against
# the server with one commit per checkout and with group commit, alternating ROUNDS times, a
# fresh PostgreSQL database each time. Prints orders/s, p50 and p99 per run.
#
#   bash bench/lone_buyer.sh            # after bench/run.sh has built the release binaries
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${BENCH_SECONDS:-8}
PORT=18191
BIN=target/release
export PGHOST=127.0.0.1 PGUSER=postgres
cargo build --release --quiet --bin checkout-api --bin checkout-loadgen

SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT

echo "round server scenario orders/s p50_ms p99_ms"
for round in $(seq "$ROUNDS"); do
  for variant in alone grouped; do
    psql -qc "DROP DATABASE IF EXISTS bench_lone WITH (FORCE)" postgres 2>/dev/null
    psql -qc "CREATE DATABASE bench_lone" postgres
    lanes=4; [ "$variant" = alone ] && lanes=0
    RUST_LOG=warn "$BIN/checkout-api" --database-url "postgres://postgres@127.0.0.1:5432/bench_lone" \
      --group-commit-lanes "$lanes" --bind "127.0.0.1:$PORT" --admin-token t --log-format json \
      >/dev/null 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
    # The catalog's planner statistics, as a shop's database has them (see settle in bench/run.sh).
    "$BIN/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario spread \
      -c 1 --requests 1 --products 100 --lines 3 --initial-stock 100000000 >/dev/null 2>&1
    psql -qc "ANALYZE product_stock, products, locations" bench_lone
    for scenario in spread hot; do
      extra=(--products 100 --lines 3 --initial-stock 100000000)
      [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
      json=$(mktemp)
      "$BIN/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario "$scenario" \
        -c 1 --duration "${SECONDS_EACH}s" --warmup 1s "${extra[@]}" --json "$json" >/dev/null 2>&1
      python3 -c "import json,sys; r=json.load(open(sys.argv[1])); l=r['latency_us']; \
print(sys.argv[2], f\"{r['orders_per_sec']:.0f}\", l['p50']/1000, l['p99']/1000)" "$json" "$round $variant $scenario"
      rm -f "$json"
    done
    stop_server
  done
done
psql -qc "DROP DATABASE IF EXISTS bench_lone WITH (FORCE)" postgres
