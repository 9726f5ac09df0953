#!/usr/bin/env bash
# Creates .venv at the repository root with the reference tools the tests run against
# (hadolint, BuildKit's Dockerfile parser, uv). Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/requirements-dev.txt"
