#!/usr/bin/env bash
# Install Debian packages for commands CI needs, only when the command is missing.
#
#   scripts/ci-system-packages.sh docker-compose:docker-compose chromium:chromium
#
# Each argument is COMMAND:PACKAGE, or /PATH:PACKAGE for a package without a command (a font:
# the file must exist). Nothing is printed and nothing is installed when every
# command is already on PATH, so the script is cheap to call on every run. apt-get runs as root,
# or through sudo when not root and sudo exists. It first tries without `apt-get update` (fast
# when the package lists are present) and updates the lists only if that fails.
set -euo pipefail

present() {
  if [[ "$1" == /* ]]; then [[ -e "$1" ]]; else command -v "$1" >/dev/null 2>&1; fi
}

missing=()
for spec in "$@"; do
  cmd="${spec%%:*}"
  pkg="${spec#*:}"
  if [[ -z "$cmd" || -z "$pkg" || "$spec" != *:* ]]; then
    echo "ci-system-packages: bad argument '$spec' (want COMMAND:PACKAGE)" >&2
    exit 2
  fi
  if ! present "$cmd"; then
    missing+=("$pkg")
  fi
done

((${#missing[@]} == 0)) && exit 0

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "ci-system-packages: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci-system-packages: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

echo "ci-system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_install=("${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}")
if ! "${apt_install[@]}"; then
  "${as_root[@]}" apt-get update -q
  "${apt_install[@]}"
fi

# Check that each command now exists, so a wrong package name fails here, not later.
for spec in "$@"; do
  cmd="${spec%%:*}"
  if ! present "$cmd"; then
    echo "ci-system-packages: '$cmd' still missing after installing its package '${spec#*:}'" >&2
    exit 1
  fi
done
