"""Planning the lowered program's runs: for each kind of run, its buffers and its steps.

A run fills two buffers of rows, one row per node, each row as wide as the batch (one number wide
in the once-per-run stage): `V` holds values, `G` gradients. A plan decides, for one kind of run
(FORWARD only, TRAIN: gradients for the parameters, INPUTS: gradients for the inputs):

- the rows each group writes: consecutive rows per group, so the next group reads a slice; a
  group's rows are reused once nothing is left to read them (`layout.assign_rows`), and a unary op
  whose input dies at that step writes over it. A forward-only run thus keeps only what is still
  to be read;
- how gradients meet: the first contribution to a gradient row writes it and later ones add to it,
  so no buffer is ever cleared as a whole; a group's gradient rows live from its first contribution
  to its own backward step;
- what goes back to the once-per-run stage: for each uniform node read per example (a weight in W,
  a bias, a uniform operand), its contributions summed over the batch (`contrib`), which seed the
  once-per-run stage's backward pass.

Per run, before the steps: W and the coefficients of sparse sums are read from the once-per-run
values, and so is each sum's bias column. Buffers are kept for the last batch sizes seen, so a
training loop allocates nothing per step. The steps themselves are in `steps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from .ir import LEAF, Node, ProgramGraph
from .kernels import KERNELS
from .layout import NEVER, Block, assign_rows, selector
from .schedule import Group, Stage, bias_term, row_terms, split
from .steps import FORWARD, INPUTS, TRAIN, Buffers, DenseStep, OpStep, Rows, Seeds, SparseStep

_data = attrgetter("data")


@dataclass(slots=True)
class Context:
    """What a plan needs from outside its stage: rows of the once-per-run values and who learns."""

    u_row: dict[Node, int]     # the row of each once-per-run node (and the constants below)
    learned: set[Node]         # uniform nodes computed from parameters
    one: int                   # rows holding 1.0, +0.0 and -0.0
    zero: int
    neg_zero: int


class Plan:
    """One stage run one way: the rows of V and G, the steps, and what is read per run."""

    def __init__(self, stage: Stage, mode: str, ctx: Context, output: Node | None,
                 fixed: dict[Node, int] | None = None):
        self.stage, self.mode = stage, mode
        self.output = output
        groups = stage.groups
        self.needs = self._needs(stage, mode, ctx)
        wants_grad = [mode != FORWARD and any(n in self.needs for n in g.nodes) for g in groups]
        self.row = fixed if fixed is not None else self._value_rows(stage, ctx, wants_grad)
        self.v_rows = max(self.row.values(), default=-1) + 1
        self._coefficients(stage, ctx)
        self.steps = [self._step(g, ctx) for g in groups]
        self.w_positions = np.array(self.w_positions, dtype=np.intp)
        self.g_rows = 0
        self.seed_zero: list = []
        self.contrib_rows = list(self.coef_rows)
        self.contrib_signs = list(self.coef_signs)
        if mode != FORWARD:
            self.grow = (fixed if fixed is not None
                         else self._gradient_rows(stage, ctx, wants_grad))
            self.g_rows = max(self.grow.values(), default=-1) + 1
            self._deliveries(stage, ctx, wants_grad, seeded_whole=fixed is not None)
        self.contrib_rows = np.array(self.contrib_rows, dtype=np.intp)
        self.contrib_signs = np.array(self.contrib_signs, dtype=float)
        self.backward_steps = [s for s, w in zip(reversed(self.steps), reversed(wants_grad)) if w]
        self.scratch_rows = max([s.scratch_end for s in self.steps], default=0)
        ops = [s for s in self.steps if isinstance(s, OpStep) and self.mode != FORWARD]
        temporaries = [(s.n, KERNELS[s.op.name].temporaries) for s in ops if s.op.name in KERNELS]
        self.tmp_rows = max([n for n, used in temporaries if "tmp" in used], default=0)
        self.mask_rows = max([n for n, used in temporaries if "mask" in used], default=0)
        self._buffers: dict[int, Buffers] = {}

    # -- which nodes carry a gradient, which rows they get -----------------------------------------
    @staticmethod
    def _needs(stage: Stage, mode: str, ctx: Context) -> set[Node]:
        if mode == TRAIN:
            needs = {n for n in stage.sources if n.is_parameter} | (stage.outside & ctx.learned)
        elif mode == INPUTS:
            needs = set(stage.sources)
        else:
            return set()
        for node in stage.nodes:
            if any(p in needs for p in node.reads()):
                needs.add(node)
        return needs

    def _backward_reads(self, group: Group, ctx: Context) -> list[Node]:
        """The nodes of this stage a group's backward step reads (besides gradients)."""
        if group.kind == "op":
            kernel = KERNELS.get(group.op.name)
            reads = list(group.nodes)   # y
            if kernel is None or kernel.backward is None or kernel.reads_inputs:
                reads += [a for n in group.nodes for a in n.args]
            return reads
        if self._learns_coefficients(group, ctx):
            return [t.x for n in group.nodes for t in row_terms(n, self.stage.outside)]
        return []

    def _learns_coefficients(self, group: Group, ctx: Context) -> bool:
        return self.mode == TRAIN and any(
            t.coef in ctx.learned for n in group.nodes for t in row_terms(n, self.stage.outside))

    def _value_rows(self, stage: Stage, ctx: Context, wants_grad: list[bool]) -> dict[Node, int]:
        """Rows of V: sources first, then each group's block, reused when dead (see assign_rows)."""
        groups = stage.groups
        last: dict[Node, float] = {}
        for step, grp in enumerate(groups):
            for node in grp.nodes:
                for parent in node.reads():
                    last[parent] = step
        kept = {self.output}
        for grp, wants in zip(groups, wants_grad):
            if wants:
                kept.update(self._backward_reads(grp, ctx))
        members = [stage.sources] + [g.nodes for g in groups]
        blocks = []
        for born, nodes in enumerate(members, start=-1):
            dies = NEVER if any(n in kept for n in nodes) else max(
                (last.get(n, born) for n in nodes), default=born)
            blocks.append(Block(len(nodes), born, dies))
        block_of = {n: i for i, nodes in enumerate(members) for n in nodes}
        for i, grp in enumerate(groups, start=1):
            if grp.kind == "op" and len(grp.op.inputs) == 1:
                parents = [n.args[0] for n in grp.nodes]
                j = block_of.get(parents[0])
                if (j is not None and j != 0 and members[j] == parents
                        and blocks[j].dies == i - 1):
                    blocks[i].over = j   # e.g. relu over the sums it reads: nothing else reads them
        starts, _ = assign_rows(blocks)
        return {n: starts[i] + k for i, nodes in enumerate(members) for k, n in enumerate(nodes)}

    def _gradient_rows(self, stage: Stage, ctx: Context, wants_grad: list[bool]) -> dict[Node, int]:
        """Rows of G: each group's block from its first contribution to its own backward step."""
        groups = stage.groups
        members = [stage.sources] + [g.nodes for g in groups]
        block_of = {n: i for i, nodes in enumerate(members) for n in nodes}
        first: dict[int, int] = {block_of[self.output]: 0}
        step = 0
        for k in reversed(range(len(groups))):
            if not wants_grad[k]:
                continue
            step += 1
            for parent in self._targets(groups[k]):
                if parent in self.needs and parent in block_of:
                    first.setdefault(block_of[parent], step)
        blocks, index = [], {}
        step = 0
        own_step = {}
        for k in reversed(range(len(groups))):
            if wants_grad[k]:
                step += 1
                own_step[k + 1] = step
        for i, nodes in enumerate(members):
            if i in first:
                dies = NEVER if i == 0 else own_step.get(i, first[i])
                index[i] = len(blocks)
                blocks.append(Block(len(nodes), first[i], dies))
        for i, grp in enumerate(groups, start=1):
            # a unary kernel may turn its own gradient rows into its input's, in place, when its
            # input is a whole block in order that nothing reached before this step
            if grp.kind != "op" or len(grp.op.inputs) != 1 or i not in index:
                continue
            kernel = KERNELS.get(grp.op.name)
            parents = [n.args[0] for n in grp.nodes]
            j = block_of.get(parents[0])
            if (kernel is not None and kernel.backward is not None and j not in (None, 0)
                    and j in index and members[j] == parents and first[j] == own_step[i]):
                blocks[index[j]].over = index[i]
        starts, _ = assign_rows(blocks)
        return {n: starts[index[i]] + k for i, nodes in enumerate(members) if i in index
                for k, n in enumerate(nodes)}

    def _targets(self, group: Group) -> list[Node]:
        """Every node of this stage a group's backward step sends a contribution to."""
        if group.kind == "op":
            return [a for n in group.nodes for a in n.args]
        return [t.x for n in group.nodes for t in row_terms(n, self.stage.outside)]

    # -- what is read per run: coefficients, W, biases ---------------------------------------------
    def _coefficients(self, stage: Stage, ctx: Context) -> None:
        """Lay out the per-run coefficient vector (dense groups' terms first) and bias column."""
        outside = stage.outside
        linear = [g for g in stage.groups if g.kind != "op"]
        self.coef_rows, self.coef_signs = [], []
        self.coef_at: dict[Group, slice] = {}
        for grp in sorted(linear, key=lambda g: g.kind != "dense"):
            start = len(self.coef_rows)
            for node in grp.nodes:
                for t in row_terms(node, outside):
                    self.coef_rows.append(ctx.one if t.coef is None else ctx.u_row[t.coef])
                    self.coef_signs.append(t.sign)
            self.coef_at[grp] = slice(start, len(self.coef_rows))
        self.n_dense = sum(self.coef_at[g].stop - self.coef_at[g].start
                           for g in linear if g.kind == "dense")
        self.bias_rows, starts = [], []
        self.bias_at: dict[Group, slice] = {}
        for grp in linear:
            first = len(self.bias_rows)
            for node in grp.nodes:
                bias = bias_term(node, outside)
                self.bias_rows.append(ctx.neg_zero if bias is None else ctx.u_row[bias.x])
                starts.append(0.0 if node.from_zero else -0.0)
            self.bias_at[grp] = slice(first, len(self.bias_rows))
        self.coef_rows = np.array(self.coef_rows, dtype=np.intp)
        self.coef_signs = np.array(self.coef_signs, dtype=float)
        self.bias_rows = np.array(self.bias_rows, dtype=np.intp)
        # -0.0 + c is c for every c, +0.0 + c turns a -0.0 into 0.0: a sum's own start
        self.bias_start = np.array(starts, dtype=float)[:, None]
        self.pure_any = any(s == -0.0 and np.signbit(s) for s in starts)
        self.w_positions: list[int] = []
        self.w_size = 0

    def _step(self, grp: Group, ctx: Context):
        rows = self.row
        out = selector([rows[n] for n in grp.nodes])
        assert isinstance(out, slice)
        scratch = 0
        if grp.kind == "op":
            operands = []
            for j in range(len(grp.nodes[0].args)):
                parents = [n.args[j] for n in grp.nodes]
                if parents[0] in self.stage.outside:
                    operands.append(("u", np.array([ctx.u_row[p] for p in parents], dtype=np.intp)))
                else:
                    operands.append(("v", selector([rows[p] for p in parents])))
            return OpStep(grp, out, operands, scratch)
        outside = self.stage.outside
        term_rows, starts = [], []
        for node in grp.nodes:
            starts.append(len(term_rows))
            term_rows += [rows[t.x] for t in row_terms(node, outside)]
        coef = self.coef_at[grp]
        unit = bool(np.all((self.coef_rows[coef] == ctx.one) & (self.coef_signs[coef] > 0)))
        sparse = SparseStep(grp, out, np.array(term_rows, dtype=np.intp),
                            np.array(starts, dtype=np.intp), coef, unit, self.bias_at[grp], scratch)
        if grp.kind == "sparse":
            return sparse
        columns = {}
        for c, x in enumerate(grp.columns):
            columns.setdefault(x, []).append(c)
        m = len(grp.columns)
        positions, term_column = [], []
        for i, node in enumerate(grp.nodes):
            seen: dict[Node, int] = {}
            for t in row_terms(node, outside):
                k = seen[t.x] = seen.get(t.x, -1) + 1
                column = columns[t.x][k]
                term_column.append(column)
                positions.append(self.w_size + i * m + column)
        sparse.term_column = np.array(term_column, dtype=np.intp)
        w = slice(self.w_size, self.w_size + len(grp.nodes) * m)
        self.w_size = w.stop
        self.w_positions += positions
        holes = len(positions) < len(grp.nodes) * m
        pure = any(not n.from_zero for n in grp.nodes)
        x = selector([rows[x] for x in grp.columns])
        return DenseStep(grp, out, x, w, (len(grp.nodes), m), self.bias_at[grp], holes, pure,
                         scratch, sparse)

    # -- where each contribution goes --------------------------------------------------------------
    def _deliveries(self, stage: Stage, ctx: Context, wants_grad: list[bool],
                    seeded_whole: bool) -> None:
        """Give each backward step its targets, writing first and adding after, and the rows to
        clear before it: a row that is first reached by an add, or that nothing reaches."""
        grow = self.grow
        touched: set[Node] = set(grow) if seeded_whole else {self.output}
        outside = stage.outside
        learned = ctx.learned if self.mode == TRAIN else set()

        def rows_to(parents: list[Node], step) -> Rows | None:
            picked = [i for i, p in enumerate(parents) if p in self.needs and p in grow]
            if not picked:
                return None
            targets = [parents[i] for i in picked]
            fresh = [p for p in targets if p not in touched]
            if len(set(targets)) < len(targets):
                mode = "add_at"
            elif len(fresh) == len(targets):
                mode = "write"
            else:
                mode = "add"
            if mode != "write" and fresh:
                step.zero.append(selector(sorted({grow[p] for p in fresh})))
            touched.update(targets)
            pick = None if len(picked) == len(parents) else np.array(picked, dtype=np.intp)
            return Rows(selector([grow[p] for p in targets]), mode, pick)

        def seeds_to(parents: list[Node]) -> Seeds | None:
            picked = [i for i, p in enumerate(parents) if p in learned]
            if not picked:
                return None
            start = len(self.contrib_rows)
            self.contrib_rows += [ctx.u_row[parents[i]] for i in picked]
            self.contrib_signs += [1.0] * len(picked)
            pick = None if len(picked) == len(parents) else np.array(picked, dtype=np.intp)
            return Seeds(start, len(picked), pick)

        for step, wants in zip(reversed(self.steps), reversed(wants_grad)):
            if not wants:
                continue
            nodes = step.group.nodes
            untouched = [n for n in nodes if n not in touched]
            if untouched:
                step.zero.append(selector(sorted(grow[n] for n in untouched)))
                touched.update(untouched)
            step.g = selector([grow[n] for n in nodes])
            if isinstance(step, OpStep):
                for j in range(len(step.operands)):
                    parents = [n.args[j] for n in nodes]
                    if parents[0] in outside:
                        step.to[j] = seeds_to(parents)
                    else:
                        step.to[j] = rows_to(parents, step)
                continue
            sparse = step if isinstance(step, SparseStep) else step.twin
            sparse.g = step.g
            sparse.term_g = np.array([grow[n] for n in nodes for _ in row_terms(n, outside)],
                                     dtype=np.intp)
            biases = [bias_term(n, outside) for n in nodes]
            if any(b is not None and b.x in learned for b in biases):
                step.to_bias = seeds_to([b.x if b is not None else None for b in biases])
            if isinstance(step, DenseStep):
                step.to_w = self._learns_coefficients(step.group, ctx)
                step.to_x = rows_to(step.group.columns, step)
            else:
                if self._learns_coefficients(step.group, ctx):
                    coef = self.coef_at[step.group]
                    step.to_coef = Seeds(coef.start, coef.stop - coef.start)
                step.to_x = rows_to([t.x for n in nodes for t in row_terms(n, outside)], step)
        untouched = [n for n in stage.sources if n in grow and n not in touched]
        if untouched:   # an input no contribution reaches has gradient 0
            self.seed_zero.append(selector(sorted(grow[n] for n in untouched)))

    # -- running -----------------------------------------------------------------------------------
    def buffers(self, width: int) -> Buffers:
        """This plan's arrays for a batch of `width`, kept for the next run of that width."""
        b = self._buffers.get(width)
        if b is None:
            if len(self._buffers) >= 2:   # a training loop's batch and its last, shorter one
                self._buffers.pop(next(iter(self._buffers)))
            b = self._buffers[width] = Buffers(self, width)
        return b

    def bytes_at(self, width: int) -> int:
        """Bytes of this plan's arrays for a batch of `width`, without making them."""
        rows = self.v_rows + self.g_rows + self.scratch_rows + self.tmp_rows
        small = 8 * (2 * self.w_size + len(self.coef_rows) + len(self.bias_rows)
                     + len(self.contrib_rows)) + len(self.bias_rows)
        return rows * width * 8 + self.mask_rows * width + small

    def prepare(self, b: Buffers) -> None:
        """Read this run's coefficients, W and biases from the once-per-run values."""
        U = b.U[:, 0]
        if len(self.coef_rows):
            np.take(U, self.coef_rows, out=b.coef)
            np.multiply(b.coef, self.coef_signs, out=b.coef)
            if self.w_size:
                b.W[self.w_positions] = b.coef[:self.n_dense]
        if len(self.bias_rows):
            np.take(U, self.bias_rows, out=b.C[:, 0])
            np.add(b.C, self.bias_start, out=b.C)
            if self.pure_any:
                np.equal(b.C, 0.0, out=b.neg_zero)
                np.logical_and(b.neg_zero, np.signbit(b.C), out=b.neg_zero)

    def forward(self, b: Buffers) -> None:
        with np.errstate(all="ignore"):  # inf and nan are results here, as in the scalar engine
            for step in self.steps:
                step.forward(b)

    def backward(self, b: Buffers) -> None:
        """The backward steps; G must hold the seeds (see `seed`)."""
        with np.errstate(all="ignore"):
            for step in self.backward_steps:
                step.backward(b)
            if self.w_size and self.mode == TRAIN:
                b.contrib[:self.n_dense] = b.dW[self.w_positions]


