#!/usr/bin/env bash
# Makes, with buildah, the local images a release build starts from where no registry can be
# pulled from (no Docker Hub here):
#
#   localhost/debian:bullseye-slim       a Debian bullseye root made with debootstrap (minbase)
#   localhost/python:3.9-slim-bullseye   a stand-in for the official python:3.9-slim-bullseye:
#                                        Debian's python3.9 (with its C headers, which the
#                                        official image also ships) in a virtualenv at
#                                        /usr/local, so python and pip live in /usr/local/bin
#
# Idempotent: an image that exists and was made from this script's current recipe is kept, and
# the debootstrap root is kept as a tarball in the cache directory, so later runs take a second.
# Bullseye ships Python 3.9 only, so 3.9 is the only Python a stand-in can be made for.
#
# Usage: scripts/e2e-base-images.sh [--rebuild]
#   --rebuild   rebuild both images (from the cached tarball; delete it to debootstrap again)
#
# Environment:
#   RUNTIME_KIT_E2E_CACHE   cache directory (default: <repo>/.cache/e2e): the rootfs tarball,
#                           the stand-ins' build contexts and the debootstrap log
#   RUNTIME_KIT_CA_BUNDLE   CA bundle pip trusts inside the build (default: the host's
#                           /etc/ssl/certs/ca-certificates.crt when it exists)
#   DEBIAN_MIRROR           debootstrap mirror (default: debootstrap's own)
#   STORAGE_DRIVER, BUILDAH_ISOLATION, CONTAINERS_STORAGE_CONF
#                           read by buildah itself (e.g. vfs and chroot where overlayfs or user
#                           namespaces are unavailable)
#
# Prints the stand-in's reference on the last line of stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RUNTIME_KIT_E2E_CACHE:-$root/.cache/e2e}
rebuild=0
case "${1:-}" in
  --rebuild) rebuild=1 ;;
  "") ;;
  *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
esac

debian_ref=localhost/debian:bullseye-slim
python_ref=localhost/python:3.9-slim-bullseye

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is not installed (Debian: apt-get install buildah debootstrap uidmap)" >&2
    exit 3
  }
done

mkdir -p "$cache/contexts/debian" "$cache/contexts/python"

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

# --- Debian bullseye, from debootstrap -------------------------------------------------------
cat >"$cache/contexts/debian/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
CMD ["bash"]
DOCKERFILE
if [ "$rebuild" = 1 ] || ! current "$debian_ref" "$cache/contexts/debian/Dockerfile"; then
  tarball=$cache/bullseye-rootfs.tar
  if [ ! -s "$tarball" ]; then
    log "debootstrap --variant=minbase bullseye (about a minute) ..."
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    if ! debootstrap --variant=minbase bullseye "$rootfs" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} \
        >"$cache/debootstrap.log" 2>&1; then
      tail -n 20 "$cache/debootstrap.log" >&2
      echo "error: debootstrap failed (full log: $cache/debootstrap.log)" >&2
      exit 1
    fi
    # No apt lists or package caches in the image, as in the official slim images.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  ln -f "$tarball" "$cache/contexts/debian/rootfs.tar" 2>/dev/null \
    || cp "$tarball" "$cache/contexts/debian/rootfs.tar"
  log "building $debian_ref ..."
  buildah bud --quiet -t "$debian_ref" "$cache/contexts/debian" >/dev/null
  rm -f "$cache/contexts/debian/rootfs.tar"
  built "$cache/contexts/debian/Dockerfile"
  rebuild=1 # the stand-in starts FROM it
fi

# --- the python:3.9-slim-bullseye stand-in ---------------------------------------------------
# pip, setuptools and wheel at the versions python:3.9-slim-bullseye carried in 2022.
cat >"$cache/contexts/python/Dockerfile" <<'DOCKERFILE'
ARG BASE_IMAGE=localhost/debian:bullseye-slim
FROM ${BASE_IMAGE}
ENV LANG=C.UTF-8 PYTHON_VERSION=3.9
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates netbase tzdata \
        python3.9 python3.9-venv python3.9-dev \
    && python3.9 -m venv /usr/local \
    && /usr/local/bin/pip install --no-cache-dir --disable-pip-version-check \
        pip==22.0.4 setuptools==58.1.0 wheel==0.37.1 \
    && rm -rf /var/lib/apt/lists/* \
    && python --version && pip --version
CMD ["python3"]
DOCKERFILE
if [ "$rebuild" = 1 ] || ! current "$python_ref" "$cache/contexts/python/Dockerfile"; then
  log "building $python_ref ..."
  buildah bud --quiet "${ca_args[@]}" --build-arg BASE_IMAGE="$debian_ref" -t "$python_ref" \
    "$cache/contexts/python" >/dev/null
  built "$cache/contexts/python/Dockerfile"
fi

echo "$python_ref"
