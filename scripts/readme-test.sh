#!/usr/bin/env bash
# Runs the README's walk-throughs as a reader would paste them, against `melding serve --demo` on
# a fresh data directory, and checks the answers the README shows.
#
#   scripts/readme-test.sh            # uses target/debug/melding, building it if it is missing
#
# What runs is marked in README.md with HTML comments, which do not show when it is rendered:
#   <!-- readme-test -->           the next ```sh block runs; blocks run in order in one shell,
#                                  so variables carry over as in a reader's terminal
#   <!-- readme-test: output -->   the next block is what the previous run block prints
#   <!-- readme-test: import -->   the next ```json block is imported with `registry import`
# An output matches when, with all white space removed and every UUID read as the same id, its
# pieces between `…` appear in the actual output in order (the first at the start, the last at
# the end unless the README puts `…` there).
#
# The blocks run in a scratch directory (so the files they make do not land in the checkout),
# with the server's address in place of 127.0.0.1:8080, MELDING_DATA_DIR set to the server's
# data directory, and `cargo run -q -p melding --` calling the debug binary that the test phase
# built: `cargo run -p melding` resolves features for one package and would compile the
# workspace a second time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${MELDING_BIN:-$ROOT/target/debug/melding}

say() {
    printf 'readme-test.sh: %s\n' "$*" >&2
}

die() {
    say "$*"
    exit 1
}

# The tools the README's commands use, with the Debian packages that hold them.
missing=()
for tool in curl:curl jq:jq unzip:unzip cmp:diffutils python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${missing[*]} (Debian packages)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    else
        say "SKIPPED: the README walk-through needs ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) and run again"
        exit 3
    fi
fi

if [ ! -x "$BIN" ]; then
    say "building the debug binary (the same build as the test phase)"
    (cd "$ROOT" && cargo test --workspace --all-targets --no-run >&2)
fi
[ -x "$BIN" ] || die "$BIN is missing after the build"

TMP=$(mktemp -d /tmp/melding-readme.XXXXXX)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATA=$TMP/data
mkdir -p "$TMP/work" "$TMP/out"

"$BIN" serve --demo --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
    </dev/null >"$TMP/demo.out" 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || {
        cat "$TMP/server.log" >&2
        die "melding serve --demo exited"
    }
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || die "the demo server did not answer within 30 s"

# Extract the marked blocks into one script and a list of expected outputs.
python3 - "$ROOT/README.md" "$TMP" "$PORT" <<'PY'
import json, re, sys
readme, tmp, port = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(readme, encoding="utf-8").read().split("\n")
steps, i, pending = [], 0, None
while i < len(lines):
    m = re.fullmatch(r"<!-- readme-test(?:: (output|import))? -->", lines[i].strip())
    if m:
        pending = (m.group(1) or "run", i + 1)
    elif lines[i].startswith("```") and pending:
        end = lines.index("```", i + 1)
        kind, at = pending
        steps.append({"kind": kind, "line": at, "text": "\n".join(lines[i + 1:end])})
        pending, i = None, end
    i += 1
script = ["set -euo pipefail"]
checks, runs = [], 0
for n, step in enumerate(steps):
    if step["kind"] == "run":
        runs += 1
        body = step["text"].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        script.append(f"echo 'README line {step['line']}' >&2")
        script.append(f"{{\n{body}\n}} >{tmp}/out/{n}")
    elif step["kind"] == "import":
        path = f"{tmp}/work/import-{n}.json"
        open(path, "w", encoding="utf-8").write(step["text"] + "\n")
        script.append(f"echo 'README line {step['line']}: registry import' >&2")
        script.append(f"cargo run -q -p melding -- registry import {path} >{tmp}/out/{n}")
    else:
        previous = max(k for k in range(n) if steps[k]["kind"] == "run")
        checks.append({"line": step["line"], "out": f"{tmp}/out/{previous}", "expected": step["text"]})
open(f"{tmp}/walk.sh", "w", encoding="utf-8").write("\n".join(script) + "\n")
json.dump(checks, open(f"{tmp}/checks.json", "w", encoding="utf-8"))
print(f"readme-test.sh: {runs} blocks to run, {len(checks)} outputs to check", file=sys.stderr)
PY

# A reader's cargo, for the one form the README uses.
cat >"$TMP/prelude.sh" <<EOF
cargo() {
    if [ "\${1:-} \${2:-} \${3:-} \${4:-} \${5:-}" = "run -q -p melding --" ]; then
        shift 5
        "$BIN" "\$@"
    else
        echo "readme-test.sh: the README runs an unexpected cargo command: cargo \$*" >&2
        return 1
    fi
}
EOF

cd "$TMP/work"
if ! MELDING_DATA_DIR=$DATA bash -c "source '$TMP/prelude.sh'; source '$TMP/walk.sh'" 2>"$TMP/walk.err"; then
    cat "$TMP/walk.err" >&2
    say "the server's log:"
    tail -n 30 "$TMP/server.log" >&2
    die "FAILED: a README command failed (the last 'README line' above is the block)"
fi

python3 - "$TMP/checks.json" <<'PY'
import json, re, sys
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
def norm(text):
    return UUID.sub("<id>", re.sub(r"\s+", "", text))
failed = 0
for check in json.load(open(sys.argv[1], encoding="utf-8")):
    actual = norm(open(check["out"], encoding="utf-8").read())
    pieces = re.split(r"…|\.\.\.", norm(check["expected"]))
    pos, ok = 0, True
    for k, piece in enumerate(pieces):
        if not piece:
            continue
        found = actual.find(piece, pos)
        if found < 0 or (k == 0 and found != 0):
            ok = False
            break
        pos = found + len(piece)
    if ok and pieces[-1] and not actual.endswith(pieces[-1]):
        ok = False
    if not ok:
        failed += 1
        print(f"readme-test.sh: README line {check['line']}: the output differs from the README\n"
              f"  README:  {check['expected']}\n  actual:  {open(check['out'], encoding='utf-8').read().strip()}",
              file=sys.stderr)
if failed:
    sys.exit(1)
PY

say "the README walk-throughs work as written"
