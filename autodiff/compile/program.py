"""`Program`: a traced graph compiled for batched replay, and what it tells about itself."""

from __future__ import annotations

import html
from typing import Protocol, Sequence

import numpy as np

from ..arguments import check_bool, check_choice, check_count, check_int, describe
from ..value import Constant, Value
from .exact import Exact
from .ir import Node, from_traced
from .lowered import Lowered
from .passes import lower
from .steps import FORWARD, INPUTS, TRAIN, DenseStep, SparseStep

MEMORY_LIMIT = 2 * 2**30   # bytes of buffers one run may take unless the program is told more


class Traced(Protocol):
    """What a program needs of a traced graph (`autodiff.Graph`): its nodes and their names."""

    nodes: list[Value]
    output: Value

    def name(self, node: Value) -> str: ...

    def ref(self, node: Value) -> str: ...


class Program:
    """A traced graph compiled for batched replay: `program(batch)`, `.backward`, `.gradients`.

    The user writes the computation for ONE example with scalar Values; the program evaluates it
    for a whole batch at once, each node holding a row over the batch instead of a float. Inputs
    (given to `compile`) vary per example: one column of the batch each. Every other leaf is a
    parameter, read from `.data` at each run (an optimizer that updates `p.data` between runs just
    works; `backward` adds into `.grad`), or a constant, folded in. What depends on parameters and
    constants alone (an L2 penalty) is computed once per run, not once per example.

    By default the graph is lowered first (see `autodiff.compile.passes`): chains of + become one
    sum, each group of neuron sums one matrix product W @ X with W read from the parameters at every
    run. Sums then add their terms in another order than the scalar engine (and matrix products
    use fused multiply-adds), so each result agrees with the scalar engine's to 1e-12 relative to
    the magnitude of the terms it adds up, and what follows a sum sees that difference as the math
    propagates it; every other op computes exactly what the scalar engine computes from the same
    inputs, and nan, inf and the sign of a zero come out as in the scalar engine. `exact=True` keeps
    the scalar engine's order: outputs and gradients per example equal its results bit for bit
    (transcendental functions aside, where numpy may differ from `math` in the last bit).

    What a trace cannot capture: Python control flow that reads data (`if x.data > 0: ...`) ran
    once, for the example that was traced, and is frozen into the program. Ops with a branch inside
    them (relu, abs, step) are fine: the program evaluates their branch per example.

    >>> from autodiff import Parameter, Value, trace
    >>> x, w = Value(0.0, label='x'), Parameter(3.0, label='w')
    >>> program = trace((w * x).relu()).compile(inputs=[x])
    >>> program(np.array([[1.0], [-2.0], [0.5]])).tolist()
    [3.0, 0.0, 1.5]
    >>> program.backward(np.array([[1.0], [-2.0], [0.5]]), reduction='sum'), w.grad
    (4.5, 1.5)
    """

    def __init__(self, graph: Traced, inputs: Sequence[Value], exact: bool = False):
        self.exact = check_bool(exact, "compile() exact")
        if isinstance(inputs, Value) or not isinstance(inputs, (list, tuple)):
            raise TypeError(f"compile() inputs must be a list of leaf Values, "
                            f"got {describe(inputs)}")
        if not inputs:
            raise ValueError("compile() inputs must name at least one leaf: the leaves that vary "
                             "per example, got an empty list")
        in_graph = set(graph.nodes)
        seen: set[Value] = set()
        for i, x in enumerate(inputs):
            if not isinstance(x, Value):
                raise TypeError(f"compile() inputs[{i}] must be a Value, got {describe(x)}")
            if x not in in_graph:
                raise ValueError(f"compile() inputs[{i}] ({x!r}) is not a node of this graph")
            if not x.is_leaf:
                raise ValueError(f"compile() inputs[{i}] ({graph.name(x)}, made by {x.op}) is not "
                                 f"a leaf; inputs must be leaves (Values or Parameters no op made)")
            if isinstance(x, Constant):
                raise ValueError(f"compile() inputs[{i}] is the constant {x.data!r}, folded into "
                                 f"the graph by an operator; inputs must be Values or Parameters")
            if x in seen:
                raise ValueError(f"compile() inputs[{i}] ({graph.name(x)}) is given twice")
            seen.add(x)

        self.graph = graph
        self.inputs: tuple[Value, ...] = tuple(inputs)
        traced = from_traced(graph.nodes, graph.output, self.inputs)
        self.lowered = traced if exact else lower(traced)
        self._engine = Exact(self.lowered) if exact else Lowered(self.lowered)
        self.parameters: tuple[Value, ...] = tuple(p.source for p in self._engine.parameters)
        self.constants: tuple[Value, ...] = tuple(
            n.source for n in traced.nodes if isinstance(n.source, Constant))
        self._memory_limit = MEMORY_LIMIT

    # -- running ----------------------------------------------------------------------------------
    def __call__(self, batch) -> np.ndarray:
        """The output for each example of `batch` (shape (B, len(inputs))), shape (B,)."""
        batch = self._check_batch(batch, "Program()")
        self._check_memory(FORWARD, len(batch), "Program()")
        return self._engine.run(batch, FORWARD)

    def backward(self, batch, reduction: str = "mean") -> float:
        """Add the batch's mean (or summed) gradient into each parameter's .grad; return its output.

        Equal to running the scalar graph's backward() on each example and averaging (summing) the
        results. What is computed once per run (a penalty, a weight's square) is differentiated
        once, from the gradient already summed over the batch, as PyTorch does: where such a node
        has an infinite derivative, an example passing it a zero gradient adds nothing here, while
        the scalar engine's 0·inf makes its sum nan (the sum here is inf or nan then too).
        """
        reduction = check_choice(reduction, "Program.backward() reduction", ("mean", "sum"))
        batch = self._check_batch(batch, "Program.backward()")
        size = len(batch)
        self._check_memory(TRAIN, size, "Program.backward()")
        outputs, totals = self._engine.run(batch, TRAIN)
        with np.errstate(all="ignore"):
            total = float(outputs.sum())
            if reduction == "mean":
                totals = totals / size
                total /= size
        for p, g in zip(self.parameters, totals.tolist()):
            p.grad = g if p.grad is None else p.grad + g   # None counts as 0, as in backward()
        return total

    def gradients(self, batch) -> np.ndarray:
        """∂output/∂input for each example, shape (B, len(inputs)); no .grad is touched."""
        batch = self._check_batch(batch, "Program.gradients()")
        self._check_memory(INPUTS, len(batch), "Program.gradients()")
        return self._engine.run(batch, INPUTS)

    def _check_batch(self, batch, call: str) -> np.ndarray:
        try:
            array = np.asarray(batch)
        except ValueError:   # a ragged list of rows
            raise ValueError(f"{call} batch must be a (B, {len(self.inputs)}) array of numbers, "
                             f"got rows of different lengths") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{call} batch must hold real numbers (a bool, int or float array), "
                            f"got dtype {array.dtype}")
        n = len(self.inputs)
        if array.ndim != 2 or array.shape[1] != n or array.shape[0] == 0:
            raise ValueError(f"{call} batch has shape {array.shape}; expected (B, {n}) with "
                             f"B >= 1: one row per example, one column per input")
        return np.ascontiguousarray(array, dtype=float)

    # -- memory -----------------------------------------------------------------------------------
    @property
    def memory_limit(self) -> int:
        """Bytes of buffers one run may take; a larger run is refused before it starts."""
        return self._memory_limit

    @memory_limit.setter
    def memory_limit(self, limit: int) -> None:
        self._memory_limit = check_int(limit, "Program.memory_limit", low=1, high=2**62)

    def memory(self, batch_size: int = 1, run: str = "backward") -> int:
        """Bytes of the arrays a run on `batch_size` examples fills (`run`: 'backward',
        'gradients' or 'forward'): values, gradients, scratch, W. The program keeps them for the
        next run of that size; its index arrays, which do not grow with the batch, are not
        counted."""
        batch_size = check_count(batch_size, "Program.memory() batch_size")
        run = check_choice(run, "Program.memory() run", ("backward", "gradients", "forward"))
        mode = {"backward": TRAIN, "gradients": INPUTS, "forward": FORWARD}[run]
        return self._engine.bytes_at(mode, batch_size)

    def _check_memory(self, mode: str, size: int, call: str) -> None:
        need = self._engine.bytes_at(mode, size)
        if need <= self._memory_limit:
            return
        fits, above = 0, size   # the largest batch within the limit: bytes grow with the batch
        while above - fits > 1:
            middle = (fits + above) // 2
            if self._engine.bytes_at(mode, middle) <= self._memory_limit:
                fits = middle
            else:
                above = middle
        advice = (f"run the batch in slices of at most {fits:,} examples (backward(..., "
                  f"reduction='sum') adds their gradients up)" if fits else
                  "even one example needs more than that")
        raise ValueError(
            f"{call}: a run on {size:,} examples needs {need / 2**20:,.1f} MiB of buffers "
            f"({self.node_count:,} nodes), above this program's memory_limit of "
            f"{self._memory_limit / 2**20:,.1f} MiB; {advice}, or raise the limit: "
            f"program.memory_limit = {need:,}")

    # -- reporting --------------------------------------------------------------------------------
    @property
    def node_count(self) -> int:
        """Nodes of the traced graph, constants included."""
        return len(self.graph.nodes)

    @property
    def group_count(self) -> int:
        """Groups evaluated per run: each is one numpy call forward (and one or two backward)."""
        return len(self._rows())

    @property
    def passes(self) -> list[str]:
        """What each pass that changed the graph did (none with exact=True)."""
        return list(self.lowered.notes)

    def _name(self, node: Node) -> str:
        if node.source is not None:
            return self.graph.ref(node.source)
        return "c"   # a sum of uniform terms the passes made

    def _span(self, nodes: Sequence[Node]) -> str:
        names = [self._name(n) for n in nodes]
        return names[0] if len(names) == 1 else f"{names[0]}…{names[-1]}"

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        """(stage, level, what, shape, nodes = how) per group, in the order a run computes them."""
        if self.exact:
            rows = []
            for stage, schedule in (("once", self._engine.once),
                                    ("per example", self._engine.schedule(TRAIN))):
                for g in schedule.groups:
                    arity = len(g.nodes[0].args)
                    operands = (f"{arity} terms" if g.op.arity is None else ", ".join(
                        self._span([n.args[j] for n in g.nodes]) for j in range(arity)))
                    rows.append((stage, f"L{g.level}", g.op.name, f"×{len(g.nodes)}",
                                 f"{self._span(g.nodes)} = {g.op.name}({operands})"))
            return rows
        once, each = self._engine.plans(TRAIN)
        rows = []
        for stage, plan in (("once", once), ("per example", each)):
            for step in plan.steps:
                g = step.group
                span = self._span(g.nodes)
                if isinstance(step, DenseStep):
                    n, m = step.shape
                    rows.append((stage, f"L{g.level}", "matmul", f"{n}×{m} @ ({m}, B)",
                                 f"{span} = W @ {self._span(g.columns)} + c"))
                elif isinstance(step, SparseStep):
                    rows.append((stage, f"L{g.level}", "Σ", f"×{step.n}, {step.nnz} terms",
                                 f"{span} = Σ terms + c"))
                else:
                    operands = ", ".join(self._span([n.args[j] for n in g.nodes])
                                         for j in range(len(step.operands)))
                    rows.append((stage, f"L{g.level}", g.op.name, f"×{step.n}",
                                 f"{span} = {g.op.name}({operands})"))
        return rows

    def _header(self) -> list[str]:
        kind = "exact (the scalar engine's order)" if self.exact else "lowered"
        lines = [f"Program, {kind}: {len(self.inputs)} inputs, {len(self.parameters)} parameters, "
                 f"{len(self.constants)} constants; {self.node_count:,} traced nodes in "
                 f"{self.group_count} groups",
                 f"memory: {self.memory(1):,} bytes at batch 1, {self.memory(100):,} at batch 100 "
                 f"(backward)"]
        notes = self.passes or ["none applied"]
        lines += [("passes: " if i == 0 else " " * 8) + note for i, note in enumerate(notes)]
        return lines

    def __str__(self) -> str:
        lines = self._header()
        for stage, level, what, shape, how in self._rows():
            lines.append(f"  {stage:<11} {level:<4} {what:<7} {shape:<16} {how}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The listing as an HTML table (Jupyter shows it; nothing here imports Jupyter)."""
        esc = html.escape
        head = "".join(f"<div>{esc(line)}</div>" for line in self._header())
        cells = "".join(
            "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
            for row in self._rows())
        return (f"<div class=\"backprop-lens-program\">{head}<table><thead><tr><th>stage</th>"
                f"<th>level</th><th>op</th><th>shape</th><th>nodes</th></tr></thead>"
                f"<tbody>{cells}</tbody></table></div>")

    def __repr__(self) -> str:
        return (f"Program(inputs={len(self.inputs)}, parameters={len(self.parameters)}, "
                f"nodes={self.node_count}, groups={self.group_count}, exact={self.exact})")
