"""Compiled batched replay (autodiff.compile) against the scalar engine, example by example."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff import OPS, Constant, Parameter, Program, Value, trace
from autodiff.compile import _sum_rows

INF, NAN = math.inf, math.nan
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, -1e300, INF, -INF, NAN]

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


def same(got, want) -> bool:
    """Bit-equal numbers, nan equal to nan (-0.0 equal to 0.0)."""
    return got == want or (math.isnan(got) and math.isnan(want))


def close(got, want, rel=1e-12, abs_tol=0.0) -> bool:
    if math.isnan(want) or math.isinf(want):
        return same(got, want)
    # subnormal numbers carry fewer digits than 1e-12 asks for: below 1e-300 only the scale counts
    return math.isfinite(got) and abs(got - want) <= max(rel * abs(want), abs_tol, 1e-300)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_builder(name):
    assert name in BUILD, f"op {name!r} has no builder: add it so the replay tests cover it"


# --- a random expression graph: a recipe of steps over leaves, rebuilt per example -------------

class Recipe:
    """Leaves (inputs, then parameters), then steps (op, parent indices, number); output = Σ sinks."""

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
        """Per example, the scalar engine's output, input gradients and parameter gradients."""
        results = []
        for row in batch:
            inputs, params, output = self.build(row.tolist())
            output.backward()
            results.append((output.data, [x.grad for x in inputs], [p.grad for p in params]))
        return results


def value_strategy():
    return st.one_of(st.sampled_from(EDGES), st.floats(-4.0, 4.0))


@st.composite
def recipes(draw, ops):
    n_inputs = draw(st.integers(1, 3))
    parameter_data = draw(st.lists(value_strategy(), min_size=0, max_size=3))
    n_leaves = n_inputs + len(parameter_data)
    steps = []
    for k in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(ops))
        arity = OPS[name].arity
        if arity is None:
            arity = draw(st.integers(1, 4))
        elif name in TAKES_NUMBER:
            arity = 1
        parents = draw(st.lists(st.integers(0, n_leaves + k - 1), min_size=arity, max_size=arity))
        number = draw(st.sampled_from([2.0, 3.0, 0.5, -1.0, 0.0])) if name in TAKES_NUMBER else None
        steps.append((name, parents, number))
    batch = draw(st.lists(st.lists(value_strategy(), min_size=n_inputs, max_size=n_inputs),
                          min_size=1, max_size=5))
    return Recipe(n_inputs, parameter_data, steps), np.array(batch, dtype=float)


def compiled(recipe, batch):
    inputs, params, output = recipe.build(batch[0].tolist())
    used = set(trace(output).nodes)
    inputs = [x for x in inputs if x in used]
    return trace(output).compile(inputs), inputs, params


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes(EXACT_OPS))
def test_random_graphs_replay_bit_for_bit(case):
    """Outputs and gradients equal the scalar engine's exactly, IEEE edge cases included."""
    recipe, batch = case
    program, inputs, params = compiled(recipe, batch)
    reference = recipe.reference(batch)
    used = [int(x.label[1:]) for x in inputs]

    outputs = program(batch[:, used])
    assert all(same(g, r[0]) for g, r in zip(outputs.tolist(), reference))
    grads = program.gradients(batch[:, used])
    assert all(same(g, r[1][i]) for row, r in zip(grads.tolist(), reference)
               for g, i in zip(row, used))
    for row, (out, _, param_grads) in zip(batch, reference):  # one example at a time: exact
        for p in params:
            p.grad = 0.0
        assert same(program.backward(row[None, used], reduction="sum"), out)
        in_program = set(program.parameters)
        assert all(same(p.grad, g) for p, g in zip(params, param_grads) if p in in_program)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes(EXACT_OPS))
