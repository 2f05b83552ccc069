"""Formulas as a lecture writes them: the op table's formula strings parsed, filled in and printed.

The op table writes each forward (`notation`) and each local derivative (`formulas`) as a Python
expression in the op's output `y` and its inputs: sigmoid's derivative is "y*(1 - y)", a power's is
"c*a**(c - 1)", and "x > 0" is an Iverson bracket (1 where it holds, 0 elsewhere). This module parses
such a string into a small tree (arithmetic, powers, one comparison and the table's own functions;
nothing else is accepted), puts names or numbers in for its variables, folds what constants make
trivial (c·a^(c−1) at c = 2 is 2·a), and prints it the way a lecture does: products juxtaposed where
a lecture juxtaposes them, `·` elsewhere, minus as −, small integer powers as superscripts.

>>> render(substitute(parse("y*(1 - y)"), {"y": Name("out_o1")}))
'out_o1(1 − out_o1)'
>>> render(local_formula(OPS["pow_const"], 0, Name("n1"), [Name("x"), Num(2.0)]))
'2·x'
>>> evaluate(parse("x > 0"), {"x": -1.5})
0.0

Trees also print as LaTeX (`render(tree, latex=True)`) and convert to and from sympy
(`to_sympy`, `from_sympy`) when sympy is installed; nothing here imports sympy until asked to.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence, Union

from . import ops
from .arguments import check_int, check_number
from .ops import OPS, Op
from .value import Value

# ---------------------------------------------------------------------------------------------
# The tree


@dataclass(frozen=True, slots=True)
class Num:
    """A number written in a formula or a constant of the graph; arithmetic on numbers folds."""

    value: float


@dataclass(frozen=True, slots=True)
class Name:
    """A variable of a formula, or a node by its name; `shown` is how an expression-named node prints."""

    name: str
    shown: Expr | None = None


@dataclass(frozen=True, slots=True)
class Known:
    """A node's value written in place of its name: printed as a number, never folded."""

    value: float


@dataclass(frozen=True, slots=True)
class Neg:
    """−arg."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Add:
    """A sum; a subtraction is the sum with a Neg term."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Mul:
    """A product."""

    factors: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Factors:
    """A product written factor by factor with · between them, as a chain of derivatives is."""

    factors: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Div:
    """num / den."""

    num: Expr
    den: Expr


@dataclass(frozen=True, slots=True)
class Pow:
    """base ** exponent."""

    base: Expr
    exponent: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """One of the table's functions applied to one argument: sigmoid(x), log(x)."""

    fn: str
    arg: Expr


@dataclass(frozen=True, slots=True)
class Bracket:
    """The Iverson bracket [left op right]: 1 where the comparison holds, else 0."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Printed:
    """Text already printed in Unicode, with how it binds, begins and ends (see `piece`)."""

    piece: tuple


Expr = Union[Num, Name, Known, Neg, Add, Mul, Factors, Div, Pow, Call, Bracket, Printed]

# the functions a formula may call, each on floats
FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": ops.safe_exp, "log": ops.safe_log, "sqrt": ops.safe_sqrt, "sin": ops.safe_sin,
    "cos": ops.safe_cos, "tanh": math.tanh, "sigmoid": ops.stable_sigmoid, "relu": ops.relu_forward,
    "step": ops.step_forward, "arctan": math.atan, "softplus": ops.stable_softplus,
    "log_sigmoid": ops.stable_log_sigmoid, "sign": ops.sign, "abs": abs,
}
_COMPARISONS = {ast.Gt: ">", ast.GtE: "≥", ast.Lt: "<", ast.LtE: "≤"}
_TESTS = {">": float.__gt__, "≥": float.__ge__, "<": float.__lt__, "≤": float.__le__}


# ---------------------------------------------------------------------------------------------
# Parsing: Python syntax in, a tree out; only whitelisted nodes

def parse(text: str) -> Expr:
    """The tree of a formula written in Python syntax; anything but arithmetic, `**`, one
    comparison and the functions in `FUNCTIONS` is a ValueError naming what was found.

    >>> parse("-y/b")
    Div(num=Neg(arg=Name(name='y', shown=None)), den=Name(name='b', shown=None))
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a formula as a str, got {type(text).__name__} {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"formula {text!r} is not a Python expression: {error.msg}") from None
    return _convert(tree.body, text)


def _convert(node: ast.AST, text: str) -> Expr:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Num(float(node.value))
    if isinstance(node, ast.Name):
        return Name(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        arg = _convert(node.operand, text)
        return Neg(arg) if isinstance(node.op, ast.USub) else arg
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
        left, right = _convert(node.left, text), _convert(node.right, text)
        if isinstance(node.op, ast.Add):
            return Add(_flat(Add, (left, right)))
        if isinstance(node.op, ast.Sub):
            return Add(_flat(Add, (left, Neg(right))))
        if isinstance(node.op, ast.Mult):
            return Mul(_flat(Mul, (left, right)))
        return Div(left, right) if isinstance(node.op, ast.Div) else Pow(left, right)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords
            and len(node.args) == 1 and (node.func.id in FUNCTIONS or node.func.id == "sum")):
        return Call(node.func.id, _convert(node.args[0], text))
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS):
        return Bracket(_COMPARISONS[type(node.ops[0])], _convert(node.left, text),
                       _convert(node.comparators[0], text))
    shown = ast.get_source_segment(text.strip(), node) or type(node).__name__
    raise ValueError(f"formula {text!r} uses {shown!r}, which a formula may not: only numbers, names, "
                     f"+ - * / **, one comparison and the functions {', '.join(sorted(FUNCTIONS))}")


