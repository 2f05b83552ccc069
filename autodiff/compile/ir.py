"""The program's own graph: the traced graph copied into nodes that the passes may rewrite.

A traced graph is made of `Value`s and is the reference: nothing here changes it. `from_traced`
copies it into `Node`s, one per traced node, each knowing whether it is the same for every
example (`uniform`: parameters, constants and what is computed from them alone) or varies per
example (the inputs and everything computed from them). The passes (`passes.py`) then rewrite
these nodes; every node keeps the traced `Value` it stands for (`source`), so a listing can name it.

Four kinds of nodes:
- INPUT: an input of the program, one column of the batch;
- LEAF: a parameter (read from its `.data` at every run) or a constant (`value` is fixed);
- OP: a row of the op table applied to `args`;
- LINEAR: Σ sign·coef·x over its `terms` (coef None stands for 1), made by the passes. A sum of the
  scalar engine (`Value.sum`) starts from +0.0; a chain of binary `+` does not, which only shows in
  the sign of a zero: -0.0 + -0.0 is -0.0, but 0.0 + -0.0 + -0.0 is 0.0. `from_zero` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..ops import Op
from ..value import Constant, Value

INPUT, LEAF, OP, LINEAR = "input", "leaf", "op", "linear"


@dataclass(slots=True, eq=False)
class Term:
    """sign · coef · x, one term of a LINEAR node; coef None stands for 1."""

    x: Node
    coef: Node | None
    sign: float


@dataclass(slots=True, eq=False)
class Node:
    """One node of the program's graph (see the module docstring for the kinds)."""

    kind: str
    uniform: bool                  # the same for every example: computed once per run
    op: Op | None = None           # OP: the op table's row
    args: tuple = ()               # OP: its inputs, in the row's order
    terms: tuple = ()              # LINEAR: its terms
    from_zero: bool = False        # LINEAR: the sum starts from +0.0, as Value.sum does
    source: Value | None = None    # the traced node this one computes; None if a pass made it
    value: float | None = None     # LEAF: a constant's number (None for a parameter, read at run)

    def reads(self) -> list[Node]:
        """The nodes this one reads: an op's args, or each term's x and coef."""
        if self.kind == LINEAR:
            out = []
            for t in self.terms:
                out.append(t.x)
                if t.coef is not None:
                    out.append(t.coef)
            return out
        return list(self.args)

    @property
    def is_parameter(self) -> bool:
        return self.kind == LEAF and self.value is None


@dataclass(slots=True, eq=False)
class ProgramGraph:
    """Nodes in topological order (output last among what it needs), the inputs, what passes did."""

    nodes: list[Node]
    output: Node
    inputs: list[Node]
    notes: list[str] = field(default_factory=list)   # one line per pass that changed something

    def copy(self) -> ProgramGraph:
        """A deep copy: new nodes and terms, the same sources, so a pass can rewrite it freely."""
        new: dict[Node, Node] = {}
        for node in self.nodes:
            terms = tuple(Term(new[t.x], None if t.coef is None else new[t.coef], t.sign)
                          for t in node.terms)
            new[node] = Node(node.kind, node.uniform, node.op, tuple(new[a] for a in node.args),
                             terms, node.from_zero, node.source, node.value)
        return ProgramGraph([new[n] for n in self.nodes], new[self.output],
                            [new[x] for x in self.inputs], list(self.notes))

    def uses(self) -> dict[Node, int]:
        """How many times each node is read (the output counts as read once more)."""
        count = dict.fromkeys(self.nodes, 0)
        for node in self.nodes:
            for parent in node.reads():
                count[parent] += 1
        count[self.output] += 1
        return count

    def keep_reachable(self) -> None:
        """Drop the nodes the output no longer reads (what a pass folded into another node)."""
        needed = {self.output}
        for node in reversed(self.nodes):
            if node in needed:
                needed.update(node.reads())
        self.nodes = [n for n in self.nodes if n in needed]


def from_traced(nodes: Sequence[Value], output: Value, inputs: Sequence[Value]) -> ProgramGraph:
    """The traced nodes (topological order) as a program graph; `inputs` vary per example."""
    input_set = set(inputs)
    new: dict[Value, Node] = {}
    for v in nodes:
        if v in input_set:
            new[v] = Node(INPUT, False, source=v)
        elif v._op is None:
            new[v] = Node(LEAF, True, source=v, value=v.data if isinstance(v, Constant) else None)
        else:
            args = tuple(new[p] for p in v.parents)
            new[v] = Node(OP, all(a.uniform for a in args), v._op, args, source=v)
    return ProgramGraph([new[v] for v in nodes], new[output], [new[x] for x in inputs])
