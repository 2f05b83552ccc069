"""The steps of a lowered run: one per group, each knowing which rows it reads and writes.

An `OpStep` runs one op of the table over a block of rows (its kernel in place where it has one,
else its row); a `DenseStep` runs a group of sums as W @ X + c; a `SparseStep` runs them term by
term. Backward, each step reads its gradient rows and sends each contribution where the plan
says (`Rows` of G, written or added; or `Seeds`, summed over the batch for the once-per-run
stage). `Buffers` holds the arrays one plan runs on at one batch width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .kernels import KERNELS
from .schedule import Group

if TYPE_CHECKING:
    from .lowered import Plan

FORWARD, TRAIN, INPUTS = "forward", "train", "inputs"   # the kinds of run (see lowered.Plan)
# numpy's power takes a shortcut when it sees one exponent for a whole row, even a broadcast one
# (sqrt for 0.5), and the shortcut differs from C's pow: (-inf) ** 0.5 is nan, not inf, and
# (-0.0) ** 0.5 is -0.0. These rows get their uniform operands as full rows.
FULL_ROWS = {"pow", "pow_const", "rpow_const"}


@dataclass(slots=True)
class Rows:
    """Where contributions go in G: rows `sel`, written or added, from contribution rows `pick`."""

    sel: slice | np.ndarray
    mode: str                        # "write", "add", or "add_at" (some row appears twice)
    pick: np.ndarray | None = None   # which contribution rows, in order (None: all)

    @property
    def direct(self) -> bool:
        """True when a contribution can be computed straight into G (one slice, written whole)."""
        return self.mode == "write" and self.pick is None and isinstance(self.sel, slice)


@dataclass(slots=True)
class Seeds:
    """Contributions to uniform nodes, each summed over the batch into contrib[start:start + n]."""

    start: int
    n: int
    pick: np.ndarray | None = None


def _deliver(G: np.ndarray, to: Rows, c: np.ndarray) -> None:
    if to.pick is not None:
        c = c[to.pick]
    if to.mode == "write":
        G[to.sel] = c
    elif to.mode == "add_at":
        np.add.at(G, to.sel, c)
    elif isinstance(to.sel, slice):
        view = G[to.sel]
        np.add(view, c, out=view)
    else:
        G[to.sel] += c


def _seed(contrib: np.ndarray, to: Seeds, c: np.ndarray) -> None:
    if to.pick is not None:
        c = c[to.pick]
    np.add.reduce(c, axis=1, out=contrib[to.start:to.start + to.n])


def _send(b: Buffers, to, c) -> None:
    if isinstance(to, Rows):
        _deliver(b.G, to, c)
    else:
        _seed(b.contrib, to, c)


class Buffers:
    """The arrays one plan runs on at one batch width (see `Plan` for what each holds)."""

    def __init__(self, plan: Plan, width: int):
        self.width = width
        self.V = np.empty((plan.v_rows, width))
        self.G = np.empty((plan.g_rows, width)) if plan.mode != FORWARD else None
        self.scratch = np.empty((plan.scratch_rows, width))
        self.tmp = np.empty((plan.tmp_rows, width))
        self.mask = np.empty((plan.mask_rows, width), dtype=bool)
        self.W = np.zeros(plan.w_size)
        self.dW = np.zeros(plan.w_size)
        self.coef = np.empty(len(plan.coef_rows))
        self.C = np.empty((len(plan.bias_rows), 1))
        self.neg_zero = np.zeros((len(plan.bias_rows), 1), dtype=bool)
        self.contrib = np.zeros(len(plan.contrib_rows))
        self.U: np.ndarray | None = None   # the once-per-run values, one column

    @property
    def nbytes(self) -> int:
        arrays = (self.V, self.G, self.scratch, self.tmp, self.mask, self.W, self.dW, self.coef,
                  self.C, self.neg_zero, self.contrib)
        return sum(a.nbytes for a in arrays if a is not None)


# -- steps: one per group, each with what it reads and writes in this plan -------------------------

class OpStep:
    """A group of one op of the table: one elementwise call forward, one per input backward."""

    __slots__ = ("group", "op", "kernel", "n", "out", "operands", "full", "gather_at", "c_at", "g",
                 "zero", "to")

    def __init__(self, group: Group, out: slice, operands: list, scratch: int):
        self.group, self.op = group, group.op
        self.kernel = KERNELS.get(self.op.name)
        self.n = len(group.nodes)
        self.out = out
        self.operands = operands           # per input: ("v", V selector) or ("u", rows of U)
        self.full = self.op.name in FULL_ROWS
        starts, at = [], scratch
        for kind, sel in operands:
            starts.append(at)
            if (kind == "v" and not isinstance(sel, slice)) or (kind == "u" and self.full):
                at += len(sel)
        self.gather_at = starts            # first scratch row of each gathered operand
        self.c_at = at                     # first scratch row of a contribution kept aside
        self.g: slice | None = None        # this group's rows of G
        self.zero: list = []               # G rows to clear before this backward step
        self.to: list = [None] * len(operands)   # per input: Rows, Seeds or None

    @property
    def scratch_end(self) -> int:
        kernel = self.kernel is not None and self.kernel.backward is not None
        staged = kernel and any(to is not None and not (isinstance(to, Rows) and to.direct)
                                for to in self.to)
        return self.c_at + (self.n if staged else 0)

    @property
    def reads_inputs(self) -> bool:
        """Whether this op's backward reads its inputs (else y and g are enough)."""
        k = self.kernel
        return k is None or k.backward is None or k.reads_inputs

    def inputs(self, b: Buffers) -> list:
        ins = []
        for (kind, sel), at in zip(self.operands, self.gather_at):
            if kind == "u":
                if self.full:
                    column = b.scratch[at:at + len(sel)]
                    np.copyto(column, b.U[sel])
                    ins.append(column)
                else:
                    ins.append(b.U[sel])
            elif isinstance(sel, slice):
                ins.append(b.V[sel])
            else:
                ins.append(np.take(b.V, sel, axis=0, out=b.scratch[at:at + len(sel)], mode="clip"))
        return ins

    def forward(self, b: Buffers) -> None:
        ins = self.inputs(b)
        out = b.V[self.out]
        k = self.kernel
        if k is not None and k.forward is not None:
            k.forward(out, *ins)
        else:
            np.copyto(out, self.op.batched(*ins))

    def backward(self, b: Buffers) -> None:
        G = b.G
        for sel in self.zero:
            G[sel] = 0.0
        g = G[self.g]
        y = b.V[self.out]
        ins = self.inputs(b) if self.reads_inputs else [None] * len(self.operands)
        k = self.kernel
        if k is not None and k.backward is not None:
            n = self.n
            for j, to in enumerate(self.to):
                if to is None:
                    continue
                direct = isinstance(to, Rows) and to.direct
                if direct:
                    out = g if to.sel == self.g else G[to.sel]
                else:
                    out = b.scratch[self.c_at:self.c_at + n]
                k.backward(j, out, g, y, ins, b.tmp[:n], b.mask[:n])
                if not direct:
                    _send(b, to, out)
            return
        op = self.op
        parts = op.vjp(g, y, *ins) if op.vjp is not None else [g * d for d in op.local(y, *ins)]
        for to, c in zip(self.to, parts):
            if to is not None:
                _send(b, to, np.broadcast_to(c, g.shape))