def _flat(kind, items) -> tuple:
    """Nested sums (or products) as one: (a + b) + c has the terms a, b, c."""
    out = []
    for item in items:
        out.extend(item.terms if kind is Add and isinstance(item, Add)
                   else item.factors if kind is Mul and isinstance(item, Mul) else (item,))
    return tuple(out)


def names_in(tree: Expr) -> set[str]:
    """The variable names a tree uses (not those inside a `shown` node)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        e = stack.pop()
        if isinstance(e, Name):
            found.add(e.name)
        else:
            stack.extend(_children(e))
    return found


def functions_in(tree: Expr) -> set[str]:
    """The functions a tree calls."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        e = stack.pop()
        if isinstance(e, Call):
            found.add(e.fn)
        stack.extend(_children(e))
    return found


def _children(e: Expr) -> tuple:
    if isinstance(e, (Add,)):
        return e.terms
    if isinstance(e, (Mul, Factors)):
        return e.factors
    if isinstance(e, Neg):
        return (e.arg,)
    if isinstance(e, Div):
        return (e.num, e.den)
    if isinstance(e, Pow):
        return (e.base, e.exponent)
    if isinstance(e, Call):
        return (e.arg,)
    if isinstance(e, Bracket):
        return (e.left, e.right)
    return ()


def size(tree: Expr) -> int:
    """How many nodes the tree has (a `shown` expression counts as one)."""
    count, stack = 0, [tree]
    while stack:
        e = stack.pop()
        count += 1
        stack.extend(_children(e))
    return count


# ---------------------------------------------------------------------------------------------
# Filling in and tidying

def substitute(tree: Expr, env: Mapping[str, Expr]) -> Expr:
    """The tree with every Name found in env replaced by env's tree (nothing is re-tidied)."""
    if isinstance(tree, Name):
        return env.get(tree.name, tree) if tree.shown is None else tree
    if isinstance(tree, (Num, Known, Printed)):
        return tree
    if isinstance(tree, Add):
        return Add(tuple(substitute(t, env) for t in tree.terms))
    if isinstance(tree, (Mul, Factors)):
        return type(tree)(tuple(substitute(f, env) for f in tree.factors))
    if isinstance(tree, Neg):
        return Neg(substitute(tree.arg, env))
    if isinstance(tree, Div):
        return Div(substitute(tree.num, env), substitute(tree.den, env))
    if isinstance(tree, Pow):
        return Pow(substitute(tree.base, env), substitute(tree.exponent, env))
    if isinstance(tree, Call):
        return Call(tree.fn, substitute(tree.arg, env))
    return Bracket(tree.op, substitute(tree.left, env), substitute(tree.right, env))


def tidy(tree: Expr) -> Expr:
    """The tree with the arithmetic of its numbers done, as a hand derivation would write it.

    Numbers fold (2 − 1 is 1), products gather their numbers in front (·1 goes, ·0 is 0, ·(−1) is
    a leading −), x^1 is x, sums drop 0 and keep their order, t·(1/y) is t/y. Names and Known
    values are never folded, so y(1 − y) stays as written.

    >>> render(tidy(parse("0.5*2*(t - y)*(-1)")))
    '−(t − y)'
    """
    if isinstance(tree, (Num, Name, Known)):
        return tree
    if isinstance(tree, Neg):
        arg = tidy(tree.arg)
        if isinstance(arg, Num):
            return Num(-arg.value)
        return arg.arg if isinstance(arg, Neg) else Neg(arg)
    if isinstance(tree, Add):
        return _tidy_sum([tidy(t) for t in tree.terms])
    if isinstance(tree, Mul):
        return _tidy_product([tidy(f) for f in tree.factors])
    if isinstance(tree, Factors):
        factors = [f for f in map(tidy, tree.factors) if not (isinstance(f, Num) and f.value == 1.0)]
        if len(factors) < 2:
            return factors[0] if factors else Num(1.0)
        first = factors[0]
        if isinstance(first, Neg) or (isinstance(first, Num) and first.value < 0):
            # −a·b·c: the sign in front of the product, so a sum writes it as a subtraction
            factors[0] = first.arg if isinstance(first, Neg) else Num(-first.value)
            return Neg(Factors(tuple(factors)))
        return Factors(tuple(factors))
    if isinstance(tree, Div):
        num, den = tidy(tree.num), tidy(tree.den)
        if isinstance(den, Num) and den.value == 1.0:
            return num
        if isinstance(num, Num) and isinstance(den, Num) and den.value != 0.0:
            return Num(num.value / den.value)
        if isinstance(num, Neg):
            return Neg(Div(num.arg, den))
        if isinstance(num, Num) and num.value < 0:
            return Neg(Div(Num(-num.value), den))
        return Div(num, den)
    if isinstance(tree, Pow):
        base, exponent = tidy(tree.base), tidy(tree.exponent)
        if isinstance(exponent, Num):
            if exponent.value == 1.0:
                return base
            if exponent.value == 0.0:
                return Num(1.0)
            if isinstance(base, Num):
                return Num(ops.safe_pow(base.value, exponent.value))
        return Pow(base, exponent)
    if isinstance(tree, Call):
        return Call(tree.fn, tidy(tree.arg))
    left, right = tidy(tree.left), tidy(tree.right)
    if isinstance(left, Num) and isinstance(right, Num):
        return Num(1.0 if _TESTS[tree.op](left.value, right.value) else 0.0)
    return Bracket(tree.op, left, right)


