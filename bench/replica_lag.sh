#!/usr/bin/env bash
# How far a streaming replica lags under checkout load: one server over the primary of
# tests/replica/start.sh (127.0.0.1:5434) with DATABASE_READ_URL on its replica (5435), the
# load generator on spread or hot carts, and pg_stat_replication sampled every 0.5 s on the
# primary (replay_lag, and the bytes of WAL not yet replayed). Prints the samples' median and
# max to bench/results/<time>/replica-lag.md.
#
#   bash bench/replica_lag.sh              # BENCH_SECONDS=10 BENCH_CLIENTS=64 BENCH_SCENARIO=hot
#
# The pair is a test pair: fsync is off on the primary, so its commits are cheaper than on a
# production primary; the lag is that of replay, which fsync does not change much.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-64}
SCENARIO=${BENCH_SCENARIO:-hot}
PORT=18390
TOKEN=bench-token
OUT="bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
PRIMARY="postgres://postgres@127.0.0.1:5434"
REPLICA="postgres://postgres@127.0.0.1:5435"

cargo build --release --quiet --bin checkout-api --bin checkout-loadgen
bash tests/replica/start.sh
psql -qc "DROP DATABASE IF EXISTS bench_lag WITH (FORCE)" "$PRIMARY/postgres"
psql -qc "CREATE DATABASE bench_lag" "$PRIMARY/postgres"
for _ in $(seq 100); do psql -qc "SELECT 1" "$REPLICA/bench_lag" >/dev/null 2>&1 && break; sleep 0.1; done

RUST_LOG=warn DATABASE_READ_URL="$REPLICA/bench_lag" target/release/checkout-api \
  --database-url "$PRIMARY/bench_lag" --bind "127.0.0.1:$PORT" --admin-token "$TOKEN" \
  --log-format json >"$OUT/server-lag.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

extra=(--products 100 --lines 3 --initial-stock 100000000)
[ "$SCENARIO" = hot ] && extra=(--initial-stock 100000000000)
target/release/checkout-loadgen --base-url "http://127.0.0.1:$PORT" --admin-token "$TOKEN" \
  --scenario "$SCENARIO" -c "$CLIENTS" --duration "${SECONDS_EACH}s" --warmup 1s "${extra[@]}" \
  --json "$OUT/lag-load.json" >"$OUT/lag-load.txt" 2>/dev/null &
LOAD=$!
sleep 1.5
: >"$OUT/lag-samples.txt"
while kill -0 "$LOAD" 2>/dev/null; do
  psql -tAc "SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0),
                    pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
             FROM pg_stat_replication" "$PRIMARY/postgres" >>"$OUT/lag-samples.txt"
  sleep 0.5
done
wait "$LOAD" || true

python3 - "$OUT" "$SCENARIO" "$CLIENTS" <<'PY' | tee "$OUT/replica-lag.md"
import json, statistics, sys
out, scenario, clients = sys.argv[1:]
rows = [line.split("|") for line in open(f"{out}/lag-samples.txt") if "|" in line]
ms = sorted(float(r[0]) for r in rows)
kib = sorted(float(r[1]) / 1024 for r in rows)
load = json.load(open(f"{out}/lag-load.json"))
print(f"{scenario}, {clients} clients: {load['orders_per_sec']:,.0f} orders/s; "
      f"replay lag over {len(rows)} samples: median {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms; "
      f"WAL not yet replayed: median {statistics.median(kib):.0f} KiB, max {kib[-1]:.0f} KiB")
PY
psql -qc "DROP DATABASE IF EXISTS bench_lag WITH (FORCE)" "$PRIMARY/postgres"
