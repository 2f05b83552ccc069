"""The backward pass: a topological order without recursion, and one reverse sweep over it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import value as _value

if TYPE_CHECKING:
    from .value import Value


def topo_order(root: Value) -> list[Value]:
    """Every node reachable from root, each one after all of its parents (root last).

    An iterative depth-first search, so a chain of a million nodes needs no recursion. The order
    depends only on the graph's structure (a node's first parent is finished first), never on
    memory addresses.
    """
    order: list[Value] = []
    expanded: set[Value] = set()
    stack: list = [root]
    push, pop, finish, expand = stack.append, stack.pop, order.append, expanded.add
    while stack:
        node = pop()
        if node is _FINISH:
            finish(pop())
        elif node not in expanded:
            expand(node)
            push(node)
            push(_FINISH)
            # In a DAG an expanded parent is already finished, so only new ones are pushed.
            for parent in reversed(node.parents):
                if parent not in expanded:
                    push(parent)
    return order


_FINISH = object()  # on the stack above a node: all its parents are done, so it is too


def backward(output: Value, order: list[Value] | None = None, record=None) -> None:
    """Add ∂output/∂leaf into every leaf's .grad; reset and refill every non-leaf's .grad.

    `record`, if given, is called as record(node, partials) for each node in the order its
    gradient is passed on: the tracer uses it to capture the steps of the sweep.
    """
    if order is None:
        order = topo_order(output)
    for node in order:
        if node._op is not None:
            node.grad = 0.0
    output.grad += 1.0
    check = _value.anomaly_enabled()
    if record is None and not check:
        _sweep(order)
        return
    for node in reversed(order):
        if node._op is None:
            continue
        parents = node.parents
        partials = local_partials(node)
        if check:
            _check_partials(node, partials)
        if record is not None:
            record(node, partials)
        g = node.grad
        for parent, local in zip(parents, partials):
            parent.grad += g * local


def local_partials(node: Value) -> tuple:
    """The op table's local derivatives ∂node/∂parent, as floats, one per parent."""
    return node._op.local(node.data, *[p.data for p in node.parents])


def _sweep(order: list[Value]) -> None:
    """The plain reverse sweep, unrolled for one and two parents: the engine's hottest loop."""
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        parents = node.parents
        g = node.grad
        if len(parents) == 2:
            a, b = parents
            da, db = op.local(node.data, a.data, b.data)
            a.grad += g * da
            b.grad += g * db
        elif len(parents) == 1:
            x = parents[0]
            (dx,) = op.local(node.data, x.data)
            x.grad += g * dx
        else:
            for parent, local in zip(parents, op.local(node.data, *[p.data for p in parents])):
                parent.grad += g * local


def _check_partials(node: Value, partials) -> None:
    for parent, local in zip(node.parents, partials):
        if not _value._finite(local):
            which = f" (node {node.label!r})" if node.label else ""
            about = f" {parent.label!r}" if parent.label else ""
            raise _value.AnomalyError(
                f"{node._op.name}{which} has local derivative {local!r} with respect to its input"
                f"{about} in the backward pass; inputs: {_value.describe_inputs(node.parents)}")
