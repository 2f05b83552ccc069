"""Compiled batched replay (autodiff.compile) against the scalar engine, example by example.

`exact=True` must give the scalar engine's numbers bit for bit, the sign of a zero included. The
default, lowered program must stay within the bound its claim gives (tests/compile_bounds.py):
exactly equal wherever no sum rounds, which values on a lattice of quarters guarantee.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff import OPS, Parameter, Value, trace
from autodiff.compile.exact import sum_rows
from compile_bounds import batch_within, bounds, rounding, same, within

INF, NAN = math.inf, math.nan
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, -1e300, INF, -INF, NAN]
QUARTERS = [k / 4 for k in range(-8, 9)] + [-0.0]
LATTICE_EDGES = QUARTERS + [INF, -INF, NAN]
MODES = [True, False]   # exact, lowered

# op name -> how user code makes that node from Values (and a plain number for the *_const rows)
BUILD = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "pow_const": lambda a, c: a ** c,
    "rpow_const": lambda a, c: c ** a,
    "neg": lambda a: -a,
    "abs": lambda a: abs(a),
    "sum": lambda *terms: Value.sum(terms),
}
for _name, _op in OPS.items():
    if _op.arity == 1 and _name not in BUILD:
        BUILD[_name] = (lambda name: lambda a: getattr(a, name)())(_name)
TAKES_NUMBER = {"pow_const", "rpow_const"}
# numpy's results for these equal Python's bit for bit (IEEE 754 rounds them correctly)
EXACT_OPS = ["add", "sub", "mul", "div", "neg", "sum", "abs", "relu", "step", "sqrt"]
# and these keep quarters on the lattice of quarters: no sum of them ever rounds
LATTICE_OPS = ["add", "sub", "mul", "neg", "sum", "abs", "relu", "step"]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_builder(name):
    assert name in BUILD, f"op {name!r} has no builder: add it so the replay tests cover it"


# --- a random expression graph: a recipe of steps over leaves, rebuilt per example -------------

class Recipe:
    """Leaves (inputs, then parameters), steps (op, parent indices, number); output = Σ sinks."""

    def __init__(self, n_inputs, parameter_data, steps):
        self.n_inputs, self.parameter_data, self.steps = n_inputs, parameter_data, steps

    def build(self, input_data):
        inputs = [Value(v, label=f"x{i}") for i, v in enumerate(input_data)]
        params = [Parameter(v, label=f"p{i}") for i, v in enumerate(self.parameter_data)]
        nodes = inputs + params
        used = set()
        for name, parents, number in self.steps:
            args = [nodes[i] for i in parents]
            used.update(parents)
            if name in TAKES_NUMBER:
                args.append(number)
            nodes.append(BUILD[name](*args))
        sinks = [n for i, n in enumerate(nodes) if i not in used]
        output = sinks[0] if len(sinks) == 1 else Value.sum(sinks)
        return inputs, params, output

    def reference(self, batch):
        """Per example: the scalar output, input gradients, parameter gradients and their bounds."""
        results = []
        for row in batch:
            inputs, params, output = self.build(row.tolist())
            output.backward()
            ev, eg = bounds(output)
            results.append(dict(out=output.data, e_out=ev[output],
                                dx=[x.grad for x in inputs], e_dx=[eg.get(x, 0.0) for x in inputs],
                                dp=[p.grad for p in params], e_dp=[eg.get(p, 0.0) for p in params]))
        return results


@st.composite
def recipes(draw, ops, values):
    n_inputs = draw(st.integers(1, 3))
    parameter_data = draw(st.lists(values, min_size=0, max_size=3))
    n_leaves = n_inputs + len(parameter_data)
    steps = []
    for k in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(ops))
        arity = OPS[name].arity
        if arity is None:
            arity = draw(st.integers(0, 4))   # Value.sum([]) is 0.0
        elif name in TAKES_NUMBER:
            arity = 1
        parents = draw(st.lists(st.integers(0, n_leaves + k - 1), min_size=arity, max_size=arity))
        number = draw(st.sampled_from([2.0, 3.0, 0.5, -1.0, 0.0])) if name in TAKES_NUMBER else None
        steps.append((name, parents, number))
    batch = draw(st.lists(st.lists(values, min_size=n_inputs, max_size=n_inputs),
                          min_size=1, max_size=5))
    return Recipe(n_inputs, parameter_data, steps), np.array(batch, dtype=float)


FLOATS = st.one_of(st.sampled_from(EDGES), st.floats(-4.0, 4.0))
LATTICE = st.sampled_from(LATTICE_EDGES)


def compiled(recipe, batch, exact):
    inputs, params, output = recipe.build(batch[0].tolist())
    graph = trace(output)
    used = set(graph.nodes)
    inputs = [x for x in inputs if x in used]
    return graph.compile(inputs, exact=exact), inputs, params


def check_replay(recipe, batch, exact, exactly):
    """Outputs, input gradients and per-example parameter gradients against the scalar engine:
    bit for bit when `exactly`, else within the bounds."""
    program, inputs, params = compiled(recipe, batch, exact)
    reference = recipe.reference(batch)
    used = [int(x.label[1:]) for x in inputs]

    def agree(got, want, bound):
        return same(got, want) if exactly else within(got, want, bound)

    outputs = program(batch[:, used])
    for got, r in zip(outputs.tolist(), reference):
        assert agree(got, r["out"], r["e_out"]), (got, r)
    grads = program.gradients(batch[:, used])
    for row, r in zip(grads.tolist(), reference):
        for got, i in zip(row, used):
            assert agree(got, r["dx"][i], r["e_dx"][i]), (got, i, r)
    in_program = set(program.parameters)
    for row, r in zip(batch, reference):  # one example at a time
        for p in params:
            p.grad = 0.0
        total = program.backward(row[None, used], reduction="sum")
        assert agree(total, r["out"] + 0.0, r["e_out"])   # a total adds up from 0.0
        for p, want, bound in zip(params, r["dp"], r["e_dp"]):
            if p in in_program:
                assert agree(p.grad, want, bound), (p, want, bound, r)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes(EXACT_OPS, FLOATS))
def test_exact_replays_random_graphs_bit_for_bit(case):
    """exact=True: outputs and gradients are the scalar engine's, IEEE edge cases, -0.0 included."""
    check_replay(*case, exact=True, exactly=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes(sorted(BUILD), FLOATS))
