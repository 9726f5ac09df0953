#!/usr/bin/env bash
# Benchmark: `runtime-kit lint` against hadolint over the same Dockerfiles, each tool in one process
# (hadolint gets every file on one command line), best of RUNS runs; prints both times and the ratio.
#
#   scripts/bench-lint.sh [DIR] [COPIES]
#
# DIR defaults to dockerfiles/ (the generated tree) when it exists, otherwise to the lint corpus
# (tests/lint-corpus) replicated COPIES times (default 20) into a temporary directory. The release
# matrix is passed when runtime-matrix.toml exists, so the parity rules run too. Environment:
# RUNTIME_KIT_BIN (default: a release build), HADOLINT (default .venv/bin/hadolint), RUNS (default 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

copies=${2:-20}
runs=${RUNS:-5}
hadolint=${HADOLINT:-$root/.venv/bin/hadolint}
[ -x "$hadolint" ] || { echo "error: $hadolint not found; run scripts/setup-venv.sh" >&2; exit 2; }
if [ -z "${RUNTIME_KIT_BIN:-}" ]; then
  cargo build --quiet --release --bin runtime-kit
  RUNTIME_KIT_BIN=$root/target/release/runtime-kit
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -ge 1 ]; then
  dir=$1
elif [ -d dockerfiles ]; then
  dir=dockerfiles
else
  dir=$tmp/corpus
  for i in $(seq 1 "$copies"); do
    mkdir -p "$dir/$i"
    cp tests/lint-corpus/*Dockerfile "$dir/$i/"
  done
fi

find "$dir" -type f \( -name Dockerfile -o -name '*.Dockerfile' \) -print0 | sort -z > "$tmp/files"
count=$(tr -cd '\0' < "$tmp/files" | wc -c)
[ "$count" -gt 0 ] || { echo "error: no Dockerfile under $dir" >&2; exit 2; }
matrix=(--no-matrix)
[ -f runtime-matrix.toml ] && matrix=(--matrix runtime-matrix.toml)

# Best wall-clock time of $runs runs of a command, in seconds.
best() {
  local best_ns="" start end
  for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    local ns=$((end - start))
    if [ -z "$best_ns" ] || [ "$ns" -lt "$best_ns" ]; then best_ns=$ns; fi
  done
  awk -v ns="$best_ns" 'BEGIN { printf "%.4f", ns / 1e9 }'
}

ours=$(best "$RUNTIME_KIT_BIN" lint "${matrix[@]}" --format json "$dir")
theirs=$(best xargs -0 -a "$tmp/files" "$hadolint" --no-fail --format json)
ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.1f", a / b }')
echo "Dockerfiles:  $count under $dir"
echo "runtime-kit:  ${ours} s  ($("$RUNTIME_KIT_BIN" --version), ${matrix[*]})"
echo "hadolint:     ${theirs} s  ($("$hadolint" --version))"
echo "machine:      $(nproc) cores, best of $runs runs"
echo "ratio:        runtime-kit is ${ratio}x faster than hadolint"
