#!/usr/bin/env bash
# Set up (with the headless browser the stepper's tests drive), then run the whole test suite
# (any option is passed on to pytest, e.g. -x or -k examples).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
# Keep the work tree clean: no __pycache__ folders, pytest's cache inside .venv.
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest -o cache_dir=.venv/pytest-cache "$@"
