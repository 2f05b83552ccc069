"""The exact replay (`Graph.compile(inputs, exact=True)`): the scalar engine's numbers, bit for bit.

No pass rewrites the graph. Nodes are grouped by (level, op): a node's level is one more than its
deepest parent's, so one numpy call computes a group. Sums add their terms in the scalar engine's
order, and gradients accumulate in the order of its backward sweep: every contribution gets a row
of its own, and a node's gradient adds its rows in the sweep's order, from 0.0 as the scalar
engine does (so a gradient of zero is 0.0, never -0.0). This costs memory and gathers; the lowered
program (the default) does without.

Per example the replay equals the scalar engine where numpy's elementwise functions equal Python's
(arithmetic, sqrt, relu, abs, step, and every mask): transcendental functions (exp, tanh, ...) may
differ from the `math` module's in the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..ops import Op
from .ir import INPUT, LEAF, Node, ProgramGraph
from .layout import NEVER, Block, assign_rows, selector
from .steps import FORWARD, INPUTS, TRAIN

# Buffers are at least two columns wide: numpy reduces a one-column stack pairwise but a wider one
# row by row, and only row by row matches the scalar engine's order of additions.
MIN_WIDTH = 2
OUTPUT_SEED = (-math.inf, 0)  # the output's seed 1.0 arrives before any other contribution


def sum_rows(stacked: np.ndarray) -> np.ndarray:
    """Σ over axis 0, row after row; `+ 0.0` is the scalar sum's start (it turns -0 into 0)."""
    total = np.add.reduce(stacked, axis=0)
    total += 0.0
    return total


def _gather_table(lists: list[list[int]]) -> slice | np.ndarray:
    """Where each node's incoming contributions sit, padded with the zero row 0: (m, nodes)."""
    if all(len(rows) == 1 for rows in lists):
        return selector([rows[0] for rows in lists])
    table = np.zeros((max(len(rows) for rows in lists), len(lists)), dtype=np.intp)
    for column, rows in enumerate(lists):
        table[:len(rows), column] = rows
    return table


def _reduce(buffer: np.ndarray, where: slice | np.ndarray) -> np.ndarray:
    """The contributions `where` says, added in order from 0.0, as the scalar engine adds them."""
    if isinstance(where, slice) or where.ndim == 1:
        return buffer[where] + 0.0
    return sum_rows(buffer[where])


@dataclass(slots=True, eq=False)
class _Group:
    """Nodes of one op at one level: rows start:stop of the value buffer."""

    op: Op
    level: int
    nodes: list[Node]
    start: int
    stop: int
    parents: list                  # per input position: a selector of parent rows
    stacked: np.ndarray | None     # n-ary ops: (inputs, nodes) parent rows, gathered in one call
    needs_grad: bool
    grad_from: slice | np.ndarray | None = None   # these nodes' contribution rows (_gather_table)
    kept: tuple[int, ...] = ()     # input positions whose contributions are needed
    writes_at: int = 0             # first contribution row this group writes

    @property
    def size(self) -> int:
        return self.stop - self.start


