"""The op table's formulas: every row has them, each agrees with its numeric rule, and they print,
evaluate and convert to sympy the way a lecture writes them."""

import math
import re

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import OPS
from autodiff.notation import (FUNCTIONS, Add, Bracket, Call, Div, Factors, Known, Mul, Name, Neg, Num, Pow,
                               atomic, definition, evaluate, from_sympy, functions_in, latex_name,
                               local_formula, names_in, notation, parse, partial, render, substitute, tidy,
                               to_sympy)

ROWS = sorted(OPS)

# Where each row's inputs are drawn: away from poles and from where the forward is nan, so the
# formula and the rule are both defined; kinks are kept in (the formulas must agree there too).
FINITE = st.floats(-6.0, 6.0, allow_nan=False)
POSITIVE = st.floats(0.05, 6.0)
AWAY_FROM_ZERO = st.one_of(st.floats(-6.0, -0.05), st.floats(0.05, 6.0))
DOMAINS = {
    "div": (FINITE, AWAY_FROM_ZERO), "log": (POSITIVE,), "sqrt": (POSITIVE,),
    "pow": (POSITIVE, st.floats(-3.0, 3.0)), "pow_const": (POSITIVE, st.floats(-3.0, 3.0)),
    "rpow_const": (POSITIVE, st.floats(-3.0, 3.0)),
    "relu": (st.one_of(FINITE, st.just(0.0)),), "abs": (st.one_of(FINITE, st.just(0.0)),),
    "step": (st.one_of(FINITE, st.just(0.0)),),
}


def inputs_of(name):
    op = OPS[name]
    if op.arity is None:
        return st.lists(FINITE, min_size=1, max_size=5)
    return st.tuples(*DOMAINS.get(name, (FINITE,) * op.arity))


# -- every row has formulas, written in its own names ------------------------------------------------

@pytest.mark.parametrize("name", ROWS)
def test_every_row_has_a_formula_per_input_in_its_own_names(name):
    op = OPS[name]
    assert op.formulas and all(isinstance(f, str) and f.strip() for f in op.formulas)
    assert len(op.formulas) == (1 if op.arity is None else op.arity)
    allowed = {"y", *op.inputs}
    for formula in op.formulas:
        tree = parse(formula)
        assert names_in(tree) <= allowed, f"{name}: {formula!r} uses {names_in(tree) - allowed}"
        assert functions_in(tree) <= set(FUNCTIONS)
    forward = notation(op)
    assert names_in(forward) == set(op.inputs)


@pytest.mark.parametrize("name", ROWS)
def test_each_formula_agrees_with_its_numeric_rule(name):
    op = OPS[name]

    @settings(max_examples=60, deadline=None)
    @given(inputs_of(name))
    def check(xs):
        xs = [float(x) for x in xs]
        y = op.forward(*xs)
        rule = [float(d) for d in op.local(y, *xs)]
        env = {"y": y}
        if op.arity is not None:
            env.update(zip(op.inputs, xs))
        for k, expected in enumerate(rule):
            formula = parse(op.formulas[0 if op.arity is None else k])
            got = evaluate(formula, env)
            assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-300), (name, k, xs, got, expected)

    check()


