#!/usr/bin/env bash
# Every figure of BENCHMARKS.md, measured in one run on this machine, each against its reference
# tool where there is one:
#
#   1. lint of the generated tree vs hadolint over the same files   (scripts/bench-lint.sh)
#   2. generate --check of the full matrix                            (hyperfine)
#   3. CLI start-up: `runtime-kit query airflow`                              (hyperfine)
#   4. registry verify of 500 tags vs a skopeo inspect loop          (scripts/bench-registry.sh)
#   5. cold vs warm build of a project FROM an ONBUILD image          (the end-to-end suite)
#
#   scripts/bench.sh [lint|generate|startup|registry|build]...   # default: all of them
#
# Run as root after scripts/setup-system.sh and scripts/setup-venv.sh (scripts/test.sh runs both).
# Installs hyperfine with apt when it is missing. Output: the figures on stdout, with the machine
# and the date; keep the machine otherwise idle.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(lint generate startup registry build)

if ! command -v hyperfine >/dev/null; then
  echo "bench: installing hyperfine" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --quiet --release --bin runtime-kit
bin=$root/target/release/runtime-kit
export RUNTIME_KIT_BIN=$bin

echo "# runtime-kit benchmarks"
echo "date:     $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine:  $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "cpu:      $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
echo "binary:   $("$bin" --version), release build"
echo

# Mean and standard deviation of a hyperfine run, in milliseconds.
hyper() {
  local name=$1
  shift
  local json
  json=$(mktemp)
  hyperfine --style none --warmup 3 --export-json "$json" "$@" >/dev/null 2>&1
  python3 - "$json" "$name" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{sys.argv[2]}: {r['mean'] * 1000:.1f} ms ± {r['stddev'] * 1000:.1f} ms "
      f"(mean ± σ of {len(r['times'])} runs; min {r['min'] * 1000:.1f} ms)")
EOF
  rm -f "$json"
}

for part in "${parts[@]}"; do
  case $part in
    lint)
      echo "## 1. lint vs hadolint: scripts/bench-lint.sh"
      scripts/bench-lint.sh
      ;;
    generate)
      echo "## 2. generate --check of the full matrix"
      releases=$(grep -c '^\[\[release\]\]' runtime-matrix.toml)
      echo "matrix: $releases releases; tree: $(find dockerfiles -type f | wc -l) files"
      hyper "runtime-kit generate --check" --runs 10 "$bin generate --check"
      ;;
    startup)
      echo "## 3. CLI start-up"
      hyper "runtime-kit --version" --runs 200 -N "$bin --version"
      hyper "runtime-kit query airflow 5.0.13 (loads and validates the matrix)" --runs 100 "$bin query airflow 5.0.13"
      ;;
    registry)
      echo "## 4. registry verify vs skopeo: scripts/bench-registry.sh"
      scripts/bench-registry.sh 2>&1 | grep -Ev '^\s*(Compiling|Finished|Running|Blocking)'
      ;;
    build)
      echo "## 5. cold vs warm project build FROM the ONBUILD image (cargo test --release --test e2e release_5_0_13)"
      figures=${RUNTIME_KIT_E2E_CACHE:-$root/.cache/e2e}/figures.tsv
      before=$( [ -f "$figures" ] && wc -l < "$figures" || echo 0)
      RUNTIME_KIT_REQUIRE_TOOLS=1 cargo test --quiet --release --test e2e release_5_0_13 -- --exact >/dev/null 2>&1 \
        || { echo "bench: the end-to-end test failed; see cargo test --test e2e release_5_0_13" >&2; exit 1; }
      tail -n +"$((before + 1))" "$figures" | awk -F'\t' '{ printf "%s (%s storage): %.1f s\n", $3, $2, $4 }'
      ;;
    *)
      echo "bench: unknown part $part; expected lint, generate, startup, registry or build" >&2
      exit 2
      ;;
  esac
  echo
done
