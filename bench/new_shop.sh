#!/usr/bin/env bash
# A new shop's first flash sale on PostgreSQL: 200 orders one by one, time for autovacuum to
# see them (naptime 1 s for that moment), then the hot product at 64 clients for 20 s with
# autovacuum back at the server's settings. Prints whether autovacuum analyzed `orders` before
# the sale, and the sale's orders/s and p99, per build, alternating ROUNDS times.
#
#   bash bench/new_shop.sh                      # target/release
#   ROUNDS=2 bash bench/new_shop.sh /tmp/old /tmp/new
#
# It changes the server's autovacuum settings (ALTER SYSTEM, autovacuum on, naptime 1 s) for a
# few seconds per run and resets them (ALTER SYSTEM RESET) before the sale: run it on a
# PostgreSQL of your own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-1}
BUILDS=("${@:-target/release}")
PORT=18192
export PGHOST=127.0.0.1 PGUSER=postgres
[ $# -eq 0 ] && cargo build --release --quiet --bin checkout-api --bin checkout-loadgen

SERVER_PID=""
reset_autovacuum() {
  psql -qc "ALTER SYSTEM RESET autovacuum" -c "ALTER SYSTEM RESET autovacuum_naptime" postgres
  psql -qAtc "SELECT pg_reload_conf()" postgres >/dev/null
}
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; reset_autovacuum; }
trap cleanup EXIT

for round in $(seq "$ROUNDS"); do
  for bin in "${BUILDS[@]}"; do
    psql -qc "DROP DATABASE IF EXISTS bench_new_shop WITH (FORCE)" postgres
    psql -qc "CREATE DATABASE bench_new_shop" postgres
    RUST_LOG=warn "$bin/checkout-api" --database-url "postgres://postgres@127.0.0.1:5432/bench_new_shop" \
      --bind "127.0.0.1:$PORT" --admin-token t --log-format json >/dev/null 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
    # The shop's first orders, while autovacuum looks every second.
    psql -qc "ALTER SYSTEM SET autovacuum = on" -c "ALTER SYSTEM SET autovacuum_naptime = '1s'" postgres
    psql -qAtc "SELECT pg_reload_conf()" postgres >/dev/null
    "$bin/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario hot -c 1 \
      --requests 200 --initial-stock 100000000000 >/dev/null 2>&1
    sleep 6
    reset_autovacuum
    analyzed=$(psql -qAtc "SELECT coalesce(last_autoanalyze::text, 'never') FROM pg_stat_user_tables WHERE relname = 'orders'" bench_new_shop)
    json=$(mktemp)
    "$bin/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario hot -c 64 \
      --duration 20s --warmup 1s --initial-stock 100000000000 --json "$json" >/dev/null 2>&1
    python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
print(f\"round $round, $bin: orders autoanalyzed before the sale: $analyzed; {r['orders_per_sec']:,.0f} orders/s, p99 {r['latency_us']['p99'] / 1000:.1f} ms, invariant {'holds' if r['invariant']['holds'] else 'FAILED'}\")" "$json"
    rm -f "$json"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  done
done
psql -qc "DROP DATABASE IF EXISTS bench_new_shop WITH (FORCE)" postgres
