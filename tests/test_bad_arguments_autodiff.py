"""Every public call site of autodiff × bad values: a TypeError or ValueError naming the argument.

One row per argument of a public function or constructor: how to call it with a bad value, which of
the values below are bad there, and the words the message must contain (the call and the argument).
What a row leaves out is allowed there, for the reason its comment gives. Numbers a computation
takes as data (a Value's data, Σ terms, a function's arguments, tangents, a number to format) may be
nan or ±inf (IEEE semantics) and may be a bool (True is 1.0, as in Python arithmetic); numbers that
are settings (digits, eps, atol, rtol, argnums) may not.
"""

import inspect
import math

import pytest

import autodiff
from autodiff import (Constant, Parameter, Value, explain, format_number, grad, gradcheck,
                      gradients, hessian, jvp, topo_order, trace, value_and_grad)
from autodiff.backward import backward

BAD = {"None": None, "str": "1.0", "nan": math.nan, "inf": math.inf, "bool": True,
       "huge int": 10 ** 400, "vast int": 10 ** 5000, "list": [1.0], "object": object()}
EVERY = tuple(BAD)
# nan, inf and bools are data; None is a setting's default
NOT_DATA = ("None", "str", "huge int", "vast int", "list", "object")
NOT_A_SETTING = ("str", "nan", "inf", "bool", "huge int", "vast int", "list", "object")


def square(x):
    return x * x


W = Value(0.5, label="w")
E = W * Value(3.0, label="x")


# (public name, argument, call with the bad value v, kinds of BAD refused, words the message has)
ROWS = [
    ("Value", "data", lambda v: Value(v), NOT_DATA, ("Value() data",)),
    ("Value", "label", lambda v: Value(1.0, label=v),
     ("None", "nan", "inf", "bool", "huge int", "vast int", "list", "object"), ("Value() label",)),
    ("Constant", "data", lambda v: Constant(v), NOT_DATA, ("Constant() data",)),
    ("Constant", "label", lambda v: Constant(1.0, label=v), ("None", "bool", "list"),
     ("Constant() label",)),
    ("Parameter", "data", lambda v: Parameter(v), NOT_DATA, ("Parameter() data",)),
    ("Parameter", "label", lambda v: Parameter(1.0, label=v), ("None", "bool", "list"),
     ("Parameter() label",)),
    # a list of numbers is terms
    ("Value.sum", "terms", lambda v: Value.sum(v),
     ("None", "str", "nan", "inf", "bool", "huge int", "vast int", "object"),
     ("Value.sum() terms",)),
    ("Value.sum", "terms[1]", lambda v: Value.sum([Value(1.0), v]), NOT_DATA,
     ("Value.sum() terms[1]",)),
    ("backward", "output", lambda v: backward(v), EVERY, ("backward() output",)),
    ("backward", "order", lambda v: backward(Value(1.0), v), NOT_A_SETTING, ("backward() order",)),
    ("backward", "record", lambda v: backward(Value(1.0), None, v), NOT_A_SETTING,
     ("backward() record",)),
    ("topo_order", "root", lambda v: topo_order(v), EVERY, ("topo_order() root",)),
    ("gradients", "output", lambda v: gradients(v, []), EVERY, ("gradients() output",)),
    # a list holding a number is refused by its item: inputs[0]
    ("gradients", "inputs", lambda v: gradients(Value(1.0), v), EVERY, ("gradients() inputs",)),
    ("gradients", "create_graph", lambda v: gradients(Value(1.0), [], v),
     ("None", "str", "nan", "inf", "huge int", "vast int", "list", "object"),
     ("gradients() create_graph",)),
    ("grad", "f", lambda v: grad(v), EVERY, ("grad() f",)),
    ("grad", "argnums", lambda v: grad(square, v), EVERY, ("grad() argnums",)),
    ("grad", "argument 0", lambda v: grad(square)(v), NOT_DATA, ("grad(f) argument 0",)),
    ("value_and_grad", "f", lambda v: value_and_grad(v), EVERY, ("value_and_grad() f",)),
    ("value_and_grad", "argnums", lambda v: value_and_grad(square, v), EVERY,
     ("value_and_grad() argnums",)),
    ("value_and_grad", "argument 0", lambda v: value_and_grad(square)(v), NOT_DATA,
     ("value_and_grad(f) argument 0",)),
    ("hessian", "f", lambda v: hessian(v), EVERY, ("hessian() f",)),
    ("hessian", "argnums", lambda v: hessian(square, v), NOT_A_SETTING, ("hessian() argnums",)),
    ("hessian", "argument 0", lambda v: hessian(square)(v), NOT_DATA, ("hessian(f) argument 0",)),
    ("jvp", "f", lambda v: jvp(v, (1.0,), (1.0,)), EVERY, ("jvp() f",)),
    # a list of numbers is primals (or tangents)
    ("jvp", "primals", lambda v: jvp(square, v, (1.0,)),
     ("None", "str", "nan", "inf", "bool", "huge int", "vast int", "object"),
     ("jvp() primals",)),
    ("jvp", "primals[0]", lambda v: jvp(square, (v,), (1.0,)), NOT_DATA, ("jvp() primals[0]",)),
    ("jvp", "tangents", lambda v: jvp(square, (1.0,), v),
     ("None", "str", "nan", "inf", "bool", "huge int", "vast int", "object"),
     ("jvp() tangents",)),
    ("jvp", "tangents[0]", lambda v: jvp(square, (1.0,), (v,)), NOT_DATA, ("jvp() tangents[0]",)),
    ("gradcheck", "f", lambda v: gradcheck(v, (1.0,)), EVERY, ("gradcheck() f",)),
    # one number is args; a point must be finite for differences around it to mean anything
    ("gradcheck", "args", lambda v: gradcheck(square, v),
     ("None", "str", "nan", "inf", "huge int", "vast int", "object"),
     ("gradcheck() args",)),
    ("gradcheck", "args[0]", lambda v: gradcheck(square, (v,)),
     ("None", "str", "nan", "inf", "huge int", "vast int", "list", "object"),
     ("gradcheck() args[0]",)),
    ("gradcheck", "eps", lambda v: gradcheck(square, (1.0,), eps=v), EVERY, ("gradcheck() eps",)),
    ("gradcheck", "atol", lambda v: gradcheck(square, (1.0,), atol=v), EVERY,
     ("gradcheck() atol",)),
    ("gradcheck", "rtol", lambda v: gradcheck(square, (1.0,), rtol=v), EVERY,
     ("gradcheck() rtol",)),
    ("trace", "output", lambda v: trace(v), EVERY, ("trace()", "output")),
    ("format_number", "x", lambda v: format_number(v), NOT_DATA, ("format_number() x",)),
    ("format_number", "digits", lambda v: format_number(1.5, v), EVERY,
     ("format_number() digits",)),
    ("explain", "output", lambda v: explain(v, W), EVERY, ("explain() output",)),
    ("explain", "wrt", lambda v: explain(E, v), EVERY, ("explain() wrt",)),
    ("explain", "limit", lambda v: explain(E, W, limit=v), EVERY, ("explain() limit",)),
    ("explain", "formulas", lambda v: explain(E, W, formulas=v),
     ("None", "str", "nan", "inf", "huge int", "vast int", "list", "object"),
     ("explain() formulas",)),
]