def test_random_graphs_reduce_over_the_batch(case):
    """backward(..., 'sum' | 'mean') is the scalar per-example gradients summed or averaged."""
    recipe, batch = case
    program, inputs, params = compiled(recipe, batch)
    used = [int(x.label[1:]) for x in inputs]
    reference = recipe.reference(batch)
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / len(batch))):
        for p in params:
            p.grad = 0.0
        total = program.backward(batch[:, used], reduction=reduction)
        want = sum(r[0] for r in reference) * scale
        spread = sum(abs(r[0]) for r in reference) * scale
        assert close(total, want, abs_tol=1e-12 * spread)
        for i, p in enumerate(params):
            if p not in set(program.parameters):
                continue
            terms = [r[2][i] for r in reference]
            spread = sum(abs(t) for t in terms) * scale
            assert close(p.grad, sum(terms) * scale, abs_tol=1e-12 * spread)


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


@pytest.mark.parametrize(("name", "points"), list(one_op_cases()))
def test_every_op_replays_like_its_scalar_row(name, points):
    """Forward and derivative of each op on a batch of edge values: the scalar results to 1e-12."""
    number = name in TAKES_NUMBER
    for c in sorted({p[-1] for p in points}) if number else [None]:
        rows = [p[:-1] if number else p for p in points if not number or same(p[-1], c)]
        leaves = [Value(v) for v in rows[0]]
        output = BUILD[name](*leaves, *([c] if number else []))
        program = trace(output).compile(leaves)
        batch = np.array(rows)
        outputs, grads = program(batch), program.gradients(batch)
        for row, got, got_grads in zip(rows, outputs.tolist(), grads.tolist()):
            leaves = [Value(v) for v in row]
            output = BUILD[name](*leaves, *([c] if number else []))
            output.backward()
            assert close(got, output.data), (name, row, c, got, output.data)
            for g, x in zip(got_grads, leaves):
                assert close(g, x.grad), (name, row, c, g, x.grad)


# --- random MLPs with every activation ----------------------------------------------------------

ACTIVATIONS = sorted(name for name, op in OPS.items() if op.arity == 1 and name != "neg")


def mlp(inputs, params, widths, activation):
    """Σ w·x + b per neuron, the activation on hidden layers, a hinge loss and an L2 penalty."""
    it = iter(params)
    h = list(inputs)
    for layer, width in enumerate(widths):
        h = [Value.sum([next(it) * x for x in h] + [next(it)]) for _ in range(width)]
        if layer < len(widths) - 1:
            h = [BUILD[activation](v) for v in h]
    score = h[0]
    return (1 - inputs[-1] * score).relu() + 1e-3 * Value.sum([p * p for p in params])


def parameter_count(n_in, widths):
    sizes = [n_in, *widths]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_mlps_match_the_scalar_engine(data):
    n_in = data.draw(st.integers(1, 3))
    widths = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)) + [1]
    activation = data.draw(st.sampled_from(ACTIVATIONS))
    weights = data.draw(st.lists(st.sampled_from([0.0, 0.5, -1.0]) | st.floats(-1.0, 1.0),
                                 min_size=parameter_count(n_in, widths),
                                 max_size=parameter_count(n_in, widths)))
    size = data.draw(st.integers(1, 6))
    batch = np.array(data.draw(st.lists(
        st.lists(st.sampled_from([0.0, 1.0, -1.0]) | st.floats(-3.0, 3.0),
                 min_size=n_in, max_size=n_in), min_size=size, max_size=size)))

    params = [Parameter(w) for w in weights]
    inputs = [Value(0.0) for _ in range(n_in)]
    program = trace(mlp(inputs, params, widths, activation)).compile(inputs)
    outputs, grads = program(batch), program.gradients(batch)
    total = program.backward(batch, reduction="mean")

    sums = np.zeros(len(params))
    spreads = np.zeros(len(params))
    ref_total = 0.0
    for row, got, got_grads in zip(batch, outputs.tolist(), grads.tolist()):
        ps = [Parameter(w) for w in weights]
        xs = [Value(v) for v in row]
        loss = mlp(xs, ps, widths, activation)
        loss.backward()
        scale = max([abs(n.data) for n in trace(loss).nodes if math.isfinite(n.data)] + [1.0])
        assert close(got, loss.data, abs_tol=1e-12 * scale)
        for g, x in zip(got_grads, xs):
            assert close(g, x.grad, abs_tol=1e-12 * scale)
        sums += [p.grad for p in ps]
        spreads += [abs(p.grad) * scale for p in ps]
        ref_total += loss.data
    assert close(total, ref_total / size, abs_tol=1e-12 * abs(ref_total))
    for p, s, spread in zip(params, sums.tolist(), spreads.tolist()):
        assert close(p.grad, s / size, abs_tol=1e-12 * spread / size)


