#!/usr/bin/env bash
# System packages the tests use: buildah/debootstrap for real image builds, Distribution's
# registry and skopeo for the registry tests, apache2-utils for htpasswd, openssl for a test CA.
#
# When another apt or dpkg (unattended-upgrades on a fresh machine, a second setup) holds the
# package manager's locks, this waits for it, saying what it waits for, up to
# SETUP_APT_WAIT seconds (default 600), then fails naming the holder.
set -euo pipefail
read -r -a packages <<<"${SETUP_SYSTEM_PACKAGES:-buildah debootstrap skopeo docker-registry uidmap apache2-utils openssl}"
wait_s=${SETUP_APT_WAIT:-600}
locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)

# "PID (command)" of each process holding one of the locks, from /proc/locks (no extra tool).
holders() {
  local f ino pid
  for f in "${locks[@]}"; do
    [ -e "$f" ] || continue
    ino=$(stat -c %i "$f")
    while read -r pid; do
      printf '%s (%s) on %s\n' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo gone)" "$f"
    done < <(awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
  done | sort -u
}

wait_for_locks() {
  local start=$SECONDS held
  while held=$(holders) && [ -n "$held" ]; do
    if (( SECONDS - start >= wait_s )); then
      echo "setup-system: gave up after ${wait_s}s waiting for the apt/dpkg locks, held by: ${held//$'\n'/; }" >&2
      echo "setup-system: let it finish (or stop it), then run this again; SETUP_APT_WAIT=SECONDS waits longer" >&2
      return 1
    fi
    echo "setup-system: waiting for the apt/dpkg locks, held by: ${held//$'\n'/; } ($((wait_s - (SECONDS - start)))s left)" >&2
    sleep 2
  done
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  wait_for_locks
  # Lock::Timeout covers a holder that starts between the wait and apt's own locking.
  apt-get -o DPkg::Lock::Timeout="$wait_s" update -qq
  wait_for_locks
  apt-get -o DPkg::Lock::Timeout="$wait_s" install -y -qq --no-install-recommends "${missing[@]}"
fi
