"""The compile package piece by piece: each pass, the row layout, the schedule and the plans."""

import importlib
import pkgutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff.compile
from autodiff import Parameter, Value, trace
from autodiff.compile.ir import INPUT, LEAF, LINEAR, OP, from_traced
from autodiff.compile.layout import NEVER, Block, assign_rows, selector
from autodiff.compile.lowered import Lowered
from autodiff.compile.passes import (flatten_add_chains, hoist_batch_constants, lower,
                                     lower_contractions)
from autodiff.compile.schedule import split
from autodiff.compile.steps import FORWARD, INPUTS, TRAIN, DenseStep, OpStep


def graph_of(output, inputs):
    return from_traced(trace(output).nodes, output, inputs)


def name(node):
    """How these tests refer to a node: its label, its constant, or its op."""
    if node.source is not None and node.source.label:
        return node.source.label
    if node.kind == LEAF and node.value is not None:
        return repr(node.value)
    return node.op.name if node.kind == OP else node.kind


def terms(node):
    """A linear node's terms as sorted (sign, coef, x) names."""
    return sorted((t.sign, "" if t.coef is None else name(t.coef), name(t.x)) for t in node.terms)


def linear(graph):
    return [n for n in graph.nodes if n.kind == LINEAR]


def fingerprint(graph):
    """What a pass may not change in the graph it is given."""
    return [(n.kind, n.op, tuple(map(id, n.args)), tuple((id(t.x), id(t.coef), t.sign)
                                                          for t in n.terms), n.from_zero)
            for n in graph.nodes]


@pytest.fixture
def leaves():
    xs = [Value(0.0, label=f"x{i}") for i in range(4)]
    ws = [Parameter(0.5, label=f"w{i}") for i in range(4)]
    return xs, ws


# --- flatten_add_chains -------------------------------------------------------------------------

def test_a_chain_of_binary_adds_becomes_one_sum(leaves):
    xs, _ = leaves
    flat = flatten_add_chains(graph_of(xs[0] + xs[1] + xs[2] + xs[3], xs))
    (node,) = linear(flat)
    assert node is flat.output and not node.from_zero
    assert terms(node) == [(1.0, "", "x0"), (1.0, "", "x1"), (1.0, "", "x2"), (1.0, "", "x3")]
    assert [n.kind for n in flat.nodes] == [INPUT] * 4 + [LINEAR]
    assert "3 +, − and Σ → 1 sums (2 links folded" in flat.notes[0]


def test_subtraction_and_negation_are_signed_terms(leaves):
    (a, b, c, d), _ = leaves
    flat = flatten_add_chains(graph_of(a - (b - c) + (-d), [a, b, c, d]))
    (node,) = linear(flat)
    assert terms(node) == [(-1.0, "", "x1"), (-1.0, "", "x3"), (1.0, "", "x0"), (1.0, "", "x2")]


def test_a_negation_read_by_a_product_moves_into_the_sign(leaves):
    (y, s, _, _), _ = leaves
    flat = flatten_add_chains(graph_of(1 + -y * s, [y, s]))
    (node,) = linear(flat)
    assert terms(node) == [(-1.0, "", "mul"), (1.0, "", "1.0")]
    product = next(t.x for t in node.terms if t.sign < 0)
    assert [name(a) for a in product.args] == ["x0", "x1"]
    assert all(n.op is None or n.op.name != "neg" for n in flat.nodes)


def test_a_link_read_twice_stays_a_node(leaves):
    (a, b, c, _), _ = leaves
    h = a + b
    flat = flatten_add_chains(graph_of(h + h * c, [a, b, c]))
    inner, outer = linear(flat)
    assert terms(inner) == [(1.0, "", "x0"), (1.0, "", "x1")]
    assert terms(outer) == [(1.0, "", "linear"), (1.0, "", "mul")]


def test_uniform_and_per_example_chains_stay_apart(leaves):
    xs, ws = leaves
    flat = flatten_add_chains(graph_of((ws[0] + ws[1]) + xs[0], [xs[0]]))
    once, each = linear(flat)
    assert once.uniform and terms(once) == [(1.0, "", "w0"), (1.0, "", "w1")]
    assert not each.uniform and terms(each) == [(1.0, "", "linear"), (1.0, "", "x0")]


def test_value_sum_starts_from_zero_and_a_chain_does_not(leaves):
    xs, _ = leaves
    summed = flatten_add_chains(graph_of(Value.sum(xs[:2]) + xs[2], xs[:3]))
    chained = flatten_add_chains(graph_of(xs[0] + xs[1] + xs[2], xs[:3]))
    assert linear(summed)[0].from_zero and not linear(chained)[0].from_zero
    python_sum = flatten_add_chains(graph_of(sum(xs[:3]), xs[:3]))   # 0 + x0 + x1 + x2
    assert (1.0, "", "0.0") in terms(linear(python_sum)[0])


