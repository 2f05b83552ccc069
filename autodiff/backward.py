"""The backward pass: a topological order without recursion, and one reverse sweep over it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import value as _value

if TYPE_CHECKING:
    from .value import Value


def topo_order(root: Value) -> list[Value]:
    """Every node reachable from root, each one after all of its parents (root last).

    Iterative, so a chain of a million nodes needs no recursion. The order depends only on the
    graph's structure (parents in the order the op took them), never on memory addresses.
    """
    order: list[Value] = []
    done: set[Value] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        pending = [p for p in node.parents if p not in done]
        if pending:
            stack.extend(reversed(pending))  # so the first parent is finished first
        else:
            stack.pop()
            done.add(node)
            order.append(node)
    return order


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
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        parents = node.parents
        partials = op.local(node.data, *[p.data for p in parents])
        if check:
            _check_partials(node, partials)
        if record is not None:
            record(node, partials)
        g = node.grad
        for parent, local in zip(parents, partials):
            parent.grad += g * local


def _check_partials(node: Value, partials) -> None:
    for parent, local in zip(node.parents, partials):
        if not _value._finite(local):
            which = f" (node {node.label!r})" if node.label else ""
            about = f" {parent.label!r}" if parent.label else ""
            raise _value.AnomalyError(
                f"{node._op.name}{which} has local derivative {local!r} with respect to its input"
                f"{about} in the backward pass; inputs: {_value.describe_inputs(node.parents)}")
