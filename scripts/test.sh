#!/usr/bin/env bash
# The test suite: install what unik needs, check formatting and lints, run the host
# unit tests, the runtime's host unit tests and the QEMU boot tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install

echo "== formatting and lints"
cargo fmt --all --check
(cd runtime && cargo fmt --all --check)
cargo clippy --locked --workspace --all-targets -- -D warnings
(cd runtime && cargo clippy --locked --release --target x86_64-unknown-linux-gnu -p unik-runtime -- -D warnings)

echo "== runtime unit tests (host)"
(cd runtime && cargo test --locked -p unik-libc -p unik-kernel)

echo "== toolchain unit tests and boot tests"
cargo test --locked --workspace