class Lowered:
    """A program graph after the passes, ready to run: its two stages and a plan per kind of run."""

    def __init__(self, graph: ProgramGraph):
        self.graph = graph
        self.once, self.each = split(graph)
        self.parameters = [n for n in self.once.sources if n.is_parameter]
        constants = [n for n in self.once.sources if not n.is_parameter]
        synthetic = [Node(LEAF, True, value=v) for v in (1.0, 0.0, -0.0)]
        self.once.sources = self.parameters + constants + synthetic
        row = {n: i for i, n in enumerate(self.once.sources)}
        for node in self.once.nodes:
            row[node] = len(row)
        learned = set(self.parameters)
        for node in self.once.nodes:
            if any(p in learned for p in node.reads()):
                learned.add(node)
        one, zero, neg_zero = (row[n] for n in synthetic)
        self.ctx = Context(row, learned, one, zero, neg_zero)
        self.constant_values = np.array([n.value for n in constants + synthetic], dtype=float)
        self._plans: dict[str, tuple[Plan, Plan]] = {}
        self._values = [p.source for p in self.parameters]

    def plans(self, mode: str) -> tuple[Plan, Plan]:
        """The once-per-run plan and the per-example plan of one kind of run."""
        if mode not in self._plans:
            once = Plan(self.once, TRAIN if mode == TRAIN else FORWARD, self.ctx, None,
                        fixed=self.ctx.u_row)
            each = Plan(self.each, mode, self.ctx, self.graph.output)
            self._plans[mode] = once, each
        return self._plans[mode]

    def bytes_at(self, mode: str, width: int) -> int:
        """Bytes of the arrays a run of this kind on `width` examples keeps."""
        once, each = self.plans(mode)
        return once.bytes_at(1) + each.bytes_at(width)

    def run(self, batch: np.ndarray, mode: str):
        """FORWARD: the outputs; INPUTS: ∂output/∂inputs per example; TRAIN: (outputs, totals),
        the parameters' gradients summed over the batch."""
        once, each = self.plans(mode)
        ob = once.buffers(1)
        n_params = len(self.parameters)
        ob.V[:n_params, 0] = np.fromiter(map(_data, self._values), float, n_params)
        ob.V[n_params:len(self.once.sources), 0] = self.constant_values
        ob.U = ob.V
        once.prepare(ob)
        once.forward(ob)
        eb = each.buffers(len(batch))
        eb.U = ob.V
        each.prepare(eb)
        np.copyto(eb.V[:len(self.each.sources)], batch.T)
        each.forward(eb)
        outputs = eb.V[each.row[self.graph.output]]
        if mode == FORWARD:
            return outputs.copy()
        G = eb.G
        for sel in each.seed_zero:
            G[sel] = 0.0
        G[each.grow[self.graph.output]] = 1.0
        each.backward(eb)
        if mode == INPUTS:
            rows = [each.grow[x] for x in self.each.sources]
            return G[rows].T + 0.0   # + 0.0: a gradient the scalar engine adds up from 0.0
        contrib = eb.contrib
        np.multiply(contrib, each.contrib_signs, out=contrib)
        ob.G[:, 0] = np.bincount(each.contrib_rows, weights=contrib, minlength=len(ob.G))
        once.backward(ob)
        return outputs, ob.G[:n_params, 0] + 0.0
