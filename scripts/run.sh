#!/usr/bin/env bash
# The main job: set up, then reproduce the lecture's worked backpropagation example (pictures in
# out/backprop_worked_example/; any option is passed on to the example, e.g. --no-images).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# No __pycache__ folders in the work tree: the run leaves nothing behind but .venv and out.
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python examples/backprop_worked_example.py "$@"
