#!/usr/bin/env bash
# Registry benchmark: `runtime-kit registry verify` over 500 tags of the shipped matrix on a
# loopback docker-registry, against a `skopeo inspect` loop over the same tags; prints the ratio.
# Needs: apt-get install -y docker-registry skopeo apache2-utils openssl
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in docker-registry skopeo; do
  command -v "$tool" >/dev/null || { echo "bench-registry: $tool is not installed (apt-get install -y docker-registry skopeo)" >&2; exit 2; }
done
exec cargo bench --bench registry "$@"
