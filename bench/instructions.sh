#!/usr/bin/env bash
# Instructions the server executes per checkout (user space, valgrind's callgrind), against
# PostgreSQL, for spread carts (1,000 products, 3 lines) and the hot product at a few client
# counts. Instructions, not seconds: the count repeats for the same binary and load whatever
# else the machine is doing, so two builds compare even on a noisy machine.
#
#   bash bench/instructions.sh [dir with checkout-api]     # default target/release
#   INSTR_CLIENTS="1 16 64" INSTR_REQUESTS=2000 bash bench/instructions.sh /tmp/old
#
# Each run starts the server under callgrind and warms up with 200 checkouts; then it counts
# a run of 200 checkouts and one of 200 + INSTR_REQUESTS, and divides the difference of their
# instructions by the difference of their orders: each loadgen run also makes its products and
# reads them all back at its end, and the subtraction takes that out. The mean batch is the
# longer run's. It prints, per scenario and client count, the mean
# group-commit batch (orders per commit, from /metrics) and the instructions per checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "${1:-target/release}" && pwd)
CLIENTS=${INSTR_CLIENTS:-"1 16 64"}
REQUESTS=${INSTR_REQUESTS:-2000}
PORT=18191; TOKEN=bench
export PGHOST=127.0.0.1 PGUSER=postgres
LOADGEN=${LOADGEN:-target/release/checkout-loadgen}
[ -x "$LOADGEN" ] || LOADGEN=/tmp/new/checkout-loadgen
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

batch() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^checkout_batch_orders_(sum|count)/ {print $2}' | paste -sd' '; }

echo "| scenario | clients | mean batch | instructions per checkout |"
echo "|---|---:|---:|---:|"
for scenario in spread hot; do
  for c in $CLIENTS; do
    psql -qc "DROP DATABASE IF EXISTS bench_instr WITH (FORCE)" postgres
    psql -qc "CREATE DATABASE bench_instr" postgres
    (cd "$WORK" && RUST_LOG=warn exec valgrind --tool=callgrind \
      --callgrind-out-file="$WORK/cg.out" "$BIN/checkout-api" \
      --database-url postgres://postgres@127.0.0.1:5432/bench_instr --bind 127.0.0.1:$PORT \
      --admin-token $TOKEN --log-format json >"$WORK/server.log" 2>&1) &
    pid=$!
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
    extra=(--products 1000 --lines 3 --initial-stock 100000000)
    [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
    drive() { "$LOADGEN" --base-url "http://127.0.0.1:$PORT" --admin-token $TOKEN --scenario "$scenario" \
      -c "$c" --requests "$1" --warmup 0s "${extra[@]}" >"$WORK/lg.txt" 2>/dev/null; }
    drive 200
    # Every loadgen run makes its own products and ends by reading each one's stock: counted
    # twice, with few and with many checkouts, and subtracted, the set-up and the check cancel.
    counted() { # checkouts -> "instructions orders" and the batch sum and count before and after
      rm -f "$WORK"/cg.out.*
      local before after
      before=$(batch)
      callgrind_control -z "$pid" >/dev/null
      drive "$1"
      after=$(batch)
      callgrind_control -d "$pid" >/dev/null
      sleep 1
      local n
      n=$(for f in "$WORK"/cg.out.*; do awk '/^(totals|summary):/ {print $2; exit}' "$f"; done | awk '{s+=$1} END {print s}')
      echo "$n $(grep -E '^orders' "$WORK/lg.txt" | awk '{print $3}') $before $after"
    }
    read -r i_few o_few _ <<<"$(counted 200)"
    read -r i_many o_many s0 c0 s1 c1 <<<"$(counted $((200 + REQUESTS)))"
    mean=$(python3 -c "print(f'{($s1-$s0)/max($c1-$c0,1):.1f}')")
    per=$(python3 -c "print(f'{($i_many-$i_few)/max($o_many-$o_few,1)/1000:,.0f}k')")
    echo "| $scenario | $c | $mean | $per |"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    rm -f "$WORK"/cg.out*
  done
done
psql -qc "DROP DATABASE IF EXISTS bench_instr WITH (FORCE)" postgres
