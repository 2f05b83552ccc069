"""Checks for the arguments of public functions, one per kind, shared by autodiff, nn and viz.

Each check returns the argument in its canonical form (an int, a float, a str) or raises a
TypeError (wrong kind) or ValueError (right kind, value not allowed) whose message names the
argument, says what was given, and says what is allowed:

>>> check_count(0, "fit() epochs")
Traceback (most recent call last):
ValueError: fit() epochs must be an int from 1 to 1,000,000,000, got int 0
>>> check_bool("False", "fit() shuffle")
Traceback (most recent call last):
TypeError: fit() shuffle must be True or False, got str 'False'
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Iterable

import numpy as np

# A count above this is a typo or an attack, never a model or a run this engine could finish.
MAX_COUNT = 10**9


def describe(value: Any) -> str:
    """'int 3', "str 'a'": a value's type and a repr short enough for one line of an error."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{type(value).__name__} {shown}"


def is_int(value: Any) -> bool:
    """True for an int or numpy integer, never for a bool."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for an int, float, Fraction or numpy real scalar, never for a bool."""
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_bool(value: Any, name: str) -> bool:
    """`value` if it is True or False (numpy's bools included); a truthy string is not."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {describe(value)}")


def _bounds(low, high, low_open: bool = False) -> str:
    if low is not None and high is not None and not low_open:
        return f"from {low:,} to {high:,}" if isinstance(low, int) else f"from {low:g} to {high:g}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is None:
        return ""
    return f"<= {high:,}" if isinstance(high, int) else f"<= {high:g}"


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = MAX_COUNT) -> int:
    """`value` as an int, if it is an integer (not a bool, not a float) within [low, high]."""
    wanted = f"an int {_bounds(low, high)}".rstrip()
    if not is_int(value):
        raise TypeError(f"{name} must be {wanted}, got {describe(value)}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{name} must be {wanted}, got {describe(value)}")
    return number


def check_count(value: Any, name: str, high: int = MAX_COUNT) -> int:
    """A positive int no larger than `high`: a size, a number of epochs, a limit."""
    return check_int(value, name, low=1, high=high)


def check_real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, finite: bool = True) -> float:
    """`value` as a float, if it is a real number (not a bool), finite unless `finite=False`,
    within [low, high] (or (low, high] with `low_open`)."""
    kind = "a finite number" if finite else "a number"
    if low is not None and high is not None and low_open:
        bounds = f"> {float(low):g} and <= {float(high):g}"
    else:
        bounds = _bounds(None if low is None else float(low), None if high is None else float(high), low_open)
    wanted = f"{kind} {bounds}".rstrip()
    if not is_real(value):
        raise TypeError(f"{name} must be {wanted}, got {describe(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {wanted}, got an int too large for a float") from None
    if (number != number or (finite and not math.isfinite(number))
            or (low is not None and (number <= low if low_open else number < low))
            or (high is not None and number > high)):
        raise ValueError(f"{name} must be {wanted}, got {describe(value)}")
    return number


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """`value` if it is one of the `choices` (strings)."""
    choices = tuple(choices)
    listed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {listed}, got {describe(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_callable(value: Any, name: str, what: str = "a function") -> Any:
    """`value` if it can be called."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def check_path(value: Any, name: str) -> str:
    """A non-empty file system path (str or os.PathLike) as a str."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (a str or os.PathLike), got {describe(value)}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a text path, got {describe(path)}")
    if not path:
        raise ValueError(f"{name} must be a path, got an empty string")
    if "\0" in path:
        raise ValueError(f"{name} must be a path without NUL characters, got {path!r}")
    return path