def test_lowered_random_graphs_stay_within_the_rounding_of_their_sums(case):
    """The default: every op of the table, IEEE edge values, within the propagated bound."""
    check_replay(*case, exact=False, exactly=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes(LATTICE_OPS, LATTICE))
def test_lowered_random_graphs_are_exact_where_no_sum_rounds(case):
    """On quarters no sum rounds in any order: the lowered program must then be bit for bit,
    nan, inf and the sign of every zero included."""
    check_replay(*case, exact=False, exactly=True)


@pytest.mark.parametrize("exact", MODES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=recipes(EXACT_OPS, FLOATS))
def test_random_graphs_reduce_over_the_batch(exact, case):
    """backward(..., 'sum' | 'mean') is the per-example gradients summed or averaged; a sum over
    the batch may round, so the tolerance follows the magnitudes of the terms summed."""
    recipe, batch = case
    program, inputs, params = compiled(recipe, batch, exact)
    used = [int(x.label[1:]) for x in inputs]
    reference = recipe.reference(batch)
    in_program = set(program.parameters)
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / len(batch))):
        for p in params:
            p.grad = 0.0
        total = program.backward(batch[:, used], reduction=reduction)
        outs = [r["out"] for r in reference]
        bound = (sum(r["e_out"] for r in reference) + rounding(outs)) * scale
        assert within(total, sum(outs) * scale, bound)
        for i, p in enumerate(params):
            if p not in in_program:
                continue
            terms = [r["dp"][i] for r in reference]
            bound = (sum(r["e_dp"][i] for r in reference) + rounding(terms)) * scale
            assert batch_within(p.grad, sum(terms) * scale, bound), (p.grad, terms)


# --- every op of the table, on IEEE edge values ------------------------------------------------

def one_op_cases():
    for name, op in sorted(OPS.items()):
        if op.arity == 1:
            yield name, [(x,) for x in EDGES]
        elif name in TAKES_NUMBER:
            yield name, [(x, c) for x in EDGES for c in (2.0, 0.5, -1.0, 0.0, 3.0)]
        elif op.arity == 2:
            yield name, [(a, b) for a in EDGES for b in EDGES]
        else:
            yield name, [(a, b, c) for a in EDGES for b in EDGES[::3] for c in EDGES[1::4]]


@pytest.mark.parametrize("exact", MODES)
@pytest.mark.parametrize(("name", "points"), list(one_op_cases()))
def test_every_op_replays_like_its_scalar_row(name, points, exact):
    """Forward and derivative of each op on a batch of edge values: the scalar results (to the
    last bit of numpy's transcendental functions)."""
    number = name in TAKES_NUMBER
    for c in sorted({p[-1] for p in points}) if number else [None]:
        rows = [p[:-1] if number else p for p in points if not number or same(p[-1], c)]
        leaves = [Value(v) for v in rows[0]]
        output = BUILD[name](*leaves, *([c] if number else []))
        program = trace(output).compile(leaves, exact=exact)
        batch = np.array(rows)
        outputs, grads = program(batch), program.gradients(batch)
        for row, got, got_grads in zip(rows, outputs.tolist(), grads.tolist()):
            leaves = [Value(v) for v in row]
            output = BUILD[name](*leaves, *([c] if number else []))
            output.backward()
            tolerance = 0.0 if name in EXACT_OPS else 4e-16
            assert within(got, output.data, tolerance * abs(output.data)), (name, row, got)
            for g, x in zip(got_grads, leaves):
                assert within(g, x.grad, tolerance * abs(x.grad)), (name, row, c, g, x.grad)