# Forwards sympy can differentiate itself (kinks aside): the formula is the derivative, symbolically.
SYMBOLIC = {
    "add": None, "sub": None, "mul": None, "div": None, "neg": None, "pow": None, "pow_const": None,
    "rpow_const": None, "exp": None, "log": None, "sqrt": None, "tanh": None, "arctan": None, "sin": None,
    "cos": None, "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)), "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
    "log_sigmoid": lambda x: -sympy.log(1 + sympy.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_each_formula_is_the_derivative_of_the_forward_symbolically(name):
    op = OPS[name]
    symbols = {n: sympy.Symbol(n, positive=name in ("log", "sqrt", "pow", "pow_const", "rpow_const"))
               for n in op.inputs}
    written = SYMBOLIC[name]
    forward = written(symbols["x"]) if written else to_sympy(notation(op), lambda n: symbols[n.name])
    for k, input_name in enumerate(op.inputs):
        formula = to_sympy(parse(op.formulas[k]), lambda n: forward if n.name == "y" else symbols[n.name])
        formula = formula.replace(lambda e: type(e).__name__ == "sigmoid",   # the table's σ, written out
                                  lambda e: 1 / (1 + sympy.exp(-e.args[0])))
        if (name, input_name) in (("pow_const", "c"), ("rpow_const", "c")):
            assert formula == 0     # a constant operand: no partial
            continue
        assert sympy.simplify(sympy.diff(forward, symbols[input_name]) - formula) == 0, (name, input_name)


def test_the_sum_row_is_one_for_every_input():
    op = OPS["sum"]
    assert op.inputs == ("xs",) and parse(op.formulas[0]) == Num(1.0)
    assert render(definition(op, [Name("w1·i1"), Name("b1")])) == "w1·i1 + b1"


# -- printing as a lecture writes ---------------------------------------------------------------

@pytest.mark.parametrize(("name", "y", "inputs", "shown"), [
    ("sigmoid", "out_o1", ["net_o1"], ["out_o1(1 − out_o1)"]),
    ("tanh", "y", ["x"], ["1 − y²"]),
    ("mul", "n1", ["w3", "i1"], ["i1", "w3"]),
    ("exp", "y", ["x"], ["y"]),
    ("log", "y", ["a"], ["1/a"]),
    ("relu", "y", ["x"], ["[x > 0]"]),
    ("arctan", "y", ["x"], ["1/(x² + 1)"]),
    ("div", "q", ["a", "b"], ["1/b", "−q/b"]),
    ("pow", "y", ["a", "b"], ["b·a^(b − 1)", "y·log(a)"]),
    ("sub", "d", ["t", "y"], ["1", "−1"]),
    ("cos", "y", ["x"], ["−sin(x)"]),
    ("log_sigmoid", "y", ["x"], ["σ(−x)"]),
])
def test_local_formulas_print_in_names(name, y, inputs, shown):
    op = OPS[name]
    got = [render(local_formula(op, k, Name(y), [Name(n) for n in inputs])) for k in range(len(inputs))]
    assert got == shown


@pytest.mark.parametrize(("power", "shown"), [(2.0, "2·x"), (3.0, "3·x²"), (0.5, "0.5·x^(−0.5)"),
                                              (-1.0, "−x⁻²"), (1.0, "1"), (0.0, "0")])
def test_a_constant_power_folds_into_its_derivative(power, shown):
    assert render(local_formula(OPS["pow_const"], 0, Name("y"), [Name("x"), Num(power)])) == shown


def test_a_constant_operand_folds_and_a_name_never_does():
    # ∂(0.01 − out_o1)²/∂(0.01 − out_o1) with the base an expression-named node
    base = Name("0.01 − out_o1", parse("0.01 - out_o1"))
    assert render(local_formula(OPS["pow_const"], 0, Name("s"), [base, Num(2.0)])) == "2(0.01 − out_o1)"
    # a name that is itself an expression is never simplified: x·1 stays x·1
    node = Name("x·1", Mul((Name("x"), Num(1.0))))
    assert render(local_formula(OPS["tanh"], 0, node, [Name("x")])) == "1 − (x·1)²"


def test_numbers_in_place_of_names():
    formula = local_formula(OPS["sigmoid"], 0, Known(0.75136507), [Known(1.105905967)])
    assert render(formula) == "0.75136507(1 − 0.75136507)"
    assert render(local_formula(OPS["tanh"], 0, Known(-0.5), [Known(-0.55)])) == "1 − (−0.5)²"
    assert render(local_formula(OPS["mul"], 1, Known(-3.0), [Known(-1.5), Known(2.0)])) == "−1.5"


@pytest.mark.parametrize(("text", "shown"), [
    ("-(t - y)*y*(1 - y)*x1", "−(t − y)y(1 − y)x1"),
    ("w3*i1", "w3·i1"),
    ("0.5*(0.01 - out_o1)**2", "0.5(0.01 − out_o1)²"),
    ("(t - y)*y", "(t − y)y"),
    ("a*(b + c)", "a(b + c)"),
    ("2*x", "2·x"),
    ("a - (b - c)", "a − (b − c)"),
    ("a + -b", "a − b"),
    ("a - -b", "a − (−b)"),
    ("a*-b", "a(−b)"),
    ("-x**2", "−x²"),
    ("(-x)**2", "(−x)²"),
    ("(a*b)**2", "(a·b)²"),
    ("a**(b - 1)", "a^(b − 1)"),
    ("a**b*(1 - y)", "a^b·(1 − y)"),
    ("x**-1", "x^(−1)"),
    ("(a/b)*c", "(a/b)c"),
    ("c*(a/b)", "c·a/b"),
    ("a/(b*c)", "a/(b·c)"),
    ("(a + b)/c", "(a + b)/c"),
    ("-y/b", "−y/b"),
    ("1/(2*y)", "1/(2·y)"),
    ("sqrt(x)", "√x"),
    ("sqrt(x + 1)", "√(x + 1)"),
    ("abs(x)", "|x|"),
    ("sigmoid(x)*(1 - sigmoid(x))", "σ(x)(1 − σ(x))"),
    ("x >= 0", "[x ≥ 0]"),
    ("2**x", "2^x"),
    ("a + -0.5", "a − 0.5"),
])
def test_printing_follows_the_lecture(text, shown):
    assert render(parse(text)) == shown


def test_printed_formulas_read_back_to_the_same_value():
    """Whatever the juxtapositions, the printed text means what the tree does."""
    env = {"a": 1.3, "b": -0.7, "c": 2.1, "t": 0.9, "y": 0.4, "x": 1.7, "x1": 0.6}
    for text in ["-(t - y)*y*(1 - y)*x1", "a - (b - c)", "a - -b", "(a/b)*c", "c*(a/b)", "a/(b*c)",
                 "(t - y)*y", "a*(b + c)", "-x**2", "(-x)**2", "a**b*(1 - y)"]:
        printed = render(parse(text))
        python = printed.replace("−", "-").replace("·", "*").replace("²", "**2").replace("^", "**")
        python = re.sub(r"(?<=\w)\(", "*(", re.sub(r"\)(?=[(\w])", ")*", python))   # juxtaposed: a product
        assert eval(python, {}, dict(env)) == pytest.approx(evaluate(parse(text), env), rel=1e-12), printed


@pytest.mark.parametrize(("text", "latex"), [
    ("y*(1 - y)", r"y \left(1 - y\right)"),
    ("1/(x**2 + 1)", r"\frac{1}{x^{2} + 1}"),
    ("x > 0", r"\left[x > 0\right]"),
    ("sigmoid(a)", r"\sigma\left(a\right)"),
    ("out_o1*w5", r"out_{o1} \cdot w_{5}"),
])
def test_latex(text, latex):
    assert render(parse(text), latex=True) == latex


@pytest.mark.parametrize(("name", "latex"), [
    ("x1", "x_{1}"), ("w5", "w_{5}"), ("out_o1", "out_{o1}"), ("E_total", "E_{total}"), ("t", "t"),
    ("y₁⁽²⁾", "y_{1}^{(2)}"), ("δ", r"\delta"), ("n17", "n_{17}"), ("a b", r"\mathrm{a b}"),
    ("x_{1}", r"\mathrm{x\_\{1\}}"), ("50%&$", r"\mathrm{50\%\&\$}"),
])
def test_latex_names(name, latex):
    assert latex_name(name) == latex


def test_partial_parenthesises_expression_names():
    assert partial("E", "w5") == "∂E/∂w5"
    assert partial("w5·out_h1", "w5") == "∂(w5·out_h1)/∂w5"
    assert partial("σ(n3)", "n3") == "∂σ(n3)/∂n3"
    assert partial("x²", "x") == "∂(x²)/∂x"
    assert partial("y₁⁽²⁾", "a₁⁽²⁾") == "∂y₁⁽²⁾/∂a₁⁽²⁾"
    assert atomic("σ(n3)") and not atomic("σ(a)(1 − σ(a))") and not atomic("")


# -- tidying -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("0.5*2*(t - y)*(-1)", "−(t − y)"),
    ("c*a**(c - 1)", "c·a^(c − 1)"),
    ("1*x*1", "x"),
    ("0*x", "0"),
    ("x**1 + 0", "x"),
    ("t*(1/y)*-1", "−t/y"),
    ("2 - 1", "1"),
    ("-(-(x))", "x"),
    ("(3 > 2)*x", "x"),
])
def test_tidy_does_the_arithmetic_of_numbers(text, shown):
    assert render(tidy(parse(text))) == shown


