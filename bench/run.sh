#!/usr/bin/env bash
# One benchmark run on this machine: our service (each variant below) against the
# raw-SQL limit of the same transaction shapes, at the same concurrency, on PostgreSQL and on
# SQLite, then a table of the ratios. Everything runs on 127.0.0.1 and stops by itself.
#
#   bash bench/run.sh                      # defaults below
#   BENCH_SECONDS=5 BENCH_CLIENTS="4 64" BENCH_VARIANTS="guarded grouped" bash bench/run.sh
#   BENCH_WITH_KEY=1 bash bench/run.sh     # every request carries an API client's key
#
# With BENCH_WITH_KEY=1 each server run makes an API client (scopes orders:pay, orders:cancel)
# over HTTP and the load generator sends its key on checkouts, payments and cancellations
# (`--api-key … --key-on-checkout`), so the key's lookup is in the figures.
#
# Variants of our server: `compare-and-swap` and `guarded` commit each checkout on its own with
# that stock-write strategy; `grouped` is the default server (guarded writes, group commit);
# `groupedN` the same with N group-commit lanes; `onethread` the default server on one worker
# thread (`--worker-threads 1`), which leaves the other core to the database and the load.
#
# It builds what it needs (release), starts PostgreSQL if it is installed but down, creates and
# drops its own databases (bench_*), and writes JSON and text results under bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"4 16 64"}
VARIANTS=${BENCH_VARIANTS:-"compare-and-swap guarded grouped"}
BACKENDS=${BENCH_BACKENDS:-"postgres sqlite"}
PRODUCTS=${BENCH_PRODUCTS:-1000}
PORT=18190
TOKEN=bench-token
PG="postgres://postgres@127.0.0.1:5432"
OUT="bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
export PGHOST=127.0.0.1 PGUSER=postgres

echo "== build (release)"
cargo build --release --quiet --bin checkout-api --bin checkout-loadgen
cargo build --release --quiet -p raw-checkout
BIN=target/release

ensure_postgres() {
  pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  echo "PostgreSQL is down; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  echo "PostgreSQL did not come up" >&2; exit 1
}

fresh_pg_db() { # name -> url
  psql -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" postgres
  psql -qc "CREATE DATABASE $1" postgres
  echo "$PG/$1"
}

SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT

variant_flags() { # variant -> the server's flags
  case "$1" in
    compare-and-swap) echo "--stock-writes compare-and-swap --group-commit-lanes 0" ;;
    guarded) echo "--stock-writes guarded --group-commit-lanes 0" ;;
    grouped) echo "--stock-writes guarded" ;;
    onethread) echo "--stock-writes guarded --worker-threads 1" ;;
    grouped[0-9]*) echo "--stock-writes guarded --group-commit-lanes ${1#grouped}" ;;
    *) echo "unknown variant $1" >&2; exit 1 ;;
  esac
}

start_server() { # url variant log
  # shellcheck disable=SC2046 # the flags are meant to split
  RUST_LOG=warn "$BIN/checkout-api" --database-url "$1" $(variant_flags "$2") \
    --bind "127.0.0.1:$PORT" --admin-token "$TOKEN" --log-format json >"$3" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; then
      [ -n "${BENCH_WITH_KEY:-}" ] && API_KEY=$(make_api_key)
      return 0
    fi
    sleep 0.1
  done
  echo "the server did not become ready; see $3" >&2; exit 1
}

make_api_key() { # a fresh API client's key, made with the admin token
  curl -sf -X POST "http://127.0.0.1:$PORT/v1/clients" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d '{"name":"bench","scopes":["orders:pay","orders:cancel"]}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])'
}

scenario_flags() { # scenario -> the load generator's flags for its products and carts
  if [ "$1" = hot ]; then echo "--initial-stock 100000000000"
  else echo "--products $PRODUCTS --lines 3 --initial-stock 100000000"; fi
}

loadgen() { # scenario clients json
  # shellcheck disable=SC2207 # the flags are meant to split
  local extra=($(scenario_flags "$1"))
  [ -n "${API_KEY:-}" ] && extra+=(--api-key "$API_KEY" --key-on-checkout)
  "$BIN/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token "$TOKEN" \
    --scenario "$1" -c "$2" --duration "${SECONDS_EACH}s" --warmup 1s "${extra[@]}" --json "$3" \
    >"${3%.json}.txt" 2>/dev/null
  grep -E "orders/s|invariant" "${3%.json}.txt" | tr -s ' ' | paste -sd' ' | sed "s/^/  $1 c=$2: /"
}

