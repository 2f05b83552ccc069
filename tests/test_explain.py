"""explain(): the lecture's derivations come out of it, symbolically and number by number; on random
graphs its total is the backward pass's gradient and every link's formula gives the link's number;
large graphs are summarised, never hang; bad input is refused by name."""

import dataclasses
import itertools
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff.derivation as derivation
from autodiff import Constant, Derivation, Parameter, Value, explain, format_number, trace
from autodiff.derivation import SYMPY_NOTE, Chain, Link, Number, Quantity, Sum
from lecture import LECTURE, WorkedExample, matches
from random_programs import programs, run, size_of_terms, smooth_everywhere

ROOT = Path(__file__).resolve().parent.parent


def same(a, b) -> bool:
    """Whether two sympy expressions are equal, as the bar asks: simplify(a − b) == 0."""
    return sympy.simplify(a - b) == 0


def symbols(*names):
    return [sympy.Symbol(n) for n in names]


# -- the lecture's single neurons, built as it writes them ------------------------------------------

def neuron(activation: str, loss: str):
    """y = f(a), a = x1 w1 + x2 w2 + b, E = ½(t − y)² or −(t log y + (1 − t) log(1 − y)); every node named."""
    x1, x2 = Value(0.6, label="x1"), Value(-0.4, label="x2")
    w1, w2, b = Parameter(0.3, label="w1"), Parameter(0.8, label="w2"), Parameter(0.1, label="b")
    t = Value(0.9, label="t")
    a = Value.sum([x1 * w1, x2 * w2, b])
    a.label = "a"
    y = a * 1.0 if activation == "linear" else a.sigmoid()    # the lecture's y = a, with ∂y/∂a = 1
    y.label = "y"
    E = 0.5 * (t - y) ** 2 if loss == "squared" else -(t * y.log() + (1 - t) * (1 - y).log())
    E.label = "E"
    return E, {"w1": w1, "w2": w2, "b": b, "y": y, "a": a}


@pytest.mark.parametrize(("activation", "loss", "lecture"), [
    ("linear", "squared", lambda t, y, x1: -(t - y) * x1),
    ("sigmoid", "squared", lambda t, y, x1: -(t - y) * y * (1 - y) * x1),
    ("sigmoid", "cross-entropy", lambda t, y, x1: (y - t) * x1),
])
def test_single_neurons_give_the_lectures_formulas(activation, loss, lecture):
    E, nodes = neuron(activation, loss)
    d = explain(E, nodes["w1"])
    t, y, x1 = symbols("t", "y", "x1")
    assert same(d.expression, lecture(t, y, x1))
    assert [q.name for q in d.root.parts] == ["∂E/∂y", "∂y/∂a", "∂a/∂w1"]   # the lecture's three factors
    a = nodes["a"]
    assert d.root.parts[2].formula == "x1" and d.root.parts[2].through == (a.parents[0],)
    E.backward()
    assert d.total == pytest.approx(nodes["w1"].grad, rel=1e-12)


def test_the_squared_error_neuron_reads_as_the_lecture_writes_it():
    E, nodes = neuron("sigmoid", "squared")
    d = explain(E, nodes["w1"])
    assert d.formula == "−(t − y)·y(1 − y)·x1" and d.simplified is None
    text = str(d).splitlines()
    assert text[1] == "∂E/∂w1 = ∂E/∂y · ∂y/∂a · ∂a/∂w1"
    assert text[2].startswith("  ∂E/∂y = −(t − y) = ")
    assert text[3].startswith("  ∂y/∂a = y(1 − y) = ")


def test_the_cross_entropy_neuron_reduces_to_y_minus_t_times_x1():
    E, nodes = neuron("sigmoid", "cross-entropy")
    d = explain(E, nodes["w1"])
    assert d.simplified == "(y − t)x1"
    t, y = symbols("t", "y")
    de_dy = d.root.parts[0]
    assert same(de_dy.expression, (y - t) / (y * (1 - y)))      # the lecture's ∂E/∂y
    assert str(d).splitlines()[-1].startswith(f"∂E/∂w1 = {d.formula} = (y − t)x1 = ")
    assert explain(E, nodes["b"]).simplified == "y − t"        # δ = t − y: ∂E/∂b = −δ