def test_factors_keep_their_dots_and_lend_their_sign_to_a_sum():
    chain = tidy(Factors((parse("-(t - y)"), parse("y*(1 - y)"), Name("x1"), Num(1.0))))
    assert render(chain) == "−(t − y)·y(1 − y)·x1"
    assert render(Add((Name("a"), chain))) == "a − (t − y)·y(1 − y)·x1"
    assert render(chain, latex=True) == r"-\left(t - y\right) \cdot y \left(1 - y\right) \cdot x_{1}"


# -- evaluating ----------------------------------------------------------------------------------

def test_evaluate_with_iverson_brackets_and_the_tables_functions():
    assert evaluate(parse("x > 0"), {"x": 0.0}) == 0.0
    assert evaluate(parse("x >= 0"), {"x": 0.0}) == 1.0
    assert evaluate(parse("sigmoid(x)*(1 - sigmoid(x))"), {"x": 0.0}) == 0.25
    assert evaluate(parse("log(x)"), {"x": 0.0}) == -math.inf      # IEEE, never a ValueError
    assert math.isnan(evaluate(parse("sqrt(x)"), {"x": -1.0}))
    with pytest.raises(KeyError, match="'z'"):
        evaluate(parse("z + 1"), {})


# -- parsing is whitelisted ----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "__import__('os')", "x.real", "x[0]", "lambda: 1", "open('f')", "x if y else z", "'a'", "f(x)",
    "exp(x, y)", "exp(x=1)", "a < b < c", "x == 1", "[x]", "x @ y", "x // 2", "not x", "True",
])
def test_parse_accepts_only_formulas(text):
    with pytest.raises(ValueError, match="formula"):
        parse(text)


def test_parse_needs_a_str():
    with pytest.raises(TypeError, match="parse\\(\\) needs a formula as a str, got int 3"):
        parse(3)


def test_substitute_leaves_shown_names_alone():
    tree = parse("y*(1 - y)")
    shown = Name("w", Add((Name("y"), Num(1.0))))
    assert substitute(Mul((tree, shown)), {"y": Name("q")}) == Mul((parse("q*(1 - q)"), shown))


# -- sympy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ROWS)
def test_each_formula_in_sympy_has_the_same_value(name):
    op = OPS[name]
    xs = {"div": (1.3, -0.7), "pow": (1.3, 0.7), "pow_const": (1.3, 2.0), "rpow_const": (2.0, 0.7),
          "log": (1.3,), "sqrt": (1.3,)}.get(name, (0.7, 1.3) if op.arity == 2 else (0.7,))
    if op.arity is None:
        xs = (0.7, 1.3, -0.2)
    y = op.forward(*xs)
    env = {"y": y, **dict(zip(op.inputs, xs))} if op.arity is not None else {"y": y}
    values = {sympy.Symbol(k): v for k, v in env.items()}
    for formula in op.formulas:
        tree = parse(formula)
        got = float(to_sympy(tree).subs(values).evalf())
        assert got == pytest.approx(evaluate(tree, env), rel=1e-12, abs=1e-15)


def test_sympy_round_trip_prints_the_lecture_way():
    t, y, x1 = sympy.symbols("t y x1")
    assert render(from_sympy(sympy.factor((-(t / y) + (1 - t) / (1 - y)) * y * (1 - y) * x1))) == "(y − t)x1"
    assert render(from_sympy(-t + y)) == "y − t"
    assert render(from_sympy(sympy.Rational(1, 100) - y)) == "0.01 − y"
    assert render(from_sympy(sympy.Rational(1, 3) * y)) == "y/3"
    assert render(from_sympy(1 / (y * (1 - y)))) == "1/(y(1 − y))"
    assert render(from_sympy(sympy.sqrt(y))) == "√y"
    relu_prime = to_sympy(parse("x > 0"))
    assert render(from_sympy(relu_prime)) == "[x > 0]"
    assert to_sympy(parse("0.5*2")) == 1    # numbers are exact rationals of their decimals


def test_the_tables_own_functions_evaluate_in_sympy():
    x = sympy.Symbol("x")
    for name in ("sigmoid", "relu", "step", "softplus", "log_sigmoid"):
        expr = to_sympy(Call(name, Name("x")))
        assert float(expr.subs(x, 0.3)) == pytest.approx(FUNCTIONS[name](0.3), rel=1e-12)
    assert render(from_sympy(to_sympy(parse("sigmoid(a)*(1 - sigmoid(a))")))) in (
        "σ(a)(1 − σ(a))", "−(σ(a) − 1)σ(a)", "(1 − σ(a))σ(a)")


def test_trees_are_small_frozen_records():
    for record in (Num, Name, Known, Neg, Add, Mul, Factors, Div, Pow, Call, Bracket):
        assert hasattr(record, "__slots__") and record.__dataclass_params__.frozen
