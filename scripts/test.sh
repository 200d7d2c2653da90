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

section "Tests (cargo test)"
cargo test --workspace --all-targets

section "All checks passed"
