"""The op table: every primitive's forward and local derivatives, declared together.

This module is the single source of truth for what an op computes. The backward pass, the tracer,
the drawings and the batched replay all read `OPS`; adding an op is adding one `defop` row.

Conventions of a row (in the spirit of PyTorch's derivatives.yaml):
- `forward` takes floats and returns a float with IEEE semantics: it never raises on a float input
  (log(0) is -inf, 1/0 is inf, sqrt(-1) is nan, exp(1000) is inf).
- `batched` is the same function on numpy arrays, elementwise, with the same IEEE results.
- `local(y, *inputs)` returns one partial derivative ∂y/∂input per input, where `y` is the op's
  output. It is written only with arithmetic operators and this module's generic functions
  (`exp`, `log`, `div`, ...), so the same rule computes floats in a plain backward pass, numpy arrays
  in a batched replay, and Values when the backward pass is itself recorded (gradients of
  gradients). A partial that is a plain number is a constant of the derivative graph.
- Derivatives at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, step' = 0,
  ∂(a**b)/∂a = 0 where b == 0, and ∂(a**b)/∂b = 0 where a == 0 and b >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Callable

import numpy as np

INF = math.inf
NAN = math.nan


@dataclass(frozen=True, slots=True)
class Op:
    """One row of the op table."""

    name: str
    symbol: str                          # how drawings and listings show the op
    arity: int | None                    # None: any number of inputs (the n-ary sum)
    forward: Callable[..., float]        # floats in, float out, IEEE semantics
    batched: Callable[..., np.ndarray]   # numpy arrays in, array out, same semantics
    local: Callable[..., tuple]          # (y, *inputs) -> one ∂y/∂input per input

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}


def defop(name, symbol, arity, forward, batched, local) -> Op:
    """Add a row to the op table and return it."""
    if name in OPS:
        raise ValueError(f"op {name!r} is already defined")
    OPS[name] = op = Op(name, symbol, arity, forward, batched, local)
    return op


# ---------------------------------------------------------------------------------------------
# IEEE-safe scalar forwards. Python's float arithmetic raises where IEEE 754 gives inf or nan
# (ZeroDivisionError, OverflowError, ValueError from math): these functions give the IEEE result.

def safe_div(a: float, b: float) -> float:
    """a / b with IEEE results: x/0 is ±inf, 0/0 is nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def _is_odd_integer(x: float) -> bool:
    return x.is_integer() and x % 2.0 == 1.0


def safe_pow(a: float, b: float) -> float:
    """a ** b as C's pow: never complex, never raises (0 ** -1 is inf, (-8) ** (1/3) is nan)."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -INF if a < 0.0 and _is_odd_integer(b) else INF
    except ValueError:
        if a == 0.0:  # zero to a negative power
            return math.copysign(INF, a) if _is_odd_integer(b) else INF
        return NAN  # negative base, non-integer exponent


def safe_exp(x: float) -> float:
    """e ** x; inf instead of OverflowError."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def safe_log(x: float) -> float:
    """Natural log: log(0) is -inf, log of a negative number is nan."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative, or nan


def safe_sqrt(x: float) -> float:
    """Square root: nan for a negative number."""
    return math.sqrt(x) if x >= 0.0 else NAN


def safe_sin(x: float) -> float:
    """sin(x); nan for ±inf instead of ValueError."""
    return math.sin(x) if math.isfinite(x) else NAN


def safe_cos(x: float) -> float:
    """cos(x); nan for ±inf instead of ValueError."""
    return math.cos(x) if math.isfinite(x) else NAN


def stable_sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow for any x: sigmoid(-800) is 0.0."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    if x < 0.0:
        z = safe_exp(x)
        return z / (1.0 + z)
    return NAN


def stable_softplus(x: float) -> float:
    """log(1 + e^x) as max(x, 0) + log1p(e^-|x|), which never overflows."""
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x))) if x == x else NAN


def stable_log_sigmoid(x: float) -> float:
    """log(sigmoid(x)) as min(x, 0) - log1p(e^-|x|), which never overflows."""
    return (x if x < 0.0 else 0.0) - math.log1p(math.exp(-abs(x))) if x == x else NAN


def relu_forward(x: float) -> float:
    """max(x, 0); nan stays nan, as in PyTorch."""
    return 0.0 if x <= 0.0 else x


def step_forward(x: float) -> float:
    """The lecture's binary step: 1 for x >= 0, 0 for x < 0 (nan for nan)."""
    if x >= 0.0:
        return 1.0
    return 0.0 if x < 0.0 else NAN


# ---------------------------------------------------------------------------------------------
# The same functions on numpy arrays, for the batched replay.

def _quiet(ufunc):
    """An elementwise numpy function that returns IEEE results without RuntimeWarnings."""
    def quiet(*arrays):
        with np.errstate(all="ignore"):
            return ufunc(*arrays)
    quiet.__name__ = getattr(ufunc, "__name__", "quiet")
    return quiet


def _batched_pow(a, b):
    with np.errstate(all="ignore"):
        return np.power(np.asarray(a, dtype=float), b)


def _batched_sigmoid(x):
    with np.errstate(all="ignore"):
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _batched_softplus(x):
    with np.errstate(all="ignore"):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _batched_log_sigmoid(x):
    with np.errstate(all="ignore"):
        return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def _batched_relu(x):
    return np.where(x <= 0.0, 0.0, x)


def _batched_step(x):
    return np.where(x >= 0.0, 1.0, np.where(x < 0.0, 0.0, np.nan))


def _batched_sum(*xs):
    total = 0.0  # the scalar row's start value: it turns a sum of -0.0 into 0.0, as there
    for x in xs:
        total = total + x
    return total


# ---------------------------------------------------------------------------------------------
# Generic functions for writing derivative rules: each works on a float, a numpy array, or a
# Value (where it records a node through the Value's own method, so the rule is differentiable).

def _generic(method: str, scalar: Callable, array: Callable) -> Callable:
    def apply(x):
        if isinstance(x, float):
            return scalar(x)
        if isinstance(x, np.ndarray):
            return array(x)
        return getattr(x, method)()
    apply.__name__ = method
    apply.__doc__ = f"{method}(x) for a float, a numpy array or a Value."
    return apply


exp = _generic("exp", safe_exp, _quiet(np.exp))
log = _generic("log", safe_log, _quiet(np.log))
sin = _generic("sin", safe_sin, _quiet(np.sin))
cos = _generic("cos", safe_cos, _quiet(np.cos))
sigmoid = _generic("sigmoid", stable_sigmoid, _batched_sigmoid)


def div(a, b):
    """a / b for floats (IEEE, never raising), numpy arrays or Values."""
    if isinstance(a, float) and isinstance(b, float):
        return safe_div(a, b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        with np.errstate(all="ignore"):
            return np.true_divide(a, b)
    return a / b


def pow_(a, b):
    """a ** b for floats (C semantics, never raising), numpy arrays or Values."""
    if isinstance(a, float) and isinstance(b, float):
        return safe_pow(a, b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _batched_pow(a, b)
    return a ** b


def positive(x):
    """1 where x > 0 else 0: a constant of the derivative graph (its own derivative is 0)."""
    if isinstance(x, np.ndarray):
        return (x > 0.0).astype(float)
    return 1.0 if x > 0.0 else 0.0


def sign(x):
    """The sign of x (1, -1, 0; nan for nan) as a constant of the derivative graph."""
    if isinstance(x, np.ndarray):
        return np.sign(x)
    x = float(x)
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x * 0.0  # 0.0 for ±0, nan for nan


def power_rule(a, b):
    """∂(a**b)/∂a = b · a**(b−1), taken as 0 where b == 0 (PyTorch's convention: a**0 is flat)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        with np.errstate(all="ignore"):
            return np.where(b == 0.0, 0.0, b * _batched_pow(a, b - 1.0))
    if float(b) == 0.0:
        return 0.0  # else 0 · 0**-1 would be nan at a == 0
    return b * pow_(a, b - 1.0)


def log_where_defined(y, a, b):
    """∂(a**b)/∂b = a**b · log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's convention)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        with np.errstate(all="ignore"):
            return np.where((a == 0.0) & (b >= 0.0), 0.0, y * np.log(a))
    if float(a) == 0.0 and float(b) >= 0.0:
        return 0.0
    return y * log(a)


# ---------------------------------------------------------------------------------------------
# The table. Forward on the first line, local derivatives on the next.

ADD = defop("add", "+", 2, lambda a, b: a + b, _quiet(np.add),
            lambda y, a, b: (1.0, 1.0))
SUB = defop("sub", "−", 2, lambda a, b: a - b, _quiet(np.subtract),
            lambda y, a, b: (1.0, -1.0))
MUL = defop("mul", "×", 2, lambda a, b: a * b, _quiet(np.multiply),
            lambda y, a, b: (b, a))
DIV = defop("div", "÷", 2, safe_div, _quiet(np.true_divide),
            lambda y, a, b: (div(1.0, b), -div(y, b)))                    # ∂/∂b = -a/b²
NEG = defop("neg", "−", 1, lambda x: -x, np.negative,
            lambda y, x: (-1.0,))
# Left to right from 0.0 in plain float additions (builtin sum() compensates from Python 3.12 on),
# so the batched replay, which adds rows in the same order, gives the same bits.
SUM = defop("sum", "Σ", None, lambda *xs: reduce(add, xs, 0.0), _batched_sum,
            lambda y, *xs: (1.0,) * len(xs))
# Powers come in three rows, as in PyTorch: which inputs are constants decides which partials
# exist, so x ** 2 never computes (or trips anomaly detection on) a log of its base.
POW = defop("pow", "^", 2, safe_pow, _batched_pow,
            lambda y, a, b: (power_rule(a, b), log_where_defined(y, a, b)))
POW_CONST = defop("pow_const", "^", 2, safe_pow, _batched_pow,                 # Value ** number
                  lambda y, a, b: (power_rule(a, b), 0.0))
RPOW_CONST = defop("rpow_const", "^", 2, safe_pow, _batched_pow,               # number ** Value
                   lambda y, a, b: (0.0, log_where_defined(y, a, b)))
defop("exp", "exp", 1, safe_exp, _quiet(np.exp),
      lambda y, x: (y,))                                             # (e^x)' = e^x
defop("log", "log", 1, safe_log, _quiet(np.log),
      lambda y, x: (div(1.0, x),))
defop("sqrt", "√", 1, safe_sqrt, _quiet(np.sqrt),
      lambda y, x: (div(0.5, y),))                                  # (√x)' = 1/(2√x)
ABS = defop("abs", "|x|", 1, abs, np.abs,
            lambda y, x: (sign(x),))
defop("tanh", "tanh", 1, math.tanh, np.tanh,
      lambda y, x: (1.0 - y * y,))                                  # f' = 1 - f²
defop("sigmoid", "σ", 1, stable_sigmoid, _batched_sigmoid,
      lambda y, x: (y * (1.0 - y),))                             # f' = f(1 - f)
defop("relu", "ReLU", 1, relu_forward, _batched_relu,
      lambda y, x: (positive(x),))
defop("step", "step", 1, step_forward, _batched_step,
      lambda y, x: (0.0,))
defop("arctan", "arctan", 1, math.atan, np.arctan,
      lambda y, x: (div(1.0, x * x + 1.0),))
defop("sin", "sin", 1, safe_sin, _quiet(np.sin),
      lambda y, x: (cos(x),))
defop("cos", "cos", 1, safe_cos, _quiet(np.cos),
      lambda y, x: (-sin(x),))
defop("softplus", "softplus", 1, stable_softplus, _batched_softplus,
      lambda y, x: (sigmoid(x),))
defop("log_sigmoid", "log σ", 1, stable_log_sigmoid, _batched_log_sigmoid,
      lambda y, x: (sigmoid(-x),))                           # = 1 - σ(x)
