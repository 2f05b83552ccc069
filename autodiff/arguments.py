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
import reprlib
from collections.abc import Sequence
from typing import Any, Iterable

import numpy as np

# A count above this is a typo or an attack, never a model or a run this engine could finish.
MAX_COUNT = 10**9

_BOUNDED = reprlib.Repr()
_BOUNDED.maxlevel, _BOUNDED.maxlist, _BOUNDED.maxtuple, _BOUNDED.maxdict, _BOUNDED.maxset = 2, 12, 12, 6, 12


def describe(value: Any) -> str:
    """'int 3', "str 'a'": a value's type and a repr short enough for one line of an error."""
    digits = _digits(value)
    if digits:
        return f"{type(value).__name__} of about {digits:,} digits"
    return f"{type(value).__name__} {shown(value)}"


def shown(value: Any, limit: int = 60) -> str:
    """repr(value) cut to `limit` characters; a huge int, or a long or deep container, is not
    walked whole (its repr would cost its whole size, or fail, for the few characters shown)."""
    digits = _digits(value)
    if digits:
        return f"an int of about {digits:,} digits"
    # a numpy scalar shows as its number (repr gives np.int64(3) in numpy 2)
    plain = value.item() if isinstance(value, np.generic) else value
    text = _BOUNDED.repr(plain) if isinstance(plain, (list, tuple, dict, set)) else repr(plain)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _digits(value: Any) -> int:
    """The number of digits of an int too long for Python to repr (over 4,300 digits), else 0."""
    if isinstance(value, int) and value.bit_length() > 3000:
        return int(value.bit_length() * math.log10(2)) + 1
    return 0


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
               low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """`value` as a float, if it is a real number (not a bool), finite unless `finite=False`,
    within [low, high] (either end left out with `low_open` / `high_open`)."""
    kind = "a finite number" if finite else "a number"
    if low is not None and high is not None and (low_open or high_open):
        bounds = f"{'>' if low_open else '>='} {float(low):g} and {'<' if high_open else '<='} {float(high):g}"
    elif high is not None and high_open:
        bounds = f"< {float(high):g}"
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
            or (high is not None and (number >= high if high_open else number > high))):
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


# A seed is any int numpy's and Python's generators both take the same way.
MAX_SEED = 2**64 - 1


def check_seed(value: Any, name: str) -> int:
    """A seed for a random generator: an int from 0 to 2**64 − 1 (None is not one: runs repeat)."""
    if value is None:
        raise TypeError(f"{name} must be an int from 0 to 2**64 - 1, got None; every run here is "
                        f"seeded so that it can be repeated (leave the argument out for seed 0)")
    return check_int(value, name, low=0, high=MAX_SEED)


def check_instance(value: Any, name: str, kind: type | tuple[type, ...], what: str) -> Any:
    """`value` if it is an instance of `kind`; `what` says in words what is expected."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def is_sequence(value: Any) -> bool:
    """True for a list, tuple, numpy array or other sequence, never for a str or bytes."""
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def check_reals(value: Any, name: str, *, length: int | None = None, finite: bool = True) -> list[float]:
    """A non-empty 1-D sequence of real numbers (not bools; finite unless `finite=False`), as floats;
    exactly `length` of them when given."""
    wanted = f"a list of {length if length is not None else 'one or more'} {'finite ' if finite else ''}numbers"
    if not is_sequence(value) or isinstance(value, np.ndarray) and value.ndim != 1:
        shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else describe(value)
        raise TypeError(f"{name} must be {wanted}, got {shown}")
    if len(value) == 0 or (length is not None and len(value) != length):
        raise ValueError(f"{name} must be {wanted}, got {len(value)}")
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        floats = value.astype(float)
        if finite and not np.isfinite(floats).all():
            i = int(np.flatnonzero(~np.isfinite(floats))[0])
            raise ValueError(f"{name}[{i}] must be a finite number, got {float(floats[i])!r}")
        return floats.tolist()
    return [check_real(v, f"{name}[{i}]", finite=finite) for i, v in enumerate(value)]


def check_table(value: Any, name: str, *, width: int | None = None, what: str = "the model takes") -> np.ndarray:
    """A non-empty 2-D table of finite real numbers (rows of equal length; `width` columns when
    given), as a float array: a list of rows or a 2-D numpy array."""
    wanted = "a table of finite numbers (a 2-D array, or a list of rows of equal length)"
    if not is_sequence(value):
        raise TypeError(f"{name} must be {wanted}, got {describe(value)}")
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        if value.ndim != 2:
            raise ValueError(f"{name} must be {wanted}, got an array of shape {value.shape}")
        table = value.astype(float)
        if not np.isfinite(table).all():
            i, j = (int(k) for k in np.argwhere(~np.isfinite(table))[0])
            raise ValueError(f"{name}[{i}][{j}] must be a finite number, got {float(table[i, j])!r}")
    else:
        if len(value) == 0:
            raise ValueError(f"{name} must be {wanted}, got no rows")
        first = len(value[0]) if is_sequence(value[0]) else None
        table = np.array([check_reals(row, f"{name}[{i}]", length=first) for i, row in enumerate(value)],
                         dtype=float)
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(f"{name} must be {wanted}, got an empty table of shape {table.shape}")
    if width is not None and table.shape[1] != width:
        raise ValueError(f"{name} has {table.shape[1]} values per row, {what} {width}")
    return table


def check_number(value: Any, name: str) -> float:
    """`value` as a float, if it is a number a computation takes as data: an int, float, bool,
    Fraction or numpy real scalar, nan and ±inf included (True is 1.0, as in Python arithmetic).

    >>> check_number(True, "Value() data"), check_number(float("nan"), "Value() data")
    (1.0, nan)
    >>> check_number("1", "Value() data")
    Traceback (most recent call last):
    TypeError: Value() data must be a real number (int, float, bool or a numpy real scalar), got str '1'
    """
    kind = type(value)
    if kind is float:
        return value
    if kind is not int and not isinstance(value, (numbers.Real, np.bool_)):
        raise TypeError(f"{name} must be a real number (int, float, bool or a numpy real scalar), "
                        f"got {describe(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a real number within a float's range (about ±1.8e308), "
                         f"got {describe(value)}") from None
