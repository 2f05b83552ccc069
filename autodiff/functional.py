"""Derivatives without touching `.grad`, to any order: `gradients` and JAX-style transforms.

`gradients(output, inputs)` is the engine's `torch.autograd.grad`: its own reverse sweep over the
graph, keeping gradients in a dict, so no node's `.grad` changes. With `create_graph=True` it applies
each op's derivative rule to Values instead of floats, so the gradients it returns are graphs too
and can be differentiated again.

`grad`, `value_and_grad`, `hessian` and `jvp` transform functions of scalars, as JAX's do. Called
with numbers they return numbers; called with Values they return Values, differentiable again, and
each call differentiates with respect to a fresh node standing for its argument, so nested calls
never confuse their perturbations.

>>> grad(grad(lambda x: x * x * x))(3.0)
18.0
"""

from __future__ import annotations

import numbers
from contextlib import nullcontext
from typing import Callable, Iterable, Sequence

import numpy as np

from . import value as _value
from .arguments import (MAX_COUNT, check_bool, check_callable, check_instance, check_int, describe,
                        is_int)
from .backward import _check_partials, local_partials, made_by_ops
from .value import Constant, Value, enable_grad


def gradients(output: Value, inputs: Value | Iterable[Value], create_graph: bool = False) -> tuple:
    """∂output/∂input for each input, as a tuple (0.0 where output does not depend on the input).

    Leaves every `.grad` untouched. With `create_graph=True` each gradient is a Value built from
    the op table's derivative rules, which can itself be differentiated.

    >>> x, y = Value(2.0), Value(5.0)
    >>> gradients(x * x * y, [x, y])
    (20.0, 4.0)
    >>> (dx,) = gradients(x * x * x, x, create_graph=True)
    >>> dx.data, gradients(dx, x)
    (12.0, (12.0,))
    """
    check_instance(output, "gradients() output", Value, "a Value")
    inputs = _as_inputs(inputs)
    create_graph = check_bool(create_graph, "gradients() create_graph")
    found = _sweep(output, inputs, create_graph)
    if create_graph:
        return tuple(_as_value(found.get(x, 0.0)) for x in inputs)
    return tuple(float(found.get(x, 0.0)) for x in inputs)


def grad(f: Callable[..., Value], argnums: int | tuple[int, ...] = 0) -> Callable:
    """A function computing ∂f/∂(argument argnums): a float, or a tuple for a tuple of argnums.

    Called with Values it returns Values, so the result can be differentiated again.

    >>> grad(lambda x: x * x * x)(2.0)
    12.0
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (4.0, 3.0)
    """
    value_and_grad_f = _value_and_grad(f, argnums, "grad")

    def grad_f(*args):
        return value_and_grad_f(*args)[1]

    _name_after(grad_f, "grad", f)
    return grad_f


def value_and_grad(f: Callable[..., Value], argnums: int | tuple[int, ...] = 0) -> Callable:
    """A function returning (f(*args), its gradient as `grad(f, argnums)` gives it).

    >>> value_and_grad(lambda x: x.exp())(0.0)
    (1.0, 1.0)
    """
    value_and_grad_f = _value_and_grad(f, argnums, "value_and_grad")
    _name_after(value_and_grad_f, "value_and_grad", f)
    return value_and_grad_f


def _value_and_grad(f: Callable, argnums, who: str) -> Callable:
    check_callable(f, f"{who}() f")
    _check_argnums(argnums, who)

    def value_and_grad_f(*args):
        nums = _resolve_argnums(argnums, len(args), who)
        call = _Call(f, args, nums, who)
        found = gradients(call.output, call.fresh, create_graph=call.nested)
        value = call.output if call.nested else call.output.data
        return value, (found[0] if isinstance(argnums, int) else found)

    return value_and_grad_f


def hessian(f: Callable[..., Value], argnums: int | tuple[int, ...] | None = None) -> Callable:
    """A function returning the n×n numpy array of ∂²f/∂xᵢ∂xⱼ over the arguments argnums (all if None).

    Called with Values, the array holds Values (dtype object), differentiable again.

    >>> hessian(lambda x, y: x * x * y)(1.0, 3.0)
    array([[6., 2.],
           [2., 0.]])
    """
    check_callable(f, "hessian() f")
    if argnums is not None:
        _check_argnums(argnums, "hessian")

    def hessian_f(*args):
        nums = (tuple(range(len(args))) if argnums is None
                else _resolve_argnums(argnums, len(args), "hessian"))
        call = _Call(f, args, nums, "hessian")
        first = gradients(call.output, call.fresh, create_graph=True)
        rows = [gradients(g, call.fresh, create_graph=call.nested) for g in first]
        if call.nested:
            table = np.empty((len(rows), len(rows)), dtype=object)
            for i, row in enumerate(rows):
                table[i, :] = row
            return table
        return np.array(rows, dtype=float).reshape(len(rows), len(rows))

    _name_after(hessian_f, "hessian", f)
    return hessian_f


