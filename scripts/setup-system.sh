#!/usr/bin/env bash
# System packages the tests use: buildah/debootstrap for real image builds, Distribution's
# registry and skopeo for the registry tests, apache2-utils for htpasswd, openssl for a test CA.
set -euo pipefail
packages=(buildah debootstrap skopeo docker-registry uidmap apache2-utils openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