CASES = [pytest.param(call, kind, words, id=f"{site} {argument}: {kind}")
         for site, argument, call, kinds, words in ROWS for kind in kinds]


@pytest.mark.parametrize(("call", "kind", "words"), CASES)
def test_a_bad_argument_gets_an_error_naming_it(call, kind, words):
    with pytest.raises((TypeError, ValueError)) as info:
        call(BAD[kind])
    message = str(info.value)
    assert all(word in message for word in words), message
    assert message.count("\n") == 0 and len(message) < 400


# What takes no arguments needs no row; the rest is named with the reason it has none.
NO_ARGUMENTS = "takes no arguments"
EXEMPT = {
    "no_grad": NO_ARGUMENTS,
    "enable_grad": NO_ARGUMENTS,
    "detect_anomaly": NO_ARGUMENTS,
    "AnomalyError": "an exception type the engine raises; like any exception it takes a message",
    "GradcheckError": "an exception type gradcheck raises with its table",
    "Op": "a row of the op table, made by ops.defop, not called by users",
    "Graph": "a record trace() makes",
    "Step": "a record Graph.backward() makes",
    "Term": "a record Graph.backward() makes",
    "Steps": "the list of steps Graph.backward() returns",
    "Derivation": "a record explain() makes",
    "Program": "Graph.compile() makes it; the compiled replay checks its own arguments",
}


def test_every_public_callable_has_a_row_or_a_reason():
    public = {name for name in autodiff.__all__ if callable(getattr(autodiff, name))}
    covered = {site for site, *_ in ROWS}
    missing = public - covered - set(EXEMPT)
    assert not missing, f"public callables without a row in ROWS: {sorted(missing)}"
    assert set(EXEMPT) <= public, "an exemption names something autodiff no longer exports"
    for name, reason in EXEMPT.items():
        if reason == NO_ARGUMENTS:
            assert not inspect.signature(getattr(autodiff, name)).parameters, name


def test_every_row_refuses_something_and_names_what_it_refuses():
    for site, argument, _, kinds, words in ROWS:
        assert kinds and set(kinds) <= set(BAD), (site, argument)
        assert any(argument in word for word in words), (site, argument)


def test_a_refused_backward_changes_no_gradient():
    x = Value(2.0)
    y = x * x
    y.backward()
    for bad in ([y, "node"], [x], "order"):
        with pytest.raises((TypeError, ValueError)):
            backward(y, bad)
    assert (x.grad, y.grad) == (4.0, 1.0)


def test_what_data_arguments_accept():
    assert Value(True).data == 1.0 and math.isnan(Value(math.nan).data)
    assert Value.sum([Value(1.0), math.inf]).data == math.inf
    assert grad(square)(True) == 2.0
    assert jvp(square, (math.inf,), (1.0,)) == (math.inf, math.inf)
    assert format_number(math.nan) == "nan" and format_number(True) == "1"