def test_a_sum_of_nothing_becomes_the_number_0(leaves):
    xs, ws = leaves
    graph = flatten_add_chains(graph_of((Value.sum([]) + xs[0]) * (ws[0] + ws[1]), xs[:1]))
    (empty,) = [n for n in graph.nodes if n.source is not None and n.source.op == "sum"]
    assert (empty.kind, empty.value, empty.uniform) == (LEAF, 0.0, True)


def test_micrograds_neuron_and_value_sum_flatten_to_the_same_terms(leaves):
    xs, ws = leaves
    b = Parameter(0.0, label="b")
    chain = flatten_add_chains(graph_of(sum((w * x for w, x in zip(ws, xs)), b), xs))
    summed = flatten_add_chains(graph_of(Value.sum([w * x for w, x in zip(ws, xs)] + [b]), xs))
    assert [terms(n) for n in linear(chain)] == [terms(n) for n in linear(summed)]
    assert len(chain.nodes) == len(summed.nodes)


# --- lower_contractions -------------------------------------------------------------------------

def test_products_of_a_weight_and_a_row_become_coefficients(leaves):
    xs, ws = leaves
    b = Parameter(0.0, label="b")
    graph = flatten_add_chains(graph_of(Value.sum([ws[0] * xs[0], xs[1] * ws[1], b]), xs[:2]))
    lowered = lower_contractions(graph)
    (node,) = linear(lowered)
    assert terms(node) == [(1.0, "", "b"), (1.0, "w0", "x0"), (1.0, "w1", "x1")]
    assert not any(n.kind == OP for n in lowered.nodes)
    assert "2 products" in lowered.notes[-1]


def test_products_that_stay_products(leaves):
    xs, ws = leaves
    shared = ws[0] * xs[0]              # read twice: computed anyway
    rows = xs[1] * xs[2]                # both per example
    weights = ws[1] * ws[2]             # both uniform
    out = Value.sum([shared, shared.tanh(), rows, weights * xs[3]])
    lowered = lower_contractions(flatten_add_chains(graph_of(out, xs)))
    node = lowered.output
    assert terms(node) == [(1.0, "", "mul"), (1.0, "", "mul"), (1.0, "", "tanh"),
                           (1.0, "mul", "x3")]


def test_a_subtracted_product_keeps_its_sign(leaves):
    xs, ws = leaves
    lowered = lower(graph_of(xs[0] - ws[0] * xs[1], xs[:2]))
    assert terms(lowered.output) == [(-1.0, "w0", "x1"), (1.0, "", "x0")]


# --- hoist_batch_constants ------------------------------------------------------------------------

def test_uniform_terms_become_one_sum_computed_once(leaves):
    xs, ws = leaves
    graph = lower_contractions(flatten_add_chains(graph_of(xs[0] + ws[0] - ws[1] + 2, xs[:1])))
    hoisted = hoist_batch_constants(graph)
    each = hoisted.output
    (bias,) = [t.x for t in each.terms if t.x.uniform]
    assert terms(each) == [(1.0, "", "linear"), (1.0, "", "x0")]
    assert bias.uniform and terms(bias) == [(-1.0, "", "w1"), (1.0, "", "2.0"), (1.0, "", "w0")]
    assert hoisted.nodes.index(bias) < hoisted.nodes.index(each)


def test_a_single_bias_stays_and_a_subtracted_one_is_hoisted(leaves):
    xs, ws = leaves
    plus = lower(graph_of(xs[0] + ws[0], xs[:1]))
    assert terms(plus.output) == [(1.0, "", "w0"), (1.0, "", "x0")] and len(plus.notes) == 1
    minus = lower(graph_of(xs[0] - ws[0], xs[:1]))
    (bias,) = [t.x for t in minus.output.terms if t.x.uniform]
    assert terms(bias) == [(-1.0, "", "w0")] and "hoist_batch_constants" in minus.notes[-1]


def test_lowering_leaves_the_graph_it_is_given_as_it_was(leaves):
    xs, ws = leaves
    graph = graph_of(Value.sum([ws[0] * xs[0], xs[1] * -ws[1]]) - ws[2] + -xs[2] * xs[3], xs)
    before = fingerprint(graph)
    lowered = lower(graph)
    assert fingerprint(graph) == before and not graph.notes
    assert len(lowered.notes) == 3 and not set(map(id, lowered.nodes)) & set(map(id, graph.nodes))


# --- the row layout -------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 8), st.integers(0, 6)), max_size=25))
def test_blocks_alive_at_once_never_share_a_row(spec):
    blocks = [Block(size, born, NEVER if life == 6 else born + life) for size, born, life in spec]
    starts, rows = assign_rows(blocks)
    for i, a in enumerate(blocks):
        assert 0 <= starts[i] and starts[i] + a.size <= rows
        for j, b in enumerate(blocks[:i]):
            # alive together: each is born no later than the other's last read
            if a.born <= b.dies and b.born <= a.dies and a.size and b.size:
                assert starts[i] + a.size <= starts[j] or starts[j] + b.size <= starts[i]


