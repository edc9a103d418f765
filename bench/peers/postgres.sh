#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster with PostGIS on 127.0.0.1 for
# `confide bench search --peer postgres`, prints its URL, and removes it
# when told to stop.
#
#   url=$(bench/peers/postgres.sh start /tmp/confide-pg 55432)
#   confide bench search --peer postgres --database-url "$url" ...
#   bench/peers/postgres.sh stop /tmp/confide-pg
#
# Needs Debian's postgresql-15 and postgresql-15-postgis-3. As root it runs
# the server as the "postgres" user.
set -euo pipefail
cmd=${1:?start, restart or stop}
dir=${2:?directory for the cluster}
port=${3:-55432}
bin=/usr/lib/postgresql/15/bin
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c shared_buffers=1GB -c work_mem=64MB -c max_parallel_workers_per_gather=0 -c jit=off" >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres confide_bench
  as_pg "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d confide_bench -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/confide_bench?sslmode=disable"
  ;;
createdb)
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "${4:?database name}"
  ;;
restart)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w restart >/dev/null
  ;;
stop)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|restart|stop DIR [PORT] | createdb DIR PORT NAME" >&2
  exit 2
  ;;
esac
