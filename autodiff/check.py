"""gradcheck: the backward pass's gradient against central differences, input by input.

The pass rule and defaults are PyTorch's: |analytic − numeric| ≤ atol + rtol·|numeric|, with
eps=1e-6, atol=1e-5, rtol=1e-3. A failure shows every input's numbers in one table, so the wrong
derivative stands out from the right ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable

from .arguments import check_callable, check_real, describe
from .functional import _Call, _scalar, gradients
from .notation import format_number
from .tracing import html_table
from .value import Value, no_grad


class GradcheckError(RuntimeError):
    """The analytic gradient disagrees with central differences; `rows` holds the numbers.

    Printed, it is the message and a text table; in Jupyter (`display(error)`, or the error as a
    cell's last expression) the same table in HTML.
    """

    def __init__(self, message: str, rows: list[GradcheckRow]):
        super().__init__(message)
        self.rows = rows

    def _repr_html_(self) -> str:
        """The message's first line, then one table row per input; every text escaped."""
        head = str(self).partition("\n")[0]
        return (f'<div class="backprop-lens-gradcheck"><p>{escape(head)}</p>'
                f"{html_table(list(HEADER), _cells(self.rows), 'inputs')}</div>")


@dataclass(frozen=True, slots=True)
class GradcheckRow:
    """One input's line of the table."""

    name: str
    analytic: float
    numeric: float
    error: float        # |analytic − numeric|
    allowed: float      # atol + rtol·|numeric|

    @property
    def ok(self) -> bool:
        """True when the error is within what is allowed (never for nan)."""
        return self.error <= self.allowed


def gradcheck(f: Callable[..., Value], args, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """True if f's gradient at args matches central differences; else raise `GradcheckError`.

    `args` is one number or a sequence of numbers (Values count by their data); f takes them as
    Values and returns a Value.

    >>> gradcheck(lambda x, y: (x * y).sin(), (0.5, 2.0))
    True
    """
    check_callable(f, "gradcheck() f")
    points, names = _as_points(args)
    eps = check_real(eps, "gradcheck() eps", low=0.0, low_open=True)
    atol = check_real(atol, "gradcheck() atol", low=0.0)
    rtol = check_real(rtol, "gradcheck() rtol", low=0.0)

    call = _Call(f, tuple(points), tuple(range(len(points))), "gradcheck")
    analytic = gradients(call.output, call.fresh)
    rows = []
    for i, a in enumerate(analytic):
        numeric = (_at(f, points, i, eps) - _at(f, points, i, -eps)) / (2.0 * eps)
        error = abs(a - numeric)
        rows.append(GradcheckRow(names[i], a, numeric, error, atol + rtol * abs(numeric)))
    failed = [row for row in rows if not row.ok]
    if failed:
        head = (f"gradcheck failed for {len(failed)} of {len(rows)} inputs at "
                f"({', '.join(format_number(p) for p in points)}) "
                f"with eps={eps!r}, atol={atol!r}, rtol={rtol!r}:")
        raise GradcheckError(head + "\n" + _table(rows), rows)
    return True


def _as_points(args) -> tuple[list[float], list[str]]:
    """The point as floats, and how the table names each input (a Value's label, else args[i])."""
    one = not isinstance(args, (tuple, list))
    if one:
        if isinstance(args, (str, bytes)) or hasattr(args, "__iter__"):
            raise TypeError(f"gradcheck() args must be a number or a tuple or list of numbers, "
                            f"got {describe(args)}")
        args = (args,)
    points, names = [], []
    for i, a in enumerate(args):
        name = "gradcheck() args" if one else f"gradcheck() args[{i}]"
        a = _scalar(a, name)
        point = a.data if isinstance(a, Value) else a
        if point - point != 0.0:
            raise ValueError(f"{name} must be finite (differences around nan or inf mean nothing), "
                             f"got {point!r}")
        labelled = isinstance(a, Value) and a.label
        points.append(point)
        names.append(a.label if labelled else f"args[{i}]")
    return points, names


def _at(f: Callable, points: list[float], i: int, shift: float) -> float:
    """f with input i moved by shift; recorded by no op, since only the value is needed."""
    moved = [Value(p + shift if j == i else p) for j, p in enumerate(points)]
    with no_grad():
        out = f(*moved)
    return out.data if isinstance(out, Value) else float(out)


HEADER = ("input", "analytic", "numeric", "|error|", "allowed", "")


def _cells(rows: list[GradcheckRow]) -> list[list[str]]:
    """Each row's cells as the text and the HTML tables show them."""
    return [[r.name, format_number(r.analytic), format_number(r.numeric), format_number(r.error),
             format_number(r.allowed), "ok" if r.ok else "FAIL"] for r in rows]


def _table(rows: list[GradcheckRow]) -> str:
    body = _cells(rows)
    widths = [max(len(line[k]) for line in [HEADER, *body]) for k in range(len(HEADER))]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in [HEADER, *body])
