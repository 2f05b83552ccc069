"""gradients, grad, value_and_grad, hessian and jvp: higher orders, nesting, forward mode, errors."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from random_programs import programs, run, size_of_terms, smooth_everywhere

from autodiff import (OPS, Value, grad, gradients, hessian, jvp, no_grad, topo_order,
                      value_and_grad)


def sig(x):
    return 1 / (1 + math.exp(-x))


# -- the issue's worked cases --------------------------------------------------------------------

def test_cube_at_three_through_nested_grad():
    cube = lambda x: x * x * x
    assert value_and_grad(cube)(3.0) == (27.0, 27.0)
    assert grad(grad(cube))(3.0) == 18.0
    assert grad(grad(grad(cube)))(3.0) == 6.0
    assert grad(grad(grad(grad(cube))))(3.0) == 0.0


def test_second_derivative_of_tanh_at_one():
    assert grad(grad(lambda x: x.tanh()))(1.0) == -0.6397000084492246


def test_no_perturbation_confusion():
    # d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1; confusing the two perturbations gives 2.
    f = lambda x: x * grad(lambda y: x + y)(x)
    assert grad(f)(1.0) == 1.0
    # d/dx [d/dy (x · y) at y = x] = d/dx x = 1; differentiating through x as well gives 2.
    assert grad(lambda x: grad(lambda y: x * y)(x))(2.0) == 1.0


@pytest.mark.parametrize(("f", "point", "expected"), [
    (lambda x0, x1: x0 ** 3 - 2 * x0 * x1 - x1 ** 6, (1.0, 2.0), [[6, -2], [-2, -480]]),
    (lambda x, y: x ** 3 + y ** 3 - 3 * x * y, (1.0, 1.0), [[6, -3], [-3, 6]]),
    (lambda x, y: x ** 3 + y ** 3 - 3 * x * y, (0.0, 0.0), [[0, -3], [-3, 0]]),
])
def test_hessians_of_the_issue(f, point, expected):
    h = hessian(f)(*point)
    assert isinstance(h, np.ndarray) and h.shape == (2, 2) and h.dtype == float
    np.testing.assert_array_equal(h, np.array(expected, dtype=float))


def test_a_polynomial_with_a_constant_term_at_zero():
    # c0·x**0 is flat: its derivative is 0 at x = 0, not 0 · 0**-1 = nan (PyTorch's convention)
    p = lambda x: Value.sum([c * x ** k for k, c in enumerate((5.0, 2.0, 3.0, 4.0))])
    assert grad(p)(0.0) == 2.0
    assert grad(grad(p))(0.0) == 6.0
    assert grad(grad(grad(p)))(0.0) == 24.0


def test_hessian_tells_a_minimum_from_a_saddle():
    f = lambda x, y: x ** 3 + y ** 3 - 3 * x * y
    assert np.all(np.linalg.eigvalsh(hessian(f)(1.0, 1.0)) > 0)
    eig = np.linalg.eigvalsh(hessian(f)(0.0, 0.0))
    assert eig.min() < 0 < eig.max()


# -- gradients -----------------------------------------------------------------------------------

def test_gradients_leaves_every_grad_untouched():
    x, y = Value(2.0, label="x"), Value(-1.5, label="y")
    out = (x * y + x.tanh()) * y.exp()
    nodes = topo_order(out)
    for k, node in enumerate(nodes):
        node.grad = 100.0 + k
    gx, gy = gradients(out, [x, y])
    (hx,) = gradients(gradients(out, x, create_graph=True)[0], x)
    assert [node.grad for node in nodes] == [100.0 + k for k in range(len(nodes))]
    out.backward()
    x.grad -= 100.0 + nodes.index(x)
    y.grad -= 100.0 + nodes.index(y)
    assert (gx, gy) == pytest.approx((x.grad, y.grad), rel=1e-15)
    assert hx == pytest.approx(-2 * math.tanh(2.0) * (1 - math.tanh(2.0) ** 2) * math.exp(-1.5))


def test_gradients_is_zero_for_an_input_the_output_does_not_use():
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    assert gradients(x * y, [x, z, y]) == (2.0, 0.0, 1.0)
    (dz,) = gradients(x * y, [z], create_graph=True)
    assert isinstance(dz, Value) and dz.data == 0.0


def test_gradients_through_an_intermediate_input_counts_every_path():
    x = Value(3.0)
    u = x * x
    out = u * x              # x³: through u (2x · x) and directly (u)
    assert gradients(out, [x, u]) == (27.0, 3.0)


def test_gradients_of_a_single_value_and_of_the_output_itself():
    x = Value(4.0)
    assert gradients(x.sqrt(), x) == (0.25,)
    assert gradients(x, x) == (1.0,)
    assert gradients(x, []) == ()


def test_create_graph_gives_values_to_any_order():
    x = Value(0.5, label="x")
    g = x.sin()
    derivatives = []
    for _ in range(4):
        (g,) = gradients(g, x, create_graph=True)
        assert isinstance(g, Value)
        derivatives.append(g.data)
    assert derivatives == pytest.approx([math.cos(0.5), -math.sin(0.5), -math.cos(0.5),
                                         math.sin(0.5)], rel=1e-15)


def test_create_graph_records_inside_no_grad():
    x = Value(2.0)
    out = x * x * x
    with no_grad():
        (g,) = gradients(out, x, create_graph=True)
    assert gradients(g, x) == (12.0,)


def test_constant_exponent_stays_constant_in_the_derivative_graph():
    x = Value(-2.0)
    (g,) = gradients(x ** 3, x, create_graph=True)
    ops = {node.op for node in topo_order(g)}
    assert "pow" not in ops and "log" not in ops   # so no log(-2) = nan appears
    assert gradients(g, x) == (-12.0,)


def test_gradients_sums_many_paths_in_one_node():
    x = Value(1.5)
    out = Value.sum([x * k for k in range(1, 6)]) * x
    (g,) = gradients(out, x, create_graph=True)
    assert g.data == pytest.approx(2 * 15 * 1.5)
    assert gradients(g, x) == (30.0,)


@pytest.mark.parametrize(("args", "message"), [
    ((3.0, []), "gradients() output must be a Value, got float 3.0"),
    ((Value(1.0), 3.0), "inputs must be a Value or an iterable of Values, got float 3.0"),
    ((Value(1.0), "x"), "inputs must be a Value or an iterable of Values, got str 'x'"),
    ((Value(1.0), [Value(1.0), 2.0]), "gradients() inputs[1] must be a Value, got float 2.0"),
    ((Value(1.0), [], 1), "create_graph must be True or False, got int 1"),
])
def test_gradients_rejects_bad_arguments(args, message):
    with pytest.raises(TypeError) as info:
        gradients(*args)
    assert message in str(info.value)


# -- grad, value_and_grad, hessian ---------------------------------------------------------------

def test_grad_with_argnums():
    f = lambda x, y, z: x * y * y + z
    assert grad(f)(2.0, 3.0, 5.0) == 9.0
    assert grad(f, argnums=1)(2.0, 3.0, 5.0) == 12.0
    assert grad(f, argnums=-1)(2.0, 3.0, 5.0) == 1.0
    assert grad(f, argnums=(0, 2))(2.0, 3.0, 5.0) == (9.0, 1.0)
    assert grad(f, argnums=(1, 1))(2.0, 3.0, 5.0) == (12.0, 12.0)
    assert grad(f, argnums=())(2.0, 3.0, 5.0) == ()


def test_numbers_in_floats_out_values_in_values_out():
    f = lambda x: x * x.exp()
    assert type(grad(f)(1.0)) is float
    assert type(grad(f)(np.float32(1.0))) is float and grad(f)(2) == pytest.approx(3 * math.e ** 2)
    x = Value(1.0)
    g = grad(f)(x)
    assert isinstance(g, Value) and g.data == pytest.approx(2 * math.e)
    assert gradients(g, x) == (pytest.approx(3 * math.e),)
    value, dx = value_and_grad(f)(x)
    assert isinstance(value, Value) and gradients(value, x) == (pytest.approx(2 * math.e),)


def test_grad_of_a_constant_function_is_zero():
    assert value_and_grad(lambda x: 7)(1.0) == (7.0, 0.0)
    assert grad(lambda x, y: y * y)(1.0, 3.0) == 0.0
    g = grad(lambda x: 7)(Value(1.0))
    assert isinstance(g, Value) and g.data == 0.0


def test_a_value_argument_not_differentiated_still_flows_out():
    w = Value(3.0)
    g = grad(lambda x, w: x * x * w)(2.0, w)   # 2xw = 12, a function of w
    assert g.data == 12.0 and gradients(g, w) == (4.0,)


def test_grad_ignores_an_outer_no_grad_and_respects_an_inner_one():
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0

    def half_frozen(x):
        with no_grad():
            frozen = x * x
        return frozen + x
    assert grad(half_frozen)(3.0) == 1.0


def test_transforms_carry_the_functions_name():
    def loss(x):
        return x * x
    assert grad(loss).__name__ == "grad(loss)"
    assert hessian(loss).__name__ == "hessian(loss)"


def test_hessian_over_some_arguments_and_with_value_arguments():
    f = lambda x, y, z: x * x * y * z
    h = hessian(f, argnums=(0, 2))(1.0, 2.0, 3.0)
    np.testing.assert_array_equal(h, [[12.0, 4.0], [4.0, 0.0]])
    assert hessian(f, argnums=1)(1.0, 2.0, 3.0).shape == (1, 1)
    y = Value(2.0)
    hv = hessian(lambda x, y: x * x * x * y, argnums=0)(1.0, y)
    assert hv.dtype == object and hv[0, 0].data == 12.0
    assert gradients(hv[0, 0], y) == (6.0,)


@pytest.mark.parametrize("transform", [grad, value_and_grad, hessian])
def test_non_scalar_result_is_a_type_error(transform):
    with pytest.raises(TypeError, match=r"needs f to return a scalar .* got list \[1\.0, 2\.0\]"):
        transform(lambda x: [1.0, 2.0])(1.0)
    with pytest.raises(TypeError, match="got tuple"):
        transform(lambda x: (x, x))(1.0)


@pytest.mark.parametrize("transform", [grad, value_and_grad, hessian])
@pytest.mark.parametrize("bad", ["1.0", [1.0, 2.0], np.array([1.0, 2.0]), None, 1j])
def test_non_numeric_argument_is_a_type_error(transform, bad):
    with pytest.raises(TypeError, match=r"\(f\) argument 0 must be a real number or a Value"):
        transform(lambda x: x * x)(bad)


def test_argnums_errors():
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints, got float 1.0"):
        grad(lambda x: x, argnums=1.0)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints, got list"):
        grad(lambda x: x, argnums=[0])
    with pytest.raises(TypeError, match="got bool True"):
        grad(lambda x: x, argnums=True)
    with pytest.raises(ValueError, match="argnums 2 names argument 2, but the function was called "
                                         "with 2 arguments"):
        grad(lambda x, y: x, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match=r"grad\(\) f must be a function, got int 3"):
        grad(3)


# -- every op's second derivative ---------------------------------------------------------------

# op name -> (how the public API builds it, its Hessian in closed form, points)
SECOND = {
    "add": (lambda a, b: a + b, lambda a, b: [[0, 0], [0, 0]], [(1.0, 2.0), (-3.0, 0.5)]),
    "sub": (lambda a, b: a - b, lambda a, b: [[0, 0], [0, 0]], [(1.0, 2.0)]),
    "mul": (lambda a, b: a * b, lambda a, b: [[0, 1], [1, 0]], [(1.5, 2.0), (-3.0, 0.5)]),
    "div": (lambda a, b: a / b, lambda a, b: [[0, -1 / b ** 2], [-1 / b ** 2, 2 * a / b ** 3]],
            [(1.5, 2.0), (-3.0, 0.5)]),
    "neg": (lambda x: -x, lambda x: [[0]], [(-2.0,), (3.5,)]),
    "sum": (lambda a, b, c: Value.sum([a, b, c]), lambda a, b, c: np.zeros((3, 3)),
            [(0.3, -0.4, 5.0)]),
    "pow": (lambda a, b: a ** b,
            lambda a, b: [[b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * math.log(a))],
                          [a ** (b - 1) * (1 + b * math.log(a)), a ** b * math.log(a) ** 2]],
            [(1.5, 2.0), (2.0, -0.5), (0.7, 3.3)]),
    "pow_const": (lambda x: x ** 3.3, lambda x: [[3.3 * 2.3 * x ** 1.3]], [(0.7,), (2.0,)]),
    "rpow_const": (lambda x: 2.0 ** x, lambda x: [[2.0 ** x * math.log(2.0) ** 2]],
                   [(-1.5,), (3.0,)]),
    "exp": (lambda x: x.exp(), lambda x: [[math.exp(x)]], [(-3.0,), (0.5,), (2.0,)]),
    "log": (lambda x: x.log(), lambda x: [[-1 / x ** 2]], [(0.1,), (2.5,)]),
    "sqrt": (lambda x: x.sqrt(), lambda x: [[-0.25 * x ** -1.5]], [(0.04,), (9.0,)]),
    "abs": (lambda x: abs(x), lambda x: [[0]], [(-2.5,), (0.3,)]),
    "tanh": (lambda x: x.tanh(), lambda x: [[-2 * math.tanh(x) * (1 - math.tanh(x) ** 2)]],
             [(-3.0,), (0.0,), (0.7,)]),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: [[sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))]],
                [(-6.0,), (0.3775,), (5.0,)]),
    "relu": (lambda x: x.relu(), lambda x: [[0]], [(-2.0,), (0.2,)]),
    "step": (lambda x: x.step(), lambda x: [[0]], [(-2.0,), (0.2,)]),
    "arctan": (lambda x: x.arctan(), lambda x: [[-2 * x / (1 + x * x) ** 2]],
               [(-10.0,), (0.0,), (2.0,)]),
    "sin": (lambda x: x.sin(), lambda x: [[-math.sin(x)]], [(-2.0,), (0.5,)]),
    "cos": (lambda x: x.cos(), lambda x: [[-math.cos(x)]], [(-2.0,), (0.5,)]),
    "softplus": (lambda x: x.softplus(), lambda x: [[sig(x) * (1 - sig(x))]],
                 [(-5.0,), (0.0,), (6.0,)]),
    "log_sigmoid": (lambda x: x.log_sigmoid(), lambda x: [[-sig(x) * (1 - sig(x))]],
                    [(-5.0,), (0.0,), (6.0,)]),
}
SECOND_POINTS = [(name, p) for name, (_, _, points) in SECOND.items() for p in points]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_second_derivative_case(name):
    assert name in SECOND, f"op {name!r} has no second-derivative case in SECOND"
    build, _, points = SECOND[name]
    assert build(*map(Value, points[0])).op == name, "the case must build the op it is named for"


@pytest.mark.parametrize(("name", "point"), SECOND_POINTS)
def test_second_derivative_against_the_closed_form(name, point):
    build, closed, _ = SECOND[name]
    expected = np.array(closed(*point), dtype=float)
    np.testing.assert_allclose(hessian(build)(*point), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "point"), SECOND_POINTS)
def test_second_derivative_against_differences_of_the_first(name, point):
    build = SECOND[name][0]
    first = grad(build, argnums=tuple(range(len(point))))
    h = 1e-5
    numeric = np.empty((len(point), len(point)))
    for j in range(len(point)):
        up = [p + (h if k == j else 0.0) for k, p in enumerate(point)]
        down = [p - (h if k == j else 0.0) for k, p in enumerate(point)]
        numeric[:, j] = (np.array(first(*up)) - np.array(first(*down))) / (2 * h)
    np.testing.assert_allclose(hessian(build)(*point), numeric, rtol=1e-6, atol=1e-6)


# -- jvp ----------------------------------------------------------------------------------------

def test_jvp_is_the_directional_derivative():
    f = lambda x, y: x * y.sin()
    value, tangent = jvp(f, (2.0, 0.5), (3.0, -1.0))
    assert value == 2.0 * math.sin(0.5)
    assert tangent == pytest.approx(3.0 * math.sin(0.5) - 2.0 * math.cos(0.5), rel=1e-15)


def test_jvp_with_values_returns_values_and_nests():
    x = Value(0.5)
    value, tangent = jvp(lambda t: t.sin(), (x,), (1.0,))
    assert isinstance(tangent, Value) and tangent.data == math.cos(0.5)
    assert gradients(tangent, x) == (pytest.approx(-math.sin(0.5)),)
    # forward over reverse: the second derivative of x³ at 2 as a jvp of grad
    assert jvp(grad(lambda t: t * t * t), (2.0,), (1.0,)) == (12.0, 12.0)


def test_jvp_of_a_constant_and_of_an_unused_input():
    assert jvp(lambda x: 4.0, (1.0,), (1.0,)) == (4.0, 0.0)
    assert jvp(lambda x, y: y * y, (1.0, 3.0), (1.0, 0.0)) == (9.0, 0.0)


def test_jvp_leaves_a_zero_tangent_out_of_the_sweep():
    # ∂(x/y)/∂y at y = 1e-200 is -inf; moving along x alone must not turn -inf × 0 into nan,
    # just as grad with respect to x never multiplies by that partial.
    f = lambda x, y: (x / y).tanh()
    value, tangent = jvp(f, (1.0, 1e-200), (1.0, 0.0))
    assert value == 1.0 and tangent == 0.0 == grad(f)(1.0, 1e-200)


def test_jvp_errors():
    with pytest.raises(TypeError, match="primals must be a tuple or list of numbers, got float"):
        jvp(lambda x: x, 1.0, (1.0,))
    with pytest.raises(ValueError, match="got 2 primals but 1 tangents"):
        jvp(lambda x, y: x, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match=r"jvp\(\) tangents\[0\] must be a real number .* str 'a'"):
        jvp(lambda x: x, (1.0,), ("a",))
    with pytest.raises(TypeError, match=r"jvp\(\) primals\[0\] must be a real number .* str 'a'"):
        jvp(lambda x: x, ("a",), (1.0,))


# -- random graphs ------------------------------------------------------------------------------

def as_function(n_inputs, program):
    return lambda *xs: run(program, xs)


point_values = st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3)


@settings(max_examples=150, deadline=None)
@given(programs(), point_values)
def test_jvp_along_each_basis_direction_is_the_gradient(drawn, values):
    n, program = drawn
    point = values[:n]
    f = as_function(n, program)
    assume(smooth_everywhere(f(*map(Value, point))))
    reverse = grad(f, argnums=tuple(range(n)))(*point)
    xs = [Value(p) for p in point]
    out = f(*xs)
    for i in range(n):
        basis = tuple(1.0 if k == i else 0.0 for k in range(n))
        value, forward = jvp(f, tuple(point), basis)
        # the two modes add the same products in other orders: compare on the size of the products
        assert abs(forward - reverse[i]) <= 1e-12 * size_of_terms(out, xs[i])


@settings(max_examples=150, deadline=None)
@given(programs(), point_values)
def test_second_derivatives_match_differences_of_first_derivatives(drawn, values):
    n, program = drawn
    point = values[:n]
    f = as_function(n, program)
    h = 1e-5
    for shift in (0.0, h, -h):
        for j in range(n):
            moved = [p + (shift if k == j else 0.0) for k, p in enumerate(point)]
            assume(smooth_everywhere(f(*map(Value, moved))))
    first = grad(f, argnums=tuple(range(n)))
    exact = hessian(f)(*point)
    for j in range(n):
        up = [p + (h if k == j else 0.0) for k, p in enumerate(point)]
        down = [p - (h if k == j else 0.0) for k, p in enumerate(point)]
        numeric = (np.array(first(*up)) - np.array(first(*down))) / (2 * h)
        np.testing.assert_allclose(exact[:, j], numeric, rtol=1e-4, atol=1e-4)


# -- the benchmark runs -------------------------------------------------------------------------

def test_transforms_benchmark_runs_and_checks_itself(capsys):
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "transforms.py"
    spec = importlib.util.spec_from_file_location("transforms_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(points=3, repeats=1)
    printed = capsys.readouterr().out
    assert "create_graph=True" in printed and "trace" in printed
    assert report["max_gradient_difference"] == 0.0
    assert set(report["relative"]) == {"gradients", "gradients(create_graph=True)",
                                      "trace + Graph.backward()"}
