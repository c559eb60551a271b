#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's tests and benchmarks.
#
#   tools/postgres.sh start DIR   initdb a cluster in DIR (created), start it on a unix
#                                 socket in DIR, print its SQLAlchemy URL on stdout
#   tools/postgres.sh stop DIR    stop it (the caller removes DIR)
#
# initdb and pg_ctl refuse to run as root: as root, they run as the `postgres` user
# (which owns DIR); as anyone else, as that user. The server listens on no TCP port.
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "tools/postgres.sh: no PostgreSQL server found under /usr/lib/postgresql" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

action="${1:?usage: tools/postgres.sh start|stop DIR}"
dir="${2:?usage: tools/postgres.sh start|stop DIR}"

case "$action" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" --pgdata="$dir/data" --auth=trust --username=postgres \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # Throwaway: no fsync. Enough connections for the multi-process tests.
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
        -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=100" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql+psycopg://postgres@/postgres?host=$dir"
    ;;
stop)
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: tools/postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