# --- random MLPs: sizes, activations, missing connections, both ways of writing a neuron -------

ACTIVATIONS = sorted(name for name, op in OPS.items() if op.arity == 1 and name != "neg")
LATTICE_ACTIVATIONS = ["relu", "step", "abs"]


def neuron(weights, xs, bias, style):
    """Σ w·x + b over the connections that exist (weight not None), written one of two ways."""
    terms = [w * x for w, x in zip(weights, xs) if w is not None]
    if style == "Value.sum":
        return Value.sum(terms + [bias])
    return sum(terms, bias)   # micrograd's neuron: a chain of binary +, from the bias


def mlp(inputs, params, widths, activation, style, target=None, alpha=1e-3):
    """The network's hinge loss (target: ±1, by default the last input) plus alpha · Σ p².

    `params` holds, per neuron, one entry per input (a Parameter, or None for a missing
    connection) and then its bias."""
    it = iter(params)
    h = list(inputs)
    for layer, width in enumerate(widths):
        h = [neuron([next(it) for _ in h], h, next(it), style) for _ in range(width)]
        if layer < len(widths) - 1:
            h = [BUILD[activation](v) for v in h]
    penalty = Value.sum([p * p for p in params if p is not None])
    target = inputs[-1] if target is None else target
    return (1 - target * h[0]).relu() + alpha * penalty


def parameter_count(n_in, widths):
    sizes = [n_in, *widths]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


@st.composite
def networks(draw, values, activations):
    n_in = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)) + [1]
    activation = draw(st.sampled_from(activations))
    count = parameter_count(n_in, widths)
    weights = draw(st.lists(values, min_size=count, max_size=count))
    missing = draw(st.lists(st.booleans() | st.just(False), min_size=count, max_size=count))
    size = draw(st.integers(1, 6))
    batch = draw(st.lists(st.lists(values, min_size=n_in, max_size=n_in), min_size=size,
                          max_size=size))
    style = draw(st.sampled_from(["Value.sum", "micrograd"]))
    return n_in, widths, activation, weights, missing, np.array(batch, dtype=float), style


def build_network(n_in, widths, weights, missing):
    """Parameters in mlp()'s order; a weight of a missing connection is None (biases never are)."""
    params, k = [], 0
    sizes = [n_in, *widths]
    for a, b in zip(sizes, sizes[1:]):
        for _ in range(b):
            for _ in range(a):
                params.append(None if missing[k] else Parameter(weights[k]))
                k += 1
            params.append(Parameter(weights[k]))
            k += 1
    return params


def check_network(case, exactly):
    """Outputs, input gradients, the batch's parameter gradients: within the bounds, or (exactly,
    on quarters, where no sum rounds) bit for bit, batch sums included."""
    n_in, widths, activation, weights, missing, batch, style = case
    alpha = 0.25 if exactly else 1e-3   # a quarter keeps the penalty's gradient on the lattice
    params = build_network(n_in, widths, weights, missing)
    inputs = [Value(0.0) for _ in range(n_in)]
    graph = trace(mlp(inputs, params, widths, activation, style, alpha=alpha))
    used = [i for i, x in enumerate(inputs) if x in set(graph.nodes)]  # all links may be missing
    program = graph.compile([inputs[i] for i in used])
    learned = [p for p in params if p is not None]
    for p in learned:
        p.grad = 0.0
    outputs, grads = program(batch[:, used]), program.gradients(batch[:, used])
    total = program.backward(batch[:, used], reduction="sum")
    learned = [p for p in learned if p in set(program.parameters)]

    sums, spreads = np.zeros(len(learned)), np.zeros(len(learned))
    ref_total = total_bound = 0.0
    for row, got, got_grads in zip(batch, outputs.tolist(), grads.tolist()):
        ps = build_network(n_in, widths, weights, missing)
        xs = [Value(v) for v in row]
        loss = mlp(xs, ps, widths, activation, style, alpha=alpha)
        loss.backward()
        ev, eg = bounds(loss)
        agree = (lambda g, w, e: same(g, w)) if exactly else within
        assert agree(got, loss.data, ev[loss])
        for g, x in zip(got_grads, [xs[i] for i in used]):
            assert agree(g, x.grad, eg[x]), (g, x.grad, eg[x])
        mine = [q for p, q in zip(params, ps) if p in set(learned)]
        with np.errstate(invalid="ignore"):   # inf + -inf is nan, as in the scalar sum
            sums += [p.grad for p in mine]
        spreads += [eg[p] + rounding([p.grad]) for p in mine]
        ref_total += loss.data
        total_bound += ev[loss] + rounding([loss.data])
    if exactly:   # on quarters no sum rounds, in any order
        total_bound, spreads = 0.0, np.zeros(len(learned))
    assert within(total, ref_total, total_bound)
    for p, s, spread in zip(learned, sums.tolist(), spreads.tolist()):
        assert batch_within(p.grad, s, spread), (p.grad, s, spread)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(st.sampled_from([0.0, 0.5, -1.0]) | st.floats(-1.0, 1.0), ACTIVATIONS))
