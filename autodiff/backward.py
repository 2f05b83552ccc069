"""The backward pass: the nodes in the order they were made, and one reverse sweep over them."""

from __future__ import annotations

from operator import attrgetter

from . import value as _value
from .arguments import check_callable, check_instance, describe
from .value import Value


def topo_order(root: Value) -> list[Value]:
    """Every node reachable from root, each one after all of its parents (root last).

    The nodes ops made come in the order they were made, which puts parents first: a node is made
    from parents that already exist. Each leaf comes just before the first node that uses it. No
    recursion, so a chain of a million nodes is fine; the order depends only on how the graph was
    built, never on memory addresses.

    >>> a, b = Value(1.0, label='a'), Value(2.0, label='b')
    >>> [n.label or n.op for n in topo_order(a * b + a)]
    ['a', 'b', 'mul', 'add']
    """
    check_instance(root, "topo_order() root", Value, "a Value")
    if root._op is None:
        return [root]
    order: list[Value] = []
    placed: set[Value] = set()
    add, place = placed.add, order.append
    for node in made_by_ops(root):
        arity = node._op.arity
        for parent in ((node._a, node._b) if arity == 2 else (node._a,) if arity == 1 else node._a):
            if parent._op is None and parent not in placed:
                add(parent)
                place(parent)
        place(node)
    return order


def made_by_ops(root: Value) -> list[Value]:
    """The nodes reachable from root that an op made (no leaves), in the order they were made.

    A depth-first search finds them (unrolled for one and two parents, as the sweep is). It meets
    them nearly in reverse order of making, so reversing its list and sorting it by the number
    each node got when it was made is cheap, and gives a topological order.
    """
    if root._op is None:
        return []
    found: list[Value] = []
    seen = {root}
    stack = [root]
    add, keep, push, pop = seen.add, found.append, stack.append, stack.pop
    while stack:
        node = pop()
        keep(node)
        arity = node._op.arity
        if arity == 2:
            a = node._a
            if a._op is not None and a not in seen:
                add(a)
                push(a)
            b = node._b
            if b._op is not None and b not in seen:
                add(b)
                push(b)
        elif arity == 1:
            x = node._a
            if x._op is not None and x not in seen:
                add(x)
                push(x)
        else:
            for parent in node._a:
                if parent._op is not None and parent not in seen:
                    add(parent)
                    push(parent)
    found.reverse()
    found.sort(key=_made_at)
    return found


_made_at = attrgetter("_seq")


def backward(output: Value, order: list[Value] | None = None, record=None) -> None:
    """Add ∂output/∂leaf into every leaf's .grad; reset and refill every non-leaf's .grad.

    `order`, if given, is a topological order of the graph (as `topo_order` gives it) to sweep in
    reverse. `record`, if given, is called as record(node, partials, contributions) for each node
    in the order its gradient is passed on (the local derivatives, and what was added to each
    parent's gradient): the tracer uses it to capture the steps of the sweep.
    """
    check_instance(output, "backward() output", Value, "a Value")
    if record is not None:
        check_callable(record, "backward() record")
    if order is None:
        nodes = made_by_ops(output)
    else:
        nodes = [node for node in _checked_order(order, output) if node._op is not None]
    for node in nodes:
        node.grad = 0.0
    if output.grad is None:
        output.grad = 0.0
    output.grad += 1.0
    check = _value.anomaly_enabled()
    if record is None and not check:
        _sweep(nodes)
        return
    for node in reversed(nodes):
        partials = local_partials(node)
        if check:
            _check_partials(node, partials)
        passed = contributions(node, node.grad, partials)
        if record is not None:
            record(node, partials, passed)
        for parent, contribution in zip(node.parents, passed):
            if parent.grad is None:
                parent.grad = 0.0
            parent.grad += contribution


def _checked_order(order, output: Value) -> list | tuple:
    """order, if it is a list or tuple of Values ending with output."""
    wanted = "a topological order of output's graph (a list of Values, as topo_order gives it)"
    if not isinstance(order, (list, tuple)):
        raise TypeError(f"backward() order must be {wanted}, got {describe(order)}")
    for i, node in enumerate(order):
        if not isinstance(node, Value):
            raise TypeError(f"backward() order[{i}] must be a Value, got {describe(node)}")
    if not order or order[-1] is not output:
        raise ValueError(f"backward() order must be {wanted}: it ends with output")
    return order


def local_partials(node: Value) -> tuple:
    """The op table's local derivatives ∂node/∂parent, as floats, one per parent."""
    return node._op.local(node.data, *[p.data for p in node.parents])


def contributions(node: Value, g: float, partials: tuple | None = None) -> list | tuple:
    """What node passes to each parent when g arrives, one number per parent: the row's vjp where
    it has one, else g × each local derivative (`partials`, computed here if not given)."""
    vjp = node._op.vjp
    if vjp is not None:
        return vjp(g, node.data, *[p.data for p in node.parents])
    if partials is None:
        partials = local_partials(node)
    return [g * local for local in partials]


def _sweep(nodes: list[Value]) -> None:
    """The plain reverse sweep over the nodes ops made, unrolled for one and two parents: the
    engine's hottest loop.

    A leaf whose grad is None (PyTorch's zero_grad(set_to_none=True) leaves that) counts as 0:
    rather than test every parent for None, the sweep lets `+=` fail on it, has that node pass on
    what it had left to pass, and goes on with the next node.
    """
    todo = reversed(nodes)
    node = None
    while True:
        try:
            for node in todo:
                op = node._op
                g = node.grad
                vjp = op.vjp
                arity = op.arity
                if arity == 2:
                    a = node._a
                    b = node._b
                    if vjp is None:
                        da, db = op.local(node.data, a.data, b.data)
                        a.grad += g * da
                        b.grad += g * db
                    else:
                        ca, cb = vjp(g, node.data, a.data, b.data)
                        a.grad += ca
                        b.grad += cb
                elif arity == 1:
                    x = node._a
                    if vjp is None:
                        (dx,) = op.local(node.data, x.data)
                        x.grad += g * dx
                    else:
                        (cx,) = vjp(g, node.data, x.data)
                        x.grad += cx
                else:
                    parents = node._a
                    data = [p.data for p in parents]
                    if vjp is None:
                        for parent, local in zip(parents, op.local(node.data, *data)):
                            parent.grad += g * local
                    else:
                        for parent, contribution in zip(parents, vjp(g, node.data, *data)):
                            parent.grad += contribution
            return
        except TypeError:
            if node is None or not _pass_on_with_none_as_zero(node):
                raise


def _pass_on_with_none_as_zero(node: Value) -> bool:
    """Finish passing node's gradient on after `+=` stopped at a parent whose grad is None (the
    parents before it got their share; it and those after it did not), counting None as 0.
    False if no parent's grad is None: the TypeError came from elsewhere."""
    parents = node.parents
    first = next((i for i, parent in enumerate(parents) if parent.grad is None), None)
    if first is None:
        return False
    for parent in parents:
        if parent.grad is None:
            parent.grad = 0.0
    for parent, contribution in list(zip(parents, contributions(node, node.grad)))[first:]:
        parent.grad += contribution
    return True


def _check_partials(node: Value, partials) -> None:
    for parent, local in zip(node.parents, partials):
        if not _value._finite(local):
            which = f" (node {node.label!r})" if node.label else ""
            about = f" {parent.label!r}" if parent.label else ""
            raise _value.AnomalyError(
                f"{node._op.name}{which} has local derivative {local!r} with respect to its input"
                f"{about} in the backward pass; inputs: {_value.describe_inputs(node.parents)}")