# -- the lecture's two-layer network ------------------------------------------------------------------

def two_layer():
    """The lecture's ANN with multiple layers, each node labelled as the lecture names it."""
    x1, x2 = Value(0.05, label="x1"), Value(0.10, label="x2")
    w = {k: Parameter(v, label=f"w{k}") for k, v in zip(range(1, 7), (0.15, 0.2, 0.25, 0.3, 0.4, 0.45))}
    biases = [Parameter(0.35, label="b₁⁽¹⁾"), Parameter(0.35, label="b₂⁽¹⁾"), Parameter(0.6, label="b₁⁽²⁾")]
    t = Value(0.01, label="t")

    def unit(suffix, first, wa, second, wb, bias):
        a = Value.sum([first * wa, second * wb, bias])
        a.label = f"a{suffix}"
        y = a.sigmoid()
        y.label = f"y{suffix}"
        return y

    y11 = unit("₁⁽¹⁾", x1, w[1], x2, w[2], biases[0])
    y21 = unit("₂⁽¹⁾", x1, w[3], x2, w[4], biases[1])
    y12 = unit("₁⁽²⁾", y11, w[5], y21, w[6], biases[2])
    E = 0.5 * (t - y12) ** 2
    E.label = "E"
    return E, w


def test_two_layers_give_the_lectures_chain_rule_for_w5_and_w1():
    E, w = two_layer()
    t, x1, x2, w5, w6 = symbols("t", "x1", "x2", "w5", "w6")
    Y2, Y1, Y1b = symbols("y₁⁽²⁾", "y₁⁽¹⁾", "y₂⁽¹⁾")
    delta2 = (t - Y2) * Y2 * (1 - Y2)               # δ⁽²⁾
    delta1 = delta2 * w5 * Y1 * (1 - Y1)            # δ⁽¹⁾
    d5 = explain(E, w[5])
    assert same(d5.expression, -(t - Y2) * Y2 * (1 - Y2) * Y1)
    assert d5.formula == "−(t − y₁⁽²⁾)·y₁⁽²⁾(1 − y₁⁽²⁾)·y₁⁽¹⁾"
    assert [q.name for q in d5.root.parts] == ["∂E/∂y₁⁽²⁾", "∂y₁⁽²⁾/∂a₁⁽²⁾", "∂a₁⁽²⁾/∂w5"]
    d1 = explain(E, w[1])
    assert same(d1.expression, -delta1 * x1)
    assert [q.name for q in d1.root.parts] == ["∂E/∂y₁⁽²⁾", "∂y₁⁽²⁾/∂a₁⁽²⁾", "∂a₁⁽²⁾/∂y₁⁽¹⁾",
                                               "∂y₁⁽¹⁾/∂a₁⁽¹⁾", "∂a₁⁽¹⁾/∂w1"]
    # and the lecture's update of every weight, w ← w + α(…): ∂E/∂w = −(…)
    rules = {2: delta1 * x2, 3: delta2 * w6 * Y1b * (1 - Y1b) * x1, 4: delta2 * w6 * Y1b * (1 - Y1b) * x2,
             6: delta2 * Y1b}
    for k, rule in rules.items():
        assert same(explain(E, w[k]).expression, -rule), f"w{k}"
    E.backward()
    for k in range(1, 7):
        assert explain(E, w[k], formulas=False).total == pytest.approx(w[k].grad, rel=1e-12)


def test_two_layer_latex_uses_the_lectures_names():
    E, w = two_layer()
    latex = explain(E, w[5]).to_latex()
    assert r"\frac{\partial E}{\partial y_{1}^{(2)}}" in latex
    assert r"y_{1}^{(2)} \left(1 - y_{1}^{(2)}\right)" in latex
    well_formed(latex)


# -- Mazur's worked example (examples/lecture.py) ----------------------------------------------------

@pytest.fixture(scope="module")
def worked():
    example = WorkedExample()
    return example, explain(example.E, example.w[4]), explain(example.E, example.w[0])


