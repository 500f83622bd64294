#!/usr/bin/env bash
# Makes sure a NATS server with JetStream answers on 127.0.0.1:$NATS_PORT (4222), for the
# end-to-end test of the event relay (`cargo xtask test` runs this and exports TEST_NATS_URL).
# The machines this project runs on start one; when none answers, this installs Debian's
# nats-server (as root) and starts it with JetStream, its storage under $NATS_DIR.
# Idempotent: exits 0 at once when the port answers.
set -euo pipefail
port=${NATS_PORT:-4222}
dir=${NATS_DIR:-/tmp/checkout-nats}
PATH=$PATH:/usr/sbin

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
answers && exit 0

if ! command -v nats-server >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "nats-server is not installed (Debian: apt-get install nats-server)" >&2
    exit 1
  fi
  echo "installing Debian's nats-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q nats-server >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q nats-server >/dev/null; }
fi

mkdir -p "$dir"
setsid nats-server -js -a 127.0.0.1 -p "$port" -sd "$dir/jetstream" -l "$dir/nats.log" \
  </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 50); do
  answers && exit 0
  sleep 0.2
done
echo "nats-server did not answer on $port; its log:" >&2
cat "$dir/nats.log" >&2 || true
exit 1
