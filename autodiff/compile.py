"""Trace once, replay on a batch: a traced scalar graph compiled to a few vectorised numpy calls.

The user writes the computation for ONE example with scalar Values; `Graph.compile(inputs)` turns
its trace into a `Program` that evaluates every node for a whole batch at once, each node holding a
vector over the batch instead of a float. Nodes are grouped by (level, op): a node's level is one
more than its deepest parent's, so the nodes of one group never depend on each other and one numpy
call computes them all. The number of numpy calls grows with the depth of the graph, not with its
node count. Every op's forward and derivative come from its row of the op table (`batched` and
`local`): nothing here re-declares a derivative, and the scalar engine stays the reference.

Three kinds of leaves:
- inputs, given to `compile`, vary per example: one column of the batch each;
- constants (the 2 in `x ** 2`) are folded into the program;
- every other leaf is a parameter, read from `.data` at each run, so an optimizer that updates
  `p.data` between runs just works; `backward` adds into its `.grad`.
Nodes that depend only on parameters and constants (an L2 penalty, say) are the same for every
example: they are computed once per run, not once per example.

What a trace cannot capture: Python control flow that reads data (`if x.data > 0: ...`) ran once,
for the example that was traced, and is frozen into the program. Ops with a branch inside them
(relu, abs, step) are fine: the program evaluates their branch per example at replay.

Per example the replay gives the scalar engine's results bit for bit where numpy's elementwise
functions do (arithmetic, sqrt, relu, abs, step): sums are added in the scalar engine's order and
gradients accumulate in the order of its backward sweep. Transcendental functions (exp, tanh, ...)
may differ from the `math` module's in the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .ops import Op
from .value import Constant, Value

if TYPE_CHECKING:
    from .tracing import Graph

# Buffers are at least two columns wide: numpy reduces a one-column stack pairwise but a wider one
# row by row, and only row by row matches the scalar engine's order of additions.
_MIN_WIDTH = 2
OUTPUT_SEED = (-math.inf, 0)  # the output's seed 1.0 arrives before any other contribution


def _sum_rows(stacked: np.ndarray) -> np.ndarray:
    """Σ over axis 0, row after row; `+ 0.0` is the scalar sum's start value (it turns -0 into 0)."""
    total = np.add.reduce(stacked, axis=0)
    total += 0.0
    return total


def _selector(rows: Sequence[int]) -> slice | np.ndarray:
    """A slice when the rows are consecutive (numpy then takes a view, not a copy), else an index."""
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) and np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
        return slice(int(rows[0]), int(rows[0]) + len(rows))
    return rows


def _gather_table(lists: list[list[int]]) -> slice | np.ndarray:
    """Where each node's incoming contributions sit, padded with the zero row 0: shape (m, nodes)."""
    if all(len(rows) == 1 for rows in lists):
        return _selector([rows[0] for rows in lists])
    table = np.zeros((max(len(rows) for rows in lists), len(lists)), dtype=np.intp)
    for column, rows in enumerate(lists):
        table[:len(rows), column] = rows
    return table


def _reduce(buffer: np.ndarray, where: slice | np.ndarray) -> np.ndarray:
    if isinstance(where, slice):
        return buffer[where]
    if where.ndim == 1:
        return buffer[where]
    return np.add.reduce(buffer[where], axis=0)


@dataclass(slots=True, eq=False)
class _Group:
    """Nodes of one op at one level: rows start:stop of the value buffer."""

    op: Op
    level: int
    nodes: list[Value]
    start: int
    stop: int
    parents: list                  # per input position: a selector of parent rows
    stacked: np.ndarray | None     # n-ary ops: (inputs, nodes) parent rows, gathered in one call
    needs_grad: bool
    grad_from: slice | np.ndarray | None = None   # contribution rows of these nodes (see _gather_table)
    kept: tuple[int, ...] = ()     # input positions whose contributions are needed
    writes_at: int = 0             # first contribution row this group writes

    @property
    def size(self) -> int:
        return self.stop - self.start


