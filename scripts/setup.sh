#!/usr/bin/env bash
# Sets up everything the project needs on a Debian machine: system packages (Graphviz's dot,
# and with --browser a headless Chromium for the browser tests), a virtual environment in .venv,
# and the project installed into it with its extras. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=no
[ "${1:-}" = "--browser" ] && browser=yes

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ "$browser" = yes ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: please install ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]}; macOS: brew install graphviz chromium)" >&2
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "setup: Python 3.10 or newer is needed, found $(python3 --version)" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,extras]'
