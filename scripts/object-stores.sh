#!/usr/bin/env bash
# Installs the object-store servers that the tests of melding-blob start for themselves:
#
#   moto_server   an in-memory S3 (PyPI `moto[server]`), found on PATH
#   azurite-blob  the Azure Blob emulator (npm `azurite@3`), installed under <repo>/.tools
#
# Idempotent and quiet when everything is already there; progress and errors go to stderr.
# The tests find azurite through $MELDING_AZURITE, then <repo>/.tools/node_modules/.bin, then PATH.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/.tools

say() {
    printf 'object-stores.sh: %s\n' "$*" >&2
}

die() {
    say "$*"
    exit 1
}

if ! command -v moto_server >/dev/null 2>&1; then
    command -v python3 >/dev/null 2>&1 || die "python3 is missing; it is needed for moto_server"
    say "installing moto[server] (PyPI)"
    # A Debian-managed python refuses plain installs (PEP 668); then install beside its packages.
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]' >&2 ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
            'moto[server]' >&2 ||
        die "pip install 'moto[server]' failed"
    # pyenv installs console scripts behind shims that exist only after a rehash.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash >/dev/null 2>&1 || true
    fi
    command -v moto_server >/dev/null 2>&1 ||
        die "moto_server is still not on PATH after pip install (look in $(python3 -m site --user-base)/bin)"
fi

if [ -z "${MELDING_AZURITE:-}" ] && [ ! -x "$TOOLS/node_modules/.bin/azurite-blob" ] &&
    ! command -v azurite-blob >/dev/null 2>&1; then
    command -v npm >/dev/null 2>&1 || die "npm is missing; it is needed for azurite"
    say "installing azurite@3 (npm) into $TOOLS"
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --silent --no-save azurite@3 >&2 ||
        die "npm install azurite@3 failed"
    [ -x "$TOOLS/node_modules/.bin/azurite-blob" ] || die "azurite-blob missing after npm install"
fi