def test_relu_kink_and_exact_zero_preactivations():
    """Examples that land exactly on relu's kink get relu'(0) = 0, per example."""
    x, w, b = Value(0.0), Parameter(2.0), Parameter(-2.0)
    program = trace((w * x + b).relu()).compile([x])
    batch = np.array([[1.0], [0.5], [2.0], [-1.0]])  # pre-activations 0, -1, 2, -4
    assert program(batch).tolist() == [0.0, 0.0, 2.0, 0.0]
    assert program.gradients(batch).tolist() == [[0.0], [0.0], [2.0], [0.0]]
    assert program.backward(batch, reduction="sum") == 2.0
    assert (w.grad, b.grad) == (2.0, 1.0)


def test_nan_and_inf_inputs_propagate_as_in_the_scalar_engine():
    x, y = Value(1.0), Value(1.0)
    output = (x / y).log() + x * 0.0
    program = trace(output).compile([x, y])
    batch = np.array([[0.0, 0.0], [1.0, 0.0], [INF, 1.0], [NAN, 2.0], [-1.0, 1.0], [0.0, 1.0]])
    got_out, got_grads = program(batch), program.gradients(batch)
    for row, out, grads in zip(batch.tolist(), got_out.tolist(), got_grads.tolist()):
        a, b = Value(row[0]), Value(row[1])
        ref = (a / b).log() + a * 0.0
        ref.backward()
        assert same(out, ref.data)
        assert same(grads[0], a.grad) and same(grads[1], b.grad)


def test_a_batch_of_one_and_an_output_that_is_an_input():
    x = Value(3.0)
    program = trace(x).compile([x])
    assert program([[4.0]]).tolist() == [4.0]
    assert program.gradients([[4.0], [5.0]]).tolist() == [[1.0], [1.0]]
    assert program.backward([[4.0]]) == 4.0


# --- parameters, control flow, the listing ------------------------------------------------------

def test_parameters_are_read_at_each_run_and_constants_folded():
    x, w = Value(1.0), Parameter(2.0)
    program = trace(w * x + 3).compile([x])
    assert program.parameters == (w,)
    assert [c.data for c in program.constants] == [3.0]
    assert program([[1.0]]).tolist() == [5.0]
    w.data = 10.0
    assert program([[1.0], [2.0]]).tolist() == [13.0, 23.0]
    assert all(c.grad == 0.0 for c in program.constants)


def test_gradients_accumulate_into_grad_like_backward():
    x, w = Value(1.0), Parameter(2.0)
    program = trace(w * x).compile([x])
    program.backward([[1.0], [3.0]])
    program.backward([[1.0], [3.0]], reduction="sum")
    assert w.grad == 2.0 + 4.0


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


def test_group_count_grows_with_depth_not_with_width():
    def program_of(width):
        xs = [Value(0.0) for _ in range(2)]
        params = [Parameter(0.1 * i) for i in range(parameter_count(2, [width, width, 1]))]
        return trace(mlp(xs, params, [width, width, 1], "tanh")).compile(xs)

    narrow, wide = program_of(2), program_of(32)
    assert wide.node_count > 50 * narrow.node_count / 4
    assert wide.group_count == narrow.group_count


def test_listing_has_one_line_per_group_and_reports_size():
    xs = [Value(0.0), Value(0.0)]
    params = [Parameter(0.1 * i) for i in range(parameter_count(2, [3, 1]))]
    program = trace(mlp(xs, params, [3, 1], "relu")).compile(xs)
    lines = str(program).splitlines()
    assert len(lines) == 1 + program.group_count
    assert f"{program.node_count} nodes in {program.group_count} groups" in lines[0]
    assert f"{program.memory(1):,} bytes" in lines[0]
    assert any(" relu " in line for line in lines[1:])
    assert program.memory(1000) > program.memory(10) > 0
    assert repr(program).startswith("Program(")


