#!/usr/bin/env bash
# The main job: set up, then reproduce the lecture's worked backpropagation example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/backprop_worked_example.py "$@"