def test_de_dw5_is_the_product_of_the_lectures_printed_factors(worked):
    example, d5, d1 = worked
    names = ["∂E/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂w5"]
    assert isinstance(d5.root, Chain) and [q.name for q in d5.root.parts] == names
    for q in d5.root.parts:
        assert matches(q.name, q.value), q.name
    assert matches("∂E/∂w5", d5.total) and format_number(d5.total) == LECTURE["∂E/∂w5"]
    printed = math.prod(float(LECTURE[name]) for name in names)
    assert f"{printed:.9f}" == LECTURE["∂E/∂w5"]
    assert str(d5).splitlines()[-1] == ("∂E/∂w5 = −(0.01 − out_o1)·out_o1(1 − out_o1)·out_h1 = "
                                        "0.74136507 × 0.186815602 × 0.593269992 = 0.082167041")


def test_de_dw1_sums_where_the_paths_join_as_the_lecture_does(worked):
    example, d5, d1 = worked
    parts = d1.root.parts
    assert [q.name for q in parts] == ["∂E/∂out_h1", "∂out_h1/∂net_h1", "∂net_h1/∂w1"]
    join = parts[0]
    assert isinstance(join, Sum) and [[q.name for q in term] for term in join.terms] == [
        ["∂E_o1/∂out_h1"], ["∂E_o2/∂out_h1"]]
    for q in [*parts, *(term[0] for term in join.terms)]:
        assert matches(q.name, q.value), q.name
    assert [q.name for q in join.terms[0][0].parts] == ["∂E_o1/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂out_h1"]
    assert matches("∂E/∂w1", d1.total)
    printed = math.prod(float(LECTURE[q.name]) for q in parts)
    assert f"{printed:.9f}" == LECTURE["∂E/∂w1"]
    assert d1.paths == 2
    sum_line = next(line for line in str(d1).splitlines() if line.lstrip().startswith("∂E/∂out_h1 = −"))
    assert sum_line.endswith(" = 0.055399425 − 0.019049118 = 0.036350306")   # a negative term subtracts


def test_the_worked_examples_formulas_are_the_lectures(worked):
    example, d5, d1 = worked
    out_o1, out_h1, w5, i1 = symbols("out_o1", "out_h1", "w5", "i1")
    lecture = {"∂E/∂out_o1": -(sympy.Rational(1, 100) - out_o1), "∂out_o1/∂net_o1": out_o1 * (1 - out_o1),
               "∂net_o1/∂w5": out_h1, "∂out_h1/∂net_h1": out_h1 * (1 - out_h1), "∂net_h1/∂w1": i1,
               "∂net_o1/∂out_h1": w5}
    found = {q.name: q for q in d5.quantities + d1.quantities}
    for name, formula in lecture.items():
        assert same(found[name].expression, formula), name


def test_derivations_leave_every_gradient_as_it_was(worked):
    example, d5, d1 = worked
    before = {n: n.grad for n in trace(example.E).nodes}
    explain(example.E, example.w[0])
    assert {n: n.grad for n in trace(example.E).nodes} == before


# -- random graphs ----------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(programs(), st.data())
def test_random_graphs_total_is_the_gradient_and_each_link_formula_is_its_number(program, data):
    n_inputs, instructions = program
    xs = [Value(0.3 + 0.45 * k, label=f"x{k}") for k in range(n_inputs)]
    out = run(instructions, xs)
    assume(out._op is not None and smooth_everywhere(out))
    nodes = [n for n in trace(out).nodes if not isinstance(n, Constant)]
    for node in nodes:
        if node._op is not None and data.draw(st.booleans(), label=f"label n{nodes.index(node)}"):
            node.label = f"v{nodes.index(node)}"
    wrt = data.draw(st.sampled_from(nodes), label="wrt")
    with_formulas = data.draw(st.booleans(), label="formulas")
    d = explain(out, wrt, formulas=with_formulas)
    for node in nodes:
        node.grad = 0.0
    out.backward()
    scale = size_of_terms(out, wrt, set(nodes))
    assert abs(d.total - wrt.grad) <= 1e-12 * scale, (d.total, wrt.grad, scale)
    if not with_formulas:
        assert all(q.formula is None for q in d.quantities)
        return
    point = d.substitutions()
    for link in d.factors:
        if link.expression is None:
            continue
        value = complex(link.expression.evalf(30, subs=point))
        scale = size_of_terms(link.top, link.bottom, set(link.through))
        assert abs(value - link.value) <= 1e-12 * scale + 1e-300, (link.name, link.formula, value, link.value)


# -- many paths -----------------------------------------------------------------------------------

def diamonds(depth: int):
    """x, then `depth` times v = sin(v)·cos(v): 2**depth paths from x to the output."""
    x = Value(0.3, label="x")
    v = x
    for _ in range(depth):
        v = v.sin() * v.cos()
    v.label = "out"
    return v, x


def test_a_graph_with_two_to_the_sixty_paths_is_counted_and_summarised():
    out, x = diamonds(60)
    d = explain(out, x)
    assert d.paths == 2 ** 60
    text = str(d)
    assert text.splitlines()[0] == "∂out/∂x: about 1.15e+18 paths from x to out"
    assert len(text.splitlines()) < 40
    out.backward()
    assert d.total == pytest.approx(x.grad, rel=1e-12)
    assert any(isinstance(q, Number) for q in d.quantities)
    first = list(itertools.islice(d.iter_paths(), 3))       # listed lazily, one at a time
    assert len(first) == 3 and all(p[0] is out and p[-1] is x for p in first)


def test_a_wide_sum_shows_its_first_terms_and_says_how_many_more():
    x = Value(0.5, label="x")
    hidden = []
    for k in range(300):
        h = x * (0.01 * k)
        h.label = f"h{k}"
        hidden.append(h.tanh())
    E = Value.sum(hidden)
    E.label = "E"
    d = explain(E, x, limit=4)
    assert isinstance(d.root, Sum) and len(d.root.terms) == 4 and d.root.more == 296
    assert "(296 more terms)" in str(d)
    E.backward()
    assert d.total == pytest.approx(x.grad, rel=1e-12)
    written = sum(math.prod(q.value for q in term) for term in d.root.terms)
    assert d.root.more_value == pytest.approx(x.grad - written, rel=1e-12)


def test_a_long_chain_derives_its_first_links_and_numbers_the_rest():
    x = Value(0.3, label="x")
    v = x
    for k in range(3000):
        v = v * 0.999 + 0.001
        v.label = f"h{k}"
    d = explain(v, x, limit=5)
    parts = d.root.parts
    assert len(parts) == 7 and isinstance(parts[5], Number) and parts[5].links == 2994
    v.backward()
    assert d.total == pytest.approx(x.grad, rel=1e-12)
    assert "(2,994 links, not derived further" in str(d)


def test_a_deep_fold_has_no_formula_but_its_number():
    x = Value(0.3, label="x")
    v = x
    for _ in range(5000):
        v = (v * 0.999).tanh()
    v.label = "out"
    d = explain(v, x)
    assert isinstance(d.root, Link) and d.root.formula is None and len(d.root.through) == 9999
    v.backward()
    assert d.total == pytest.approx(x.grad, rel=1e-12)


def test_an_unlabelled_node_where_paths_split_is_where_they_join():
    x = Value(0.7, label="x")
    shared = x * x                      # used twice below: the paths split here
    out = shared.sin() + shared.cos()
    out.label = "out"
    d = explain(out, x)
    assert [q.name for q in d.root.parts] == ["∂out/∂(x·x)", "∂(x·x)/∂x"]
    x_, square = symbols("x", "x·x")     # the join point is a symbol of its own, named as the graph names it
    assert same(d.expression, (sympy.cos(square) - sympy.sin(square)) * 2 * x_)
    assert d.values["x·x"] == shared.data


def test_wrt_inside_the_graph_and_wrt_the_output():
    example = WorkedExample()
    d = explain(example.E, example.net_o1)
    assert matches("∂E/∂net_o1", d.total)
    assert explain(example.E, example.E).total == 1.0


# -- without sympy ----------------------------------------------------------------------------------

def test_without_sympy_names_and_numbers_and_a_note(monkeypatch, worked):
    example, _, _ = worked
    monkeypatch.setattr(derivation, "sympy_available", lambda: False)
    d = explain(example.E, example.w[4])
    assert d.formula is None and all(q.formula is None and q.expression is None for q in d.quantities)
    text = str(d)
    assert text.endswith(SYMPY_NOTE) and "pip install sympy" in text
    assert "∂E/∂out_o1 = 0.74136507" in text and "0.082167041" in text
    well_formed(d.to_latex())


def test_without_sympy_installed_explain_still_works():
    script = ("import sys; sys.modules['sympy'] = None\n"
              "from autodiff import Value, explain\n"
              "x = Value(2.0, label='x'); y = x.tanh(); y.label = 'y'\n"
              "print(explain(y, x))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}, check=True)
    assert "∂y/∂x = 0.070650825" in done.stdout and "pip install sympy" in done.stdout


# -- LaTeX and data ---------------------------------------------------------------------------------

def well_formed(latex: str) -> None:
    bare = latex.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for c in bare:
        depth += (c == "{") - (c == "}")
        assert depth >= 0
    assert depth == 0
    assert len(re.findall(r"\\left\b", latex)) == len(re.findall(r"\\right\b", latex))
    assert latex.startswith("\\begin{aligned}\n") and latex.endswith("\n\\end{aligned}")


def test_latex_of_the_worked_example(worked):
    example, d5, d1 = worked
    latex = d5.to_latex()
    well_formed(latex)
    assert latex.splitlines()[1] == (r"\frac{\partial E}{\partial w_{5}} &= \frac{\partial E}{\partial out_{o1}}"
                                     r" \cdot \frac{\partial out_{o1}}{\partial net_{o1}} \cdot "
                                     r"\frac{\partial net_{o1}}{\partial w_{5}} \\")
    assert r"out_{o1} \left(1 - out_{o1}\right) = 0.186815602" in latex
    assert d5._repr_latex_() == f"$$\n{latex}\n$$"
    well_formed(d1.to_latex())
    assert "= 0.055399425 - 0.019049118 = 0.036350306" in d1.to_latex()   # not + -0.019049118


def test_latex_escapes_hostile_labels():
    x = Value(1.0, label="}{\\x_%")
    y = (x * 2.0).exp()
    y.label = "$y&"
    latex = explain(y, x).to_latex()
    well_formed(latex)
    assert r"\mathrm{\}\{\backslash{}x\_\%}" in latex and r"\mathrm{\$y\&}" in latex


def test_derivations_are_data(worked):
    example, d5, d1 = worked
    for record in (Quantity, Link, Chain, Sum, Number, Derivation):
        assert dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen
        assert hasattr(record, "__slots__")
    assert [q.name for q in d5.factors] == ["∂E/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂w5"]
    assert d5.name == "∂E/∂w5" and d5.output is example.E and d5.wrt is example.w[4]
    assert d5.nodes[0] is example.w[4] and d5.nodes[-1] is example.E
    assert set(d5.nodes) == {p for p, _ in d5.edges} | {example.E}
    assert d5.values["out_o1"] == example.out_o1.data
    link = d5.root.parts[0]
    assert {n.label for n in link.through} >= {"E_o1"} and link.top is example.E and link.bottom is example.out_o1


# -- bad input ----------------------------------------------------------------------------------------

def test_bad_input_is_refused_by_name():
    E, nodes = neuron("sigmoid", "squared")
    stray = Value(1.0, label="stray")
    with pytest.raises(ValueError, match=r"explain\(\) wrt 'stray' \(.*\) is not in the graph of output 'E'"):
        explain(E, stray)
    (two,) = [n for n in trace(E).nodes if isinstance(n, Constant) and n.data == 2.0]
    with pytest.raises(ValueError, match=r"explain\(\) wrt is a Constant \(2, a number written in an expression\)"):
        explain(E, two)
    with pytest.raises(ValueError, match=r"explain\(\) output is a Constant"):
        explain(two, nodes["w1"])
    with pytest.raises(TypeError, match=r"explain\(\) wrt must be a Value .*got float 0.5"):
        explain(E, 0.5)
    with pytest.raises(TypeError, match=r"explain\(\) output must be a Value, got str 'E'"):
        explain("E", nodes["w1"])
    with pytest.raises(ValueError, match=r"explain\(\) limit must be an int from 1"):
        explain(E, nodes["w1"], limit=0)
    with pytest.raises(TypeError, match=r"explain\(\) formulas must be True or False, got str 'yes'"):
        explain(E, nodes["w1"], formulas="yes")
