"""Every public call of the compiled replay × bad values: a TypeError or ValueError naming the
argument, and nothing changed (no gradient added, no limit moved)."""

import numpy as np
import pytest

from autodiff import Parameter, Value, trace


def small():
    x, y, w = Value(1.0, label="x"), Value(2.0, label="y"), Parameter(0.5, label="w")
    h = w * x + y
    return trace(h * h), x, y, w, h


def compile_exact(bad):
    graph, x, y, *_ = small()
    return lambda: graph.compile([x, y], exact=bad)


def program():
    graph, x, y, w, _ = small()
    return graph.compile([x, y]), w


BATCHES = [
    (None, TypeError), ("ab", TypeError), (np.array([["a", "b"]]), TypeError),
    (np.array([[1 + 2j, 0]]), TypeError), (np.array([[None, 1.0]], dtype=object), TypeError),
    ([[1.0], [1.0, 2.0]], ValueError), (3.0, ValueError), ([], ValueError), ([[]], ValueError),
    (np.ones(2), ValueError), (np.ones((3, 3)), ValueError), (np.ones((0, 2)), ValueError),
    (np.ones((2, 2, 1)), ValueError),
]


def rows():
    graph, x, y, w, h = small()
    doubled = trace(x * 2)
    constant = next(n for n in doubled.nodes if n.is_leaf and n is not x)
    table = [  # (what is called, with what, error, the argument's name in the message)
        *[(f"compile(inputs={bad!r})", lambda bad=bad: graph.compile(bad), error, "inputs")
          for bad, error in [
            (None, TypeError), (3, TypeError), ("x", TypeError), (x, TypeError),
            ([None], TypeError), ([x, 2.0], TypeError), ([], ValueError),
            ([x, Value(3.0)], ValueError), ([x, h], ValueError), ([x, x], ValueError)]],
        ("compile(inputs=[constant])", lambda: doubled.compile([x, constant]), ValueError,
         "inputs"),
        *[(f"compile(exact={bad!r})", compile_exact(bad), TypeError, "exact")
          for bad in ("yes", 1, None, "False")],
    ]
    for call in ("__call__", "backward", "gradients"):
        for bad, error in BATCHES:
            table.append((f"Program.{call}({bad!r})", (call, (bad,), {}), error, "batch"))
    for bad, error in [("max", ValueError), (None, TypeError), (1, TypeError), (True, TypeError)]:
        table.append((f"backward(reduction={bad!r})",
                      ("backward", ([[1.0, 2.0]],), {"reduction": bad}), error, "reduction"))
    for bad, error in [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
                       ("10", TypeError), (None, TypeError), (10**10, ValueError)]:
        table.append((f"memory({bad!r})", ("memory", (bad,), {}), error, "batch_size"))
    for bad, error in [("x", ValueError), (None, TypeError), (1, TypeError)]:
        table.append((f"memory(run={bad!r})", ("memory", (10,), {"run": bad}), error, "run"))
    for bad, error in [(0, ValueError), (-5, ValueError), (1.5e9, TypeError), ("big", TypeError),
                       (None, TypeError), (True, TypeError), (2**70, ValueError)]:
        table.append((f"memory_limit = {bad!r}", ("memory_limit", bad), error, "memory_limit"))
    return table


@pytest.mark.parametrize(("label", "call", "error", "argument"), rows(),
                         ids=[row[0] for row in rows()])
def test_a_bad_argument_names_itself_and_changes_nothing(label, call, error, argument):
    if callable(call):
        with pytest.raises(error, match=argument):
            call()
        return
    p, w = program()
    w.grad = 0.25
    limit = p.memory_limit
    if call[0] == "memory_limit":
        with pytest.raises(error, match=argument):
            p.memory_limit = call[1]
    else:
        name, args, kwargs = call
        method = p if name == "__call__" else getattr(p, name)
        with pytest.raises(error, match=argument):
            method(*args, **kwargs)
    assert w.grad == 0.25 and p.memory_limit == limit


def test_every_public_call_of_a_program_has_rows():
    called = {row[1][0] for row in rows() if not callable(row[1])}
    assert called == {"__call__", "backward", "gradients", "memory", "memory_limit"}
