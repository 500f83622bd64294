#!/usr/bin/env bash
# A PostgreSQL primary on 127.0.0.1:$REPLICA_PRIMARY_PORT (5434) and a streaming replica of it
# made by pg_basebackup on 127.0.0.1:$REPLICA_PORT (5435), for the tests of DATABASE_READ_URL
# (`cargo xtask test` runs this and exports TEST_REPLICA_PRIMARY_URL and TEST_REPLICA_URL).
# A pair of its own, in $REPLICA_DIR, so the machine's PostgreSQL and its pg_hba.conf stay as
# they are. Idempotent: exits 0 at once when both answer. Needs PostgreSQL's server binaries
# (Debian: /usr/lib/postgresql/<version>/bin).
set -euo pipefail
primary_port=${REPLICA_PRIMARY_PORT:-5434}
replica_port=${REPLICA_PORT:-5435}
dir=${REPLICA_DIR:-/tmp/checkout-replica}

answers() { pg_isready -q -h 127.0.0.1 -p "$1" -U postgres -d postgres; }
if answers "$primary_port" && answers "$replica_port"; then
  # A test pauses replay to show where reads come from; one that failed midway left it so.
  psql -qtAc "SELECT pg_wal_replay_resume()" -h 127.0.0.1 -p "$replica_port" -U postgres postgres >/dev/null
  exit 0
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are not installed" >&2
  exit 1
fi
# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# Anything left from an earlier run is stopped and thrown away: the pair is disposable.
for node in replica primary; do
  [ -f "$dir/$node/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/$node" -m immediate stop >/dev/null 2>&1 || true
done
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"

as_pg "$bin/initdb" -D "$dir/primary" -U postgres --auth=trust >/dev/null
cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
fsync = off
CONF
# Trust on loopback, replication connections included (initdb's default has them for local
# sockets only).
echo "host replication all 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
echo "host all all 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
as_pg "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null

# -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/replica" -R -X stream
sed -i "s/^port = .*/port = $replica_port/" "$dir/replica/postgresql.conf"
as_pg "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w start >/dev/null

for _ in $(seq 100); do
  if answers "$replica_port" &&
    [ "$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -tAc 'SELECT pg_is_in_recovery()' postgres)" = t ]; then
    exit 0
  fi
  sleep 0.1
done
echo "the replica did not come up; see $dir/replica.log" >&2
exit 1