def test_random_mlps_stay_within_the_rounding_of_their_sums(case):
    check_network(case, exactly=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(LATTICE, LATTICE_ACTIVATIONS))
def test_random_mlps_on_quarters_match_the_scalar_engine_exactly(case):
    """Missing connections are zeros in W: an inf input must not turn them into 0·inf = nan."""
    check_network(case, exactly=True)


def shapes(program):
    """(op, shape) of each group of a program's listing."""
    rows = program._rows()
    return [(what, shape) for _, _, what, shape, _ in rows]


def test_both_ways_of_writing_a_neuron_compile_to_the_same_program():
    for widths, n_in in (([4, 1], 2), ([16, 16, 1], 2), ([3, 5, 2, 1], 3)):
        programs = []
        for style in ("Value.sum", "micrograd"):
            params = build_network(n_in, widths, [0.5] * parameter_count(n_in, widths),
                                   [False] * parameter_count(n_in, widths))
            inputs = [Value(0.0) for _ in range(n_in)]
            programs.append(trace(mlp(inputs, params, widths, "tanh", style)).compile(inputs))
        assert shapes(programs[0]) == shapes(programs[1])
        assert programs[0].group_count == programs[1].group_count
        layers = [s for what, s in shapes(programs[0]) if what == "matmul"][:len(widths)]
        sizes = [n_in, *widths]
        assert layers == [f"{b}×{a} @ ({a}, B)" for a, b in zip(sizes, sizes[1:])]


# --- kinks, zeros, nan and inf --------------------------------------------------------------------

@pytest.mark.parametrize("exact", MODES)
@pytest.mark.parametrize("build", [lambda r: r.log(), lambda r: r.sqrt(), lambda r: 1 / r,
                                   lambda r: r ** 0.5, lambda r: r.log() + r.step().log()])
def test_a_closed_kink_passes_no_gradient_not_even_nan(build, exact):
    """relu(x).log() at x < 0: the log's gradient is inf there, but relu's flat branch masks it."""
    x = Value(-1.0)
    program = trace(build(x.relu())).compile([x], exact=exact)
    batch = np.array([[-1.0], [-3.0], [0.0]])
    got = program.gradients(batch)[:, 0].tolist()
    assert got == [0.0, 0.0, 0.0] and not any(np.signbit(got))


@pytest.mark.parametrize("exact", MODES)
def test_gradients_that_add_up_from_zero_are_positive_zeros(exact):
    """-(x.relu()) at x < 0: the scalar engine adds 0.0 + (-1 · 0) = 0.0, and so must the replay."""
    x, w = Value(-2.0), Parameter(3.0)
    out = -((w * x).relu())
    out.backward()
    assert math.copysign(1.0, x.grad) == 1.0 and math.copysign(1.0, w.grad) == 1.0
    program = trace(out).compile([x], exact=exact)
    grads = program.gradients([[-2.0], [-1.0]])
    assert grads.tolist() == [[0.0], [0.0]] and not np.signbit(grads).any()
    w.grad = 0.0
    program.backward([[-2.0]], reduction="sum")
    assert same(w.grad, 0.0)
    assert same(program([[-2.0]])[0], -0.0)   # the output itself is -0.0, as in the scalar engine


@pytest.mark.parametrize("exact", MODES)
def test_a_chain_of_negative_zeros_adds_up_to_negative_zero(exact):
    """-0.0 + -0.0 is -0.0 but Value.sum starts from 0.0: the replay follows each."""
    x, b = Value(0.0), Parameter(-0.0)
    w = Parameter(-1.0)
    chain = 1 / (b + w * x + w * x)          # -0.0 + -0.0 + -0.0: -inf
    summed = 1 / Value.sum([b, w * x, w * x])  # 0.0 + ...: +inf
    for out, want in ((chain, -INF), (summed, INF)):
        assert out.data == want
        program = trace(out).compile([x], exact=exact)
        assert program([[0.0], [1.0]]).tolist() == [want, 1 / -2.0]


