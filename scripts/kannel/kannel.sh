#!/usr/bin/env bash
# Run Kannel (bearerbox + smsbox) and its fake handset on free loopback ports.
#
#   scripts/kannel/kannel.sh start DIR     config in DIR, gateway up, handset connected;
#                                          prints the PINGAN_* variables (also in DIR/env)
#   scripts/kannel/kannel.sh gateway DIR   the same without the handset
#   scripts/kannel/kannel.sh handset DIR   connect fakesmsc (messages logged to DIR/fakesmsc.log)
#   scripts/kannel/kannel.sh stop DIR      stop everything started in DIR
#
# Needs the Debian packages kannel and kannel-extras. Used by the Kannel end-to-end test
# and for trying the gateway by hand (docs/sms-gateway.md).
#
# Pitfalls this script follows: the fake SMSC port takes exactly one client, so nothing
# ever probes it (readiness is read from bearerbox's status page); fakesmsc logs to stderr
# and needs a message argument, with -m 0 so it generates no traffic of its own.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BEARERBOX=${BEARERBOX:-/usr/sbin/bearerbox}
SMSBOX=${SMSBOX:-/usr/sbin/smsbox}
FAKESMSC=${FAKESMSC:-/usr/lib/kannel/test/fakesmsc}

die() { echo "kannel.sh: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for CMD... : retry for ~10 s
wait_for() {
    for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

status_page() { curl -sf "http://127.0.0.1:$ADMIN_PORT/status.txt?password=$ADMIN_PASSWORD"; }

start_gateway() {
    local dir=$1
    [ -x "$BEARERBOX" ] || die "$BEARERBOX missing: apt-get install -y kannel kannel-extras"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    ADMIN_PORT=$(free_port); SMSBOX_PORT=$(free_port); SENDSMS_PORT=$(free_port); SMSC_PORT=$(free_port)
    ADMIN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(8))')
    local user=pingan password
    password=$(python3 -c 'import secrets; print(secrets.token_hex(8))')
    sed -e "s|@DIR@|$dir|g" -e "s|@ADMIN_PORT@|$ADMIN_PORT|" -e "s|@SMSBOX_PORT@|$SMSBOX_PORT|g" \
        -e "s|@SENDSMS_PORT@|$SENDSMS_PORT|" -e "s|@SMSC_PORT@|$SMSC_PORT|" \
        -e "s|@ADMIN_PASSWORD@|$ADMIN_PASSWORD|" -e "s|@USER@|$user|" -e "s|@PASSWORD@|$password|" \
        "$HERE/kannel.conf.template" > "$dir/kannel.conf"
    cat > "$dir/ports" <<VARS
ADMIN_PORT=$ADMIN_PORT
ADMIN_PASSWORD=$ADMIN_PASSWORD
SMSC_PORT=$SMSC_PORT
VARS
    cat > "$dir/env" <<VARS
PINGAN_SMS_BACKEND=kannel
PINGAN_KANNEL_URL=http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms
PINGAN_KANNEL_USER=$user
PINGAN_KANNEL_PASSWORD=$password
PINGAN_SMS_FROM=95555
VARS
    "$BEARERBOX" "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 &
    echo $! > "$dir/bearerbox.pid"
    wait_for status_page || die "bearerbox did not start (see $dir/bearerbox.out)"
    "$SMSBOX" "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 &
    echo $! > "$dir/smsbox.pid"
    wait_for curl -s "http://127.0.0.1:$SENDSMS_PORT/" || die "smsbox did not start (see $dir/smsbox.out)"
    wait_for sh -c "curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=$ADMIN_PASSWORD' | grep -q 'Box connections:' && curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=$ADMIN_PASSWORD' | grep -q 'smsbox:'" \
        || die "smsbox did not connect to bearerbox"
}

start_handset() {
    local dir
    dir=$(cd "$1" && pwd)
    # shellcheck disable=SC1091
    . "$dir/ports"
    "$FAKESMSC" -H 127.0.0.1 -r "$SMSC_PORT" -m 0 "1 2 text x" 2>>"$dir/fakesmsc.log" >/dev/null &
    echo $! > "$dir/fakesmsc.pid"
    wait_for sh -c "curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=$ADMIN_PASSWORD' | grep -E '^ *fake' | grep -q online" \
        || die "fakesmsc did not connect"
}

stop_all() {
    # All three are told at once (each takes ~2 s to shut down), then waited for.
    local dir=$1 name pid pids=()
    for name in fakesmsc smsbox bearerbox; do
        [ -f "$dir/$name.pid" ] || continue
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null && pids+=("$pid")
        rm -f "$dir/$name.pid"
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start_gateway "$2"; start_handset "$2"; cat "$2/env" ;;
    gateway) [ $# -eq 2 ] || die "usage: $0 gateway DIR"; start_gateway "$2"; cat "$2/env" ;;
    handset) [ $# -eq 2 ] || die "usage: $0 handset DIR"; start_handset "$2" ;;
    stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop_all "$2" ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