class _Schedule:
    """One grouped evaluation order over a set of nodes, with its backward bookkeeping.

    Rows 0.. of the value buffer hold the sources (filled by the caller, the `wanted` ones first),
    then every computed node. With `reuse` (a forward-only run) a group's rows go back to the pool
    once nothing reads them, so only `keep` and what is still to be read take memory; otherwise
    each group has rows of its own. The contribution buffer holds a zero row, one row per seed, then
    one row per (node, input position) whose gradient is needed.

    `position` is each node's index in the whole graph's topological order. Contributions to a
    node are added in the scalar sweep's order, keyed (-position of the child, input position);
    each seed comes with its key, so gradients arriving from another schedule keep that order too.
    """

    def __init__(self, sources: list[Node], computed: list[Node], seeds: list[tuple[Node, tuple]],
                 wanted: list[Node], position: dict[Node, int], reuse: bool = False,
                 keep: Node | None = None, late: Sequence[Node] = ()):
        wanted_set = set(wanted)
        ordered_sources = list(wanted) + [s for s in sources if s not in wanted_set]
        self.n_sources = len(ordered_sources)
        self.late = list(late)   # sources filled just before their first reader (see forward)
        level = dict.fromkeys(ordered_sources, 0)
        needs = {s: s in wanted_set for s in ordered_sources}
        for node in computed:
            level[node] = 1 + max((level[p] for p in node.args), default=0)
            needs[node] = any(needs[p] for p in node.args)

        def key(node):
            return level[node], node.op.name, len(node.args), not needs[node]

        self.groups: list[_Group] = []
        for node in sorted(computed, key=lambda n: (*key(n), position[n])):
            last = self.groups[-1] if self.groups else None
            if last is not None and key(last.nodes[0]) == key(node):
                last.nodes.append(node)
            else:
                self.groups.append(_Group(node.op, level[node], [node], 0, 0, [], None,
                                          needs[node]))
        self.row = self._rows(ordered_sources, reuse, keep)
        self.fill_before: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for group in self.groups:
            group.start = self.row[group.nodes[0]]
            group.stop = group.start + len(group.nodes)
            arity = len(group.nodes[0].args)
            columns = [[self.row[n.args[j]] for n in group.nodes] for j in range(arity)]
            if group.op.arity is None:
                group.stacked = np.array(columns, dtype=np.intp).reshape(arity, group.size)
            else:
                group.parents = [selector(rows) for rows in columns]
        if reuse:
            return

        incoming: dict[int, list[tuple[tuple, int]]] = {}
        for i, (node, order) in enumerate(seeds):
            incoming.setdefault(self.row[node], []).append((order, 1 + i))
        self.n_seeds = len(seeds)
        next_row = 1 + self.n_seeds
        for group in self.groups:
            if not group.needs_grad:
                continue
            arity = len(group.nodes[0].args)
            kept = tuple(j for j in range(arity)
                         if group.op.arity is None or any(needs[n.args[j]] for n in group.nodes))
            group.kept, group.writes_at = kept, next_row
            for t, j in enumerate(kept):
                for i, node in enumerate(group.nodes):
                    parent = node.args[j]
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

    def _rows(self, sources: list[Node], reuse: bool, keep: Node | None) -> dict[Node, int]:
        late = set(self.late)
        if not reuse:
            nodes = sources + [n for g in self.groups for n in g.nodes]
            return {n: i for i, n in enumerate(nodes)}
        first: dict[Node, int] = {}
        last: dict[Node, int] = {}
        for step, group in enumerate(self.groups):
            for node in group.nodes:
                for parent in node.args:
                    first.setdefault(parent, step)
                    last[parent] = step
        # a late source (a uniform value, the same for every example) gets a row from its first
        # reader to its last, instead of one for the whole run
        members = [[s for s in sources if s not in late]] + [[s] for s in self.late]
        births = [-1] + [first.get(s, -1) for s in self.late]
        members += [g.nodes for g in self.groups]
        births += list(range(len(self.groups)))
        blocks = [Block(len(nodes), born, NEVER if keep in nodes else
                        max((last.get(n, born) for n in nodes), default=born))
                  for born, nodes in zip(births, members)]
        starts, _ = assign_rows(blocks)
        return {n: starts[i] + k for i, nodes in enumerate(members) for k, n in enumerate(nodes)}

    def plan_fills(self, late_rows: np.ndarray) -> None:
        """Fill the late sources (their values at late_rows of the caller's array) before their
        first reader: all at once without reuse, else each just before the group that needs it."""
        first: dict[Node, int] = {}
        for step, group in enumerate(self.groups):
            for node in group.nodes:
                for parent in node.args:
                    first.setdefault(parent, step)
        steps: dict[int, list[int]] = {}
        for i, node in enumerate(self.late):
            steps.setdefault(first.get(node, 0), []).append(i)
        self.fill_before = {step: (np.array([self.row[self.late[i]] for i in picks], dtype=np.intp),
                                   late_rows[picks]) for step, picks in steps.items()}

    @property
    def n_rows(self) -> int:
        return max(self.row.values(), default=-1) + 1

    def arriving(self, node: Node) -> list[tuple[tuple, int]]:
        """(order, contribution row) of each gradient contribution reaching `node`, in order."""
        return self.incoming.get(self.row[node], [])

    def forward(self, values: np.ndarray, keep: bool, late: np.ndarray) -> list | None:
        """Fill every computed row of `values` (the sources but the late ones already filled; the
        late ones' values are rows of `late`, see plan_fills); optionally keep inputs."""
        kept_inputs = [] if keep else None
        with np.errstate(all="ignore"):  # inf and nan are results here, as in the scalar engine
            for step, group in enumerate(self.groups):
                fill = self.fill_before.get(step)
                if fill is not None:
                    values[fill[0]] = late[fill[1]]
                if group.stacked is not None:
                    stacked = values[group.stacked]
                    inputs = stacked
                    result = (sum_rows(stacked) if group.op.name == "sum"
                              else group.op.batched(*stacked))
                else:
                    inputs = [values[s] for s in group.parents]
                    result = group.op.batched(*inputs)
                values[group.start:group.stop] = result
                if keep:
                    kept_inputs.append(inputs)
        return kept_inputs

    def backward(self, values: np.ndarray, inputs: list, seeds: np.ndarray | float) -> np.ndarray:
        """All contributions of a backward sweep from `seeds`, shape (contribution rows, width)."""
        width = values.shape[1]
        contributions = np.empty((self.n_contributions, width))
        contributions[0] = 0.0
        contributions[1:1 + self.n_seeds] = seeds
        with np.errstate(all="ignore"):
            for group, group_inputs in zip(reversed(self.groups), reversed(inputs)):
                if not group.needs_grad:
                    continue
                grad = _reduce(contributions, group.grad_from)
                y = values[group.start:group.stop]
                op = group.op
                if op.vjp is not None:
                    parts = op.vjp(grad, y, *group_inputs)
                else:
                    parts = [grad * local for local in op.local(y, *group_inputs)]
                for t, j in enumerate(group.kept):
                    contributions[group.writes_at + t * group.size:
                                  group.writes_at + (t + 1) * group.size] = parts[j]
        return contributions

    def wanted_grads(self, contributions: np.ndarray) -> np.ndarray:
        """The gradients of the wanted sources, shape (wanted, width)."""
        if self.wanted_from is None:
            return np.empty((0, contributions.shape[1]))
        with np.errstate(all="ignore"):
            return _reduce(contributions, self.wanted_from)

    def buffer_rows(self, backward: bool) -> int:
        """Rows of the buffers a run allocates: values, and for a backward run the contributions
        and the gathered inputs it keeps."""
        if not backward:
            return self.n_rows
        gathered = 0
        for group in self.groups:
            if group.stacked is not None:
                gathered += group.stacked.size
            else:
                gathered += sum(group.size for s in group.parents if not isinstance(s, slice))
        return self.n_rows + self.n_contributions + gathered