@pytest.mark.parametrize("exact", MODES)
def test_nan_and_inf_inputs_propagate_as_in_the_scalar_engine(exact):
    x, y = Value(1.0), Value(1.0)
    output = (x / y).log() + x * 0.0
    program = trace(output).compile([x, y], exact=exact)
    batch = np.array([[0.0, 0.0], [1.0, 0.0], [INF, 1.0], [NAN, 2.0], [-1.0, 1.0], [0.0, 1.0]])
    got_out, got_grads = program(batch), program.gradients(batch)
    for row, out, grads in zip(batch.tolist(), got_out.tolist(), got_grads.tolist()):
        a, b = Value(row[0]), Value(row[1])
        ref = (a / b).log() + a * 0.0
        ref.backward()
        assert same(out, ref.data)
        assert same(grads[0], a.grad) and same(grads[1], b.grad)


def test_an_infinite_input_does_not_reach_a_neuron_it_is_not_connected_to():
    """W holds 0 where a neuron has no term for an input; 0 · inf would be nan there."""
    x1, x2 = Value(0.0), Value(0.0)
    w = [Parameter(v) for v in (0.5, -1.0, 2.0, 0.25)]
    h1 = Value.sum([w[0] * x1, w[1] * x2])
    h2 = Value.sum([w[2] * x1])              # no x2
    h3 = Value.sum([w[3] * x2, w[0] * x1])
    out = (h1.tanh() + h2.exp() + h3.relu()).log()
    program = trace(out).compile([x1, x2])
    assert "matmul" in str(program)
    batch = np.array([[1.0, INF], [NAN, 1.0], [1.0, 2.0]])
    for row, got, grads in zip(batch, program(batch).tolist(), program.gradients(batch).tolist()):
        a, b = Value(row[0]), Value(row[1])
        ref = (Value.sum([w[0] * a, w[1] * b]).tanh() + Value.sum([w[2] * a]).exp()
               + Value.sum([w[3] * b, w[0] * a]).relu()).log()
        ref.backward()
        assert within(got, ref.data, 1e-12 * abs(ref.data))
        assert within(grads[0], a.grad, 1e-12 * abs(a.grad))
        assert within(grads[1], b.grad, 1e-12 * abs(b.grad))


@pytest.mark.parametrize("exact", MODES)
def test_relu_kink_and_exact_zero_preactivations(exact):
    """Examples that land exactly on relu's kink get relu'(0) = 0, per example."""
    x, w, b = Value(0.0), Parameter(2.0), Parameter(-2.0)
    program = trace((w * x + b).relu()).compile([x], exact=exact)
    batch = np.array([[1.0], [0.5], [2.0], [-1.0]])  # pre-activations 0, -1, 2, -4
    assert program(batch).tolist() == [0.0, 0.0, 2.0, 0.0]
    assert program.gradients(batch).tolist() == [[0.0], [0.0], [2.0], [0.0]]
    assert program.backward(batch, reduction="sum") == 2.0
    assert (w.grad, b.grad) == (2.0, 1.0)


@pytest.mark.parametrize("exact", MODES)
def test_a_batch_of_one_and_an_output_that_is_an_input(exact):
    x = Value(3.0)
    program = trace(x).compile([x], exact=exact)
    assert program([[4.0]]).tolist() == [4.0]
    assert program.gradients([[4.0], [5.0]]).tolist() == [[1.0], [1.0]]
    assert program.backward([[4.0]]) == 4.0


@pytest.mark.parametrize("exact", MODES)
def test_batch_1_and_batch_100000_give_each_example_its_own_result(exact):
    x1, x2 = Value(0.0), Value(0.0)
    params = [Parameter(0.1 * (i % 7) - 0.3) for i in range(parameter_count(2, [8, 1]))]
    out = mlp([x1, x2], params, [8, 1], "tanh", "Value.sum")
    program = trace(out).compile([x1, x2], exact=exact)
    rng = np.random.default_rng(0)
    big = np.column_stack([rng.normal(size=100_000), rng.choice([-1.0, 1.0], 100_000)])
    outputs, grads = program(big), program.gradients(big)
    for i in (0, 1, 54_321, 99_999):
        one = big[i:i + 1]
        assert within(outputs[i], program(one)[0], 1e-12 * abs(outputs[i]))
        np.testing.assert_allclose(grads[i], program.gradients(one)[0], rtol=1e-12, atol=1e-15)
    for p in params:
        p.grad = 0.0
    program.backward(big)
    assert all(math.isfinite(p.grad) for p in params)


