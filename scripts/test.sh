#!/usr/bin/env bash
# The test command: installs everything the tests need on a fresh Debian machine (system
# packages, the reference tools' virtualenv), then runs the whole suite. Run as root (apt-get).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/setup-system.sh
scripts/setup-venv.sh

# Tests that need real tools fail, rather than skip, when a tool is missing.
export RUNTIME_KIT_REQUIRE_TOOLS=1

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo build --locked --no-default-features --lib
# The library alone must not pull the CLI, async runtime or HTTP stack.
if cargo tree --locked --no-default-features -e normal | grep -Ei '\b(clap|tokio|hyper|reqwest|rustls|oci-client)\b'; then
  echo "error: the library without default features depends on the crates above" >&2
  exit 1
fi
cargo test --locked --all-targets
cargo test --locked --doc

# A few seconds of each fuzz target from its committed seeds (docs/fuzzing.md).
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz-smoke.sh
