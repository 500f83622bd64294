#!/usr/bin/env bash
# Starts PgBouncer in transaction-pooling mode on 127.0.0.1:$PGBOUNCER_PORT (6433) in front of
# the local PostgreSQL (127.0.0.1:5432, trust), for the end-to-end tests marked `pooled:`
# (`cargo xtask test` runs this and exports TEST_PGBOUNCER_URL). Installs Debian's package when
# it is missing and this runs as root. Idempotent: exits 0 at once when the port answers.
# Debian 12's PgBouncer is 1.18, without `max_prepared_statements` (1.21): the server's statement
# cache must be off behind it (docs/scaling.md).
set -euo pipefail
port=${PGBOUNCER_PORT:-6433}
dir=${PGBOUNCER_DIR:-/tmp/checkout-pgbouncer}
PATH=$PATH:/usr/sbin

answers() { pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; }
answers && exit 0

if ! command -v pgbouncer >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "pgbouncer is not installed (Debian: apt-get install pgbouncer)" >&2
    exit 1
  fi
  echo "installing Debian's pgbouncer"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q pgbouncer >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q pgbouncer >/dev/null; }
fi

mkdir -p "$dir"
# sqlx sends extra_float_digits at start-up, which PgBouncer 1.18 does not pass on; every other
# parameter it sends PgBouncer tracks. lock_timeout and statement_timeout are session settings
# the server sets after connecting; behind a pooler set them on the role as well (scaling.md).
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
echo '"postgres" ""' >"$dir/userlist.txt"
# PgBouncer refuses to run as root.
as_user=()
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  as_user=(-u postgres)
fi
pgbouncer -d "${as_user[@]}" "$dir/pgbouncer.ini"
for _ in $(seq 100); do
  answers && exit 0
  sleep 0.1
done
echo "PgBouncer did not answer on 127.0.0.1:$port; see $dir/pgbouncer.log" >&2
exit 1
