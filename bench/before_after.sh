#!/usr/bin/env bash
# Before/after A/B of two builds of the server in one session: PostgreSQL, spread (1,000
# products, 3-line carts) and hot, 64 clients, 15 s each, two alternating rounds, a fresh
# database per run. Put the two builds' checkout-api in /tmp/old and /tmp/new (and the
# loadgen in /tmp/new), e.g. with a `git worktree` of the old commit built in release.
# WITH_KEY=1 adds a third arm: the new build with an API client's key on every checkout and
# payment (`--api-key … --key-on-checkout`), the price of the key's lookup. THIRD=<dir> adds a
# third build's checkout-api as a third arm (labelled THIRD_LABEL). WITH_NATS=<url> adds the new
# build with the event relay publishing to that NATS server (stream BENCH, subjects bench.>).
# WITH_WEBHOOK=1 adds the new build with one webhook subscription to `stock.*` and `order.*`,
# delivered to a local receiver (bench/webhook_receiver.py, answers 204), and reports how many
# deliveries were made during the run and how far behind the subscription was at its end.
set -euo pipefail
export PGHOST=127.0.0.1 PGUSER=postgres
PORT=18099; TOKEN=bench
run() { # bin_dir label scenario [keyed]
  psql -qc "DROP DATABASE IF EXISTS bench_ab WITH (FORCE)" postgres; psql -qc "CREATE DATABASE bench_ab" postgres
  local relay=()
  [ "${5:-}" = nats ] && relay=(--nats-url "$WITH_NATS" --nats-stream BENCH --nats-subject-prefix bench)
  [ "${5:-}" = webhook ] && relay=(--webhooks-allow-private)
  RUST_LOG=warn "$1/checkout-api" "${relay[@]}" --database-url postgres://postgres@127.0.0.1:5432/bench_ab --bind 127.0.0.1:$PORT --admin-token $TOKEN --log-format json >/tmp/ab-server.log 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
  local extra=(--products 1000 --lines 3 --initial-stock 100000000)
  [ "$3" = hot ] && extra=(--initial-stock 100000000000)
  if [ "${5:-}" = webhook ]; then
    curl -sf -X POST http://127.0.0.1:$PORT/v1/webhooks -H "authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' \
      -d '{"url":"http://127.0.0.1:18098/hook","types":["stock.*","order.*"]}' >/dev/null
  fi
  if [ -n "${4:-}" ]; then
    local key
    key=$(curl -sf -X POST http://127.0.0.1:$PORT/v1/clients -H "authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' -d '{"name":"ab","scopes":["orders:pay","orders:cancel"]}' |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
    extra+=(--api-key "$key" --key-on-checkout)
  fi
  /tmp/new/checkout-loadgen --base-url http://127.0.0.1:$PORT --admin-token $TOKEN --scenario "$3" -c 64 --duration 15s --warmup 1s "${extra[@]}" >/tmp/ab-$2-$3.txt 2>/dev/null
  echo "$2 $3: $(grep -E '^orders|latency|invariant' /tmp/ab-$2-$3.txt | tr -s ' ' | paste -sd' ')"
  if [ "${5:-}" = webhook ]; then
    echo "  webhook: $(curl -s http://127.0.0.1:$PORT/metrics | grep -E '^webhook_(deliveries_total|lag_seconds)' | sed -E 's/\{[^}]*outcome="([a-z]+)"\}/[\1]/; s/\{[^}]*\}//' | paste -sd' ')"
  fi
  kill $pid; wait $pid 2>/dev/null || true
}
if [ -n "${WITH_WEBHOOK:-}" ]; then
  python3 "$(dirname "$0")/webhook_receiver.py" 18098 &
  receiver=$!
  trap 'kill $receiver 2>/dev/null || true' EXIT
fi
for round in $(seq "${ROUNDS:-2}"); do
  for scenario in spread hot; do
    run /tmp/old before "$scenario"
    run /tmp/new after "$scenario"
    if [ -n "${WITH_KEY:-}" ]; then run /tmp/new after+key "$scenario" keyed; fi
    if [ -n "${THIRD:-}" ]; then run "$THIRD" "${THIRD_LABEL:-third}" "$scenario"; fi
    if [ -n "${WITH_NATS:-}" ]; then run /tmp/new after+nats "$scenario" "" nats; fi
    if [ -n "${WITH_WEBHOOK:-}" ]; then run /tmp/new after+webhook "$scenario" "" webhook; fi
  done
done
psql -qc "DROP DATABASE IF EXISTS bench_ab WITH (FORCE)" postgres