# --- parameters, control flow, buffers, memory ---------------------------------------------------

@pytest.mark.parametrize("exact", MODES)
def test_parameters_are_read_at_each_run_and_constants_folded(exact):
    x, w = Value(1.0), Parameter(2.0)
    program = trace(w * x + 3).compile([x], exact=exact)
    assert program.parameters == (w,)
    assert [c.data for c in program.constants] == [3.0]
    assert program([[1.0]]).tolist() == [5.0]
    w.data = 10.0
    assert program([[1.0], [2.0]]).tolist() == [13.0, 23.0]
    program.backward([[1.0], [2.0]])
    assert all(c.grad == 0.0 for c in program.constants)


def test_gradients_accumulate_into_grad_like_backward():
    x, w = Value(1.0), Parameter(2.0)
    program = trace(w * x).compile([x])
    program.backward([[1.0], [3.0]])
    program.backward([[1.0], [3.0]], reduction="sum")
    assert w.grad == 2.0 + 4.0


@pytest.mark.parametrize("exact", [False, True])
def test_a_sum_of_nothing_is_0_next_to_sums_of_something(exact):
    # grouped with w + v, the empty Σ once read the next sum's first term (or raised IndexError)
    x, w, v = Value(1.0, label="x"), Parameter(2.0, label="w"), Parameter(3.0, label="v")
    out = (Value.sum([]) + x) * (v + w) + Value.sum([])
    program = trace(out).compile([x], exact=exact)
    assert program([[1.0], [-2.0]]).tolist() == [5.0, -10.0]
    assert program.gradients([[1.0]]).tolist() == [[5.0]]
    program.backward([[1.0], [-2.0]], reduction="sum")
    assert (w.grad, v.grad) == (-1.0, -1.0)
    empty, both = Value.sum([]), Value.sum([v, w])   # one group of sums, the empty one first
    out = (empty.exp() + both.exp()) * x
    assert trace(out).compile([x], exact=exact)([[1.0]]).tolist() == [out.data]   # was e³ + e⁵


@pytest.mark.parametrize("exact", [False, True])
def test_a_grad_set_to_none_counts_as_zero_as_in_backward(exact):
    x, w, b = Value(1.0), Parameter(2.0), Parameter(0.5)
    program = trace(w * x + b).compile([x], exact=exact)
    w.grad = b.grad = None   # zero_grad(set_to_none=True), as Value.backward() accepts it
    program.backward([[1.0], [3.0]], reduction="sum")
    assert (w.grad, b.grad) == (4.0, 2.0)


def test_data_dependent_python_control_flow_is_frozen_at_trace_time():
    def f(x):
        return x * 2 if x.data > 0 else x * -3  # a Python branch: decided once, while tracing

    x = Value(1.0)
    program = trace(f(x)).compile([x])
    assert program([[1.0], [-1.0]]).tolist() == [2.0, -2.0]  # the traced branch, for both

    x = Value(1.0)
    branchless = trace((x.relu() * 5 - x * 3)).compile([x])  # relu's branch is per example
    assert branchless([[1.0], [-1.0]]).tolist() == [f(Value(1.0)).data, f(Value(-1.0)).data]

    x = Value(1.0)
    picks = trace(abs(x) + x.step()).compile([x])
    assert picks([[-2.0], [0.0], [3.0]]).tolist() == [2.0, 1.0, 4.0]


def moons_program(exact=False):
    """The moons MLP 2-16-16-1's hinge loss, inputs (x1, x2, t)."""
    x1, x2, t = Value(0.0), Value(0.0), Value(0.0)
    params = [Parameter(0.01 * i) for i in range(parameter_count(2, [16, 16, 1]))]
    out = mlp([x1, x2], params, [16, 16, 1], "relu", "Value.sum", target=t)
    return trace(out).compile([x1, x2, t], exact=exact)


def test_the_moons_program_reads_every_row_block_in_place():
    """Per example, each group's rows are consecutive and each group reads its operands as slices:
    nothing is gathered, in any kind of run (the once-per-run stage is one number wide)."""
    program = moons_program()
    for mode in ("train", "inputs", "forward"):
        _, plan = program._engine.plans(mode)
        for step in plan.steps:
            reads = ([sel for kind, sel in step.operands if kind == "v"]
                     if hasattr(step, "operands") else [getattr(step, "x", slice(0))])
            assert all(isinstance(sel, slice) for sel in reads), (mode, step.group)
            assert isinstance(step.out, slice)


