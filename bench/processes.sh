#!/usr/bin/env bash
# Many server processes on one PostgreSQL: 1, 2 and 4 `checkout-api` processes, the load
# spread over them request by request (the load generator takes their URLs in turn), spread
# carts and the hot product, directly, through PgBouncer in transaction-pooling mode
# (statement cache off), and directly with checkouts routed to the process that owns their
# lead product (`--route-peers`, docs/scaling.md), and `advertised`: routed, the answers naming
# each hot product's owner (`--route-advertise on`) and the clients following them
# (`checkout-loadgen --follow-owner`, as a storefront's backend would). Writes orders/s,
# p50/p99, the mean group-commit batch, checkouts per forwarded bundle, CPU time per order of
# the servers and of PostgreSQL, and the invariant of every run to
# bench/results/<time>/processes.md (and JSON beside it).
#
#   bash bench/processes.sh
#   BENCH_SECONDS=15 BENCH_PROCESSES="1 4" BENCH_POOLER="direct routed advertised" \
#     bash bench/processes.sh
#
# Every process has its own pool of BENCH_POOL connections (default 10): 4 processes hold 40
# connections directly, or share PgBouncer's 20 server connections (tests/pgbouncer/start.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-64}
PROCESSES=${BENCH_PROCESSES:-"1 2 4"}
POOLERS=${BENCH_POOLER:-"direct pgbouncer routed advertised"}
POOL=${BENCH_POOL:-10}
SCENARIOS=${BENCH_SCENARIOS:-"spread hot"}
PRODUCTS=100
PORT=18290
TOKEN=bench-token
OUT="bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
export PGHOST=127.0.0.1 PGUSER=postgres

echo "== build (release)"
# BENCH_BIN: a directory holding other builds of both binaries (an A/B of two builds).
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet --bin checkout-api --bin checkout-loadgen
BIN=${BENCH_BIN:-target/release}
case " $POOLERS " in *" pgbouncer "*) bash tests/pgbouncer/start.sh ;; esac

PIDS=()
stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_servers EXIT

BASES=""
start_servers() { # n url pooler -> BASES, their URLs comma-separated
  local n=$1 url=$2 cache=on urls=() port route=() all=""
  [ "$3" = pgbouncer ] && cache=off
  for i in $(seq 0 $((n - 1))); do all+="${all:+,}http://127.0.0.1:$((PORT + i))"; done
  # The first migrates the fresh database alone; the others find it current.
  for i in $(seq 0 $((n - 1))); do
    port=$((PORT + i))
    case $3 in routed | advertised)
      route=(--route-peers "$all" --route-self "http://127.0.0.1:$port"
        --route-secret bench-routing-secret-0123456789) ;;
    esac
    [ "$3" = advertised ] && route+=(--route-advertise on)
    RUST_LOG=warn DATABASE_STATEMENT_CACHE=$cache "$BIN/checkout-api" --database-url "$url" \
      --database-pool-size "$POOL" --bind "127.0.0.1:$port" --admin-token "$TOKEN" \
      "${route[@]}" --log-format json >"$OUT/server-$3-$n-$i.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server $i not ready" >&2; exit 1; }
    urls+=("http://127.0.0.1:$port")
  done
  BASES=$(IFS=,; echo "${urls[*]}")
}

# CPU time (clock ticks, utime + stime) of the given processes, summed.
ticks() { # pid… -> ticks
  local sum=0 pid fields
  for pid in "$@"; do
    read -ra fields <"/proc/$pid/stat" 2>/dev/null || continue
    # Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
    sum=$((sum + fields[13] + fields[14]))
  done
  echo "$sum"
}
pg_pids() { pgrep -d' ' -x postgres || true; }