def _tidy_sum(terms: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for t in terms:
        flat.extend(t.terms if isinstance(t, Add) else (t,))
    numbers = [t.value for t in flat if isinstance(t, Num)]
    if len(numbers) > 1:  # gathered where the first number stood
        first = next(i for i, t in enumerate(flat) if isinstance(t, Num))
        flat = [t for i, t in enumerate(flat) if not isinstance(t, Num) or i == first]
        flat[flat.index(next(t for t in flat if isinstance(t, Num)))] = Num(math.fsum(numbers))
    flat = [t for t in flat if not (isinstance(t, Num) and t.value == 0.0)]
    if not flat:
        return Num(0.0)
    if len(flat) == 1:
        return flat[0]
    return Add(tuple(flat))


def _tidy_product(factors: list[Expr]) -> Expr:
    coefficient, rest, denominators = 1.0, [], []
    pending = list(factors)
    while pending:
        f = pending.pop(0)
        if isinstance(f, Num):
            coefficient *= f.value
        elif isinstance(f, Neg):
            coefficient = -coefficient
            pending.insert(0, f.arg)
        elif isinstance(f, Mul):
            pending[:0] = f.factors
        elif isinstance(f, Div):
            denominators.append(f.den)
            pending.insert(0, f.num)
        else:
            rest.append(f)
    if coefficient == 0.0:
        return Num(0.0)
    negative = coefficient < 0.0
    magnitude = abs(coefficient)
    if magnitude != 1.0 or not rest:
        rest.insert(0, Num(magnitude))
    product = rest[0] if len(rest) == 1 else Mul(tuple(rest))
    if denominators:
        product = Div(product, denominators[0] if len(denominators) == 1 else Mul(tuple(denominators)))
    return Neg(product) if negative else product


# ---------------------------------------------------------------------------------------------
# Evaluating

def evaluate(tree: Expr, env: Mapping[str, float]) -> float:
    """The tree's value with env's numbers for its names, in IEEE arithmetic (never raising)."""
    if isinstance(tree, (Num, Known)):
        return tree.value
    if isinstance(tree, Name):
        if tree.name in env:
            return float(env[tree.name])
        if tree.shown is not None:
            return evaluate(tree.shown, env)
        raise KeyError(f"formula uses {tree.name!r}, which has no value")
    if isinstance(tree, Neg):
        return -evaluate(tree.arg, env)
    if isinstance(tree, Add):
        return math.fsum(evaluate(t, env) for t in tree.terms)
    if isinstance(tree, (Mul, Factors)):
        product = 1.0
        for f in tree.factors:
            product *= evaluate(f, env)
        return product
    if isinstance(tree, Div):
        return ops.safe_div(evaluate(tree.num, env), evaluate(tree.den, env))
    if isinstance(tree, Pow):
        return ops.safe_pow(evaluate(tree.base, env), evaluate(tree.exponent, env))
    if isinstance(tree, Call):
        return float(FUNCTIONS[tree.fn](evaluate(tree.arg, env)))
    return 1.0 if _TESTS[tree.op](evaluate(tree.left, env), evaluate(tree.right, env)) else 0.0


# ---------------------------------------------------------------------------------------------
# The op table's formulas, parsed once

@lru_cache(maxsize=None)
def _parsed(text: str) -> Expr:
    return parse(text)


def notation(op: Op) -> Expr:
    """The tree of an op's forward in its input names ("a*b", "sigmoid(x)")."""
    return _parsed(op.notation)


def definition(op: Op, inputs: Sequence[Expr]) -> Expr:
    """The op applied to these input trees: mul on (w5, out_h1) is w5·out_h1; the n-ary sum adds them."""
    if op.arity is None:
        return Add(tuple(inputs)) if inputs else Num(0.0)   # Σ of nothing is 0
    return substitute(notation(op), dict(zip(op.inputs, inputs)))


def local_formula(op: Op, k: int, y: Expr, inputs: Sequence[Expr]) -> Expr:
    """∂y/∂(input k) as the op table writes it, with y and the inputs filled in and constants folded.

    An input that is a `Num` (a constant of the graph) folds into the formula; any other tree is
    put in as it is, so a node's name is never rewritten.
    """
    return local_formulas(op, y, inputs)[k]


def local_formulas(op: Op, y: Expr, inputs: Sequence[Expr]) -> list[Expr]:
    """`local_formula` for every input at once."""
    if op.arity is None:  # the n-ary sum: ∂/∂ each input is 1
        return [_template(op.name, 0, ())] * len(inputs)
    constants = tuple(x.value if isinstance(x, Num) else None for x in inputs)
    env = {"y": y}
    env.update((name, x) for name, x in zip(op.inputs, inputs) if not isinstance(x, Num))
    out = []
    for k in range(len(inputs)):
        template = _template(op.name, k, constants)
        out.append(template if isinstance(template, Num) else substitute(template, env))
    return out


@lru_cache(maxsize=4096)
def _template(op_name: str, k: int, constants: tuple) -> Expr:
    op = OPS[op_name]
    folded = {name: Num(c) for name, c in zip(op.inputs, constants) if c is not None}
    return tidy(substitute(_parsed(op.formulas[k]), folded))


# ---------------------------------------------------------------------------------------------
# Printing

# How tightly a printed piece binds. A quotient binds like a product except that a factor after
# it would read as part of its denominator, so it is parenthesised when it is not the last factor.
SUM, PRODUCT, QUOTIENT, NEG, POWER, ATOM = 1, 2, 3, 4, 5, 6

# How a printed piece begins and ends decides whether a product juxtaposes it with its neighbour,
# as a lecture does: y(1 − y), (t − y)x1, 2(1 − y), but w3·i1 and 2·x. A piece is the tuple
# (text, binding, how it begins, how it ends).
_OPEN, _CLOSE, _CALL, _NAME, _NUMBER, _MINUS, _NEGATIVE, _OTHER = (
    "open", "close", "call", "name", "number", "minus", "negative", "other")
_SIGNED = (_MINUS, _NEGATIVE)

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_UNICODE_CALLS = {"sigmoid": "σ", "log_sigmoid": "log σ", "relu": "ReLU"}
_LATEX_CALLS = {"sigmoid": r"\sigma", "log_sigmoid": r"\log\sigma", "relu": r"\operatorname{ReLU}",
                "exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                "arctan": r"\arctan", "softplus": r"\operatorname{softplus}",
                "step": r"\operatorname{step}", "sign": r"\operatorname{sign}"}
_LATEX_TESTS = {">": ">", "≥": r"\geq", "<": "<", "≤": r"\leq"}


MAX_DIGITS = 50  # format_number's digits: more decimals than any float has digits


def format_number(x: float, digits: int = 9) -> str:
    """A number as the lecture prints it: `digits` decimals, trailing zeros dropped.

    A nonzero number too small for that many decimals keeps `digits` significant digits instead,
    so a gradient of 1e-5 never shows as 0; so does a number of 16 digits or more before the
    point, whose later digits are not the float's (1e300 is not written with 301 digits).

    >>> format_number(0.7413650695523157), format_number(0.4), format_number(-1.5e-12)
    ('0.74136507', '0.4', '-1.5e-12')
    >>> format_number(123456789.5), format_number(1e300)
    ('123456789.5', '1e+300')
    """
    if type(x) is not float:
        x = x.data if isinstance(x, Value) else check_number(x, "format_number() x")
    if type(digits) is not int or not 0 <= digits <= MAX_DIGITS:
        check_int(digits, "format_number() digits", low=0, high=MAX_DIGITS)
    if x != x or x in (math.inf, -math.inf):
        return repr(x)
    if not -1e15 < x < 1e15:
        return f"{x:.{digits}g}"
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0") and x != 0.0:
        return f"{x:.{digits}g}"
    return "0" if text == "-0" else text


class _Printer:
    """Prints pieces in Unicode, the lecture's way; `_Latex` changes what LaTeX writes otherwise."""

    minus = "−"
    times = "·"
    juxtaposed = ""

    def __init__(self, number: Callable[[float], str] = format_number):
        self.number_text = number

    # -- what differs between Unicode and LaTeX -----------------------------------------------
    def paren(self, text: str) -> str:
        return f"({text})"

    def name(self, name: str) -> tuple:
        return (name, ATOM, _NAME, _NAME)

    def fraction(self, num: tuple, den: tuple) -> tuple:
        num_text = num[0] if num[1] > SUM else self.paren(num[0])
        den_text = den[0] if den[1] >= POWER and den[2] not in _SIGNED else self.paren(den[0])
        return (f"{num_text}/{den_text}", QUOTIENT, num[2] if num_text is num[0] else _OPEN,
                _CLOSE if den_text is not den[0] else den[3])

    def raised(self, base: str, exponent: tuple, integer: int | None) -> tuple:
        if integer is not None and abs(integer) < 100:
            return (base + str(integer).translate(_SUPERSCRIPT), POWER, _OTHER, _OTHER)
        text = exponent[0] if exponent[1] == ATOM and exponent[2] not in _SIGNED else self.paren(exponent[0])
        return (f"{base}^{text}", POWER, _OTHER, _OTHER)

    def call(self, fn: str, arg: tuple) -> tuple:
        if fn == "abs":
            return (f"|{arg[0]}|", ATOM, _OTHER, _OTHER)
        if fn == "sqrt":
            inner = arg[0] if arg[1] == ATOM and arg[2] not in _SIGNED else self.paren(arg[0])
            return (f"√{inner}", ATOM, _OTHER, _OTHER)
        return (f"{_UNICODE_CALLS.get(fn, fn)}({arg[0]})", ATOM, _NAME, _CALL)

    def bracket(self, op: str, left: tuple, right: tuple) -> tuple:
        return (f"[{left[0]} {op} {right[0]}]", ATOM, _OTHER, _OTHER)

    # -- the rules both share -------------------------------------------------------------------
    def number(self, value: float) -> tuple:
        if value < 0:
            return (self.minus + self.number_text(-value), NEG, _NEGATIVE, _NUMBER)
        return (self.number_text(value), ATOM, _NUMBER, _NUMBER)

    def neg(self, arg: tuple) -> tuple:
        if arg[1] >= PRODUCT and arg[2] not in _SIGNED:
            return (self.minus + arg[0], NEG, _MINUS, arg[3])
        return (self.minus + self.paren(arg[0]), NEG, _MINUS, _CLOSE)

    def sum(self, parts: Sequence[tuple[bool, tuple]]) -> tuple:
        """parts: (subtracted, piece) per term; a negative number added is written as a subtraction."""
        texts = []
        for i, (subtracted, p) in enumerate(parts):
            if p[2] == _NEGATIVE and not subtracted and i > 0:
                subtracted, p = True, (p[0][len(self.minus):], ATOM, _NUMBER, _NUMBER)
            if i == 0:
                texts.append(self.neg(p)[0] if subtracted else p[0])
            elif subtracted:
                wrap = p[1] < PRODUCT or p[2] in _SIGNED
                texts.append(f" {self.minus} {self.paren(p[0]) if wrap else p[0]}")
            else:
                texts.append(f" + {self.paren(p[0]) if p[2] in _SIGNED else p[0]}")
        first = parts[0]
        return ("".join(texts), SUM, _MINUS if first[0] else first[1][2], parts[-1][1][3])

    def product(self, pieces: Sequence[tuple]) -> tuple:
        text, first, last = "", _OTHER, _OTHER
        final = len(pieces) - 1
        for i, p in enumerate(pieces):
            if p[1] <= SUM or (i > 0 and (p[1] == NEG or p[2] in _SIGNED)) or (p[1] == QUOTIENT and i < final):
                p = (self.paren(p[0]), ATOM, _OPEN, _CLOSE)
            if i == 0:
                text, first = p[0], p[2]
            else:
                text += self.joint(last, p[2]) + p[0]
            last = p[3]
        return (text, PRODUCT, first, last)

    def factors(self, pieces: Sequence[tuple]) -> tuple:
        texts = []
        final = len(pieces) - 1
        for i, p in enumerate(pieces):
            wrap = p[1] <= SUM or (i > 0 and (p[1] == NEG or p[2] in _SIGNED)) or (p[1] == QUOTIENT and i < final)
            texts.append(self.paren(p[0]) if wrap else p[0])
        first, last = pieces[0], pieces[-1]
        return (self.times.join(texts), PRODUCT, _OPEN if texts[0] is not first[0] else first[2],
                _CLOSE if texts[-1] is not last[0] else last[3])

    def joint(self, left_ends: str, right_begins: str) -> str:
        # σ(x)(1 − σ(x)) as the lecture writes it, but σ(x)·y: a name after a call would read as its argument
        if right_begins == _OPEN and left_ends in (_NAME, _NUMBER, _CLOSE, _CALL):
            return self.juxtaposed
        if left_ends == _CLOSE and right_begins in (_NAME, _OTHER):
            return self.juxtaposed
        return self.times

    def power(self, base: tuple, exponent: tuple, integer: int | None) -> tuple:
        simple = base[1] == ATOM and base[2] not in _SIGNED and base[3] != _OTHER
        out = self.raised(base[0] if simple else self.paren(base[0]), exponent, integer)
        return (out[0], POWER, base[2] if simple else _OPEN, out[3])

    def piece(self, e: Expr) -> tuple:
        """(text, binding, how it begins, how it ends) of a tree."""
        if isinstance(e, Printed):
            return e.piece
        if isinstance(e, Name):
            return self.piece(e.shown) if e.shown is not None else self.name(e.name)
        if isinstance(e, (Num, Known)):
            return self.number(e.value)
        if isinstance(e, Add):
            return self.sum([(True, self.piece(t.arg)) if isinstance(t, Neg) else (False, self.piece(t))
                             for t in e.terms])
        if isinstance(e, Mul):
            return self.product([self.piece(f) for f in e.factors])
        if isinstance(e, Factors):
            return self.factors([self.piece(f) for f in e.factors])
        if isinstance(e, Neg):
            return self.neg(self.piece(e.arg))
        if isinstance(e, Div):
            return self.fraction(self.piece(e.num), self.piece(e.den))
        if isinstance(e, Pow):
            return self.power(self.piece(e.base), self.piece(e.exponent), _integer(e.exponent))
        if isinstance(e, Call):
            return self.call(e.fn, self.piece(e.arg))
        return self.bracket(e.op, self.piece(e.left), self.piece(e.right))


def _integer(e: Expr) -> int | None:
    if isinstance(e, Num) and math.isfinite(e.value) and e.value == int(e.value):
        return int(e.value)
    return None


class _Latex(_Printer):
    minus = "-"
    times = r" \cdot "
    juxtaposed = " "

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def name(self, name: str) -> tuple:
        return (latex_name(name), ATOM, _NAME, _NAME)

    def fraction(self, num: tuple, den: tuple) -> tuple:
        return (rf"\frac{{{num[0]}}}{{{den[0]}}}", ATOM, _OTHER, _OTHER)

    def raised(self, base: str, exponent: tuple, integer: int | None) -> tuple:
        return (f"{base}^{{{exponent[0]}}}", POWER, _OTHER, _OTHER)

    def call(self, fn: str, arg: tuple) -> tuple:
        if fn == "abs":
            return (rf"\left|{arg[0]}\right|", ATOM, _OTHER, _OTHER)
        if fn == "sqrt":
            return (rf"\sqrt{{{arg[0]}}}", ATOM, _OTHER, _OTHER)
        return (rf"{_LATEX_CALLS[fn]}{self.paren(arg[0])}", ATOM, _NAME, _CALL)

    def bracket(self, op: str, left: tuple, right: tuple) -> tuple:
        return (rf"\left[{left[0]} {_LATEX_TESTS[op]} {right[0]}\right]", ATOM, _OTHER, _OTHER)


_UNICODE, _LATEX = _Printer(), _Latex()


def render(tree: Expr, *, latex: bool = False, number: Callable[[float], str] | None = None) -> str:
    r"""The tree as a lecture writes it (Unicode), or as LaTeX; numbers through `number`.

    >>> render(parse("1 - y**2")), render(parse("x > 0")), render(parse("1/(x**2 + 1)"))
    ('1 − y²', '[x > 0]', '1/(x² + 1)')
    >>> print(render(parse("y*(1 - y)"), latex=True))
    y \left(1 - y\right)
    """
    printer = _LATEX if latex else _UNICODE
    if number is not None:
        printer = type(printer)(number)
    return printer.piece(tree)[0]


def piece(tree: Expr) -> tuple:
    """The tree printed in Unicode as (text, binding, how it begins, how it ends): what a larger
    expression needs to put it in its place without printing it again (wrap it in `Printed`).

    >>> render(Mul((Printed(piece(parse("a + b"))), Name("c"))))
    '(a + b)c'
    """
    return _UNICODE.piece(tree)


def name_piece(name: str) -> tuple:
    """The piece of a name that reads as one symbol."""
    return (name, ATOM, _NAME, _NAME)


@lru_cache(maxsize=1024)
def number_piece(value: float) -> tuple:
    """The piece of a number."""
    return _UNICODE.number(value)


def definition_piece(op: Op, inputs: Sequence[tuple]) -> tuple:
    """The piece of an op applied to printed inputs: a node's expression name, built fast.

    Each row's notation is compiled once into a function of its inputs' pieces, so naming a node
    prints only the op itself, never its operands again.
    """
    if op.arity is None:
        if not inputs:
            return number_piece(0.0)   # Σ of nothing is 0
        return _UNICODE.sum([(False, p) for p in inputs])
    compiled = _COMPILED.get(op)
    if compiled is None:
        compiled = _COMPILED[op] = _compile(op)
    return compiled(inputs)


_COMPILED: dict[Op, Callable[[Sequence[tuple]], tuple]] = {}


def _compile(op: Op) -> Callable[[Sequence[tuple]], tuple]:
    printer = _UNICODE

    def build(e: Expr) -> Callable:
        if isinstance(e, Name):
            k = op.inputs.index(e.name)
            return lambda inputs: inputs[k]
        if isinstance(e, Num):
            fixed = printer.number(e.value)
            return lambda inputs: fixed
        if isinstance(e, Add):
            parts = [(True, build(t.arg)) if isinstance(t, Neg) else (False, build(t)) for t in e.terms]
            return lambda inputs: printer.sum([(minus, f(inputs)) for minus, f in parts])
        if isinstance(e, Mul):
            factors = [build(f) for f in e.factors]
            return lambda inputs: printer.product([f(inputs) for f in factors])
        if isinstance(e, Neg):
            arg = build(e.arg)
            return lambda inputs: printer.neg(arg(inputs))
        if isinstance(e, Div):
            num, den = build(e.num), build(e.den)
            return lambda inputs: printer.fraction(num(inputs), den(inputs))
        if isinstance(e, Pow):
            base, exponent = build(e.base), build(e.exponent)
            if isinstance(e.exponent, Name):
                # a constant exponent (x ** 2) prints as a superscript when it is a small integer
                k = op.inputs.index(e.exponent.name)

                def power(inputs):
                    ex = inputs[k]
                    return printer.power(base(inputs), ex, _printed_integer(ex, printer.minus))
                return power
            return lambda inputs: printer.power(base(inputs), exponent(inputs), _integer(e.exponent))
        if isinstance(e, Call):
            arg = build(e.arg)
            return lambda inputs: printer.call(e.fn, arg(inputs))
        left, right = build(e.left), build(e.right)
        return lambda inputs: printer.bracket(e.op, left(inputs), right(inputs))

    return build(notation(op))


def _printed_integer(p: tuple, minus: str) -> int | None:
    """The integer a printed piece is, if it is a printed number that is one (2, −1); else None."""
    if not ((p[1] == ATOM and p[2] == _NUMBER == p[3]) or (p[1] == NEG and p[2] == _NEGATIVE)):
        return None
    try:
        value = float(p[0].replace(minus, "-"))
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def atomic(name: str) -> bool:
    """True for a name that reads as one symbol after ∂ (out_o1, y₁⁽²⁾, n7, σ(n3)); False for one that
    needs parentheses (w5·out_h1, and x², which would read as a second derivative)."""
    bare = re.sub("⁽[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*⁾", "", name)
    if bare and all((c.isalnum() and c not in _SUPERSCRIPT_DIGITS) or c in "_'′" for c in bare):
        return True
    head, paren, rest = name.partition("(")
    if paren and head and all(c.isalnum() or c == "_" for c in head) and rest.endswith(")"):
        depth = 1
        for c in rest[:-1]:
            depth += (c == "(") - (c == ")")
            if depth == 0:
                return False
        return True
    return False


_SUPERSCRIPT_DIGITS = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def partial(top: str, bottom: str) -> str:
    """'∂E/∂w5', with a name that is an expression in parentheses: '∂(w5·out_h1)/∂w5'."""
    def wrapped(name):
        return name if atomic(name) else f"({name})"
    return f"∂{wrapped(top)}/∂{wrapped(bottom)}"


_GREEK = {chr(0x3B1 + i): "\\" + word for i, word in enumerate(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi o pi rho varsigma sigma tau "
    "upsilon phi chi psi omega".split())}
_GREEK.update({"Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi",
               "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega"})
_GREEK["ο"] = "o"
_LATEX_NAME = re.compile("(?P<base>[A-Za-z]+|[" + "".join(_GREEK) + "]+)"
                         r"(?:(?P<digits>[0-9]+)|_(?P<word>[A-Za-z0-9]+)|(?P<low>[₀-₉]+))?"
                         "(?P<high>[⁽⁾⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)?")
_FROM_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_FROM_SUPERSCRIPT = str.maketrans("⁽⁾⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "()0123456789-")
_LATEX_SPECIAL = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%",
                  "&": r"\&", "~": r"\~{}", "^": r"\^{}", "_": r"\_"}


def latex_name(name: str) -> str:
    """A node's name as LaTeX, the lecture's way: x1 → x_{1}, out_o1 → out_{o1}, y₁⁽²⁾ → y_{1}^{(2)},
    δ → \\delta; any other name is escaped and set upright.

    >>> latex_name("E_total"), latex_name("w5"), latex_name("y₁⁽²⁾"), latex_name("w3·i1")
    ('E_{total}', 'w_{5}', 'y_{1}^{(2)}', '\\\\mathrm{w3·i1}')
    """
    match = _LATEX_NAME.fullmatch(name)
    if not match:
        return r"\mathrm{" + "".join(_LATEX_SPECIAL.get(c, c) for c in name) + "}"
    base = match["base"]
    text = " ".join(_GREEK[c] for c in base) if base[0] in _GREEK else base
    low = match["digits"] or match["word"] or (match["low"] or "").translate(_FROM_SUBSCRIPT)
    if low:
        text += f"_{{{low}}}"
    if match["high"]:
        text += f"^{{{match['high'].translate(_FROM_SUPERSCRIPT)}}}"
    return text


# ---------------------------------------------------------------------------------------------
# sympy, when installed

def sympy_available() -> bool:
    """True when sympy can be imported (the `extras` install has it)."""
    try:
        import sympy  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=None)