def jvp(f: Callable[..., Value], primals: Sequence, tangents: Sequence) -> tuple:
    """(f(*primals), the derivative of f along tangents), by one forward sweep over the graph.

    Forward mode over the same op table: each node's tangent is Σ ∂node/∂parent × parent's tangent.
    One sweep gives one directional derivative, where one backward sweep gives the whole gradient.

    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))
    (12.0, 4.0)
    """
    check_callable(f, "jvp() f")
    primals = _scalars(primals, "jvp() primals")
    tangents = _scalars(tangents, "jvp() tangents")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp() got {len(primals)} primals but {len(tangents)} tangents; "
                         f"give one tangent per primal")
    call = _Call(f, primals, tuple(range(len(primals))), "jvp")
    nested = call.nested or any(isinstance(t, Value) for t in tangents)
    # A float tangent of 0 moves nothing, so its input stays out of the sweep: its partials,
    # even an infinite one, never multiply it into a nan.
    dots: dict[Value, object] = {}
    for x, t in zip(call.fresh, tangents):
        if isinstance(t, Value) or t != 0.0:
            dots[x] = t if isinstance(t, Value) else float(t)
    check = _value.anomaly_enabled() and not nested
    with enable_grad() if nested else nullcontext():
        for node in made_by_ops(call.output):
            if node in dots:
                continue
            incoming = [(i, dots[p]) for i, p in enumerate(node.parents) if p in dots]
            if not incoming:
                continue
            if check:
                _check_partials(node, _partials(node, nested))
            dots[node] = _total(_tangent_terms(node, incoming, nested), nested)
    tangent = dots.get(call.output, 0.0)
    if nested:
        return call.output, _as_value(tangent)
    return call.output.data, float(tangent)


# ---------------------------------------------------------------------------------------------
# The reverse sweep.

def _sweep(output: Value, inputs: tuple[Value, ...], create_graph: bool) -> dict:
    """Gradients of output with respect to every node on a path from an input to output."""
    order = made_by_ops(output)
    live = set(inputs)
    for node in order:
        if node not in live:
            for parent in node.parents:
                if parent in live:
                    live.add(node)
                    break
    if output not in live:
        return {}
    if create_graph:
        # Recording the derivative graph is the point, even inside no_grad (as in PyTorch).
        with enable_grad():
            return _reverse_values(order, output, live)
    return _reverse_floats(order, output, live)


def _reverse_floats(order: list[Value], output: Value, live: set) -> dict:
    found: dict[Value, float] = {output: 1.0}
    get = found.get
    check = _value.anomaly_enabled()
    for node in reversed(order):
        g = get(node)
        if g is None:
            continue
        op, parents = node._op, node.parents
        data = [p.data for p in parents]
        if check:
            _check_partials(node, op.local(node.data, *data))
        if op.vjp is None:
            for parent, local in zip(parents, op.local(node.data, *data)):
                if parent in live:
                    found[parent] = get(parent, 0.0) + g * local
            continue
        for parent, contribution in zip(parents, op.vjp(g, node.data, *data)):
            if parent in live:
                found[parent] = get(parent, 0.0) + contribution
    return found


def _reverse_values(order: list[Value], output: Value, live: set) -> dict:
    # A node's contributions are kept apart until the node is reached, then summed by ONE n-ary
    # node, so a gradient that gathers many paths reads as one sum in its own graph.
    # `order` holds the nodes ops made; the leaves' gradients are summed once the sweep is done.
    pending: dict[Value, list] = {output: [1.0]}
    found: dict[Value, object] = {}
    for node in reversed(order):
        parts = pending.pop(node, None)
        if parts is None:
            continue
        found[node] = g = _total(parts, True)
        op, parents = node._op, node.parents
        inputs = _rule_inputs(parents)
        if op.vjp is not None:
            passed = op.vjp(g, node, *inputs)
            for parent, contribution in zip(parents, passed):
                if parent in live:
                    pending.setdefault(parent, []).append(contribution)
            continue
        # g × local only toward the parents that need it: each product is a node of the graph
        for parent, local in zip(parents, op.local(node, *inputs)):
            if parent in live:
                contribution = g if (type(local) is float and local == 1.0) else g * local
                pending.setdefault(parent, []).append(contribution)
    for leaf, parts in pending.items():
        found[leaf] = _total(parts, True)
    return found


def _tangent_terms(node: Value, incoming: list, as_values: bool) -> list:
    """Forward mode: what each moving parent's tangent t adds to node's tangent, ∂node/∂parent × t.

    A row's vjp is linear in the gradient it is given, so handing it the tangent in place of the
    gradient gives that product too, with the row's own masking and quotients.
    """
    vjp = node._op.vjp
    if vjp is None:
        partials = _partials(node, as_values)
        return [partials[i] * t for i, t in incoming]
    if as_values:
        y, inputs = node, _rule_inputs(node.parents)
    else:
        y, inputs = node.data, [p.data for p in node.parents]
    return [vjp(t, y, *inputs)[i] for i, t in incoming]


