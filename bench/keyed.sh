#!/usr/bin/env bash
# What an Idempotency-Key costs a checkout: the same release build with and without a fresh key
# on every checkout, PostgreSQL, spread (1,000 products, 3-line carts) and hot, 64 clients,
# 15 s each after a 1 s warm-up, alternating rounds (ROUNDS, default 2), a fresh database per
# run. Needs `cargo build --release -p api -p loadgen` and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=127.0.0.1 PGUSER=postgres
PORT=18097; TOKEN=bench; DB=bench_keyed; BIN=target/release
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; true' EXIT
run() { # label scenario [loadgen flags…]
  local label=$1 scenario=$2; shift 2
  psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres; psql -qc "CREATE DATABASE $DB" postgres
  RUST_LOG=warn $BIN/checkout-api --database-url postgres://postgres@127.0.0.1:5432/$DB --bind 127.0.0.1:$PORT --admin-token $TOKEN --log-format json >/tmp/keyed-server.log 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
  local extra=(--products 1000 --lines 3 --initial-stock 100000000)
  [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
  $BIN/checkout-loadgen --base-url http://127.0.0.1:$PORT --admin-token $TOKEN --scenario "$scenario" -c 64 --duration 15s --warmup 1s "${extra[@]}" "$@" >/tmp/keyed-$label-$scenario.txt 2>/dev/null
  echo "$label $scenario: $(grep -E '^orders|latency|invariant' /tmp/keyed-$label-$scenario.txt | tr -s ' ' | paste -sd' ')"
  kill $server; wait $server 2>/dev/null || true; server=
}
for _ in $(seq "${ROUNDS:-2}"); do
  for scenario in spread hot; do
    run unkeyed "$scenario"
    run keyed "$scenario" --idempotency-keys
  done
done
psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres
