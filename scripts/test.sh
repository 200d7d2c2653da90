#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, clippy, then the tests.
# This is the one command to run before pushing; CI runs it too (via .ci/run).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

section "Rust toolchain"
# rust-toolchain.toml pins the version and the components; install them only when missing.
if command -v rustup >/dev/null 2>&1; then
    channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
    : "${channel:?could not read the channel from rust-toolchain.toml}"
    toolchains=$(rustup toolchain list)
    if ! grep -q "^${channel}[-. ]" <<<"${toolchains}"; then
        echo "installing Rust ${channel} (from rust-toolchain.toml)"
        rustup toolchain install "${channel}" --profile minimal --component rustfmt --component clippy
    fi
    installed=$(rustup component list --installed --toolchain "${channel}")
    for component in rustfmt clippy; do
        if ! grep -q "^${component}" <<<"${installed}"; then
            rustup component add --toolchain "${channel}" "${component}"
        fi
    done
else
    echo "rustup not found; using the cargo on PATH" >&2
fi
cargo --version
rustc --version

section "Format (cargo fmt --check)"
cargo fmt --all -- --check

section "Lint (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

section "PostgreSQL for the tests"
# The suite runs on SQLite and again on PostgreSQL. Use the server at 127.0.0.1:5432 (user
# postgres, trust) when it answers; otherwise start the local cluster, and failing that install
# Debian's postgresql and run a throwaway server on a free port for this run only.
pg_answers() {
    psql "$1" -Atc 'select 1' >/dev/null 2>&1
}
ensure_postgres() {
    local url=${MELDING_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    if command -v psql >/dev/null 2>&1 && pg_answers "$url"; then
        export MELDING_TEST_POSTGRES_URL=$url
        return
    fi
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
        done
        for _ in $(seq 1 20); do
            if pg_answers "$url"; then
                export MELDING_TEST_POSTGRES_URL=$url
                return
            fi
            sleep 0.5
        done
    fi
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "installing PostgreSQL (Debian package postgresql)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PG_TMP=$(mktemp -d /tmp/melding-pg.XXXXXX)
    chown postgres "$PG_TMP"
    su postgres -c "$bin/initdb -D $PG_TMP/data -A trust -U postgres" >/dev/null
    su postgres -c "$bin/pg_ctl -D $PG_TMP/data -l $PG_TMP/log -w start -o '-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off'" >/dev/null
    # shellcheck disable=SC2064 # expand now: the locals are gone when the trap runs
    trap "su postgres -c '$bin/pg_ctl -D $PG_TMP/data -m fast stop' >/dev/null 2>&1; rm -rf '$PG_TMP'" EXIT
    export MELDING_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres
}
ensure_postgres
echo "PostgreSQL: ${MELDING_TEST_POSTGRES_URL}"

section "S3 and Azure emulators for the attachment storage tests (moto, azurite)"
scripts/object-stores.sh

section "clamd with a local EICAR signature for the malware-scanning tests"
eval "$(scripts/clamd.sh start)"
echo "clamd: ${MELDING_TEST_CLAMD}"

section "Tests on SQLite (cargo test)"
cargo test --workspace --all-targets

section "The API suite again on PostgreSQL"
MELDING_TEST_BACKEND=postgres cargo test -p melding --test api

scripts/clamd.sh stop || true

section "All checks passed"
