#!/usr/bin/env bash
# Creates .venv and installs orderhub into it: `run` (the daemon), `test` (plus what the tests need)
# or `bench` (plus the load generator).
# On a fresh Debian/Ubuntu machine it installs the missing system packages first (as root or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-run}
PYTHON=${PYTHON:-python3}

# system packages the test suite needs (later parts add Dovecot, PostgreSQL, Chromium here)
APT_TEST=(ca-certificates)
APT_RUN=()
# `make bench` drives load with wrk
APT_BENCH=(wrk)

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "orderhub needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    command -v dpkg >/dev/null && apt_install "python3-venv"
    "$PYTHON" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$what" = test ] || [ "$what" = bench ]; then
  command -v dpkg >/dev/null && apt_install "${APT_TEST[@]}"
  [ "$what" = bench ] && command -v dpkg >/dev/null && apt_install "${APT_BENCH[@]}"
  .venv/bin/python -m pip install -q -e '.[test]'
else
  [ ${#APT_RUN[@]} -gt 0 ] && command -v dpkg >/dev/null && apt_install "${APT_RUN[@]}"
  .venv/bin/python -m pip install -q -e .
fi
