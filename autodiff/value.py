"""`Value`: a scalar node of the computation graph, and the modes that change how ops record.

A Value holds a float (`data`), the gradient the last backward pass left in it (`grad`), the op
that made it (a row of `autodiff.ops.OPS`, or none for a leaf) and its parents. It holds no closure:
the backward pass reads the op's derivative rule from the op table.

A node is small, because a training step makes tens of thousands of them and Python's garbage
collector walks each one several times: one or two parents sit in slots of their own rather than
in a tuple (one object per node instead of two), and each node an op makes is numbered as it is
made. Parents are made before their children, so that number orders any graph topologically, and
the backward pass sorts by it instead of searching the graph for an order.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar
from html import escape
from itertools import count, repeat

from . import ops
from .arguments import check_instance, check_number, describe, shown
from .ops import OPS, Op

# Which modes are on is per thread and per asyncio task (a context variable, see _Modes below);
# the op hot path checks only this set, which is empty while no context anywhere has a mode on.
_active: set[int] = set()


class AnomalyError(ArithmeticError):
    """An op produced nan or inf while `detect_anomaly()` was active."""


def _as_float(data, name: str) -> float:
    """data as a float for a Value: a real number, nan and ±inf included (see check_number)."""
    if type(data) is float:
        return data
    if isinstance(data, Value):
        raise TypeError(f"{name} is a Value ({shown(data)}); pass its .data, or use the Value "
                        f"itself")
    return check_number(data, name)


class Value:
    """A scalar in a computation graph: its value, its gradient, and how it was computed.

    >>> x = Value(3.0, label='x')
    >>> y = x * x
    >>> y.backward()
    >>> x.grad
    6.0

    `<`, `<=`, `>`, `>=` compare data and return a bool (`Value(2.0) > 1` is True), but `==` and
    `!=` compare identity, not data: `Value(2.0) == 2.0` is False. Values are dict keys (a traced
    graph names its nodes by them, `gradients` keeps a gradient per node), so equality must be
    identity; where PyTorch compares elementwise, compare `x.data` (or `x.item()`) instead.

    As in PyTorch, `p.grad = None` before `backward()` counts as 0: `zero_grad(set_to_none=True)`
    habits work. In Jupyter a Value shows as one line of HTML: its label, data, grad and op.
    """

    # _a and _b: the parents of a unary or binary node (a unary node leaves _b unset); the n-ary
    # sum keeps its tuple of parents in _a. _seq: the order in which ops made their nodes.
    # A leaf sets none of the three.
    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_seq")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators: 2.0 * x is a Value
    requires_grad = True    # a Constant says False: no gradient is meant for it

    def __init__(self, data, label: str = ""):
        if type(label) is not str:
            check_instance(label, f"{type(self).__name__}() label", str, "a str")
        if type(data) is not float:
            data = _as_float(data, f"{type(self).__name__}() data")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op: Op | None = None

    # -- what a node is -----------------------------------------------------------------------
    @property
    def parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from, in the op's order; () for a leaf."""
        op = self._op
        if op is None:
            return ()
        if op.arity == 2:
            return (self._a, self._b)
        if op.arity == 1:
            return (self._a,)
        return self._a

    @property
    def op(self) -> str:
        """The name of the op that made this node; '' for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def is_leaf(self) -> bool:
        """True for a node no op made: an input, a parameter or a constant."""
        return self._op is None

    def __float__(self) -> float:
        return self.data

    def item(self) -> float:
        """The data as a Python float, as PyTorch's `tensor.item()`.

        >>> Value(2).item()
        2.0
        """
        return self.data

    def __format__(self, spec: str) -> str:
        """A format spec applies to data (f"{loss:.4f}"); with none, the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self._op is not None:
            parts.append(f"op={self._op.name!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """One line of HTML for Jupyter: kind, label, data, grad and op; never a drawing (viz.draw
        draws a graph)."""
        parts = [f"<code>{escape(type(self).__name__)}</code>"]
        if self.label:
            parts.append(f"<b>{escape(self.label)}</b>")
        parts.append(f"data <code>{self.data!r}</code>")
        parts.append(f"grad <code>{escape(repr(self.grad))}</code>")
        if self._op is not None:
            parts.append(f"op <code>{escape(self._op.name)}</code>")
        return f'<span class="autodiff-value">{" ".join(parts)}</span>'

    # -- comparisons read data and return a bool; equality and hashing stay by identity -------
    def __lt__(self, other) -> bool:
        return self.data < _data(other)

    def __le__(self, other) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other) -> bool:
        return self.data > _data(other)

    def __ge__(self, other) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # -- arithmetic: +, -, *, / and the unary ops are methods made below, from the op table ------
    def __pow__(self, other) -> Value:
        """self ** other: an exponent that is a Value is differentiated too; a number is a constant
        (so x ** 2 never takes the log of x)."""
        if isinstance(other, Value):
            return _power(self, other)
        return _power_of_a_number(self, other)

    def __pos__(self) -> Value:
        return self

    @staticmethod
    def sum(terms) -> Value:
        """Σ terms as ONE node, so a neuron's Σwᵢxᵢ + b is one step of the backward pass.

        >>> Value.sum([Value(1.0), 2, Value(3.5)]).data
        6.5
        """
        if isinstance(terms, (str, bytes)) or not hasattr(terms, "__iter__"):
            raise TypeError(f"Value.sum() terms must be an iterable of Values and numbers, got "
                            f"{describe(terms)}")
        parents = tuple(terms)
        if not all(map(isinstance, parents, repeat(Value))):
            parents = tuple(t if isinstance(t, Value) else _term(t, i) for i, t in enumerate(parents))
        return _apply(ops.SUM, parents)

    # -- the backward pass --------------------------------------------------------------------
    def backward(self) -> None:
        """Backpropagate from this node: add ∂self/∂leaf to every leaf's grad (seed 1.0).

        Leaves accumulate across calls, as in PyTorch; every other node's grad is reset first, so
        it shows this call's gradient.
        """
        from .backward import backward
        backward(self)


class Constant(Value):
    """A leaf made from a plain number by an op (the 2 in x ** 2): no gradient is meant for it."""

    __slots__ = ()
    requires_grad = False


class Parameter(Value):
    """A leaf a model learns (a weight or a bias); drawings and compiled programs treat it so.

    >>> w = Parameter(0.15, label='w1')
    >>> w.is_leaf, w.requires_grad
    (True, True)
    """

    __slots__ = ()


def _data(other) -> float:
    if isinstance(other, Value):
        return other.data
    return _as_float(other, "a number compared with a Value")


def _constant(number, operator: str) -> Constant:
    """A Constant leaf for the number an operator was given along with a Value."""
    c = _new(Constant)
    if type(number) is float:
        c.data = number
    elif type(number) is int and -_EXACT <= number <= _EXACT:
        c.data = float(number)
    else:
        c.data = _as_float(number, f"the other operand of {operator!r} with a Value")
    c.grad = 0.0
    c.label = ""
    c._op = None
    return c


_EXACT = 2**53  # ints up to this size convert to a float exactly and quickly


def _term(number, i: int) -> Constant:
    """A Constant leaf for a number among Value.sum()'s terms (a float by the time it is made)."""
    return _constant(_as_float(number, f"Value.sum() terms[{i}]"), "Σ")


_new = object.__new__
_next_seq = count().__next__  # one counter for all threads: a node is always made after its parents


def _apply(op: Op, parents: tuple) -> Value:
    """Make the node `op(*parents)`: the general path, for the n-ary sum and any row of the table.

    The operators and methods below make their nodes the same way, written out for one and two
    parents: every a * b and x.relu() a network makes runs them, and one call less per node is
    measurable there.
    """
    out = _new(Value)
    out.data = op.forward(*[p.data for p in parents])
    out.grad = 0.0
    out.label = ""
    if not _active:
        return _link(out, op, parents)
    return _record_in_mode(out, op, parents)


def _link(out: Value, op: Op, parents: tuple) -> Value:
    """Record in out the op and parents that made it (see Value.__slots__), and number it."""
    out._op = op
    if op.arity == 2:
        out._a, out._b = parents
    elif op.arity == 1:
        (out._a,) = parents
    else:
        out._a = parents
    out._seq = _next_seq()
    return out


def _record_in_mode(out: Value, op: Op, parents: tuple) -> Value:
    recording, anomaly = _modes_here()
    if anomaly and not _finite(out.data):
        raise AnomalyError(f"{op.name} gave {out.data!r} in the forward pass "
                           f"from {describe_inputs(parents)}")
    if not recording:
        out._op = None
        return out
    return _link(out, op, parents)


def _operator(op: Op, symbol: str, name: str):
    """The method `name` computing `self <symbol> other` as the node op(self, other)."""
    forward = op.forward

    def method(self, other) -> Value:
        if not isinstance(other, Value):
            other = _constant(other, symbol)
        out = _new(Value)
        out.data = forward(self.data, other.data)
        out.grad = 0.0
        out.label = ""
        if not _active:
            out._op = op
            out._a = self
            out._b = other
            out._seq = _next_seq()
            return out
        return _record_in_mode(out, op, (self, other))

    return _named(method, name, f"self {symbol} other", op)


def _reflected(straight, symbol: str, name: str, op: Op):
    """The method `name` computing `other <symbol> self` when other, on the left, is a number."""
    def method(self, other) -> Value:
        return straight(_constant(other, symbol), self)

    return _named(method, name, f"other {symbol} self", op)


def _unary_method(op: Op, name: str):
    """The method `name` computing op(self)."""
    forward = op.forward

    def method(self) -> Value:
        out = _new(Value)
        out.data = forward(self.data)
        out.grad = 0.0
        out.label = ""
        if not _active:
            out._op = op
            out._a = self
            out._seq = _next_seq()
            return out
        return _record_in_mode(out, op, (self,))

    return _named(method, name, f"{op.name}(self)", op)


def _named(method, name: str, shown: str, op: Op):
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{shown} as a new node; its derivative is the op table's row {op.name!r}."
    return method


def _finite(x: float) -> bool:
    return x - x == 0.0  # false for inf and nan alone


def describe_inputs(parents) -> str:
    """'x=0.0, 2.0': the inputs of a node as an error message names them."""
    return ", ".join(f"{p.label}={p.data!r}" if p.label else repr(p.data) for p in parents)


_power = _operator(ops.POW, "**", "__pow__")
_power_of_a_number = _operator(ops.POW_CONST, "**", "__pow__")

# The operators, each made from its row of the op table, and every other unary op of the table as
# a method: x.tanh(), x.relu().
for _name, _op, _symbol in (("add", ops.ADD, "+"), ("sub", ops.SUB, "-"), ("mul", ops.MUL, "*"),
                            ("truediv", ops.DIV, "/")):
    _straight = _operator(_op, _symbol, f"__{_name}__")
    setattr(Value, f"__{_name}__", _straight)
    setattr(Value, f"__r{_name}__", _reflected(_straight, _symbol, f"__r{_name}__", _op))
Value.__rpow__ = _reflected(_operator(ops.RPOW_CONST, "**", "__rpow__"), "**", "__rpow__",
                            ops.RPOW_CONST)
Value.__neg__ = _unary_method(ops.NEG, "__neg__")
Value.__abs__ = _unary_method(ops.ABS, "__abs__")
for _op in OPS.values():
    if _op.arity == 1 and _op.name not in ("neg", "abs"):
        setattr(Value, _op.name, _unary_method(_op, _op.name))
del _name, _op, _symbol, _straight


class _Modes:
    """The modes of one context (a thread or an asyncio task), and those to restore after its block.

    A context variable holds them, so a `no_grad()` in one thread never reaches another, and an
    asyncio task runs in the modes it was created in. While a state with a mode on exists anywhere
    (a copied context may keep one alive after its block ends), its id is in `_active`, and ops
    take the slow path that reads their own context's state.
    """

    __slots__ = ("recording", "anomaly", "outer")

    def __init__(self, recording: bool, anomaly: bool, outer: _Modes | None):
        self.recording = recording
        self.anomaly = anomaly
        self.outer = outer
        if anomaly or not recording:
            _active.add(id(self))

    def __del__(self, _forget=_active.discard):
        _forget(id(self))


_MODES: ContextVar[_Modes] = ContextVar("autodiff_modes", default=_Modes(True, False, None))


class _Mode(ContextDecorator):
    """Sets one of the recording modes for a `with` block or a decorated function, then restores it.

    Modes are per thread, as PyTorch's grad mode is, and per asyncio task too: they live in a
    context variable, which each thread has its own of and each task copies when it is created,
    so a task awaiting inside `no_grad()` never stops another task on the same thread recording
    (a thread-local could not tell the two apart). The instance holds no state: what to restore
    is linked from the context's own state, so one decorated function may run in many threads at
    once, or call itself.
    """

    flag = ""
    value = False

    def __enter__(self):
        outer = _MODES.get()
        if self.flag == "recording":
            _MODES.set(_Modes(self.value, outer.anomaly, outer))
        else:
            _MODES.set(_Modes(outer.recording, self.value, outer))
        return self

    def __exit__(self, *exc):
        outer = _MODES.get().outer
        if outer is None:
            raise RuntimeError(f"{type(self).__name__}() exited in a thread or task it was not "
                               f"entered in")
        _MODES.set(outer)
        return False


class no_grad(_Mode):
    """Context manager and decorator: ops inside record no parents (results are leaves).

    Like every mode, it holds for this thread (or asyncio task) alone; a thread started inside
    it records as usual.

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.is_leaf
    True
    """

    flag, value = "recording", False


class enable_grad(_Mode):
    """Context manager and decorator: ops record parents again, even inside `no_grad()`
    (in this thread or asyncio task)."""

    flag, value = "recording", True


class detect_anomaly(_Mode):
    """Context manager and decorator: the first op giving nan or inf raises `AnomalyError`.

    In this thread (or asyncio task) alone. Checked in the forward pass (the op's result) and in
    the backward pass (its local derivatives). The error names the op, its input values and the
    labels of the nodes involved.
    """

    flag, value = "anomaly", True


def _modes_here() -> tuple[bool, bool]:
    """(recording, anomaly) in this thread or task, as plain bools: a traceback that keeps a
    caller's frame alive must not keep a mode's state alive (and every op on the slow path)."""
    modes = _MODES.get()
    return modes.recording, modes.anomaly


def anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` in this thread: the backward pass then checks every local
    derivative."""
    return _MODES.get().anomaly

