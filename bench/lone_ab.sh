#!/usr/bin/env bash
# The lone buyer, build against build: one client (-c 1) against each build's server in turn,
# ROUNDS alternating rounds, a fresh database each run, the catalog analyzed as in
# bench/run.sh. Prints per run the orders/s, p50 and p99, and the server's CPU time and context
# switches (every thread's, from /proc) per order over the measured seconds.
#
#   bash bench/lone_ab.sh <dir with checkout-api> <dir with checkout-api> ...
#   BACKEND=sqlite SCENARIOS=spread ROUNDS=5 bash bench/lone_ab.sh /tmp/old target/release
#
# The load generator is target/release's (or LOADGEN=...). The labels are the directories.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-postgres}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${BENCH_SECONDS:-6}
SCENARIOS=${SCENARIOS:-"spread hot"}
LOADGEN=${LOADGEN:-target/release/checkout-loadgen}
PORT=18193
export PGHOST=127.0.0.1 PGUSER=postgres
[ $# -ge 1 ] || { echo "usage: bash bench/lone_ab.sh <build dir>..." >&2; exit 2; }
WORK=$(mktemp -d)
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap 'stop_server; rm -rf "$WORK"' EXIT

# The server's CPU ticks (user + system) and context switches (voluntary and not), all threads.
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
switches() { cat /proc/"$SERVER_PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }

echo "round build scenario orders/s p50_ms p99_ms cpu_ms/order switches/order"
for round in $(seq "$ROUNDS"); do
  for dir in "$@"; do
    if [ "$BACKEND" = postgres ]; then
      psql -qc "DROP DATABASE IF EXISTS bench_lone_ab WITH (FORCE)" postgres 2>/dev/null
      psql -qc "CREATE DATABASE bench_lone_ab" postgres
      url=postgres://postgres@127.0.0.1:5432/bench_lone_ab
    else
      rm -f "$WORK"/lone.db*
      url="sqlite://$WORK/lone.db?mode=rwc"
    fi
    RUST_LOG=warn "$dir/checkout-api" --database-url "$url" --bind "127.0.0.1:$PORT" --admin-token t \
      --log-format json >/dev/null 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
    # The catalog's planner statistics, as a shop's database has them (see settle in bench/run.sh).
    "$LOADGEN" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario spread -c 1 --requests 1 \
      --products 1000 --lines 3 --initial-stock 100000000 >/dev/null 2>&1
    [ "$BACKEND" = postgres ] && psql -qc "ANALYZE product_stock, products, locations" bench_lone_ab
    for scenario in $SCENARIOS; do
      extra=(--products 1000 --lines 3 --initial-stock 100000000)
      [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
      # One second of warm-up, then the counters are read around the measured seconds.
      "$LOADGEN" --base-url "http://127.0.0.1:$PORT" --admin-token t --scenario "$scenario" -c 1 \
        --duration "$((SECONDS_EACH + 2))s" --warmup 1s "${extra[@]}" --json "$WORK/run.json" >/dev/null 2>&1 &
      loadgen=$!
      sleep 1.5
      t0=$(ticks); s0=$(switches)
      sleep "$SECONDS_EACH"
      t1=$(ticks); s1=$(switches)
      wait "$loadgen"
      python3 - "$WORK/run.json" "$round $dir $scenario" "$((t1 - t0))" "$((s1 - s0))" "$SECONDS_EACH" \
        "$(getconf CLK_TCK)" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
label, ticks, switches, seconds, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
orders = run["orders_per_sec"] * seconds
latency = run["latency_us"]
print(label, f"{run['orders_per_sec']:.0f}", f"{latency['p50'] / 1000:.2f}", f"{latency['p99'] / 1000:.2f}",
      f"{ticks * 1000 / hz / orders:.3f}", f"{switches / orders:.2f}")
PY
    done
    stop_server
  done
done
[ "$BACKEND" = postgres ] && psql -qc "DROP DATABASE IF EXISTS bench_lone_ab WITH (FORCE)" postgres
exit 0
