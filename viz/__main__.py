"""`python -m viz EXPR --at NAME=VALUE ... [--out FILE] [--steps FILE.html [--lr RATE]] [--explain NAME]`; see viz.cli."""

import sys

from .cli import main

sys.exit(main())