def test_dead_rows_are_taken_again_and_in_place_takes_the_same_rows():
    blocks = [Block(4, 0, 1), Block(4, 1, 2), Block(4, 2, 3), Block(4, 3, NEVER, over=2)]
    starts, rows = assign_rows(blocks)
    assert starts[2] == starts[0] and starts[3] == starts[2] and rows == 8


def test_a_selector_is_a_slice_when_it_can_be():
    assert selector([3, 4, 5]) == slice(3, 6)
    assert selector([3, 5, 4]).tolist() == [3, 5, 4]
    assert selector([2, 2]).tolist() == [2, 2]


# --- the schedule and the plans -------------------------------------------------------------

def mlp(xs, widths, style="Value.sum"):
    h = list(xs)
    for depth, width in enumerate(widths):
        layer = []
        for _ in range(width):
            ws = [Parameter(0.1) for _ in h]
            b = Parameter(0.0)
            if style == "Value.sum":
                layer.append(Value.sum([w * x for w, x in zip(ws, h)] + [b]))
            else:
                layer.append(sum((w * x for w, x in zip(ws, h)), b))
        h = [v.relu() for v in layer] if depth < len(widths) - 1 else layer
    return h[0]


def test_each_layer_is_one_matrix_product_over_the_rows_of_the_layer_before():
    xs = [Value(0.0), Value(0.0)]
    engine = Lowered(lower(graph_of(mlp(xs, [8, 4, 1]), xs)))
    _, each = engine.plans(TRAIN)
    dense = [s for s in each.steps if isinstance(s, DenseStep)]
    assert [s.shape for s in dense] == [(8, 2), (4, 8), (1, 4)]
    assert all(isinstance(s.x, slice) for s in dense)   # X is read in place, not gathered
    assert not any(s.holes for s in dense)


def test_a_chain_of_plus_with_nothing_uniform_is_summed_term_by_term():
    xs = [Value(0.0) for _ in range(3)]
    w = Parameter(2.0)
    _, each = split(lower(graph_of((w * xs[0] + w * xs[1] + w * xs[2]).tanh(), xs)))
    assert [g.kind for g in each.groups] == ["sparse", "op"]
    _, each = split(lower(graph_of((w * xs[0] + w * xs[1] + xs[2] + 1.0).tanh(), xs)))
    assert [g.kind for g in each.groups] == ["dense", "op"]


def test_sums_that_each_read_other_rows_are_summed_term_by_term():
    xs = [Value(0.0) for _ in range(32)]
    w = Parameter(2.0)
    sums = [Value.sum([w * xs[i], xs[(i + 1) % 32]]) for i in range(32)]
    _, each = split(lower(graph_of(Value.sum([s.tanh() for s in sums]), xs)))
    assert each.groups[0].kind == "sparse"   # 64 terms would fill 64 of W's 1,024 entries


def test_relu_writes_over_the_sums_it_reads_and_a_forward_run_reuses_rows():
    xs = [Value(0.0), Value(0.0)]
    engine = Lowered(lower(graph_of(mlp(xs, [16, 16, 16, 1]), xs)))
    _, train = engine.plans(TRAIN)
    relus = [s for s in train.steps if isinstance(s, OpStep)]
    before = {id(s): s for s in train.steps}
    for relu in relus:
        sums = next(s for s in before.values() if s.group.nodes == [n.args[0] for n in
                                                                    relu.group.nodes])
        assert relu.out == sums.out
    _, forward = engine.plans(FORWARD)
    assert forward.v_rows < train.v_rows and forward.v_rows <= 2 + 2 * 16


def test_the_first_contribution_writes_and_later_ones_add():
    x = Value(0.0)
    w1, w2 = Parameter(0.5), Parameter(-2.0)
    h = x.tanh()
    out = (w1 * h).exp() + (w2 * h).sin()   # h reaches the output twice
    engine = Lowered(lower(graph_of(out, [x])))
    _, plan = engine.plans(INPUTS)
    modes = [to.mode for s in plan.backward_steps if isinstance(s, OpStep) for to in s.to if to]
    assert "write" in modes and ("add" in modes or "add_at" in modes)
    assert Program_gradients(out, x, [[0.3], [-1.0]]) == pytest.approx(
        [scalar_gradient(lambda v: (w1 * v.tanh()).exp() + (w2 * v.tanh()).sin(), v)
         for v in (0.3, -1.0)], rel=1e-12)


def Program_gradients(out, x, batch):
    return trace(out).compile([x]).gradients(batch)[:, 0].tolist()


def scalar_gradient(f, v):
    x = Value(v)
    f(x).backward()
    return x.grad


def test_every_module_of_the_package_has_a_docstring():
    for info in pkgutil.walk_packages(autodiff.compile.__path__, "autodiff.compile."):
        assert importlib.import_module(info.name).__doc__, info.name
