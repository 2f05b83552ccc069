"""Every row of the op table: value and local derivative against a closed form and central differences."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodiff import OPS, Value, gradients, jvp, trace
from autodiff.ops import safe_div, safe_pow
from autodiff.value import _apply


def sig(x):
    return 1 / (1 + math.exp(-x))


# op name -> (f(x) in closed form, f'(x) in closed form, points)
UNARY_CASES = {
    "neg": (lambda x: -x, lambda x: -1.0, [-2.0, 0.0, 3.5]),
    "abs": (abs, lambda x: math.copysign(1.0, x), [-2.5, -0.1, 0.3, 4.0]),
    "exp": (math.exp, math.exp, [-3.0, 0.0, 0.5, 2.0]),
    "log": (math.log, lambda x: 1 / x, [0.1, 1.0, 2.5, 40.0]),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.04, 1.0, 9.0]),
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-3.0, -0.5, 0.0, 0.7, 4.0]),
    "sigmoid": (sig, lambda x: sig(x) * (1 - sig(x)), [-6.0, -0.3775, 0.0, 1.1059, 5.0]),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0, [-2.0, -0.1, 0.2, 3.0]),
    "step": (lambda x: 1.0 if x >= 0 else 0.0, lambda x: 0.0, [-2.0, -0.1, 0.2, 3.0]),
    "arctan": (math.atan, lambda x: 1 / (1 + x * x), [-10.0, -1.0, 0.0, 2.0]),
    "sin": (math.sin, math.cos, [-2.0, 0.0, 0.5, 3.0]),
    "cos": (math.cos, lambda x: -math.sin(x), [-2.0, 0.0, 0.5, 3.0]),
    "softplus": (lambda x: math.log(1 + math.exp(x)), sig, [-5.0, -0.5, 0.0, 1.0, 6.0]),
    "log_sigmoid": (lambda x: math.log(sig(x)), lambda x: 1 - sig(x), [-5.0, -0.5, 0.0, 1.0, 6.0]),
}

# op name -> (f(a, b), (∂f/∂a, ∂f/∂b) in closed form, points); the pow rows differ in which
# partials exist, so their constant operand's partial is 0 by definition.
BINARY_CASES = {
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0), [(1.0, 2.0), (-3.0, 0.5)]),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0), [(1.0, 2.0), (-3.0, 0.5)]),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a), [(1.5, 2.0), (-3.0, 0.5)]),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / b ** 2), [(1.5, 2.0), (-3.0, 0.5)]),
    "pow": (lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), a ** b * math.log(a)),
            [(1.5, 2.0), (2.0, -0.5), (0.7, 3.3)]),
    "pow_const": (lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), 0.0),
                  [(1.5, 2.0), (-2.0, 3.0), (0.7, 3.3)]),
    "rpow_const": (lambda a, b: a ** b, lambda a, b: (0.0, a ** b * math.log(a)),
                   [(2.0, 3.0), (0.5, -1.5), (10.0, 0.25)]),
}

NARY_CASES = {"sum": [(1.0,), (1.0, -2.5), (0.3, 0.4, 0.5, 7.0)]}

H = 1e-6


def central(f, x):
    return (f(x + H) - f(x - H)) / (2 * H)


def test_every_op_has_a_case():
    covered = set(UNARY_CASES) | set(BINARY_CASES) | set(NARY_CASES)
    assert set(OPS) == covered, f"ops without a case: {sorted(set(OPS) - covered)}"


@pytest.mark.parametrize(("name", "x"), [(n, x) for n, (_, _, xs) in UNARY_CASES.items() for x in xs])
def test_unary_forward_and_local(name, x):
    op = OPS[name]
    f, df, _ = UNARY_CASES[name]
    y = op.forward(x)
    assert y == pytest.approx(f(x), rel=1e-14, abs=1e-15)
    (local,) = op.local(y, x)
    assert local == pytest.approx(df(x), rel=1e-12, abs=1e-15)
    if name not in ("relu", "step", "abs") or abs(x) > 10 * H:
        assert local == pytest.approx(central(op.forward, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(("name", "a", "b"),
                         [(n, a, b) for n, (_, _, ps) in BINARY_CASES.items() for a, b in ps])
def test_binary_forward_and_local(name, a, b):
    op = OPS[name]
    f, df, _ = BINARY_CASES[name]
    y = op.forward(a, b)
    assert y == pytest.approx(f(a, b), rel=1e-14)
    da, db = op.local(y, a, b)
    want_a, want_b = df(a, b)
    assert da == pytest.approx(want_a, rel=1e-12, abs=1e-15)
    assert db == pytest.approx(want_b, rel=1e-12, abs=1e-15)
    if name != "rpow_const":
        assert da == pytest.approx(central(lambda t: op.forward(t, b), a), rel=1e-6)
    if name != "pow_const":
        assert db == pytest.approx(central(lambda t: op.forward(a, t), b), rel=1e-6)


@pytest.mark.parametrize("xs", NARY_CASES["sum"])
def test_sum_forward_and_local(xs):
    op = OPS["sum"]
    y = op.forward(*xs)
    assert y == pytest.approx(sum(xs), rel=1e-15)
    assert op.local(y, *xs) == (1.0,) * len(xs)


@pytest.mark.parametrize("name", sorted(UNARY_CASES))
def test_value_method_matches_the_row(name):
    x = 0.7
    v = Value(x)
    out = -v if name == "neg" else abs(v) if name == "abs" else getattr(v, name)()
    assert out.op == name
    assert out.data == OPS[name].forward(x)
    out.backward()
    assert v.grad == OPS[name].local(out.data, x)[0]


@pytest.mark.parametrize(("name", "x"), [(n, x) for n, (_, _, xs) in UNARY_CASES.items()
                                        for x in xs if n not in ("log", "sqrt")] +
                         [("log", 0.5), ("sqrt", 0.5)])
def test_batched_forward_matches_scalar(name, x):
    op = OPS[name]
    got = op.batched(np.array([x, x]))
    assert got.tolist() == pytest.approx([op.forward(x)] * 2, rel=1e-15, abs=1e-300)


def test_safe_scalar_helpers_follow_ieee():
    assert safe_div(1.0, 0.0) == math.inf
    assert safe_div(-1.0, 0.0) == -math.inf
    assert safe_div(1.0, -0.0) == -math.inf
    assert math.isnan(safe_div(0.0, 0.0))
    assert safe_pow(0.0, -1.0) == math.inf
    assert safe_pow(-0.0, -1.0) == -math.inf
    assert safe_pow(-0.0, -2.0) == math.inf
    assert math.isnan(safe_pow(-8.0, 1 / 3))
    assert safe_pow(10.0, 400.0) == math.inf
    assert safe_pow(-10.0, 401.0) == -math.inf


# -- vjp: the rows that give their contributions themselves ------------------------------------

WITH_VJP = sorted(name for name, op in OPS.items() if op.vjp is not None)

# finite points from 1e-30 to 1e30 in size, and both zeros: no product of a few of them comes
# near the subnormal range, where a relative comparison of two roundings means nothing
moderate = st.one_of(st.sampled_from([0.0, -0.0]),
                     st.builds(lambda m, e, s: s * m * 10.0 ** e, st.floats(1.0, 10.0),
                               st.integers(-30, 29), st.sampled_from([1.0, -1.0])))


@pytest.mark.parametrize("name", WITH_VJP)
@given(xs=st.lists(moderate, min_size=2, max_size=2), g=moderate)
def test_vjp_is_g_times_local_wherever_both_are_finite(name, xs, g):
    op = OPS[name]
    xs = xs[:op.arity]
    y = op.forward(*xs)
    for local, contribution in zip(op.local(y, *xs), op.vjp(g, y, *xs)):
        product = g * local
        if math.isfinite(product) and math.isfinite(contribution):
            assert contribution == product or math.isclose(contribution, product, rel_tol=1e-15)


# A row whose vjp disagrees with g × local on purpose: whatever computes a gradient with it shows
# which of the two it used.
TWICE = replace(OPS["neg"], name="twice", symbol="2×", notation="2*x", formulas=("2",),
                forward=lambda x: 2.0 * x, batched=lambda x: 2.0 * x,
                local=lambda y, x: (2.0,), vjp=lambda g, y, x: (3.0 * g,))
PAIR = replace(OPS["add"], name="pair", local=lambda y, a, b: (1.0, 1.0),
               vjp=lambda g, y, a, b: (5.0 * g, 7.0 * g))


def test_every_engine_path_uses_a_rows_vjp():
    def f(x, y):
        return _apply(PAIR, (_apply(TWICE, (x,)), y))

    x, y = Value(1.0), Value(2.0)
    f(x, y).backward()
    assert (x.grad, y.grad) == (15.0, 7.0)
    x, y = Value(1.0), Value(2.0)
    steps = trace(f(x, y)).backward()
    assert (x.grad, y.grad) == (15.0, 7.0)
    assert [[term.contribution for term in step.terms] for step in steps] == [[5.0, 7.0], [15.0]]
    x, y = Value(1.0), Value(2.0)
    assert gradients(f(x, y), [x, y]) == (15.0, 7.0)
    x, y = Value(1.0), Value(2.0)
    assert [g.data for g in gradients(f(x, y), [x, y], create_graph=True)] == [15.0, 7.0]
    assert jvp(f, (1.0, 2.0), (1.0, 0.0)) == (4.0, 15.0)
    assert jvp(f, (1.0, 2.0), (0.0, 1.0)) == (4.0, 7.0)
    assert jvp(f, (1.0, 2.0), (1.0, 1.0)) == (4.0, 22.0)


EDGE_VALUES = [-math.inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, math.inf, math.nan]


def same_float(x: float, y: float) -> bool:
    """Equal as IEEE values (nan matches nan, 0.0 does not match -0.0, inf only inf), up to the last
    bits in which numpy's transcendental functions may differ from the math module's."""
    if x != x or y != y:
        return x != x and y != y
    if x == 0.0 or y == 0.0 or math.isinf(x) or math.isinf(y):
        return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)
    return math.isclose(x, y, rel_tol=4e-16)


@pytest.mark.parametrize("name", sorted(OPS))
def test_batched_equals_forward_on_edge_values_with_one_operand_a_number(name):
    """`batched` with a whole row against `forward` one number at a time, including the form the
    replay and rules use for a constant operand: an array beside a plain number."""
    op = OPS[name]
    edges = np.array(EDGE_VALUES)
    if op.arity == 1 or op.arity is None:
        got = op.batched(edges) if op.arity == 1 else op.batched(edges, edges)
        want = [op.forward(x) if op.arity == 1 else op.forward(x, x) for x in EDGE_VALUES]
        assert all(same_float(g, w) for g, w in zip(got.tolist(), want)), (got, want)
        return
    for k, number in enumerate(EDGE_VALUES):
        for got, want in ((op.batched(edges, number), [op.forward(x, number) for x in EDGE_VALUES]),
                          (op.batched(number, edges), [op.forward(number, x) for x in EDGE_VALUES])):
            assert all(same_float(g, w) for g, w in zip(np.asarray(got).tolist(), want)), (number, got, want)