# The servers' mean group-commit batch (orders per batch a checkout rode in), the checkouts
# reserved, and (routed) the mean number of checkouts per bundle forwarded, from /metrics.
mean_batch() { # base URLs, comma-separated
  local url
  for url in ${1//,/ }; do curl -sf "$url/metrics"; done | python3 -c '
import sys
s = c = forwarded = bundles = 0.0
for line in sys.stdin:
    if line.startswith("checkout_batch_orders_sum"): s += float(line.split()[-1])
    if line.startswith("checkout_batch_orders_count"): c += float(line.split()[-1])
    if line.startswith("checkout_routes_total{route=\"forwarded\"}"): forwarded += float(line.split()[-1])
    if line.startswith("checkout_forward_bundles_total"): bundles += float(line.split()[-1])
bundle = forwarded / bundles if bundles else 0
print(f"{s / c:.1f} {int(c)} {bundle:.1f}" if c else "0 0 0")'
}

for pooler in $POOLERS; do
  for n in $PROCESSES; do
    for scenario in $SCENARIOS; do
      psql -qc "DROP DATABASE IF EXISTS bench_procs WITH (FORCE)" postgres
      psql -qc "CREATE DATABASE bench_procs" postgres
      port=5432; [ "$pooler" = pgbouncer ] && port=6433
      start_servers "$n" "postgres://postgres@127.0.0.1:$port/bench_procs" "$pooler"
      extra=(--products "$PRODUCTS" --lines 3 --initial-stock 100000000)
      [ "$scenario" = hot ] && extra=(--initial-stock 100000000000)
      # Clients that send a product's checkouts to the owner its answers name.
      [ "$pooler" = advertised ] && extra+=(--follow-owner)
      json="$OUT/procs-$pooler-$n-$scenario.json"
      # shellcheck disable=SC2046 # pid lists are meant to split
      cpu_server=$(ticks "${PIDS[@]}") cpu_pg=$(ticks $(pg_pids))
      "$BIN/checkout-loadgen" --base-url "$BASES" --admin-token "$TOKEN" --scenario "$scenario" \
        -c "$CLIENTS" --duration "${SECONDS_EACH}s" --warmup 1s "${extra[@]}" --json "$json" \
        >"${json%.json}.txt" 2>/dev/null || true
      # shellcheck disable=SC2046
      cpu_server=$(($(ticks "${PIDS[@]}") - cpu_server)) cpu_pg=$(($(ticks $(pg_pids)) - cpu_pg))
      read -r batch checkouts bundle <<<"$(mean_batch "$BASES")"
      # Per checkout reserved (warm-up included, like the CPU time), in ms of CPU.
      echo "{\"batch\": $batch, \"checkouts\": $checkouts, \"server_ticks\": $cpu_server, \"pg_ticks\": $cpu_pg, \"hz\": $(getconf CLK_TCK)}" >"${json%.json}.cpu"
      echo "  $pooler, $n process(es), $scenario: $(grep -E "^orders" "${json%.json}.txt" | tr -s ' '), batch $batch, bundle $bundle"
      stop_servers
    done
  done
done
psql -qc "DROP DATABASE IF EXISTS bench_procs WITH (FORCE)" postgres

python3 - "$OUT" <<'PY' | tee "$OUT/processes.md"
import glob, json, os, sys
out = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(out, "procs-*.json"))):
    _, pooler, n, scenario = os.path.basename(path)[:-5].split("-")
    r = json.load(open(path))
    lat = r["latency_us"]
    ok = "holds" if r["invariant"]["holds"] else "FAILED: " + "; ".join(r["invariant"]["violations"])
    cpu = json.load(open(path[:-5] + ".cpu"))
    per = lambda t: 1000 * t / cpu["hz"] / cpu["checkouts"] if cpu["checkouts"] else 0
    rows.append((scenario, pooler, int(n), r["orders_per_sec"], lat["p50"] / 1000, lat["p99"] / 1000,
                 cpu["batch"], per(cpu["server_ticks"]), per(cpu["pg_ticks"]), ok))
print("| scenario | path | processes | orders/s | p50 ms | p99 ms | mean batch | server CPU ms/order | PostgreSQL CPU ms/order | invariant |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for s, p, n, ops, p50, p99, b, cs, cp, ok in sorted(rows, key=lambda r: (r[0] != "spread", r[1], r[2])):
    print(f"| {s} | {p} | {n} | {ops:,.0f} | {p50:.1f} | {p99:.1f} | {b} | {cs:.3f} | {cp:.3f} | {ok} |")
PY
