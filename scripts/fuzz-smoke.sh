#!/usr/bin/env bash
# Fuzz smoke run: builds the fuzz targets (fuzz/, docs/fuzzing.md) and runs each for a few
# seconds from its committed seeds. Exits non-zero on any crash, hang or out-of-memory.
#
#   scripts/fuzz-smoke.sh                 # every target, FUZZ_SECONDS (10) each
#   FUZZ_SECONDS=60 scripts/fuzz-smoke.sh lint render
#   FUZZ_SECONDS=1800 FUZZ_RUNS=10000000 FUZZ_CORPUS=fuzz/corpus-run scripts/fuzz-smoke.sh lint
#                                         # a long run: stops at 10M executions or 30 min, and
#                                         # keeps the corpus it grows in fuzz/corpus-run/lint
#
# Installs cargo-fuzz when it is missing. Runs on stable Rust without a sanitizer (`-s none`):
# the crate forbids unsafe code, so what fuzzing looks for is panics, hangs and unbounded memory,
# and that build needs no nightly flag. Crash inputs land in fuzz/artifacts/<target>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=${FUZZ_SECONDS:-10}
runs=${FUZZ_RUNS:--1}
keep=${FUZZ_CORPUS:-}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parsers matrix lint render)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# One build for every target, then the runs use it.
cargo fuzz build -s none

declare -A dicts=([matrix]=fuzz/dicts/matrix.dict [lint]=fuzz/dicts/dockerfile.dict)
failed=()
for t in "${targets[@]}"; do
  # New inputs go to a scratch corpus (or FUZZ_CORPUS/<target>); the committed seeds are only read.
  if [ -n "$keep" ]; then
    work=$keep/$t
    mkdir -p "$work"
  else
    work=$(mktemp -d)
  fi
  log=$(mktemp)
  args=(-max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -timeout=5 -print_final_stats=1)
  if [ -n "${dicts[$t]:-}" ]; then
    args+=(-dict="${dicts[$t]}")
  fi
  echo "fuzz-smoke: $t for ${seconds}s" >&2
  start=$(date +%s)
  if cargo fuzz run -s none "$t" "$work" "fuzz/corpus/$t" -- "${args[@]}" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz-smoke: $t: ${execs:-?} executions in $(( $(date +%s) - start ))s, peak RSS $(sed -n 's/^stat::peak_rss_mb: *//p' "$log") MB, corpus $(find "$work" -type f | wc -l) files ($(du -sh "$work" | cut -f1))" >&2
  else
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
  [ -n "$keep" ] || rm -rf "$work"
  rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-smoke: findings in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: ${#targets[@]} targets ran ${seconds}s each without a finding" >&2
