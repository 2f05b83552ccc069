"""trace and Graph.backward: the lecture's steps and terms, contributions, structure, determinism."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff import Constant, Graph, Parameter, Step, Term, Value, format_number, trace

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


def test_step_and_term_print_the_chain_rule_line(lecture):
    graph, steps, nodes = lecture
    w5 = nodes["w5"]
    (step,) = [s for s in steps if any(t.parent is w5 for t in s.terms)]
    assert str(term_to(step, w5)) == "∂E_total/∂w5 += 0.138498562 × 0.593269992 = 0.082167041"
    text = str(step_at(steps, nodes["out_o1"])).splitlines()
    assert text[0] == "out_o1 = sigmoid(net_o1): ∂E_total/∂out_o1 = 0.74136507"
    assert len(text) == 2
    assert text[1].split() == ["∂out_o1/∂net_o1", "=", "0.186815602", "[σ]", "∂E_total/∂net_o1",
                               "+=", "0.74136507", "×", "0.186815602", "=", "0.138498562"]


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
    # n2 = x·y = -1, n3 = n2 + 1 = 0, n4 = tanh 0 = 0; the constant 1 is written inline
    expected = [
        "x  = 2",
        "y  = -0.5",
        "n2 = " + "mul x y".ljust(28) + " # -1",
        "n3 = " + "add n2 1".ljust(28) + " # 0",
        "n4 = " + "tanh n3".ljust(28) + " # 0",
    ]
    assert str(trace(out)).splitlines() == expected


def test_a_label_used_twice_gives_way_to_an_index():
    a, b = Value(1.0, label="w"), Value(2.0, label="w")
    graph = trace(a * b)
    assert [graph.name(n) for n in graph.nodes] == ["n0", "n1", "n2"]
    assert str(graph).splitlines()[0] == "n0 = 1"


def test_a_label_that_looks_like_an_index_never_shares_its_name():
    a, b = Value(2.0, label="n1"), Value(3.0)
    graph = trace(a * b + a)
    names = [graph.name(n) for n in graph.nodes]
    assert len(set(names)) == len(names)
    assert graph.name(a) == "n1" and graph.name(b) == "n1'"
    assert str(graph).splitlines()[2].split()[:5] == ["n2", "=", "mul", "n1", "n1'"]


def test_constants_are_referred_to_by_value():
    x = Value(0.25, label="x")
    graph = trace(x ** 2)
    (two,) = [n for n in graph.nodes if isinstance(n, Constant)]
    assert graph.ref(two) == "2" and graph.ref(x) == "x"
    assert str(graph).splitlines()[-1].split() == ["n1", "=", "pow_const", "x", "2", "#", "0.0625"]


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
        env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
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
    (math.nan, "nan"),
])
def test_format_number(x, shown):
    assert format_number(x) == shown


def test_format_number_with_fewer_digits():
    assert format_number(0.593269992, digits=4) == "0.5933"
    assert format_number(0.00001234, digits=4) == "1.234e-05"


def test_records_are_slotted_dataclasses():
    for record in (Step, Term):
        assert hasattr(record, "__slots__") and hasattr(record, "__dataclass_fields__")