def _partials(node: Value, as_values: bool) -> tuple:
    """The op table's local derivatives of node: floats, or Values recording the rule itself."""
    if not as_values:
        return local_partials(node)
    return node._op.local(node, *_rule_inputs(node.parents))


def _rule_inputs(parents: tuple) -> list:
    """A node's parents as a rule differentiating again takes them: Values, constants as numbers.

    The node itself stands for y: it is a function of its parents, so the rule differentiates
    again. A Constant parent is handed over as its number, so the rule of x ** 3 builds x ** 2
    with a constant exponent rather than a Value exponent whose derivative would need log(x).
    """
    return [p.data if isinstance(p, Constant) else p for p in parents]


def _total(parts: list, as_values: bool):
    """Σ parts: floats added in order, or Values gathered into one sum node."""
    if len(parts) == 1:
        return parts[0]
    if not as_values or not any(isinstance(p, Value) for p in parts):
        total = 0.0
        for p in parts:
            total = total + p
        return total
    values = [p for p in parts if isinstance(p, Value)]
    number = sum(p for p in parts if not isinstance(p, Value))
    return Value.sum(values + [number] if number != 0.0 else values)


# ---------------------------------------------------------------------------------------------
# Calling a function of scalars on fresh nodes.

class _Call:
    """f evaluated at args, with a fresh node standing for each argument in nums."""

    __slots__ = ("output", "fresh", "nested")

    def __init__(self, f: Callable, args: tuple, nums: tuple[int, ...], who: str):
        call_args = list(args)
        for i in nums:
            call_args[i] = _scalar(args[i], f"{who}(f) argument {i}")
        self.nested = any(isinstance(a, Value) for a in args)
        nodes: dict[int, Value] = {}
        # Recording must happen even inside an outer no_grad, as torch.func.grad does; an inner
        # no_grad written in f is respected.
        with enable_grad():
            for i in dict.fromkeys(nums):
                a = call_args[i]
                # A Value argument gets a node of its own (x · 1, which keeps -0.0 and nan as they
                # are): this call differentiates through it alone, while the outer dependence on
                # the argument is kept for an enclosing transform.
                nodes[i] = call_args[i] = a * 1.0 if isinstance(a, Value) else Value(a)
            output = f(*call_args)
        if isinstance(output, Value):
            self.output = output
        elif _is_real(output):
            self.output = Constant(output)
        else:
            raise TypeError(f"{who}(f) needs f to return a scalar (a Value or a real number), "
                            f"got {describe(output)}")
        self.fresh = tuple(nodes[i] for i in nums)


def _is_real(x) -> bool:
    return isinstance(x, (numbers.Real, np.bool_))


def _scalar(x, name: str) -> Value | float:
    """x if it is a Value, else x as a float: a number a function of scalars is called at."""
    if isinstance(x, Value):
        return x
    if not _is_real(x):
        raise TypeError(f"{name} must be a real number or a Value (pass each coordinate as its "
                        f"own argument), got {describe(x)}")
    return _value._as_float(x, name)


def _scalars(seq, name: str) -> tuple:
    """A tuple or list of numbers and Values as a tuple, each checked by `_scalar`."""
    if not isinstance(seq, (tuple, list)):
        raise TypeError(f"{name} must be a tuple or list of numbers, got {describe(seq)}")
    return tuple(_scalar(x, f"{name}[{i}]") for i, x in enumerate(seq))


def _as_value(x) -> Value:
    return x if isinstance(x, Value) else Constant(x)


def _as_inputs(inputs) -> tuple[Value, ...]:
    if isinstance(inputs, Value):
        return (inputs,)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"gradients() inputs must be a Value or an iterable of Values, "
                        f"got {describe(inputs)}")
    inputs = tuple(inputs)
    for i, x in enumerate(inputs):
        check_instance(x, f"gradients() inputs[{i}]", Value, "a Value")
    return inputs


def _check_argnums(argnums, who: str) -> None:
    name = f"{who}() argnums"
    if isinstance(argnums, tuple):
        for i, n in enumerate(argnums):
            check_int(n, f"{name}[{i}]", low=-MAX_COUNT, high=MAX_COUNT)
    elif is_int(argnums):
        check_int(argnums, name, low=-MAX_COUNT, high=MAX_COUNT)
    else:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {describe(argnums)}")


def _resolve_argnums(argnums, nargs: int, who: str) -> tuple[int, ...]:
    nums = (argnums,) if not isinstance(argnums, tuple) else argnums
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"{who}() argnums {argnums!r} names argument {n}, but the function "
                             f"was called with {nargs} argument{'s' if nargs != 1 else ''}")
    return tuple(int(n) % nargs for n in nums)


def _name_after(wrapper: Callable, transform: str, f: Callable) -> None:
    name = getattr(f, "__name__", type(f).__name__)
    wrapper.__name__ = wrapper.__qualname__ = f"{transform}({name})"
    wrapper.__doc__ = f"{transform} of {name}, as `autodiff.functional.{transform}` builds it."
