#!/usr/bin/env bash
# Bulk stock sync throughput: rows per second of POST /v1/stock/bulk with 1,000 rows (half
# absolute counts, half deltas, over 1,000 products), on SQLite and PostgreSQL, against the
# release server on a fresh database. REQUESTS (default 10) requests per backend, each timed
# from send to full answer by a Python client; prints each and the median.
# Needs `cargo build --release -p api` and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=127.0.0.1 PGUSER=postgres
PORT=18096; TOKEN=bench; DB=bench_bulk; BIN=target/release
DIR=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$DIR"; true' EXIT
run() { # backend database-url
  RUST_LOG=warn $BIN/checkout-api --database-url "$2" --bind 127.0.0.1:$PORT --admin-token $TOKEN --log-format json >/tmp/bulk-server.log 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
  python3 - "$1" "http://127.0.0.1:$PORT" "$TOKEN" "${REQUESTS:-10}" <<'PY'
import json, statistics, sys, time, urllib.request
backend, base, token, requests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as reply:
        return json.load(reply)
ids = [post("/v1/products", {"sku": f"BULK-{n:04}", "name": f"Bulk {n}",
        "price": {"amount": 100, "currency": "EUR"}, "initial_stock": 100})["id"] for n in range(1000)]
rates = []
for r in range(requests):
    rows = [{"product_id": p, "on_hand": 100 + r} if n % 2 == 0 else {"product_id": p, "delta": 1}
            for n, p in enumerate(ids)]
    started = time.perf_counter()
    answer = post("/v1/stock/bulk", {"rows": rows, "reason": "bench"})
    took = time.perf_counter() - started
    assert all(x["status"] == 200 for x in answer["results"]), answer["results"][:3]
    rates.append(1000 / took)
    print(f"{backend} request {r + 1}: 1,000 rows in {took * 1000:.0f} ms = {1000 / took:,.0f} rows/s")
print(f"{backend} median: {statistics.median(rates):,.0f} rows/s over {requests} requests")
PY
  kill $server; wait $server 2>/dev/null || true; server=
}
run sqlite "sqlite://$DIR/bulk.db?mode=rwc"
psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres; psql -qc "CREATE DATABASE $DB" postgres
run postgres "postgres://postgres@127.0.0.1:5432/$DB"
psql -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres
