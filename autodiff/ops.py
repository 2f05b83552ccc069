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
- `vjp(g, y, *inputs)`, where a row has one, gives the contributions g × ∂y/∂input itself, for
  the rows where multiplying by the local derivative would be wrong in floating point: a kink's
  flat branch passes no gradient at all (relu, step: even an infinite or nan gradient becomes 0,
  as PyTorch's threshold_backward does), and a derivative that is a quotient is evaluated as one
  (g / x, not g · (1/x), which overflows for a subnormal x). Without one, the contribution is
  g × local. Every engine (the scalar sweep, `gradients`, `jvp`, the batched replay) uses it.
- `notation` is the forward as a Python expression in the row's `inputs` ("a*b", "sigmoid(x)"),
  and `formulas` holds one Python expression per input for its local derivative, written with the
  output `y` and the inputs (sigmoid: "y*(1 - y)", mul: "b" and "a"), as a lecture writes them.
  `x > 0` in a formula means 1 where it holds and 0 elsewhere (an Iverson bracket). They are data
  for drawings, listings and derivations; the numeric rules above are what computes.
- Derivatives at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, step' = 0,
  ∂(a**b)/∂a = 0 where b == 0, and ∂(a**b)/∂b = 0 where a == 0 and b >= 0; relu passes the
  gradient at nan (PyTorch's relu'(nan) = 1) and abs'(nan) = 0 (PyTorch's sign(nan) = 0).
"""

from __future__ import annotations

import ast
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
    notation: str                        # the forward in `inputs`: "a*b", "sigmoid(x)"
    inputs: tuple[str, ...]              # the names notation and formulas give the inputs
    formulas: tuple[str, ...]            # one local derivative per input, in y and `inputs`
    vjp: Callable[..., tuple] | None     # (g, y, *inputs) -> contributions; None: g × local

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}


def defop(name: str, symbol: str, notation: str, forward: Callable, batched: Callable,
          local: Callable, formulas: tuple[str, ...], vjp: Callable | None = None) -> Op:
    """Add a row to the op table and return it; inputs and arity are read off `notation`.

    The n-ary sum is written "sum(xs)": one input name standing for any number of inputs.
    """
    if name in OPS:
        raise ValueError(f"op {name!r} is already defined")
    inputs = _free_names(notation)
    arity = None if notation.startswith("sum(") else len(inputs)
    if len(formulas) != len(inputs):
        raise ValueError(f"op {name!r} has {len(inputs)} inputs {inputs} but {len(formulas)} formulas")
    OPS[name] = op = Op(name, symbol, arity, forward, batched, local, notation, inputs,
                        tuple(formulas), vjp)
    return op


def _free_names(expression: str) -> tuple[str, ...]:
    """The variables of a Python expression in order of first use (called names are functions)."""
    tree = ast.parse(expression, mode="eval")
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called]
    return tuple(dict.fromkeys(node.id for node in sorted(names, key=lambda n: n.col_offset)))


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
    # One exponent for a whole array sends numpy down a shortcut (sqrt for 0.5) that differs from
    # C's pow, which `forward` follows: (-inf) ** 0.5 is nan there, not inf, and (-0.0) ** 0.5 is
    # -0.0, not 0.0. A full array of exponents takes the elementwise path.
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    with np.errstate(all="ignore"):
        return np.power(a, np.array(b))


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


def open_above_zero(y):
    """0 where y <= 0, else 1 (nan included): relu's derivative read off its output, as PyTorch's
    threshold_backward reads it. A constant of the derivative graph (its own derivative is 0)."""
    if isinstance(y, np.ndarray):
        return np.where(y <= 0.0, 0.0, 1.0)
    return 0.0 if y <= 0.0 else 1.0


def gate_above_zero(y, g):
    """g where y > 0 or y is nan, else exactly 0: a closed kink passes no gradient, not even inf or nan."""
    if isinstance(y, np.ndarray):
        return np.where(y <= 0.0, 0.0, g)
    return 0.0 if y <= 0.0 else g


def over_one_plus_square(g, x):
    """g / (1 + x²) as quotients that stay finite wherever it is: (g/x) / (x + 1/x) for |x| > 1,
    where x² would overflow (x = 1e200 with g = 1e300 gives 1e-100, not 0)."""
    if isinstance(x, np.ndarray) or isinstance(g, np.ndarray):
        with np.errstate(all="ignore"):
            return np.where(np.abs(x) <= 1.0, g / (x * x + 1.0), (g / x) / (x + 1.0 / x))
    if -1.0 <= x <= 1.0:
        return div(g, x * x + 1.0)
    return div(div(g, x), x + div(1.0, x))


def times_over_square(g, a, b):
    """g·a/b² as ((g/b)·a)/b, which stays finite for a subnormal b wherever the product is; where
    a == 0, as ((g·a)/b)/b, so that a g/b which overflowed never meets the 0 (inf · 0 is nan)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) or isinstance(g, np.ndarray):
        with np.errstate(all="ignore"):
            return np.where(a == 0.0, g * a / b / b, g / b * a / b)
    if float(a) == 0.0:
        return div(div(g * a, b), b)
    return div(div(g, b) * a, b)


def sign(x):
    """The sign of x (1, -1, 0; 0 for nan, as PyTorch's sign) as a constant of the derivative graph."""
    if isinstance(x, np.ndarray):
        return np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0))
    x = float(x)
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0


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
# The table: name, symbol and notation; the forward on floats and on arrays; the local derivatives
# as a rule and as formulas; and, where g × local is not the right product, the vjp.

ADD = defop("add", "+", "a + b", lambda a, b: a + b, _quiet(np.add),
            lambda y, a, b: (1.0, 1.0), ("1", "1"))
SUB = defop("sub", "−", "a - b", lambda a, b: a - b, _quiet(np.subtract),
            lambda y, a, b: (1.0, -1.0), ("1", "-1"))
MUL = defop("mul", "×", "a*b", lambda a, b: a * b, _quiet(np.multiply),
            lambda y, a, b: (b, a), ("b", "a"))
DIV = defop("div", "÷", "a/b", safe_div, _quiet(np.true_divide),
            lambda y, a, b: (div(1.0, b), -div(y, b)), ("1/b", "-y/b"),
            lambda g, y, a, b: (div(g, b), -times_over_square(g, a, b)))
NEG = defop("neg", "−", "-x", lambda x: -x, np.negative,
            lambda y, x: (-1.0,), ("-1",))
# Left to right from 0.0 in plain float additions (builtin sum() compensates from Python 3.12 on),
# so the batched replay, which adds rows in the same order, gives the same bits.
SUM = defop("sum", "Σ", "sum(xs)", lambda *xs: reduce(add, xs, 0.0), _batched_sum,
            lambda y, *xs: (1.0,) * len(xs), ("1",))
# Powers come in three rows, as in PyTorch: which inputs are constants decides which partials
# exist, so x ** 2 never computes (or trips anomaly detection on) a log of its base.
POW = defop("pow", "^", "a**b", safe_pow, _batched_pow,
            lambda y, a, b: (power_rule(a, b), log_where_defined(y, a, b)),
            ("b*a**(b - 1)", "y*log(a)"))
POW_CONST = defop("pow_const", "^", "a**c", safe_pow, _batched_pow,              # Value ** number
                  lambda y, a, c: (power_rule(a, c), 0.0), ("c*a**(c - 1)", "0"))
RPOW_CONST = defop("rpow_const", "^", "c**b", safe_pow, _batched_pow,            # number ** Value
                   lambda y, c, b: (0.0, log_where_defined(y, c, b)), ("0", "y*log(c)"))
defop("exp", "exp", "exp(x)", safe_exp, _quiet(np.exp),
      lambda y, x: (y,), ("y",))                                     # (e^x)' = e^x
defop("log", "log", "log(x)", safe_log, _quiet(np.log),
      lambda y, x: (div(1.0, x),), ("1/x",),
      lambda g, y, x: (div(g, x),))
defop("sqrt", "√", "sqrt(x)", safe_sqrt, _quiet(np.sqrt),
      lambda y, x: (div(0.5, y),), ("1/(2*y)",),                    # (√x)' = 1/(2√x)
      lambda g, y, x: (div(g, 2.0 * y),))
ABS = defop("abs", "|x|", "abs(x)", abs, np.abs,
            lambda y, x: (sign(x),), ("sign(x)",))
defop("tanh", "tanh", "tanh(x)", math.tanh, np.tanh,
      lambda y, x: (1.0 - y * y,), ("1 - y**2",))                  # f' = 1 - f²
defop("sigmoid", "σ", "sigmoid(x)", stable_sigmoid, _batched_sigmoid,
      lambda y, x: (y * (1.0 - y),), ("y*(1 - y)",))               # f' = f(1 - f)
defop("relu", "ReLU", "relu(x)", relu_forward, _batched_relu,
      lambda y, x: (open_above_zero(y),), ("x > 0",),
      lambda g, y, x: (gate_above_zero(y, g),))
defop("step", "step", "step(x)", step_forward, _batched_step,
      lambda y, x: (0.0,), ("0",),
      lambda g, y, x: (0.0,))                                     # flat: not even nan passes
defop("arctan", "arctan", "arctan(x)", math.atan, np.arctan,
      lambda y, x: (div(1.0, x * x + 1.0),), ("1/(x**2 + 1)",),
      lambda g, y, x: (over_one_plus_square(g, x),))
defop("sin", "sin", "sin(x)", safe_sin, _quiet(np.sin),
      lambda y, x: (cos(x),), ("cos(x)",))
defop("cos", "cos", "cos(x)", safe_cos, _quiet(np.cos),
      lambda y, x: (-sin(x),), ("-sin(x)",))
defop("softplus", "softplus", "softplus(x)", stable_softplus, _batched_softplus,
      lambda y, x: (sigmoid(x),), ("sigmoid(x)",))
defop("log_sigmoid", "log σ", "log_sigmoid(x)", stable_log_sigmoid, _batched_log_sigmoid,
      lambda y, x: (sigmoid(-x),), ("sigmoid(-x)",))                # = 1 - σ(x)