def test_memory_rejects_a_bad_batch_size():
    x = Value(1.0)
    program = trace(x * x).compile([x])
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"batch_size must be a positive int, got {bad}"):
            program.memory(bad)
    for bad, shown in ((2.5, "float 2.5"), (True, "bool True"), ("10", "str '10'")):
        with pytest.raises(TypeError, match=f"batch_size must be a positive int, got {shown}"):
            program.memory(bad)
    assert program.memory(np.int64(10)) == program.memory(10)


def test_sums_are_added_in_the_scalar_order_even_one_number_wide():
    """The replay relies on numpy adding a stack of rows row after row when rows are 2 wide."""
    rng = np.random.default_rng(0)
    for shape in [(40, 1, 2), (300, 1, 2), (9, 2, 2), (50, 3, 7)]:
        stack = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
        in_order = stack[0] + 0.0
        for row in stack[1:]:
            in_order = in_order + row
        assert np.array_equal(_sum_rows(stack), in_order)


# --- errors -------------------------------------------------------------------------------------

@pytest.fixture
def small():
    x, y, w = Value(1.0, label="x"), Value(2.0, label="y"), Parameter(0.5, label="w")
    h = w * x + y
    return trace(h * h), x, y, w, h


def test_inputs_that_are_not_leaves_or_not_in_the_graph_are_rejected(small):
    graph, x, y, w, h = small
    with pytest.raises(ValueError, match="not a leaf"):
        graph.compile([x, h])
    with pytest.raises(ValueError, match="not a node of this graph"):
        graph.compile([x, Value(3.0)])
    with pytest.raises(ValueError, match="twice"):
        graph.compile([x, x])
    with pytest.raises(ValueError, match="at least one input"):
        graph.compile([])
    with pytest.raises(TypeError, match="list of leaf Values"):
        graph.compile(x)
    with pytest.raises(TypeError, match="expected a Value"):
        graph.compile([x, 2.0])
    doubled = trace(x * 2)
    constant = next(n for n in doubled.nodes if isinstance(n, Constant))
    with pytest.raises(ValueError, match="constant"):
        doubled.compile([x, constant])
    assert isinstance(graph.compile([x, y]), Program)


@pytest.mark.parametrize("batch", [np.ones(2), np.ones((3, 3)), np.ones((3, 1)), np.ones((0, 2)),
                                   np.ones((2, 2, 1))])
def test_a_batch_of_the_wrong_shape_is_a_value_error(small, batch):
    graph, x, y, w, _ = small
    program = graph.compile([x, y])
    for run in (program, program.gradients, program.backward):
        with pytest.raises(ValueError, match=r"expected \(B, 2\)"):
            run(batch)
    assert w.grad == 0.0


@pytest.mark.parametrize("batch", [np.array([["a", "b"]]), np.array([[1 + 2j, 0]]),
                                   np.array([[None, 1.0]], dtype=object)])
def test_a_non_numeric_batch_is_a_type_error(small, batch):
    graph, x, y, w, _ = small
    program = graph.compile([x, y])
    with pytest.raises(TypeError, match="dtype"):
        program.backward(batch)
    assert w.grad == 0.0


def test_an_unknown_reduction_changes_nothing(small):
    graph, x, y, w, _ = small
    program = graph.compile([x, y])
    with pytest.raises(ValueError, match="'mean' or 'sum'"):
        program.backward([[1.0, 2.0]], reduction="max")
    assert w.grad == 0.0


def test_integer_and_bool_batches_are_numbers(small):
    graph, x, y, w, _ = small
    program = graph.compile([x, y])
    assert program(np.array([[1, 2]])).tolist() == program(np.array([[1.0, 2.0]])).tolist()
    assert program(np.array([[True, False]])).tolist() == [0.25]


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