def _sympy_functions() -> dict:
    """The table's functions sympy lacks, as sympy functions that keep their name and evaluate on numbers."""
    import sympy

    def opaque(name, numeric, derivative, latex):
        def eval_(cls, x):
            if x.is_Number:
                return sympy.Float(numeric(float(x)))
            return None

        def fdiff(self, argindex=1):
            return derivative(self.args[0], self)

        def _latex(self, printer, exp=None):
            text = rf"{latex}\left({printer._print(self.args[0])}\right)"
            return f"{text}^{{{printer._print(exp)}}}" if exp is not None else text

        return type(name, (sympy.Function,), {"eval": classmethod(eval_), "fdiff": fdiff, "_latex": _latex})

    sigmoid = opaque("sigmoid", ops.stable_sigmoid, lambda x, y: y * (1 - y), r"\sigma")
    return {
        "sigmoid": sigmoid,
        "relu": opaque("relu", ops.relu_forward, lambda x, y: sympy.Piecewise((1, x > 0), (0, True)),
                       r"\operatorname{ReLU}"),
        "step": opaque("step", ops.step_forward, lambda x, y: sympy.Integer(0), r"\operatorname{step}"),
        "softplus": opaque("softplus", ops.stable_softplus, lambda x, y: sigmoid(x), r"\operatorname{softplus}"),
        "log_sigmoid": opaque("log_sigmoid", ops.stable_log_sigmoid, lambda x, y: sigmoid(-x), r"\log\sigma"),
    }


