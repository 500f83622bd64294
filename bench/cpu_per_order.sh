#!/usr/bin/env bash
# CPU per order of one build under spread load: the server's and every PostgreSQL backend's
# user + system time (from /proc) over 12 s of spread carts (1,000 products, 3 lines, 64
# clients), divided by the orders made. Usage: bash bench/cpu_per_order.sh <dir with
# checkout-api> <label>; the loadgen is taken from /tmp/new. Alternate two builds a few times:
# the first run of a session warms the machine and reads high.
set -euo pipefail
export PGHOST=127.0.0.1 PGUSER=postgres
PORT=18097
psql -qc "DROP DATABASE IF EXISTS bench_cpu WITH (FORCE)" postgres 2>/dev/null; psql -qc "CREATE DATABASE bench_cpu" postgres
RUST_LOG=warn "$1/checkout-api" --database-url postgres://postgres@127.0.0.1:5432/bench_cpu --bind 127.0.0.1:$PORT --admin-token bench --log-format json >/tmp/cpu-server.log 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
pgcpu() { for p in $(pgrep -x postgres); do awk '{print $14+$15}' /proc/$p/stat 2>/dev/null; done | paste -sd+ | bc; }
# create products first via a tiny warm run
/tmp/new/checkout-loadgen --base-url http://127.0.0.1:$PORT --admin-token bench --scenario spread -c 64 --duration 2s --warmup 0s --products 1000 --lines 3 --initial-stock 100000000 >/dev/null 2>&1
s0=$(awk '{print $14+$15}' /proc/$pid/stat); p0=$(pgcpu)
/tmp/new/checkout-loadgen --base-url http://127.0.0.1:$PORT --admin-token bench --scenario spread -c 64 --duration 12s --warmup 0s --products 1000 --lines 3 --initial-stock 100000000 >/tmp/cpu-$2.txt 2>/dev/null
s1=$(awk '{print $14+$15}' /proc/$pid/stat); p1=$(pgcpu)
orders=$(grep -E '^orders' /tmp/cpu-$2.txt | awk '{print $3}')
echo "$2: orders $orders server_ms/order $(echo "scale=4; ($s1-$s0)*10/$orders" | bc) pg_ms/order $(echo "scale=4; ($p1-$p0)*10/$orders" | bc)"
kill $pid; wait $pid 2>/dev/null || true