# A shop's catalog tables have planner statistics: autovacuum gathers them within a minute of
# a table filling. A database made seconds before a run has none, and PostgreSQL then plans the
# checkout's stock read (a join of product_stock, locations and products) as sequential scans:
# 0.23 ms against 0.06 ms for a three-line cart at 1,000 products (docs/benchmarks.md, run 19).
# So before measuring, one short load-generator run makes a set of products as the measured run
# will, and the catalog tables are analyzed, as the raw baseline's are after its seed. Only
# those: analyzing the tables a run fills (orders, order_lines, stock_movements) while they are
# nearly empty made PostgreSQL plan each foreign-key check against orders as a sequential scan
# and keep that plan while the table grew, halving both sides (run 19).
settle() { # scenario database
  # shellcheck disable=SC2046 # the flags are meant to split
  "$BIN/checkout-loadgen" --base-url "http://127.0.0.1:$PORT" --admin-token "$TOKEN" \
    --scenario "$1" -c 1 --requests 1 $(scenario_flags "$1") >/dev/null 2>&1
  psql -qc "ANALYZE product_stock, products, locations" "$2"
}

for backend in $BACKENDS; do
  [ "$backend" = postgres ] && ensure_postgres
  for variant in $VARIANTS; do
    echo "== ours: $backend, $variant"
    for scenario in spread hot; do
      for c in $CLIENTS; do
        # A fresh database and server per point, as the raw baseline gets: a point measured
        # after others ran on the same database also paid for their rows (autovacuum of a
        # ledger of 100,000s of rows, larger indexes), which the raw one never did.
        if [ "$backend" = postgres ]; then url=$(fresh_pg_db "bench_ours"); else
          rm -rf "$OUT/sqlite-$variant"; mkdir -p "$OUT/sqlite-$variant"
          url="sqlite://$OUT/sqlite-$variant/checkout.db"; fi
        start_server "$url" "$variant" "$OUT/server-$backend-$variant-$scenario-$c.log"
        [ "$backend" = postgres ] && settle "$scenario" bench_ours
        loadgen "$scenario" "$c" "$OUT/ours-$backend-$variant-$scenario-$c.json"
        stop_server
        [ "$backend" = postgres ] && psql -qc "DROP DATABASE bench_ours WITH (FORCE)" postgres
      done
    done
  done

  echo "== raw SQL: $backend"
  for scenario in spread hot; do
    for c in $CLIENTS; do
      if [ "$backend" = postgres ] && [ "$c" -gt 90 ]; then
        # pgbench opens one connection per client and PostgreSQL allows 100: no raw figure.
        echo "  $scenario c=$c: no raw run (more clients than max_connections)"
      elif [ "$backend" = postgres ]; then
        url=$(fresh_pg_db "bench_raw")
        "$BIN/checkout-api" --database-url "$url" migrate >/dev/null 2>&1
        psql -q -v nproducts=$PRODUCTS -v stock=100000000000 -f bench/pgbench/seed.sql bench_raw
        psql -qc "ANALYZE product_stock, products, locations" bench_raw
        script=bench/pgbench/checkout3.sql; [ "$scenario" = hot ] && script=bench/pgbench/hot_guarded.sql
        # -M prepared: our service runs prepared statements; the simple protocol would re-plan
        # every statement and make the raw limit look lower than it is.
        pgbench -n -M prepared -D nproducts=$PRODUCTS -c "$c" -j 2 -T "$SECONDS_EACH" -f "$script" bench_raw \
          >"$OUT/raw-$backend-$scenario-$c.txt" 2>&1
        grep -E "^tps" "$OUT/raw-$backend-$scenario-$c.txt" | sed "s/^/  $scenario c=$c: /"
        psql -qc "DROP DATABASE bench_raw WITH (FORCE)" postgres
      else
        # The ratio's baseline: the statements through SQLite's C API (Python's sqlite3), one
        # writer, the fastest honest limit. The same through sqlx, C tasks, for reference.
        rm -f "$OUT/raw.db"*
        "$BIN/checkout-api" --database-url "sqlite://$OUT/raw.db?mode=rwc" migrate >/dev/null 2>&1
        python3 bench/raw_sqlite.py "$OUT/raw.db" --clients "$c" --seconds "$SECONDS_EACH" \
          --scenario "$scenario" --products $PRODUCTS --json "$OUT/raw-$backend-$scenario-$c.json" |
          sed "s/^/  /"
        rm -f "$OUT/raw.db"*
        "$BIN/raw_checkout" --url "sqlite://$OUT/raw.db" --clients "$c" \
          --seconds "$SECONDS_EACH" --scenario "$scenario" --products $PRODUCTS \
          --json "$OUT/rawsqlx-$backend-$scenario-$c.json" | sed "s/^/  sqlx: /"
      fi
    done
  done
done

echo "== summary (also in $OUT/summary.md)"
python3 bench/summary.py "$OUT" | tee "$OUT/summary.md"
python3 bench/plot.py "$OUT"