def to_sympy(tree: Expr, symbol: Callable[[Name], object] | None = None):
    """The tree as a sympy expression; a Name becomes symbol(name) (by default Symbol(name.name)).

    Numbers become exact rationals of their shortest decimal (0.01 is 1/100), so ½·2 is 1.
    """
    import sympy
    extra = _sympy_functions()
    symbol = symbol or (lambda n: sympy.Symbol(n.name))

    def convert(e):
        if isinstance(e, (Num, Known)):
            v = e.value
            if math.isfinite(v):
                return sympy.Rational(repr(v))
            return sympy.nan if v != v else (sympy.oo if v > 0 else -sympy.oo)
        if isinstance(e, Name):
            return symbol(e)
        if isinstance(e, Neg):
            return -convert(e.arg)
        if isinstance(e, Add):
            return sympy.Add(*[convert(t) for t in e.terms])
        if isinstance(e, (Mul, Factors)):
            return sympy.Mul(*[convert(f) for f in e.factors])
        if isinstance(e, Div):
            return convert(e.num) / convert(e.den)
        if isinstance(e, Pow):
            return convert(e.base) ** convert(e.exponent)
        if isinstance(e, Call):
            fn = extra.get(e.fn) or {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
                                     "sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh,
                                     "arctan": sympy.atan, "abs": sympy.Abs, "sign": sympy.sign}[e.fn]
            return fn(convert(e.arg))
        left, right = convert(e.left), convert(e.right)
        relation = {">": sympy.StrictGreaterThan, "≥": sympy.GreaterThan, "<": sympy.StrictLessThan,
                    "≤": sympy.LessThan}[e.op](left, right)
        return sympy.Piecewise((1, relation), (0, True))

    return convert(tree)