class SparseStep:
    """A linear group term by term: the terms' rows gathered, scaled, summed per node, plus c."""

    __slots__ = ("group", "n", "out", "term_rows", "starts", "coef", "unit", "bias", "nnz", "at",
                 "stand_in", "g", "zero", "term_g", "term_column", "to_x", "to_coef",
                 "to_bias")

    def __init__(self, group: Group, out: slice, term_rows: np.ndarray, starts: np.ndarray,
                 coef: slice, unit: bool, bias: slice, scratch: int):
        self.group = group
        self.n = len(group.nodes)
        self.out = out
        self.term_rows = term_rows         # the V row each term reads, node after node
        self.starts = starts               # each node's first term
        self.coef = coef                   # this group's terms in the per-run coefficients
        self.unit = unit                   # every coefficient is +1: nothing to scale
        self.bias = bias                   # this group's nodes in the per-run bias column
        self.nnz = len(term_rows)
        self.at = scratch
        self.stand_in = False              # for a dense group, in rare cases: fresh arrays
        self.g: slice | None = None
        self.zero: list = []
        self.term_g: np.ndarray | None = None   # the G row of each term's node
        self.term_column: np.ndarray | None = None   # as a dense twin: each term's column of W
        self.to_x: Rows | None = None
        self.to_coef: Seeds | None = None
        self.to_bias: Seeds | None = None

    @property
    def scratch_end(self) -> int:
        return self.at + (0 if self.stand_in else 2 * self.nnz)

    def terms(self, b: Buffers, source: np.ndarray, rows: np.ndarray, second: bool = False):
        if self.stand_in:
            return source[rows]
        at = self.at + (self.nnz if second else 0)
        return np.take(source, rows, axis=0, out=b.scratch[at:at + self.nnz], mode="clip")

    def forward(self, b: Buffers) -> None:
        T = self.terms(b, b.V, self.term_rows)
        if not self.unit:
            np.multiply(T, b.coef[self.coef, None], out=T)
        out = b.V[self.out]
        np.add.reduceat(T, self.starts, axis=0, out=out)
        np.add(out, b.C[self.bias], out=out)

    def backward(self, b: Buffers) -> None:
        G = b.G
        for sel in self.zero:
            G[sel] = 0.0
        if self.to_bias is not None:
            _seed(b.contrib, self.to_bias, G[self.g])
        if self.to_coef is None and self.to_x is None:
            return
        Gt = self.terms(b, G, self.term_g)
        if self.to_coef is not None:
            X = self.terms(b, b.V, self.term_rows, second=True)
            start = self.to_coef.start
            np.einsum("tb,tb->t", Gt, X, out=b.contrib[start:start + self.nnz])
        if self.to_x is not None:
            if not self.unit:
                np.multiply(Gt, b.coef[self.coef, None], out=Gt)
            _deliver(G, self.to_x, Gt)

    def columns_backward(self, b: Buffers, out: np.ndarray) -> None:
        """∂/∂X of the dense twin, term by term: no 0·inf from the entries no term fills."""
        Gt = self.terms(b, b.G, self.term_g)
        np.multiply(Gt, b.coef[self.coef, None], out=Gt)
        out[...] = 0.0
        np.add.at(out, self.term_column, Gt)