def test_group_count_grows_with_depth_not_with_width():
    def program_of(width):
        xs = [Value(0.0) for _ in range(2)]
        params = [Parameter(0.1 * i) for i in range(parameter_count(2, [width, width, 1]))]
        return trace(mlp(xs, params, [width, width, 1], "tanh", "micrograd")).compile(xs)

    narrow, wide = program_of(2), program_of(32)
    assert wide.node_count > 50 * narrow.node_count / 4
    assert wide.group_count == narrow.group_count


def test_a_run_of_the_same_batch_size_allocates_no_buffer():
    program = moons_program()
    batch = np.random.default_rng(0).normal(size=(500, 3))
    program.backward(batch)
    plans = program._engine.plans("train")
    kept = [id(b.V) for plan in plans for b in plan._buffers.values()]
    program.backward(batch)
    assert [id(b.V) for plan in plans for b in plan._buffers.values()] == kept


def test_memory_is_reported_for_each_kind_of_run_and_grows_with_the_batch():
    program = moons_program()
    for run in ("backward", "gradients", "forward"):
        assert program.memory(10_000, run=run) > program.memory(100, run=run) > 0
    assert program.memory(10_000, run="forward") < program.memory(10_000)
    exact = moons_program(exact=True)
    assert exact.memory(10_000) > 3 * program.memory(10_000)  # a row per node, and gathers


@pytest.mark.parametrize("run", ["backward", "gradients", "forward"])
def test_memory_is_what_a_run_allocates(run):
    program = moons_program()
    batch = np.zeros((300, 3))
    {"backward": program.backward, "gradients": program.gradients, "forward": program}[run](batch)
    mode = {"backward": "train", "gradients": "inputs", "forward": "forward"}[run]
    once, each = program._engine.plans(mode)
    assert once._buffers[1].nbytes + each._buffers[300].nbytes == program.memory(300, run=run)


def test_a_forward_only_run_keeps_only_what_is_still_to_be_read():
    """A long chain run forward needs a few rows, not one per node (the chain of 10⁶ nodes is in
    the closing note; 10⁴ links keep the suite fast)."""
    x = Value(0.5)
    y = x
    for k in range(10_000):
        y = (y * 0.5 + 0.25).tanh() if k % 2 else y.sin()
    nodes = len(trace(y).nodes)
    for exact in MODES:
        program = trace(y).compile([x], exact=exact)
        forward = program.memory(1_000, run="forward")
        assert forward < 16 * 8 * 1_000 + 2**20   # a few rows of 1,000, whatever the length
        # gradients need the values of the sweep back: about a row per node
        assert program.memory(1_000, run="gradients") > nodes / 4 * 8 * 1_000
        got = program(np.full((1_000, 1), 0.5))
        assert got.shape == (1_000,) and np.all(got == got[0])
        assert within(got[0], y.data, 1e-12)
        program.memory_limit = forward
        with pytest.raises(ValueError, match="memory_limit"):
            program.gradients(np.zeros((1_000, 1)))


def test_a_run_above_the_memory_limit_is_refused_before_any_work():
    program = moons_program()
    w = program.parameters[0]
    w.grad = 0.5
    program.memory_limit = program.memory(1_000) - 1
    batch = np.zeros((1_000, 3))
    with pytest.raises(ValueError) as error:
        program.backward(batch)
    message = str(error.value)
    assert "1,000 examples" in message and "memory_limit" in message
    assert "slices of at most" in message
    assert f"program.memory_limit = {program.memory(1_000):,}" in message
    assert w.grad == 0.5
    fits = int(message.split("slices of at most ")[1].split(" ")[0].replace(",", ""))
    assert program.memory(fits) <= program.memory_limit < program.memory(fits + 1)
    program.backward(batch[:fits])
    program.memory_limit = program.memory(1_000)
    program.backward(batch)


def test_sums_are_added_in_the_scalar_order_even_one_number_wide():
    """The exact replay relies on numpy adding a stack of rows row after row when 2 wide or more."""
    rng = np.random.default_rng(0)
    for shape in [(40, 1, 2), (300, 1, 2), (9, 2, 2), (50, 3, 7)]:
        stack = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
        in_order = stack[0] + 0.0
        for row in stack[1:]:
            in_order = in_order + row
        assert np.array_equal(sum_rows(stack), in_order)


# --- the listing ------------------------------------------------------------------------------

def test_listing_shows_the_lowered_program_and_the_passes():
    program = moons_program()
    text = str(program)
    lines = text.splitlines()
    assert lines[0].startswith("Program, lowered: 3 inputs, 337 parameters")
    assert f"{program.node_count:,} traced nodes in {program.group_count} groups" in lines[0]
    assert f"{program.memory(1):,} bytes at batch 1" in text
    assert "flatten_add_chains" in text and "lower_contractions" in text
    group_lines = [line for line in lines if line.startswith(("  once", "  per example"))]
    assert len(group_lines) == program.group_count
    matmuls = [line.split(" matmul ")[1].split()[0] for line in group_lines if " matmul " in line]
    assert matmuls[:3] == ["16×2", "16×16", "1×16"]
    assert any(" relu " in line for line in group_lines)
    assert repr(program).startswith("Program(") and "exact=False" in repr(program)


