#!/usr/bin/env bash
# The main job: install what unik needs, build the toolchain (and, on first use, the
# x86_64 sysroot), compile the hello fixture into a unikernel and boot it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install
cargo build --release --locked --bin unikcc --bin unik
mkdir -p target/demo
target/release/unikcc -O2 fixtures/c/hello.c -o target/demo/hello.img
echo "unik: built target/demo/hello.img ($(stat -c %s target/demo/hello.img) bytes); booting it:"
set +e
target/release/unik run target/demo/hello.img
status=$?
set -e
echo "unik: the program exited with status $status"
exit "$status"
