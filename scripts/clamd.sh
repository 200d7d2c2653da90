#!/usr/bin/env bash
# Runs a throwaway ClamAV daemon for the tests of melding-scan (and anything else that scans).
#
#   eval "$(scripts/clamd.sh start)"   # install if needed, start (or reuse) clamd, export its addresses
#   scripts/clamd.sh env               # print the export lines of the running clamd
#   scripts/clamd.sh status            # exit 0 when it answers PING
#   scripts/clamd.sh stop              # stop it
#
# Offline there are no ClamAV signatures, and clamd refuses to start without a database, so the
# daemon gets a one-line database of its own: the MD5 of the EICAR test string, reported as
# `Local.EICAR.Test.UNOFFICIAL`. It listens on 127.0.0.1 on a free port and on a Unix socket,
# and keeps all of its state under $MELDING_CLAMD_DIR (default /tmp/melding-clamd).
#
# Only the `export ...` lines go to stdout, so the output can be eval'ed; progress goes to stderr.
set -euo pipefail

DIR=${MELDING_CLAMD_DIR:-/tmp/melding-clamd}
CONF=$DIR/clamd.conf
PIDFILE=$DIR/clamd.pid
PORTFILE=$DIR/port
SOCKET=$DIR/clamd.sock
# The EICAR anti-virus test file: harmless, and detected by every scanner on purpose.
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

say() {
    printf 'clamd.sh: %s\n' "$*" >&2
}

die() {
    say "$*"
    exit 1
}

find_clamd() {
    command -v clamd 2>/dev/null || { [ -x /usr/sbin/clamd ] && echo /usr/sbin/clamd; } || true
}

install_clamav() {
    [ "$(id -u)" -eq 0 ] || die "clamd is not installed and we are not root; install clamav-daemon and clamav"
    command -v apt-get >/dev/null 2>&1 || die "clamd is not installed and there is no apt-get"
    say "installing clamav-daemon and clamav (Debian packages)"
    # Keep the packages' own services (clamav-daemon, clamav-freshclam) from starting: they would
    # fail without signatures, or try to reach the signature mirror. A policy-rc.d that exits 101
    # tells invoke-rc.d and deb-systemd-invoke not to start anything; reuse one that is there.
    local own_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    local status=0
    {
        apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                clamav-daemon clamav
    } >&2 || status=$?
    if [ -n "$own_policy" ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    [ "$status" -eq 0 ] || die "apt-get failed (exit $status)"
    # Should a service have started anyway (no policy-rc.d support), stop it; ignore failures,
    # there may be no systemd at all.
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop clamav-daemon.service clamav-daemon.socket clamav-freshclam.service \
            >/dev/null 2>&1 || true
    fi
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "found no free port"
}

# Sends zPING to the TCP port and expects PONG.
answers_ping() {
    local port=$1
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "zPING\0" >&3
        IFS= read -r -d "" reply <&3 || true
        [ "$reply" = PONG ]
    ' _ "$port" 2>/dev/null
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # A stale pid file may name a pid reused by another program; never signal that one.
    [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = clamd ] || return 1
    echo "$pid"
}

print_env() {
    echo "export MELDING_TEST_CLAMD=tcp://127.0.0.1:$(cat "$PORTFILE")"
    echo "export MELDING_TEST_CLAMD_SOCKET=$SOCKET"
}

write_database() {
    mkdir -p "$DIR/db"
    printf '%s' "$EICAR" >"$DIR/eicar.com"
    local md5 size
    md5=$(md5sum "$DIR/eicar.com" | cut -d ' ' -f 1)
    size=$(wc -c <"$DIR/eicar.com")
    # .hdb: md5:size:name. clamd reports it as `Local.EICAR.Test.UNOFFICIAL`.
    echo "$md5:$size:Local.EICAR.Test" >"$DIR/db/local.hdb"
}

write_config() {
    local port=$1
    cat >"$CONF" <<EOF
# Written by scripts/clamd.sh; a test daemon with a one-signature database.
DatabaseDirectory $DIR/db
TCPSocket $port
TCPAddr 127.0.0.1
LocalSocket $SOCKET
LocalSocketMode 660
FixStaleSocket yes
Foreground yes
PidFile $PIDFILE
LogFile $DIR/clamd.log
LogTime yes
LogVerbose no
TemporaryDirectory $DIR/tmp
StreamMaxLength 100M
MaxThreads 8
ReadTimeout 30
SelfCheck 0
EOF
}

start() {
    if running_pid >/dev/null && [ -f "$PORTFILE" ] && answers_ping "$(cat "$PORTFILE")"; then
        say "reusing clamd (pid $(running_pid)) on port $(cat "$PORTFILE")"
        print_env
        return
    fi
    stop_quietly

    local clamd
    clamd=$(find_clamd)
    if [ -z "$clamd" ]; then
        install_clamav
        clamd=$(find_clamd)
        [ -n "$clamd" ] || die "clamd is still missing after the install"
    fi

    mkdir -p "$DIR/tmp"
    write_database
    local port
    port=$(free_port)
    write_config "$port"
    echo "$port" >"$PORTFILE"

    # stdin/stdout/stderr away from the caller: `$(clamd.sh start)` waits until its stdout closes.
    setsid "$clamd" --config-file="$CONF" </dev/null >"$DIR/clamd.out" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"

    for _ in $(seq 1 120); do
        if answers_ping "$port"; then
            say "clamd $("$clamd" --version 2>/dev/null | cut -d / -f 1) (pid $pid) on 127.0.0.1:$port and $SOCKET"
            print_env
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "clamd exited; its output:"
            cat "$DIR/clamd.out" "$DIR/clamd.log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.5
    done
    stop_quietly
    die "clamd did not answer PING within 60 s; see $DIR/clamd.log"
}

stop_quietly() {
    local pid
    if pid=$(running_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE" "$SOCKET"
}

case "${1:-}" in
    start) start ;;
    env)
        running_pid >/dev/null || die "clamd is not running; run: eval \"\$(scripts/clamd.sh start)\""
        print_env
        ;;
    status)
        if running_pid >/dev/null && [ -f "$PORTFILE" ] && answers_ping "$(cat "$PORTFILE")"; then
            say "running (pid $(running_pid)) on port $(cat "$PORTFILE")"
        else
            say "not running"
            exit 1
        fi
        ;;
    stop)
        stop_quietly
        say "stopped"
        ;;
    *)
        echo "usage: $0 start|env|status|stop" >&2
        exit 2
        ;;
esac