class Exact:
    """The traced graph replayed in the scalar engine's order: a once-per-run schedule for what
    depends only on parameters and constants, and a per-example schedule for the rest."""

    def __init__(self, graph: ProgramGraph):
        self.graph = graph
        nodes = graph.nodes
        uniform = [n for n in nodes if n.uniform]
        self.parameters = [n for n in uniform if n.is_parameter]
        constants = [n for n in uniform if n.kind == LEAF and not n.is_parameter]
        self.constant_data = np.array([c.value for c in constants], dtype=float)
        learned = set(self.parameters)
        for node in uniform:
            if node.kind != LEAF and any(p in learned for p in node.args):
                learned.add(node)
        varying = [n for n in nodes if not n.uniform]
        frontier = {p for n in varying for p in n.args if p.uniform}
        self._frontier = [n for n in uniform if n in frontier]
        self._learned_frontier = [n for n in self._frontier if n in learned]
        self._position = {node: i for i, node in enumerate(nodes)}
        self._per_example = [n for n in varying if n.kind != INPUT]
        self._inputs = list(graph.inputs)
        self._schedules: dict[str, _Schedule] = {}
        self._frontier_in_once: np.ndarray | None = None   # known once the once-per-run part is
        self._rows: dict[str, tuple[int, int]] = {}
        train = self.schedule(TRAIN)
        # Each contribution the per-example sweep passes to a parameter-only node becomes one seed
        # of the once-per-run sweep, summed over the batch, in the scalar sweep's order.
        arriving = [(node, order, row) for node in self._learned_frontier
                    for order, row in train.arriving(node)]
        self._handover = np.array([row for _, _, row in arriving], dtype=np.intp)
        self.once = _Schedule(self.parameters + constants, [n for n in uniform if n.kind != LEAF],
                              [(node, order) for node, order, _ in arriving], self.parameters,
                              self._position)
        self._frontier_in_once = np.array([self.once.row[n] for n in self._frontier], dtype=np.intp)
        for schedule in self._schedules.values():
            schedule.plan_fills(self._frontier_in_once)

    def schedule(self, mode: str) -> _Schedule:
        """The per-example schedule of one kind of run."""
        if mode not in self._schedules:
            sources = self._inputs + self._frontier
            seeds = [(self.graph.output, OUTPUT_SEED)]
            if mode == FORWARD:
                schedule = _Schedule(sources, self._per_example, seeds, [], self._position,
                                     reuse=True, keep=self.graph.output, late=self._frontier)
            else:
                wanted = self._learned_frontier if mode == TRAIN else self._inputs
                schedule = _Schedule(sources, self._per_example, seeds, list(wanted),
                                     self._position, late=self._frontier)
            if self._frontier_in_once is not None:
                schedule.plan_fills(self._frontier_in_once)
            self._schedules[mode] = schedule
        return self._schedules[mode]

    def bytes_at(self, mode: str, width: int) -> int:
        """Bytes of the buffers a run of this kind on `width` examples allocates."""
        if mode not in self._rows:
            self._rows[mode] = (self.schedule(mode).buffer_rows(mode != FORWARD),
                                self.once.buffer_rows(mode == TRAIN))
        rows, once = self._rows[mode]
        return (rows * max(width, MIN_WIDTH) + once * MIN_WIDTH) * 8

    def run(self, batch: np.ndarray, mode: str):
        """As `Lowered.run`: FORWARD outputs, INPUTS gradients, TRAIN (outputs, totals)."""
        size = len(batch)
        keep = mode != FORWARD
        once = self.once
        fixed = np.empty((once.n_rows, MIN_WIDTH))
        n_params = len(self.parameters)
        fixed[:n_params] = np.array([p.source.data for p in self.parameters])[:, None]
        fixed[n_params:once.n_sources] = self.constant_data[:, None]
        once_inputs = once.forward(fixed, mode == TRAIN, fixed)

        schedule = self.schedule(mode)
        if size < MIN_WIDTH:
            batch = np.repeat(batch, MIN_WIDTH, axis=0)
        values = np.empty((schedule.n_rows, len(batch)))
        values[[schedule.row[x] for x in self._inputs]] = batch.T
        inputs = schedule.forward(values, keep, fixed[:, :1])
        outputs = values[schedule.row[self.graph.output], :size].copy()
        if mode == FORWARD:
            return outputs
        contributions = schedule.backward(values, inputs, 1.0)
        if mode == INPUTS:
            return schedule.wanted_grads(contributions)[:, :size].T.copy()
        with np.errstate(all="ignore"):
            seeds = contributions[self._handover, :size].sum(axis=1)[:, None]
            totals = once.wanted_grads(once.backward(fixed, once_inputs, seeds))[:, 0]
        return outputs, totals