def test_exact_listing_names_its_order_and_no_pass():
    program = moons_program(exact=True)
    text = str(program)
    assert "exact (the scalar engine's order)" in text and "passes: none applied" in text
    assert program.passes == [] and "matmul" not in text
    groups = [line for line in text.splitlines() if line.startswith(("  once", "  per example"))]
    assert len(groups) == program.group_count


def test_listing_as_html_is_escaped_and_well_formed():
    import xml.etree.ElementTree as ElementTree

    x = Value(0.0, label="<x&y>")
    w = Parameter(2.0, label='w"1')
    program = trace((w * x).relu() + 1).compile([x])
    page = program._repr_html_()
    root = ElementTree.fromstring(page)   # well-formed, or this raises
    rows = root.findall(".//tbody/tr")
    assert len(rows) == program.group_count
    assert all(len(row.findall("td")) == 5 for row in rows)
    assert "<x&y>" not in page and "&lt;x&amp;y&gt;" in page
    assert "".join(root.itertext()).count("<x&y>") >= 1


# --- nn.fit(compiled=True) ---------------------------------------------------------------------

def test_fit_compiled_trains_the_moons_like_the_scalar_engine():
    import nn
    from nn.data import make_moons

    X, y = make_moons(100, noise=0.1)
    signs = 2 * y - 1
    histories, models = [], []
    for compiled in (False, True):
        model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
        histories.append(nn.fit(model, X, signs, loss="hinge",
                                optimizer=nn.SGD(model.parameters(), lr=0.1, momentum=0.9),
                                epochs=80, verbose=False, compiled=compiled))
        models.append(model)
    scalar, replayed = histories
    assert len(replayed.loss) == 80
    for a, b in zip(scalar.loss, replayed.loss):
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a))
    assert replayed.accuracy == scalar.accuracy and replayed.accuracy[-1] == 1.0
    model = models[1]
    assert all((model(list(x)).data > 0) == (t > 0) for x, t in zip(X, signs))


def test_fit_compiled_with_minibatches_and_several_outputs():
    import nn
    from nn.data import load_iris, standardize

    X, y = load_iris()
    Z = standardize(X)[::3]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(4, [3], seed=0)
        runs.append(nn.fit(model, Z, y[::3], loss="cross_entropy",
                           optimizer=nn.Adam(model.parameters(), lr=0.1), epochs=5,
                           batch_size=16, verbose=False, compiled=compiled))
    for a, b in zip(runs[0].loss, runs[1].loss):
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a))
    assert runs[0].accuracy == runs[1].accuracy


def test_fit_compiled_rejects_what_it_cannot_replay():
    import nn

    model = nn.MLP(1, [1], seed=0)
    before = model.state_dict()
    X = [[float(i)] for i in range(100)]
    with pytest.raises(ValueError, match="distinct targets"):
        nn.fit(model, X, [0.01 * i for i in range(100)], epochs=1, verbose=False, compiled=True)
    with pytest.raises(TypeError, match="compiled"):
        nn.fit(model, X, [0.0] * 100, epochs=1, verbose=False, compiled="yes")
    assert model.state_dict() == before


# --- the benchmarks' own checks -----------------------------------------------------------------

def benchmark_module(name):
    import importlib
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parent.parent / "benchmarks")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


def test_training_benchmark_engines_take_the_same_steps():
    training = benchmark_module("training")
    X, y = training.moons()
    weights = training.initial_weights()
    engines, _ = training.available()
    cheap = [e for e in engines if e is not training.Micrograd]
    losses = [[runner.step() for _ in range(3)] for runner in (e(X, y, weights) for e in cheap)]
    for other in losses[1:]:
        assert other == pytest.approx(losses[0], rel=1e-12)
    assert losses[0][2] < losses[0][0]


def test_run_skips_a_benchmark_that_is_not_there(tmp_path, monkeypatch, capsys):
    run = benchmark_module("run")
    (tmp_path / "engine.py").write_text("def main():\n    print('engine table')\n")
    monkeypatch.setattr(run, "HERE", tmp_path)
    assert run.main(["engine", "viz"]) == {"engine": "ok", "viz": "missing"}
    printed = capsys.readouterr().out
    assert "engine table" in printed and "benchmarks/viz.py is not there yet: skipped" in printed
    with pytest.raises(SystemExit, match="unknown benchmark"):
        run.main(["nope"])
