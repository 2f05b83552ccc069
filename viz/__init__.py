"""viz: drawings of autodiff graphs with every value and gradient, step by step through the backward pass.

`draw(output)` returns a `graphviz.Digraph` (it shows inline in Jupyter), `highlight=w5` marking the
paths from the output down to w5 and `edge_labels=True` writing each edge's local derivative;
`render(output, path)` writes SVG, PNG or PDF; `backward_frames`, `save_frames`, `stepper` (a
page that Jupyter shows inline) and `save_stepper` show the backward pass one step at a time, each
step captioned with its local derivatives' formulas and numbers, up to `max_bytes` of drawing (10 MB
of Graphviz input by default, estimated before anything is drawn). Labels are shown as written, except that control characters,
lone surrogates and invisible reordering marks appear as escapes (`a\\x00b`).
`python -m viz "tanh(x*w + b)" --at x=0.5 --at w=-1 --at b=0.2` is the command line. viz imports
only `autodiff` (and graphviz).
"""

from .dot import draw, kind, neurons
from .files import DotNotFoundError, render
from .page import Stepper, save_stepper, stepper
from .steps import backward_frames, caption, save_frames

__all__ = ["DotNotFoundError", "Stepper", "backward_frames", "caption", "draw", "kind", "neurons", "render",
           "save_frames", "save_stepper", "stepper"]