class DenseStep:
    """A linear group as one matrix product W @ X + c, W filled from the once-per-run values."""

    __slots__ = ("group", "n", "out", "x", "w", "shape", "bias", "holes", "pure", "at", "dx_at",
                 "twin", "g", "zero", "to_x", "to_w", "to_bias")

    def __init__(self, group: Group, out: slice, x: slice | np.ndarray, w: slice, shape: tuple,
                 bias: slice, holes: bool, pure: bool, scratch: int, twin: SparseStep):
        self.group = group
        self.n = len(group.nodes)
        self.out = out
        self.x = x
        self.w, self.shape = w, shape
        self.bias = bias
        self.holes = holes     # W has entries no term fills, where 0·inf would make a nan
        self.pure = pure       # some node is a chain of + whose sum of -0.0s must stay -0.0
        self.at = scratch
        self.dx_at = scratch + (0 if isinstance(x, slice) else len(x))
        self.twin = twin       # the same group term by term, for those two cases
        twin.stand_in = True
        self.g: slice | None = None
        self.zero: list = []
        self.to_x: Rows | None = None
        self.to_w = False      # this group's dW goes back to its coefficients
        self.to_bias: Seeds | None = None

    @property
    def scratch_end(self) -> int:
        staged = self.to_x is not None and not self.to_x.direct
        return self.dx_at + (self.shape[1] if staged else 0)

    def X(self, b: Buffers) -> np.ndarray:
        if isinstance(self.x, slice):
            return b.V[self.x]
        return np.take(b.V, self.x, axis=0, out=b.scratch[self.at:self.at + len(self.x)],
                       mode="clip")

    def forward(self, b: Buffers) -> None:
        out = b.V[self.out]
        np.matmul(b.W[self.w].reshape(self.shape), self.X(b), out=out)
        np.add(out, b.C[self.bias], out=out)
        if (self.holes and np.isnan(out.sum())) or (self.pure and b.neg_zero[self.bias].any()):
            self.twin.forward(b)

    def backward(self, b: Buffers) -> None:
        G = b.G
        for sel in self.zero:
            G[sel] = 0.0
        g = G[self.g]
        if self.to_bias is not None:
            _seed(b.contrib, self.to_bias, g)
        if self.to_w:
            np.matmul(g, self.X(b).T, out=b.dW[self.w].reshape(self.shape))
        to = self.to_x
        if to is not None:
            out = G[to.sel] if to.direct else b.scratch[self.dx_at:self.dx_at + self.shape[1]]
            np.matmul(b.W[self.w].reshape(self.shape).T, g, out=out)
            if self.holes and np.isnan(out.sum()):
                self.twin.columns_backward(b, out)
            if not to.direct:
                _deliver(G, to, out)
