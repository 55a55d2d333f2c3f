# A throwaway PostgreSQL cluster for the test suite. Sourced by test.sh, not executed.
#
#   pg_cluster_start   initdb + start on 127.0.0.1 and a free port; sets PG_URL and PG_DIR
#   pg_cluster_stop    stops it and removes every file it made (safe to call twice)
#
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and
# lives in a folder owned by it; as any other user it simply belongs to that user. The
# cluster trusts local connections (-A trust) and listens only on loopback, with its socket
# in its own folder, so it never meets the system's PostgreSQL service. Autovacuum is off:
# the tests roll back thousands of inserts, and a vacuum that happened to run between two
# tests left a table "empty" in the planner's statistics (0 rows over 400 pages), so the
# next test's query was planned as a nested loop over every dose twice (minutes instead
# of a second), depending only on when the vacuum woke up.

PG_DIR=""
PG_URL=""

_pg_bin() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$bin" ] && [ -x "$bin/initdb" ] || return 1
    echo "$bin"
}

_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_pg_free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

pg_cluster_start() {
    local bin port attempt
    bin="$(_pg_bin)" || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; return 1; }
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/pingan-pg.XXXXXX")"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
    _pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    # The free port is found just before starting; another process could take it in
    # between, so try a few.
    for attempt in 1 2 3; do
        port="$(_pg_free_port)"
        if _pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
            -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c autovacuum=off" \
            start >/dev/null; then
            _pg_as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres pingan
            PG_URL="postgres://postgres@127.0.0.1:$port/pingan"
            return 0
        fi
        echo "PostgreSQL did not start on port $port (attempt $attempt)" >&2
    done
    cat "$PG_DIR/server.log" >&2
    return 1
}

pg_cluster_stop() {
    local bin
    [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
    bin="$(_pg_bin)" || true
    if [ -n "$bin" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        _pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
}
