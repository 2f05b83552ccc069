#!/usr/bin/env bash
# Sets up everything the project needs on a Debian machine: system packages (Graphviz's dot,
# and with --browser a headless Chromium for the browser tests), a virtual environment in .venv,
# and the project installed into it with its extras. Safe to run again: it skips what is there
# and reinstalls only when setup.cfg or pyproject.toml changed (delete .venv to start over).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=no
case "${1:-}" in
  "") ;;
  --browser) browser=yes ;;
  *) echo "setup: unknown option '$1'; the only option is --browser" >&2; exit 2 ;;
esac

# Checked before anything is installed, so a machine that cannot run the project is left as it was.
command -v python3 >/dev/null 2>&1 || {
  echo "setup: python3 is needed (Debian/Ubuntu: sudo apt-get install python3)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  echo "setup: Python 3.10 or newer is needed, found $(python3 --version 2>&1)" >&2; exit 1; }

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ "$browser" = yes ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
if [ ${#need[@]} -gt 0 ]; then
  how="sudo apt-get install ${need[*]}"
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  # sudo -n never prompts: without root or password-less sudo we only say what to run.
  if command -v apt-get >/dev/null 2>&1 && "${as_root[@]}" true 2>/dev/null; then
    echo "setup: installing ${need[*]} with apt-get"
    if ! { "${as_root[@]}" apt-get update -qq &&
           "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
      echo "setup: apt-get could not install ${need[*]}; please install them yourself: $how" >&2
    fi
  else
    echo "setup: please install ${need[*]} (Debian/Ubuntu: $how)" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/backprop-lens-installed
wanted="$(cat setup.cfg pyproject.toml | cksum)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  # The editable install leaves setuptools' metadata folder in the work tree; it is not needed
  # afterwards, so it goes, unless it was there before.
  egg_info_was_there=no
  [ -e backprop_lens.egg-info ] && egg_info_was_there=yes
  .venv/bin/python -m pip install -q --upgrade pip
  # setuptools warns on every editable install that same-named folders may shadow the package;
  # here the package is those folders, so the warning is noise.
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q -e '.[dev,extras]'
  [ "$egg_info_was_there" = yes ] || rm -rf backprop_lens.egg-info
  echo "$wanted" > "$stamp"
fi
