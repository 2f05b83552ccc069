"""The engine core: Value's interface, the backward pass, IEEE semantics and errors."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autodiff import Constant, Parameter, Value, topo_order

from lecture import HAND_ROUNDING, LECTURE, WorkedExample, decimals, matches
from random_programs import programs, run, smooth_everywhere


# -- the Value interface ------------------------------------------------------------------------

def test_attributes_of_a_leaf_and_a_node():
    x = Value(2, label="x")
    assert (x.data, x.grad, x.label, x.op, x.parents, x.is_leaf) == (2.0, 0.0, "x", "", (), True)
    assert type(x.data) is float
    y = x * 3
    assert y.op == "mul" and not y.is_leaf
    assert y.parents[0] is x and isinstance(y.parents[1], Constant) and y.parents[1].data == 3.0
    assert float(y) == 6.0


def test_repr_shows_data_grad_op_and_label():
    x = Value(0.5, label="x")
    assert repr(x) == "Value(data=0.5, grad=0.0, label='x')"
    assert repr(x.tanh()) == f"Value(data={math.tanh(0.5)!r}, grad=0.0, op='tanh')"


def test_equality_and_hash_are_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2


def test_comparisons_read_data_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 1.5) is True and (b >= 2) is True
    assert (0.5 < a) is True  # reflected through __gt__


@pytest.mark.parametrize("number", [2, 2.0, True, np.float64(2.0), np.float32(2.0), np.int64(2),
                                    Fraction(2, 1)])
def test_numbers_of_every_kind_work_on_either_side(number):
    x = Value(3.0)
    results = [x + number, number + x, x - number, number - x, x * number, number * x,
               x / number, number / x, x ** number, number ** x]
    assert all(type(r) is Value for r in results)
    n = float(number)
    assert [r.data for r in results] == pytest.approx(
        [3 + n, n + 3, 3 - n, n - 3, 3 * n, n * 3, 3 / n, n / 3, 3 ** n, n ** 3])


def test_bool_is_accepted_as_zero_or_one():
    assert Value(True).data == 1.0 and Value(False).data == 0.0


def test_unary_minus_and_abs():
    x = Value(-2.0)
    y = abs(-x) + -x
    y.backward()
    assert y.data == 4.0 and x.grad == -2.0


def test_sum_is_one_node_and_builtin_sum_still_works():
    xs = [Value(float(i)) for i in range(1, 5)]
    s = Value.sum(xs + [10])
    assert s.op == "sum" and len(s.parents) == 5 and s.data == 20.0
    s.backward()
    assert [x.grad for x in xs] == [1.0] * 4
    t = sum(xs)
    assert t.data == 10.0 and t.op == "add"


def test_sum_rejects_what_is_not_an_iterable_of_numbers():
    with pytest.raises(TypeError, match=r"Value.sum\(\) needs an iterable of Values and numbers, "
                                        r"got int 3"):
        Value.sum(3)
    with pytest.raises(TypeError, match="got Value"):
        Value.sum(Value(1.0))
    with pytest.raises(TypeError, match="str 'a'; expected a real number"):
        Value.sum([Value(1.0), "a"])


def test_format_spec_applies_to_data():
    x = Value(0.593269992, label="out_h1")
    assert f"{x:.4f}" == "0.5933" and f"{x:>8.2f}" == "    0.59"
    assert f"{x}" == repr(x) == str(x)


def test_parameter_and_constant_kinds():
    w = Parameter(0.5, label="w")
    c = (w * 2).parents[1]
    assert isinstance(w, Value) and w.requires_grad
    assert isinstance(c, Constant) and not c.requires_grad


# -- the backward pass --------------------------------------------------------------------------

def test_shared_subexpression_x_times_x():
    x = Value(3.0)
    y = x * x
    y.backward()
    assert (y.data, x.grad) == (9.0, 6.0)


def test_diamond():
    a, b = Value(2.0), Value(3.0)
    c = a + b
    d = a * b
    out = (c + d) + c * d
    out.backward()
    assert (out.data, a.grad, b.grad) == (41.0, 25.0, 19.0)


def test_aliasing_x_minus_x_x_over_x_x_to_the_x():
    x = Value(2.0)
    (x - x).backward()
    assert x.grad == 0.0
    x = Value(2.0)
    (x / x).backward()
    assert x.grad == 0.0
    x = Value(2.0)
    (x ** x).backward()
    assert x.grad == pytest.approx(4 * (1 + math.log(2)), rel=1e-15)


def test_micrograds_published_example():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7040816327, abs=5e-11)
    assert a.grad == pytest.approx(138.833819242, abs=5e-10)
    assert b.grad == pytest.approx(645.577259475, abs=5e-10)


@pytest.fixture(scope="module")
def worked_example_numbers():
    return WorkedExample().numbers()


@pytest.mark.parametrize("name", list(LECTURE))
def test_lecture_worked_example_to_every_printed_digit(name, worked_example_numbers):
    got = worked_example_numbers[name]
    assert matches(name, got), f"{name}: engine {got!r}, lecture {LECTURE[name]}"


def test_only_the_lectures_own_rounding_slip_needs_slack(worked_example_numbers):
    rounded_differently = {name for name, printed in LECTURE.items()
                           if f"{worked_example_numbers[name]:.{decimals(printed)}f}" != printed}
    assert rounded_differently == HAND_ROUNDING


def test_chain_of_a_million_nodes():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert y.data == 1_000_001.0 and x.grad == 1.0


def test_backward_twice_doubles_leaves_and_resets_non_leaves():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    d.backward()
    first = (a.grad, b.grad, c.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert c.grad == first[2] == 1.0


def test_backward_from_a_leaf():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0


def test_topo_order_puts_parents_first_and_is_deterministic():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topo_order(e)
    position = {node: i for i, node in enumerate(order)}
    assert order[-1] is e
    assert all(position[p] < position[n] for n in order for p in n.parents)
    assert order == topo_order(e)


# -- IEEE semantics -----------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "expected"), [
    (lambda: Value(0.0).log(), -math.inf),
    (lambda: Value(1.0) / 0, math.inf),
    (lambda: Value(-1.0) / 0, -math.inf),
    (lambda: Value(0.0) / 0, math.nan),
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: Value(-1.0).sqrt(), math.nan),
    (lambda: Value(-1.0).log(), math.nan),
    (lambda: Value(-8.0) ** (1 / 3), math.nan),
    (lambda: Value(0.0) ** -1, math.inf),
    (lambda: Value(10.0) ** 400, math.inf),
    (lambda: 2 ** Value(5000.0), math.inf),
    (lambda: Value(math.inf).sin(), math.nan),
    (lambda: Value(-800.0).sigmoid(), 0.0),
    (lambda: Value(800.0).sigmoid(), 1.0),
    (lambda: Value(1000.0).softplus(), 1000.0),
    (lambda: Value(-1000.0).log_sigmoid(), -1000.0),
    (lambda: Value(1e6).tanh(), 1.0),
    (lambda: Value(math.nan).relu(), math.nan),
])
def test_ieee_results_never_raise(make, expected):
    out = make()
    assert type(out.data) is float
    if math.isnan(expected):
        assert math.isnan(out.data)
    else:
        assert out.data == expected


def test_ieee_gradients():
    x = Value(0.0)
    y = x.log()
    y.backward()
    assert x.grad == math.inf
    x = Value(-800.0)
    x.sigmoid().backward()
    assert x.grad == 0.0
    x = Value(0.0)
    (1 / x).backward()
    assert x.grad == -math.inf   # -1/x², as PyTorch gives it


@pytest.mark.parametrize(("make", "x0", "expected"), [
    (lambda x: x.relu(), 0.0, 0.0),
    (lambda x: abs(x), 0.0, 0.0),
    (lambda x: x.step(), 0.0, 0.0),
    (lambda x: x.step(), 2.0, 0.0),
    (lambda x: x ** 0, 0.0, 0.0),             # a**0 is flat: never 0 · 0**-1 = nan
    (lambda x: x ** Value(0.0), 0.0, 0.0),
    (lambda x: x ** 0, math.nan, 0.0),
])
def test_pytorch_conventions_at_kinks(make, x0, expected):
    x = Value(x0)
    make(x).backward()
    assert x.grad == expected


def test_power_exponent_gradient_is_zero_at_zero_base():
    a, b = Value(0.0), Value(2.0)
    (a ** b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    a, b = Value(0.0), Value(0.0)
    (a ** b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    c = Value(0.0)
    (0 ** c).backward()
    assert c.grad == 0.0


def test_constant_exponent_never_takes_the_log_of_a_negative_base():
    x = Value(-3.0)
    y = x ** 2
    y.backward()
    assert y.data == 9.0 and x.grad == -6.0
    assert y.parents[1].grad == 0.0


# -- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "shown"), [("a", "str 'a'"), (None, "NoneType None"),
                                            ([1], "list [1]"), (1j, "complex 1j"),
                                            (np.array([1.0, 2.0]), "ndarray")])
def test_value_rejects_what_is_not_a_real_number(bad, shown):
    with pytest.raises(TypeError, match="expected a real number") as info:
        Value(bad)
    assert shown in str(info.value)


def test_an_int_too_large_for_a_float_is_named():
    with pytest.raises(OverflowError,
                       match=r"Value\(\) got int 1000000000.*\.\.\., too large for a float"):
        Value(10 ** 400)
    with pytest.raises(OverflowError, match=r"'\*\*' with a Value got int .* too large for a float"):
        Value(2.0) ** 10 ** 400


def test_value_rejects_a_label_that_is_not_a_string():
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_operators_reject_a_string(op):
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"str 'x'; expected a real number"):
        eval(f"x {op} 'x'")
    with pytest.raises(TypeError, match=r"str 'x'; expected a real number"):
        eval(f"'x' {op} x")


# -- property-based: random graphs with shared nodes against central differences -----------------

@settings(max_examples=150, deadline=None)
@given(programs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_graphs_match_central_differences(drawn, values):
    n, program = drawn
    point = values[:n]
    xs = [Value(v) for v in point]
    out = run(program, xs)
    assume(smooth_everywhere(out))
    out.backward()
    h = 1e-6
    for i in range(n):
        def f(t):
            return run(program, [Value(v + (t if k == i else 0.0)) for k, v in enumerate(point)]).data
        numeric = (f(h) - f(-h)) / (2 * h)
        assert xs[i].grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


# -- the docstrings' examples ---------------------------------------------------------------------

def autodiff_modules() -> list[str]:
    import pkgutil

    import autodiff
    return ["autodiff"] + [f"autodiff.{m.name}" for m in pkgutil.walk_packages(autodiff.__path__)]


@pytest.mark.parametrize("module", autodiff_modules())
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
