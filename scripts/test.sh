#!/usr/bin/env bash
# Set up (with the headless browser the stepper's tests drive), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
exec .venv/bin/python -m pytest "$@"