class _Schedule:
    """One grouped evaluation order over a set of nodes, with its backward bookkeeping.

    Rows 0.. of the value buffer hold the sources (filled by the caller, the `wanted` ones first),
    then every computed node, group after group. The contribution buffer holds a zero row, one row
    per seed, then one row per (node, input position) whose gradient is needed.

    `position` is each node's index in the whole graph's topological order. Contributions to a
    node are added in the scalar sweep's order, keyed (-position of the child, input position);
    each seed comes with its key, so gradients arriving from another schedule keep that order too.
    """

    def __init__(self, sources: list[Value], computed: list[Value],
                 seeds: list[tuple[Value, tuple]], wanted: list[Value], position: dict[Value, int]):
        wanted_set = set(wanted)
        ordered_sources = list(wanted) + [s for s in sources if s not in wanted_set]
        self.n_sources = len(ordered_sources)
        self.row: dict[Value, int] = {s: i for i, s in enumerate(ordered_sources)}
        level = dict.fromkeys(ordered_sources, 0)
        needs = {s: s in wanted_set for s in ordered_sources}
        for node in computed:
            level[node] = 1 + max((level[p] for p in node.parents), default=0)
            needs[node] = any(needs[p] for p in node.parents)

        def key(node):
            return level[node], node._op.name, len(node.parents), not needs[node]

        self.groups: list[_Group] = []
        for node in sorted(computed, key=lambda n: (*key(n), position[n])):
            self.row[node] = row = len(self.row)
            last = self.groups[-1] if self.groups else None
            if last is not None and key(last.nodes[0]) == key(node):
                last.nodes.append(node)
                last.stop = row + 1
            else:
                self.groups.append(_Group(node._op, level[node], [node], row, row + 1, [], None,
                                          needs[node]))
        self.n_rows = len(self.row)
        for group in self.groups:
            arity = len(group.nodes[0].parents)
            columns = [[self.row[n.parents[j]] for n in group.nodes] for j in range(arity)]
            if group.op.arity is None:
                group.stacked = np.array(columns, dtype=np.intp).reshape(arity, group.size)
            else:
                group.parents = [_selector(rows) for rows in columns]

        incoming: dict[int, list[tuple[tuple, int]]] = {}
        for i, (node, order) in enumerate(seeds):
            incoming.setdefault(self.row[node], []).append((order, 1 + i))
        self.n_seeds = len(seeds)
        next_row = 1 + self.n_seeds
        for group in self.groups:
            if not group.needs_grad:
                continue
            arity = len(group.nodes[0].parents)
            kept = tuple(j for j in range(arity)
                         if group.op.arity is None or any(needs[n.parents[j]] for n in group.nodes))
            group.kept, group.writes_at = kept, next_row
            for t, j in enumerate(kept):
                for i, node in enumerate(group.nodes):
                    parent = node.parents[j]
                    if needs[parent]:
                        order = (-position[node], j)  # the scalar sweep's order: last node first
                        incoming.setdefault(self.row[parent], []).append(
                            (order, next_row + t * group.size + i))
            next_row += len(kept) * group.size
        self.n_contributions = next_row

        self.incoming = {row: sorted(pairs) for row, pairs in incoming.items()}

        def rows_into(nodes):
            return [[c for _, c in self.incoming[self.row[n]]] for n in nodes]

        for group in self.groups:
            if group.needs_grad:
                group.grad_from = _gather_table(rows_into(group.nodes))
        self.wanted_from = _gather_table(rows_into(wanted)) if wanted else None

    def arriving(self, node: Value) -> list[tuple[tuple, int]]:
        """(order, contribution row) of every gradient contribution that reaches `node`, in order."""
        return self.incoming.get(self.row[node], [])

    def forward(self, values: np.ndarray, keep: bool) -> list | None:
        """Fill every computed row of `values` (sources already filled); optionally keep inputs."""
        kept_inputs = [] if keep else None
        with np.errstate(all="ignore"):  # inf and nan are results here, as in the scalar engine
            self._forward(values, keep, kept_inputs)
        return kept_inputs

    def _forward(self, values: np.ndarray, keep: bool, kept_inputs: list | None) -> None:
        for group in self.groups:
            if group.stacked is not None:
                stacked = values[group.stacked]
                inputs = stacked
                result = _sum_rows(stacked) if group.op.name == "sum" else group.op.batched(*stacked)
            else:
                inputs = [values[s] for s in group.parents]
                result = group.op.batched(*inputs)
            values[group.start:group.stop] = result
            if keep:
                kept_inputs.append(inputs)

    def backward(self, values: np.ndarray, inputs: list, seeds: np.ndarray | float) -> np.ndarray:
        """All contributions of a backward sweep from `seeds`, shape (contribution rows, width)."""
        width = values.shape[1]
        contributions = np.empty((self.n_contributions, width))
        contributions[0] = 0.0
        contributions[1:1 + self.n_seeds] = seeds
        with np.errstate(all="ignore"):
            self._backward(values, inputs, contributions)
        return contributions

    def _backward(self, values: np.ndarray, inputs: list, contributions: np.ndarray) -> None:
        width = values.shape[1]
        for group, group_inputs in zip(reversed(self.groups), reversed(inputs)):
            if not group.needs_grad:
                continue
            grad = _reduce(contributions, group.grad_from)
            partials = group.op.local(values[group.start:group.stop], *group_inputs)
            block = contributions[group.writes_at:group.writes_at + len(group.kept) * group.size]
            if set(map(type, partials)) == {float}:  # constants: one multiply for all inputs
                constants = np.array([partials[j] for j in group.kept])[:, None, None]
                np.multiply(grad, constants, out=block.reshape(len(group.kept), group.size, width))
            else:
                for t, j in enumerate(group.kept):
                    np.multiply(grad, partials[j], out=block[t * group.size:(t + 1) * group.size])

    def wanted_grads(self, contributions: np.ndarray) -> np.ndarray:
        """The gradients of the wanted sources, shape (wanted, width)."""
        if self.wanted_from is None:
            return np.empty((0, contributions.shape[1]))
        with np.errstate(all="ignore"):
            return _reduce(contributions, self.wanted_from)

    def buffer_rows(self) -> int:
        """Rows of all buffers a backward run allocates: values, contributions, gathered inputs."""
        gathered = 0
        for group in self.groups:
            if group.stacked is not None:
                gathered += group.stacked.size
            else:
                gathered += sum(group.size for s in group.parents if not isinstance(s, slice))
        return self.n_rows + self.n_contributions + gathered

    def index_bytes(self) -> int:
        arrays = [self.wanted_from]
        for group in self.groups:
            arrays += [group.stacked, group.grad_from, *group.parents]
        return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


