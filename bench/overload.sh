#!/usr/bin/env bash
# Overload: what the server answers when offered four times the checkouts it can take.
#
# PostgreSQL, one hot product, the server's default settings. For each build given (default:
# this checkout's release build), on a fresh database each time:
#   1. capacity: checkout-loadgen, 64 closed-loop clients for 10 s -> orders/s (R);
#   2. overload: oha, an open-loop offer of 4 x R requests/s for 15 s over up to 2,000
#      connections, with latency correction (a request delayed by a full client counts from
#      when it was due, not when it went out), and the answers it got.
# Prints, per build: R, then oha's status counts and latency percentiles.
#
# Needs: a release build (`cargo build --release -p api -p loadgen`), oha
# (`cargo install oha --locked`), psql and PostgreSQL on 127.0.0.1:5432 (user postgres, trust).
# Usage: bash bench/overload.sh [build-dir …]   (a build dir holds checkout-api)
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=127.0.0.1 PGUSER=postgres
PORT=18098; TOKEN=bench; DB=bench_overload
LOADGEN=${LOADGEN:-target/release/checkout-loadgen}
OHA=${OHA:-$(command -v oha || echo /work/.tools/bin/oha)}
builds=("$@"); [ ${#builds[@]} -gt 0 ] || builds=(target/release)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; true' EXIT

serve() { # build_dir -> pid in $server
  psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres
  psql -qc "CREATE DATABASE $DB" postgres
  RUST_LOG=warn "$1/checkout-api" --database-url "postgres://postgres@127.0.0.1:5432/$DB" \
    --request-timeout "${TIMEOUT:-30}" \
    --bind 127.0.0.1:$PORT --admin-token $TOKEN --log-format json >/tmp/overload-server.log 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; exit 1
}

for build in "${builds[@]}"; do
  serve "$build"
  rate=$("$LOADGEN" --base-url http://127.0.0.1:$PORT --admin-token $TOKEN --scenario hot -c 64 \
    --duration 10s --warmup 1s --initial-stock 100000000000 2>/dev/null |
    awk '/^orders \(201\)/ {print int($4)}')
  kill $server; wait $server 2>/dev/null || true

  serve "$build"
  product=$(curl -sf -X POST http://127.0.0.1:$PORT/v1/products -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' \
    -d '{"sku":"OVERLOAD-1","name":"Hot","price":{"amount":1000,"currency":"IDR"},"initial_stock":100000000000}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  offer=$((rate * 4))
  echo "== $build: capacity $rate orders/s at 64 clients; offering $offer requests/s for 15 s"
  "$OHA" --no-tui -z 15s --wait-ongoing-requests-after-deadline -q "$offer" -c "${CONNECTIONS:-4000}" \
    --stats-success-breakdown --output-format json \
    -m POST -H 'content-type: application/json' \
    -d "{\"items\":[{\"product_id\":\"$product\",\"quantity\":1}]}" \
    "http://127.0.0.1:$PORT/v1/checkout" >/tmp/overload-oha.json
  python3 - <<'PY'
import json
d = json.load(open("/tmp/overload-oha.json"))
codes = d["statusCodeDistribution"]; total = sum(codes.values())
ms = lambda p: {k: round(v * 1000, 1) for k, v in p.items() if k in ("p50", "p90", "p99") and v is not None}
print("answers", dict(sorted(codes.items())), "of", total,
      "| 503 share %.1f%%" % (100 * codes.get("503", 0) / max(total, 1)),
      "| 201/s %.0f" % (codes.get("201", 0) / 15), "| errors", d["errorDistribution"])
print("latency ms, all", ms(d["latencyPercentiles"]), "| 201", ms(d["latencyPercentilesSuccessful"]),
      "| others", ms(d["latencyPercentilesNotSuccessful"]))
PY
  curl -sf "http://127.0.0.1:$PORT/v1/products/$product/stock" | python3 -c \
    'import json,sys; s=json.load(sys.stdin); print("reserved", s["reserved"], "version", s["version"])'
  kill $server; wait $server 2>/dev/null || true
done
psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres
