"""trace and Graph.backward: the lecture's steps and terms, contributions, structure, determinism."""

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import (Constant, Graph, Parameter, Step, Steps, Term, Value, explain, format_number,
                      trace)
from autodiff.notation import Mul, Name, evaluate, render
from autodiff.tracing import HTML_ROWS, NAME_LIMIT
from random_programs import programs, run

ROOT = Path(__file__).resolve().parent.parent


def lecture_network():
    """The lecture's 2-2-2 sigmoid network and E_total, each named node kept in a dict."""
    i1, i2 = Value(0.05, label="i1"), Value(0.10, label="i2")
    w = [Parameter(x, label=f"w{k}")
         for k, x in enumerate((0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55), 1)]
    b1, b2 = Parameter(0.35, label="b1"), Parameter(0.60, label="b2")
    nodes = {"i1": i1, "i2": i2, "b1": b1, "b2": b2, **{f"w{k}": v for k, v in enumerate(w, 1)}}

    def unit(name, a, wa, c, wc, bias):
        net = Value.sum([wa * a, wc * c, bias])
        net.label = f"net_{name}"
        out = net.sigmoid()
        out.label = f"out_{name}"
        nodes[net.label], nodes[out.label] = net, out
        return out

    out_h1 = unit("h1", i1, w[0], i2, w[1], b1)
    out_h2 = unit("h2", i1, w[2], i2, w[3], b1)
    out_o1 = unit("o1", out_h1, w[4], out_h2, w[5], b2)
    out_o2 = unit("o2", out_h1, w[6], out_h2, w[7], b2)
    E = 0.5 * (0.01 - out_o1) ** 2 + 0.5 * (0.99 - out_o2) ** 2
    E.label = "E_total"
    nodes["E_total"] = E
    return E, nodes


@pytest.fixture
def lecture():
    E, nodes = lecture_network()
    graph = trace(E)
    return graph, graph.backward(), nodes


def step_at(steps, node):
    (step,) = [s for s in steps if s.node is node]
    return step


def term_to(step, parent):
    (term,) = [t for t in step.terms if t.parent is parent]
    return term


# -- the lecture's numbers ----------------------------------------------------------------------

def test_the_step_at_out_o1_carries_the_lectures_factors(lecture):
    graph, steps, nodes = lecture
    step = step_at(steps, nodes["out_o1"])
    assert format_number(step.grad) == "0.74136507"                  # ∂E/∂out_o1
    (term,) = step.terms
    assert term.parent is nodes["net_o1"]
    assert format_number(term.local) == "0.186815602"                # ∂out_o1/∂net_o1
    assert format_number(term.contribution) == "0.138498562"         # ∂E/∂net_o1


def test_the_term_landing_on_w5_is_the_lectures_product(lecture):
    graph, steps, nodes = lecture
    w5, out_h1 = nodes["w5"], nodes["out_h1"]
    (step,) = [s for s in steps if any(t.parent is w5 for t in s.terms)]
    term = term_to(step, w5)
    assert format_number(term.local) == "0.593269992"                # = out_h1
    assert term.local == out_h1.data
    assert format_number(term.contribution) == "0.082167041"         # ∂E/∂w5
    at_out_o1 = step_at(steps, nodes["out_o1"])
    three_factors = at_out_o1.grad * at_out_o1.terms[0].local * term.local
    assert term.contribution == pytest.approx(three_factors, rel=1e-15)
    assert term.contribution == w5.grad


def test_the_hidden_layer_numbers_of_the_lecture(lecture):
    graph, steps, nodes = lecture
    out_h1, w1 = nodes["out_h1"], nodes["w1"]
    into_out_h1 = [t for s in steps for t in s.terms if t.parent is out_h1]
    assert sorted(format_number(t.contribution) for t in into_out_h1) == [
        "-0.019049118", "0.055399425"]      # the lecture prints -0.019049119: its own rounding
    step = step_at(steps, out_h1)
    assert format_number(step.grad) == "0.036350306"
    assert format_number(step.terms[0].local) == "0.241300709"
    assert format_number(w1.grad) == "0.000438568"


# -- what the steps add up to -------------------------------------------------------------------

def test_contributions_reaching_each_node_sum_to_its_gradient(lecture):
    graph, steps, nodes = lecture
    reaching = {}
    for step in steps:
        for term in step.terms:
            reaching[term.parent] = reaching.get(term.parent, 0.0) + term.contribution
    for leaf in graph.leaves:
        assert reaching[leaf] == leaf.grad, graph.name(leaf)
    for step in steps:
        if step.node is not graph.output:
            assert reaching[step.node] == step.grad, step.node_name


def test_each_term_is_grad_times_local_and_names_its_nodes(lecture):
    graph, steps, nodes = lecture
    for step in steps:
        assert step.grad == step.node.grad
        assert step.node_name == graph.name(step.node) and step.output_name == "E_total"
        assert [t.parent for t in step.terms] == list(step.node.parents)
        for term in step.terms:
            assert term.contribution == term.grad * term.local and term.grad == step.grad
            assert term.parent_name == graph.name(term.parent)
            assert term.node_name == step.node_name


def test_graph_backward_gives_the_gradients_of_a_plain_backward():
    E, nodes = lecture_network()
    trace(E).backward()
    again, same = lecture_network()
    again.backward()
    for name, node in nodes.items():
        if node.is_leaf:
            assert node.grad == same[name].grad, name


def test_graph_backward_accumulates_leaves_like_backward():
    x = Value(3.0, label="x")
    graph = trace(x * x)
    graph.backward()
    graph.backward()
    assert x.grad == 12.0


def test_one_step_per_op_node_in_reverse_topological_order(lecture):
    graph, steps, nodes = lecture
    ops = [n for n in graph.nodes if not n.is_leaf]
    assert [s.node for s in steps] == ops[::-1]
    assert steps[0].node is graph.output and steps[0].grad == 1.0


def test_step_and_term_print_the_chain_rule_line_with_the_formula(lecture):
    graph, steps, nodes = lecture
    w5 = nodes["w5"]
    (step,) = [s for s in steps if any(t.parent is w5 for t in s.terms)]
    term = term_to(step, w5)
    assert term.update() == "∂E_total/∂w5 += 0.138498562 × 0.593269992 = 0.082167041"
    assert term.derivative() == "∂(w5·out_h1)/∂w5 = out_h1 = 0.593269992"
    assert str(term) == f"{term.derivative()}   {term.update()}"
    text = str(step_at(steps, nodes["out_o1"])).splitlines()
    assert text == ["out_o1 = σ(net_o1): ∂E_total/∂out_o1 = 0.74136507",
                    "    ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602   "
                    "∂E_total/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562"]


def test_terms_carry_their_formula_in_names_and_in_numbers(lecture):
    graph, steps, nodes = lecture
    (term,) = step_at(steps, nodes["out_o1"]).terms
    assert term.formula == "out_o1(1 − out_o1)"
    assert term.formula_numbers == "0.75136507(1 − 0.75136507)"
    (square,) = [n for n in graph.nodes if graph.name(n) == "(0.01 − out_o1)²"]
    (term,) = [t for t in step_at(steps, square).terms if not isinstance(t.parent, Constant)]
    assert (term.formula, term.formula_numbers) == ("2(0.01 − out_o1)", "2(−0.74136507)")
    assert term.derivative() == "∂((0.01 − out_o1)²)/∂(0.01 − out_o1) = 2(0.01 − out_o1) = -1.482730139"
    for step in steps:
        for k, t in enumerate(step.terms):
            assert t.formula == render(graph.local_formula(step.node, k))
            assert t.formula_numbers == render(graph.local_formula(step.node, k, numbers=True))


def test_formulas_evaluated_at_the_node_values_give_the_local_derivatives(lecture):
    graph, steps, nodes = lecture
    for step in steps:
        for k, term in enumerate(step.terms):
            assert evaluate(graph.local_formula(step.node, k, numbers=True), {}) == pytest.approx(
                term.local, rel=1e-12, abs=1e-300)


def test_a_formula_that_is_a_number_is_not_repeated(lecture):
    graph, steps, nodes = lecture
    step = step_at(steps, nodes["net_o1"])
    assert [t.derivative() for t in step.terms][-1] == "∂net_o1/∂b2 = 1"
    assert step.definition == "w5·out_h1 + w6·out_h2 + b2"


def test_a_term_made_by_hand_has_no_formula():
    term = Term(Value(1.0), 2.0, 6.0, 3.0, "y", "x", "E")
    assert (term.formula, term.formula_numbers) == ("", "")
    assert str(term) == "∂y/∂x = 2   ∂E/∂x += 3 × 2 = 6"
    assert Step(Value(1.0), 3.0, (term,), "y", "E").head() == "y: ∂E/∂y = 3"


# -- the graph as data --------------------------------------------------------------------------

def test_nodes_edges_and_leaves(lecture):
    graph, steps, nodes = lecture
    assert isinstance(graph, Graph) and graph.output is nodes["E_total"]
    assert graph.nodes[-1] is graph.output and len(graph) == len(graph.nodes)
    assert len(set(graph.nodes)) == len(graph.nodes)
    position = {node: k for k, node in enumerate(graph.nodes)}
    for node in graph.nodes:
        assert all(position[p] < position[node] for p in node.parents)
    assert graph.edges == [(p, n) for n in graph.nodes for p in n.parents]
    assert len(graph.edges) == sum(len(n.parents) for n in graph.nodes)
    labelled = {n.label for n in graph.leaves if not isinstance(n, Constant)}
    assert labelled == {"i1", "i2", "b1", "b2"} | {f"w{k}" for k in range(1, 9)}
    assert all(n.is_leaf for n in graph.leaves)
    assert list(graph) == graph.nodes


def test_the_listing_of_a_small_expression():
    x, y = Value(2.0, label="x"), Value(-0.5, label="y")
    out = (x * y + 1).tanh()
    # x·y = -1, x·y + 1 = 0, tanh(x·y + 1) = 0; the constant 1 is written inline
    expected = [
        "x             = 2",
        "y             = -0.5",
        "x·y           = " + "mul(x, y)".ljust(28) + " # -1",
        "x·y + 1       = " + "add(x·y, 1)".ljust(28) + " # 0",
        "tanh(x·y + 1) = " + "tanh(x·y + 1)".ljust(28) + " # 0",
    ]
    assert str(trace(out)).splitlines() == expected


# -- names ----------------------------------------------------------------------------------------

def test_the_lectures_intermediate_nodes_are_named_by_their_expressions(lecture):
    graph, steps, nodes = lecture
    names = {graph.name(n) for n in graph.nodes}
    assert {"w3·i1", "w5·out_h1", "0.01 − out_o1", "(0.01 − out_o1)²", "0.5(0.01 − out_o1)²"} <= names
    assert not any(re.fullmatch(r"n\d+", name) for name in names)


def test_a_long_expression_is_named_by_its_index():
    x = Value(1.0, label="x")
    short = x * 2 + 1                          # x·2 + 1: 7 characters
    longer = Value.sum([short, x, short, x])   # x·2 + 1 + x + x·2 + 1 + x: 25 characters
    graph = trace(longer * x)
    assert graph.name(short) == "x·2 + 1"
    assert re.fullmatch(r"n\d+", graph.name(longer))
    assert graph.name(graph.output) == f"{graph.name(longer)}·x"    # a name is short again from there
    assert all(len(graph.name(n)) <= NAME_LIMIT for n in graph.nodes)


def test_an_expression_at_the_limit_keeps_it():
    a, b = Value(1.0, label="a" * 11), Value(2.0, label="b" * 11)
    at_limit = a + b                     # 11 + 3 + 11 = 25 characters: one too many
    just_under = Value(1.0, label="a" * 10) + b
    assert re.fullmatch(r"n\d+", trace(at_limit).name(at_limit))
    assert trace(just_under).name(just_under) == "a" * 10 + " + " + "b" * 11


def test_the_same_expression_twice_gets_one_name_once():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    first, second = x * y, x * y
    graph = trace(first + second)
    assert graph.name(first) == "x·y" and re.fullmatch(r"n\d+", graph.name(second))


def test_labels_win_and_a_generated_name_never_repeats_a_label():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    product = x * y
    taken = Value(3.0, label="x·y")             # a user's label that reads like the expression
    doubled = [Value(4.0, label="x·y + 1"), Value(5.0, label="x·y + 1")]   # even a label used twice
    out = (product + 1) * taken * doubled[0] * doubled[1]
    out.label = "out"
    graph = trace(out)
    assert graph.name(taken) == "x·y" and graph.name(product) != "x·y"
    assert graph.name(out) == "out"
    names = [graph.name(n) for n in graph.nodes if not isinstance(n, Constant)]
    assert len(set(names)) == len(names) and "x·y + 1" not in names


@settings(max_examples=60, deadline=None)
@given(programs(), st.lists(st.sampled_from(["", "", "x", "w", "n3", "a·b", "n1'"]), min_size=12, max_size=12))
def test_names_are_unique_short_and_labels_win_on_random_graphs(program, labels):
    n_inputs, instructions = program
    xs = [Value(0.3 + k, label=f"x{k}") for k in range(n_inputs)]
    out = run(instructions, xs)
    graph = trace(out)
    for node, label in zip(graph.nodes, labels):
        if not isinstance(node, Constant):
            node.label = label
    graph = trace(out)
    names = [graph.name(n) for n in graph.nodes if not isinstance(n, Constant)]
    assert len(set(names)) == len(names)
    counts = Counter(n.label for n in graph.nodes if n.label)
    for node in graph.nodes:
        if isinstance(node, Constant):
            continue
        name = graph.name(node)
        if node.label and counts[node.label] == 1:
            assert name == node.label
        else:
            assert name not in counts and len(name) <= NAME_LIMIT + 8


def test_a_label_used_twice_gives_way():
    a, b = Value(1.0, label="w"), Value(2.0, label="w")
    graph = trace(a * b)
    assert [graph.name(n) for n in graph.nodes] == ["n0", "n1", "n0·n1"]
    assert str(graph).splitlines()[0] == "n0    = 1"


def test_a_label_that_looks_like_an_index_never_shares_its_name():
    a, b = Value(2.0, label="n1"), Value(3.0)
    graph = trace(a * b + a)
    names = [graph.name(n) for n in graph.nodes]
    assert len(set(names)) == len(names)
    assert graph.name(a) == "n1" and graph.name(b) == "n1'"
    assert str(graph).splitlines()[2].split()[:3] == ["n1·n1'", "=", "mul(n1,"]


def test_a_sum_of_nothing_reads_as_0():
    x = Value(1.5, label="x")
    empty = Value.sum([])
    out = empty * x
    graph = trace(out)
    assert (graph.name(empty), graph.name(out), graph.definition(empty)) == ("0", "0·x", "0")
    assert str(graph).splitlines()[0].split() == ["0", "=", "sum()", "#", "0"]
    assert str(explain(out, x)).splitlines()[-1] == "∂(0·x)/∂x = 0"


def test_constants_are_referred_to_by_value():
    x = Value(0.25, label="x")
    graph = trace(x ** 2)
    (two,) = [n for n in graph.nodes if isinstance(n, Constant)]
    assert graph.ref(two) == "2" and graph.ref(x) == "x"
    assert str(graph).splitlines()[-1].split() == ["x²", "=", "pow_const(x,", "2)", "#", "0.0625"]


def test_definitions_and_expressions_of_nodes(lecture):
    graph, steps, nodes = lecture
    assert graph.definition(nodes["out_o1"]) == "σ(net_o1)"
    assert graph.definition(nodes["w5"]) == "0.4"
    product = nodes["net_o1"].parents[0]
    assert render(graph.expression(product)) == "w5·out_h1"
    # an expression-named node is put in its place with parentheses where it needs them
    square = Mul((graph.expression(product), Name("z")))
    assert render(square) == "w5·out_h1·z"
    difference = [n for n in graph.nodes if graph.name(n) == "0.01 − out_o1"][0]
    assert render(Mul((graph.expression(difference), Name("z")))) == "(0.01 − out_o1)z"


# -- notebooks ------------------------------------------------------------------------------------

def parsed_table(html):
    table = ET.fromstring(html)
    assert table.tag == "table"
    return [[cell.text or "" for cell in row] for row in table.iter("tr")]


def test_graph_shows_as_an_html_table_in_a_notebook(lecture):
    graph, steps, nodes = lecture
    rows = parsed_table(graph._repr_html_())
    assert rows[0] == ["name", "computed as", "value"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["out_o1"] == ["out_o1", "sigmoid(net_o1)", "0.75136507"]
    assert by_name["w5"][1] == "parameter" and by_name["i1"][1] == "input"
    assert len(rows) - 1 == sum(1 for n in graph.nodes if not isinstance(n, Constant))


def test_steps_show_as_an_html_table_with_a_formula_column(lecture):
    graph, steps, nodes = lecture
    assert isinstance(steps, Steps) and isinstance(steps, list)
    rows = parsed_table(steps._repr_html_())
    assert rows[0][5] == "formula"
    (row,) = [r for r in rows if r[4] == "∂out_o1/∂net_o1"]
    assert row[1:] == ["out_o1", "σ(net_o1)", "0.74136507", "∂out_o1/∂net_o1", "out_o1(1 − out_o1)",
                       "0.186815602", "∂E_total/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562"]
    assert str(steps) == "\n".join(str(s) for s in steps)


def test_front_ends_without_html_show_the_printed_text(lecture):
    """IPython's plain-text view (a terminal, or a viewer that shows no HTML or LaTeX) is what print()
    shows, not a dump of dataclass fields."""
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    graph, steps, nodes = lecture
    derivation = explain(graph.output, nodes["w5"])
    for shown in (graph, steps, derivation):
        assert pretty(shown) == str(shown)


def test_html_tables_escape_labels_and_stop_at_a_row_limit():
    hostile = Value(1.0, label="<b>&\"x'</b>")
    graph = trace(hostile * 2.0)
    html = graph._repr_html_()
    assert "<b>" not in html and "&lt;b&gt;&amp;" in html
    assert parsed_table(html)[1][0] == "<b>&\"x'</b>"
    assert parsed_table(graph.backward()._repr_html_())[1][1] != ""
    x = Value(0.5, label="x")
    total = Value.sum([x * float(k) for k in range(HTML_ROWS + 50)])
    rows = parsed_table(trace(total)._repr_html_())
    assert len(rows) == 1 + HTML_ROWS + 1 and "more nodes not shown" in rows[-1][0]


def test_listing_and_steps_are_the_same_for_a_rebuilt_graph():
    def render():
        E, _ = lecture_network()
        graph = trace(E)
        return str(graph), [str(s) for s in graph.backward()]
    assert render() == render()


def test_listing_and_steps_are_the_same_in_other_processes():
    script = ("import sys; sys.path.insert(0, 'tests'); from test_tracing import lecture_network\n"
              "from autodiff import trace\n"
              "E, _ = lecture_network(); g = trace(E)\n"
              "print(g); print(*g.backward(), sep='\\n')\n")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
               "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    E, _ = lecture_network()
    assert str(trace(E)) in outputs.pop()


def test_trace_of_a_leaf_and_of_a_non_value():
    x = Value(1.5, label="x")
    graph = trace(x)
    assert graph.nodes == [x] and graph.leaves == [x] and graph.edges == []
    assert graph.backward() == [] and x.grad == 1.0
    with pytest.raises(TypeError, match="trace\\(\\) needs a Value, got float 1.5"):
        trace(1.5)


# -- how numbers print --------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "shown"), [
    (0.7413650695523157, "0.74136507"), (0.4, "0.4"), (1.0, "1"), (-2.0, "-2"), (0.0, "0"),
    (-0.0, "0"), (1e-12, "1e-12"), (-1.5e-12, "-1.5e-12"), (4.4e-10, "4.4e-10"),
    (0.0000000004, "4e-10"), (123456.5, "123456.5"), (math.inf, "inf"), (-math.inf, "-inf"),
    (math.nan, "nan"), (999999999999999.9, "999999999999999.875"), (1e15, "1e+15"),
    (-1e308, "-1e+308"), (2.0**70, "1.18059162e+21"),
])
def test_format_number(x, shown):
    assert format_number(x) == shown


def test_format_number_with_fewer_digits():
    assert format_number(0.593269992, digits=4) == "0.5933"
    assert format_number(0.00001234, digits=4) == "1.234e-05"


def test_records_are_slotted_dataclasses():
    for record in (Step, Term):
        assert hasattr(record, "__slots__") and hasattr(record, "__dataclass_fields__")
