#!/usr/bin/env bash
# The web inbox's end-to-end tests in a real browser (issue 17): headless Chromium (Debian's
# `chromium`, driven by playwright-core) against `melding serve --demo`, logging in through a
# real OpenID provider (node-oidc-provider, scripts/oidc-provider/), with axe-core on every page
# in every language. The tests are in scripts/e2e/ (Node's built-in test runner).
#
#   scripts/e2e.sh          # uses target/debug/melding (or MELDING_BIN), building it if missing;
#                           # after changing the inbox, cargo build -p melding first
#   scripts/e2e.sh --test-name-pattern=axe      # arguments go to `node --test`
#
# The script picks two free ports, starts the provider and Melding (a fresh data directory and a
# config file with [web.oidc], both in a temporary directory), imports the tests' registry
# fixture, runs the suite, and stops both whatever happens. Screenshots of the inbox and of a
# letter, at phone and desktop widths, land in target/e2e-screenshots/.
#
# Needs Node.js 20+, npm, curl and Chromium (/usr/bin/chromium, or MELDING_CHROMIUM): exits 3,
# saying what to install, when one is missing (scripts/test.sh reports that as a skip). Any failing test makes it exit non-zero.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${MELDING_BIN:-$ROOT/target/debug/melding}
CHROMIUM=${MELDING_CHROMIUM:-/usr/bin/chromium}

say() {
    printf 'e2e.sh: %s\n' "$*" >&2
}

die() {
    say "$*"
    exit 1
}

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -x "$CHROMIUM" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    say "SKIPPED: the browser tests need ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) and run again"
    exit 3
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    say "SKIPPED: the browser tests need Node.js 20 or later (playwright-core), not $(node --version)"
    exit 3
fi

# npm ci only when the lock file is newer than the installed tree: reinstalling under a running
# test (the Rust login tests use the provider's packages too) would pull them from under it.
install() {
    local dir=$1
    if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "npm ci in ${dir#"$ROOT"/}"
        # playwright-core never downloads a browser; the variable says so to any package that would.
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
    fi
}
install "$ROOT/scripts/e2e"
install "$ROOT/scripts/oidc-provider"

if [ ! -x "$BIN" ]; then
    # The same build as the test phase of scripts/test.sh, so that one build serves both.
    say "building the debug binary (cargo test --workspace --all-targets --no-run)"
    (cd "$ROOT" && cargo test --workspace --all-targets --no-run >&2)
fi
[ -x "$BIN" ] || die "$BIN is missing after the build"
# The pages, their texts and the stylesheet are compiled into the binary: say so when it is older
# than the inbox's sources, rather than test what was built before.
if [ -z "${MELDING_BIN:-}" ] && [ -n "$(find "$ROOT/crates" -newer "$BIN" \( -name '*.rs' -o -name '*.html' -o -name '*.css' \) -print -quit)" ]; then
    say "WARNING: $BIN is older than the sources; run cargo build -p melding to test the current pages"
fi

TMP=$(mktemp -d /tmp/melding-e2e.XXXXXX)
PROVIDER_PID=
SERVER_PID=
stop() {
    local pid=$1
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    stop "$SERVER_PID"
    stop "$PROVIDER_PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free ports at once, so they differ.
read -r PORT PROVIDER_PORT < <(node -e '
const net = require("node:net");
const a = net.createServer().listen(0, "127.0.0.1", () => {
  const b = net.createServer().listen(0, "127.0.0.1", () => {
    console.log(a.address().port, b.address().port);
    a.close(); b.close();
  });
});')
BASE=http://127.0.0.1:$PORT
DATA=$TMP/data

# The provider first: Melding's config names its issuer, and the provider needs Melding's address
# for its redirect URIs.
node "$ROOT/scripts/oidc-provider/provider.mjs" "$PROVIDER_PORT" "$BASE" \
    </dev/null >"$TMP/provider.out" 2>"$TMP/provider.log" &
PROVIDER_PID=$!
ISSUER=
for _ in $(seq 1 100); do
    ISSUER=$(sed -n 's/^listening //p' "$TMP/provider.out")
    [ -n "$ISSUER" ] && break
    kill -0 "$PROVIDER_PID" 2>/dev/null || {
        cat "$TMP/provider.log" >&2
        die "the OpenID provider exited"
    }
    sleep 0.1
done
[ -n "$ISSUER" ] || die "the OpenID provider did not start within 10 s"

printf 'melding-inbox-test-secret' >"$TMP/oidc-secret"
cat >"$TMP/melding.toml" <<EOF
public_url = "$BASE"

[web.oidc]
issuer = "$ISSUER"
client_id = "melding-inbox"
client_secret_file = "$TMP/oidc-secret"
acr_values = "idporten-loa-substantial"
scopes = ["profile"]
EOF

"$BIN" serve --demo --config "$TMP/melding.toml" --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
    </dev/null >"$TMP/demo.out" 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || {
        cat "$TMP/server.log" >&2
        die "melding serve --demo exited"
    }
    sleep 0.1
done
curl -sf "$BASE/healthz" >/dev/null || die "melding serve --demo did not answer within 30 s"

# The delegate of the access test, who must be in the registry, and a confidential resource.
MELDING_DATA_DIR=$DATA "$BIN" registry import "$ROOT/scripts/e2e/registry.json" >&2
SENDER_TOKEN=$(MELDING_DATA_DIR=$DATA "$BIN" token --org 991825827 \
    --scope "altinn:correspondence.write altinn:serviceowner")

mkdir -p "$ROOT/target/e2e-screenshots"
say "Melding at $BASE, the OpenID provider at $ISSUER"
status=0
(
    cd "$ROOT/scripts/e2e"
    MELDING_E2E_BASE=$BASE \
        MELDING_E2E_ISSUER=$ISSUER \
        MELDING_E2E_SENDER_TOKEN=$SENDER_TOKEN \
        MELDING_E2E_CHROMIUM=$CHROMIUM \
        MELDING_E2E_SCREENSHOTS=$ROOT/target/e2e-screenshots \
        node --test --test-reporter=spec "$@" inbox.test.mjs
) || status=$?
if [ "$status" -ne 0 ]; then
    say "the server's log (last 40 lines):"
    tail -n 40 "$TMP/server.log" >&2
    say "the provider's log (last 20 lines):"
    tail -n 20 "$TMP/provider.log" >&2
    die "FAILED: the browser tests (see above)"
fi
say "screenshots in target/e2e-screenshots/"
