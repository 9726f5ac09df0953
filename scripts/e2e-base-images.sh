#!/usr/bin/env bash
# Makes, with buildah, the local images a release build starts from where no registry can be
# pulled from (no Docker Hub here):
#
#   localhost/debian:bullseye-slim       a Debian 11 root made with debootstrap (minbase)
#   localhost/python:3.9-slim-bullseye   a stand-in for the official python:3.9-slim-bullseye:
#                                        Debian's python3.9 (with its C headers, which the
#                                        official image also ships) in a virtualenv at
#                                        /usr/local, so python and pip live in /usr/local/bin
#   localhost/debian:bookworm-slim       a Debian 12 root, the same way
#   localhost/python:3.11-slim-bookworm  a stand-in for python:3.11-slim-bookworm, from Debian
#                                        12's python3.11 the same way (the Airflow 3 lines 3.0
#                                        and 3.1 publish -python-3.11 images; Debian 12 ships no
#                                        3.12, the lines' default)
#
# Idempotent: an image that exists and was made from this script's current recipe is kept, and
# each debootstrap root is kept as a tarball in the cache directory, so later runs take a second.
# Each Debian release ships one Python 3, so that is the only Python a stand-in can be made for.
#
# Usage: scripts/e2e-base-images.sh [--rebuild]
#   --rebuild   rebuild every image (from the cached tarballs; delete them to debootstrap again)
#
# Environment:
#   RUNTIME_KIT_E2E_CACHE   cache directory (default: <repo>/.cache/e2e): the rootfs tarballs,
#                           the stand-ins' build contexts and the debootstrap logs
#   RUNTIME_KIT_CA_BUNDLE   CA bundle pip trusts inside the build (default: the host's
#                           /etc/ssl/certs/ca-certificates.crt when it exists)
#   DEBIAN_MIRROR           debootstrap mirror (default: debootstrap's own)
#   STORAGE_DRIVER, BUILDAH_ISOLATION, CONTAINERS_STORAGE_CONF
#                           read by buildah itself (e.g. vfs and chroot where overlayfs or user
#                           namespaces are unavailable)
#
# Prints the stand-ins' references, one a line, on stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RUNTIME_KIT_E2E_CACHE:-$root/.cache/e2e}
rebuild=0
case "${1:-}" in
  --rebuild) rebuild=1 ;;
  "") ;;
  *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
esac


for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is not installed (Debian: apt-get install buildah debootstrap uidmap)" >&2
    exit 3
  }
done

mkdir -p "$cache/contexts"

log() { echo "e2e-base-images: $*" >&2; }
# Whether image $1 exists and was built from the Dockerfile $2 as it is now. The recipe's hash is
# kept beside the cache, not in the image, so no label leaks into the images built FROM it.
# One record per store (graph root), as each store holds its own images.
store=$(buildah info --format '{{.store.GraphRoot}}' | sha256sum | cut -c1-8)
current() {
  buildah inspect --type image "$1" >/dev/null 2>&1 \
    && [ "$(cat "$2.built-$store" 2>/dev/null)" = "$(sha256sum "$2" | cut -c1-16)" ]
}
built() { sha256sum "$1" | cut -c1-16 >"$1.built-$store"; }

# Build-time trust of a proxy's CA: mounted for the build, never copied into the image.
ca_args=()
ca=${RUNTIME_KIT_CA_BUNDLE:-}
if [ -z "$ca" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  ca=/etc/ssl/certs/ca-certificates.crt
fi
if [ -n "$ca" ]; then
  printf '[global]\ncert = /run/runtime-kit/ca.crt\n' >"$cache/contexts/pip-ca.conf"
  ca_args=(--volume "$ca:/run/runtime-kit/ca.crt:ro"
           --volume "$cache/contexts/pip-ca.conf:/etc/xdg/pip/pip.conf:ro")
fi

# One Debian root and one Python stand-in on it, for each release the suite builds on.
# $1 Debian code name, $2 Python X.Y, $3 pip, setuptools and wheel pins (the versions the official
# image carried then; empty keeps the virtualenv's own).
stand_in() {
  local debian=$1 python=$2 pins=$3
  local debian_ref=localhost/debian:$debian-slim
  local python_ref=localhost/python:$python-slim-$debian
  local dctx=$cache/contexts/debian-$debian pctx=$cache/contexts/python-$python-$debian
  local rebuilt=$rebuild
  mkdir -p "$dctx" "$pctx"
  cat >"$dctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
DOCKERFILE
  if [ "$rebuild" = 1 ] || ! current "$debian_ref" "$dctx/Dockerfile"; then
    local tarball=$cache/$debian-rootfs.tar
    if [ ! -s "$tarball" ]; then
      log "debootstrap --variant=minbase $debian (about a minute) ..."
      local rootfs
      rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
      trap 'rm -rf "$rootfs"' EXIT
      if ! debootstrap --variant=minbase "$debian" "$rootfs" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} \
          >"$cache/debootstrap-$debian.log" 2>&1; then
        tail -n 20 "$cache/debootstrap-$debian.log" >&2
        echo "error: debootstrap $debian failed (full log: $cache/debootstrap-$debian.log)" >&2
        exit 1
      fi
      # No apt lists or package caches in the image, as in the official slim images.
      rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
      tar -C "$rootfs" -cf "$tarball.tmp" .
      mv "$tarball.tmp" "$tarball"
      rm -rf "$rootfs"
      trap - EXIT
    fi
    ln -f "$tarball" "$dctx/rootfs.tar" 2>/dev/null || cp "$tarball" "$dctx/rootfs.tar"
    log "building $debian_ref ..."
    buildah bud --quiet -t "$debian_ref" "$dctx" >/dev/null
    rm -f "$dctx/rootfs.tar"
    built "$dctx/Dockerfile"
    rebuilt=1 # the stand-in starts FROM it
  fi
  cat >"$pctx/Dockerfile" <<DOCKERFILE
ARG BASE_IMAGE=$debian_ref
FROM \${BASE_IMAGE}
ENV LANG=C.UTF-8 PYTHON_VERSION=$python
RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates netbase tzdata \\
        python$python python$python-venv python$python-dev \\
    && python$python -m venv /usr/local \\
    ${pins:+&& /usr/local/bin/pip install --no-cache-dir --disable-pip-version-check $pins \\}
    && rm -rf /var/lib/apt/lists/* \\
    && python --version && pip --version
CMD ["python3"]
DOCKERFILE
  if [ "$rebuilt" = 1 ] || ! current "$python_ref" "$pctx/Dockerfile"; then
    log "building $python_ref ..."
    buildah bud --quiet "${ca_args[@]}" --build-arg BASE_IMAGE="$debian_ref" -t "$python_ref" \
      "$pctx" >/dev/null
    built "$pctx/Dockerfile"
  fi
  echo "$python_ref"
}

# python:3.9-slim-bullseye carried pip 22.0.4, setuptools 58.1.0 and wheel 0.37.1 in 2022. On
# bookworm, pip 24.0 replaces the virtualenv's 23.0.1 (a pip of the Airflow 3 era that reads the
# locks' markers; the official image's exact pip of each date is not recorded here).
stand_in bullseye 3.9 "pip==22.0.4 setuptools==58.1.0 wheel==0.37.1"
stand_in bookworm 3.11 "pip==24.0"