def from_sympy(expr, names: Mapping | None = None) -> Expr:
    """A sympy expression as a tree, for printing: names maps a Symbol to the tree printed for it.

    Sums put a term without a minus sign first (y − t, not −t + y); products put their number in
    front, then their parenthesised factors, then the rest; negative powers become a fraction.
    """
    import sympy
    names = names or {}
    extra = {cls: name for name, cls in _sympy_functions().items()}
    known = {sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos", sympy.tanh: "tanh",
             sympy.atan: "arctan", sympy.Abs: "abs", sympy.sign: "sign"}
    tests = {sympy.StrictGreaterThan: ">", sympy.GreaterThan: "≥", sympy.StrictLessThan: "<",
             sympy.LessThan: "≤"}

    def number(r) -> Expr:
        if r.is_Rational and r.q != 1:
            exact = float(r)
            if sympy.Rational(repr(exact)) == r and len(format_number(abs(exact))) <= 12:
                return Num(exact)
            top = Num(float(abs(r.p)))
            out = Div(top, Num(float(r.q)))
            return Neg(out) if r.p < 0 else out
        return Num(float(r))

    def convert(e) -> Expr:
        if e.is_Symbol:
            return names.get(e, Name(e.name))
        if e.is_Number:
            return number(e)
        if e.is_Add:
            terms = [convert(t) for t in e.args]
            terms.sort(key=lambda t: isinstance(t, Neg) or (isinstance(t, Num) and t.value < 0))
            return Add(tuple(terms))
        if e.is_Mul:
            coefficient, factors = e.as_coeff_mul()
            negative = coefficient < 0
            tops, bottoms = [], []
            if abs(coefficient) != 1:
                c = abs(coefficient)
                if c.is_Rational and c.q != 1:
                    tops.append(Num(float(c.p)) if c.p != 1 else None)
                    bottoms.append(Num(float(c.q)))
                else:
                    tops.append(number(c))
            for f in factors:
                base, exp_ = f.as_base_exp()
                if exp_.is_Number and exp_ < 0:
                    bottoms.append(convert(base ** -exp_))
                else:
                    tops.append(convert(f))
            tops = [t for t in tops if t is not None]
            numbers_ = [t for t in tops if isinstance(t, Num)]
            groups = [t for t in tops if isinstance(t, Add)]
            others = [t for t in tops if not isinstance(t, (Num, Add))]
            tops = numbers_ + groups + others
            top = Num(1.0) if not tops else tops[0] if len(tops) == 1 else Mul(tuple(tops))
            if bottoms:
                top = Div(top, bottoms[0] if len(bottoms) == 1 else Mul(tuple(bottoms)))
            return Neg(top) if negative else top
        if e.is_Pow:
            base, exp_ = e.args
            if exp_ == sympy.Rational(1, 2):
                return Call("sqrt", convert(base))
            if exp_.is_Number and exp_ < 0:
                return Div(Num(1.0), convert(base ** -exp_))
            return Pow(convert(base), convert(exp_))
        if isinstance(e, sympy.Piecewise) and len(e.args) == 2 and e.args[0][0] == 1 \
                and e.args[1] == (0, True) and type(e.args[0][1]) in tests:
            relation = e.args[0][1]
            return Bracket(tests[type(relation)], convert(relation.lhs), convert(relation.rhs))
        if e.func in extra:
            return Call(extra[e.func], convert(e.args[0]))
        if e.func in known:
            return Call(known[e.func], convert(e.args[0]))
        return Name(str(e))

    return convert(expr)