class Program:
    """A traced graph compiled for batched replay: `program(batch)`, `.backward`, `.gradients`.

    >>> from autodiff import Parameter, Value, trace
    >>> x, w = Value(0.0, label='x'), Parameter(3.0, label='w')
    >>> program = trace((w * x).relu()).compile(inputs=[x])
    >>> program(np.array([[1.0], [-2.0], [0.5]])).tolist()
    [3.0, 0.0, 1.5]
    >>> program.backward(np.array([[1.0], [-2.0], [0.5]]), reduction='sum'), w.grad
    (4.5, 1.5)
    """

    def __init__(self, graph: Graph, inputs: Sequence[Value]):
        if isinstance(inputs, Value) or not isinstance(inputs, (list, tuple)):
            raise TypeError(f"compile() needs inputs as a list of leaf Values, got "
                            f"{type(inputs).__name__}")
        if not inputs:
            raise ValueError("compile() needs at least one input: the leaves that vary per example")
        in_graph = set(graph.nodes)
        seen: set[Value] = set()
        for i, x in enumerate(inputs):
            if not isinstance(x, Value):
                raise TypeError(f"compile() input {i} is {type(x).__name__} {x!r}; expected a Value")
            if x not in in_graph:
                raise ValueError(f"compile() input {i} ({x!r}) is not a node of this graph")
            if not x.is_leaf:
                raise ValueError(f"compile() input {i} ({graph.name(x)}, made by {x.op}) is not a "
                                 f"leaf; inputs must be leaves (Values or Parameters no op made)")
            if isinstance(x, Constant):
                raise ValueError(f"compile() input {i} is the constant {x.data!r}, folded into the "
                                 f"graph by an operator; inputs must be Values or Parameters")
            if x in seen:
                raise ValueError(f"compile() input {i} ({graph.name(x)}) is given twice")
            seen.add(x)

        self.graph = graph
        self.inputs: tuple[Value, ...] = tuple(inputs)
        varying = set(inputs)
        for node in graph.nodes:
            if node.parents and any(p in varying for p in node.parents):
                varying.add(node)
        uniform = [n for n in graph.nodes if n not in varying]
        self.parameters: tuple[Value, ...] = tuple(
            n for n in uniform if n.is_leaf and not isinstance(n, Constant))
        self.constants: tuple[Value, ...] = tuple(n for n in uniform if isinstance(n, Constant))
        learned = set(self.parameters)
        for node in uniform:
            if not node.is_leaf and any(p in learned for p in node.parents):
                learned.add(node)
        frontier = {p for n in graph.nodes if n in varying for p in n.parents if p not in varying}
        self._frontier = [n for n in uniform if n in frontier]
        self._learned_frontier = [n for n in self._frontier if n in learned]

        self._position = {node: i for i, node in enumerate(graph.nodes)}
        self._per_example_nodes = [n for n in graph.nodes if n in varying and not n.is_leaf]
        self._schedules: dict[str, _Schedule] = {}
        self._fill_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Each contribution the per-example sweep passes to a parameter-only node becomes one seed
        # of the once-per-run sweep, summed over the batch, in the scalar sweep's order.
        train = self._schedule("train")
        arriving = [(node, order, row) for node in self._learned_frontier
                    for order, row in train.arriving(node)]
        self._handover = np.array([row for _, _, row in arriving], dtype=np.intp)
        self._once = _Schedule(list(self.parameters) + list(self.constants),
                               [n for n in uniform if not n.is_leaf],
                               [(node, order) for node, order, _ in arriving],
                               list(self.parameters), self._position)
        self._constant_data = np.array([c.data for c in self.constants], dtype=float)
        self._frontier_in_once = np.array([self._once.row[n] for n in self._frontier], dtype=np.intp)

    # -- schedules --------------------------------------------------------------------------------
    def _schedule(self, mode: str) -> _Schedule:
        """The per-example schedule that passes gradients to the parameters ('train') or inputs."""
        if mode not in self._schedules:
            wanted = list(self._learned_frontier) if mode == "train" else list(self.inputs)
            schedule = _Schedule(list(self.inputs) + self._frontier, self._per_example_nodes,
                                 [(self.graph.output, OUTPUT_SEED)], wanted, self._position)
            self._schedules[mode] = schedule
            self._fill_rows[mode] = (
                np.array([schedule.row[x] for x in self.inputs], dtype=np.intp),
                np.array([schedule.row[n] for n in self._frontier], dtype=np.intp))
        return self._schedules[mode]

    # -- running ----------------------------------------------------------------------------------
    def _check_batch(self, batch) -> np.ndarray:
        array = np.asarray(batch)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"batch has dtype {array.dtype}; expected real numbers "
                            f"(a bool, int or float array)")
        n = len(self.inputs)
        if array.ndim != 2 or array.shape[1] != n or array.shape[0] == 0:
            raise ValueError(f"batch has shape {array.shape}; expected (B, {n}) with B >= 1: one row "
                             f"per example, one column per input")
        return array.astype(float, copy=False)

    def _run(self, batch: np.ndarray, mode: str, keep: bool):
        """Forward both schedules; returns the per-example schedule, its buffers and saved inputs."""
        once = self._once
        fixed = np.empty((once.n_rows, _MIN_WIDTH))
        fixed[:len(self.parameters)] = np.fromiter(
            (p.data for p in self.parameters), dtype=float, count=len(self.parameters))[:, None]
        fixed[len(self.parameters):once.n_sources] = self._constant_data[:, None]
        once_inputs = once.forward(fixed, keep)

        schedule = self._schedule(mode)
        if len(batch) < _MIN_WIDTH:
            batch = np.repeat(batch, _MIN_WIDTH, axis=0)
        values = np.empty((schedule.n_rows, len(batch)))
        input_rows, frontier_rows = self._fill_rows[mode]
        values[input_rows] = batch.T
        values[frontier_rows] = fixed[self._frontier_in_once, :1]
        inputs = schedule.forward(values, keep)
        return schedule, values, inputs, fixed, once_inputs

    def __call__(self, batch) -> np.ndarray:
        """The output for each example of `batch` (shape (B, len(inputs))), shape (B,)."""
        batch = self._check_batch(batch)
        schedule, values, *_ = self._run(batch, "train", keep=False)
        return values[schedule.row[self.graph.output], :len(batch)].copy()

    def backward(self, batch, reduction: str = "mean") -> float:
        """Add the batch's mean (or summed) gradient into every parameter's .grad; return that output.

        Equal to running the scalar graph's backward() on each example and averaging (summing).
        """
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        batch = self._check_batch(batch)
        size = len(batch)
        schedule, values, inputs, fixed, once_inputs = self._run(batch, "train", keep=True)
        output = values[schedule.row[self.graph.output], :size]
        contributions = schedule.backward(values, inputs, 1.0)
        with np.errstate(all="ignore"):
            seeds = contributions[self._handover, :size].sum(axis=1)[:, None]
            once = self._once
            totals = once.wanted_grads(once.backward(fixed, once_inputs, seeds))[:, 0]
            total = float(output.sum())
            if reduction == "mean":
                totals = totals / size
                total /= size
        for p, g in zip(self.parameters, totals.tolist()):
            p.grad += g
        return total

    def gradients(self, batch) -> np.ndarray:
        """∂output/∂input for each example, shape (B, len(inputs)); no .grad is touched."""
        batch = self._check_batch(batch)
        schedule, values, inputs, *_ = self._run(batch, "inputs", keep=True)
        grads = schedule.wanted_grads(schedule.backward(values, inputs, 1.0))
        return grads[:, :len(batch)].T.copy()

    # -- reporting --------------------------------------------------------------------------------
    @property
    def node_count(self) -> int:
        """Nodes of the traced graph, constants included."""
        return len(self.graph.nodes)

    @property
    def group_count(self) -> int:
        """Groups evaluated per run: each is one numpy call forward (and one or two backward)."""
        return len(self._once.groups) + len(self._schedule("train").groups)

    def memory(self, batch_size: int = 1) -> int:
        """Bytes of the buffers a `backward` run on `batch_size` examples allocates, index arrays included."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be a positive int, got {type(batch_size).__name__} "
                            f"{batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        schedule = self._schedule("train")
        width = max(batch_size, _MIN_WIDTH)
        rows = schedule.buffer_rows() * width + self._once.buffer_rows() * _MIN_WIDTH
        return rows * 8 + schedule.index_bytes() + self._once.index_bytes()

    def _describe(self, group: _Group, where: str) -> str:
        def span(nodes):
            names = [self.graph.ref(n) for n in nodes]
            return names[0] if len(names) == 1 else f"{names[0]}…{names[-1]}"

        arity = len(group.nodes[0].parents)
        if group.op.arity is None:
            operands = f"{arity} terms"
        else:
            operands = ", ".join(span([n.parents[j] for n in group.nodes]) for j in range(arity))
        return (f"  {where:<11} L{group.level:<3} {group.op.name:<11} ×{group.size:<6} "
                f"{span(group.nodes)} = {group.op.name}({operands})")

    def __str__(self) -> str:
        schedule = self._schedule("train")
        lines = [f"Program: {len(self.inputs)} inputs, {len(self.parameters)} parameters, "
                 f"{len(self.constants)} constants; {self.node_count} nodes in "
                 f"{self.group_count} groups; memory {self.memory(1):,} bytes at batch 1, "
                 f"{self.memory(100):,} at batch 100"]
        lines += [self._describe(g, "once") for g in self._once.groups]
        lines += [self._describe(g, "per example") for g in schedule.groups]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Program(inputs={len(self.inputs)}, parameters={len(self.parameters)}, "
                f"nodes={self.node_count}, groups={self.group_count})")
