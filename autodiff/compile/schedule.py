"""The schedule: a program graph split into what runs once per run and what runs per example, each
part in groups of nodes that one numpy call computes.

A node's level is one more than the deepest level among the nodes of its own part it reads, so the
nodes of one level never read each other. Nodes of one level that do the same thing form a group:
one op of the table with the same kinds of operands, or linear nodes. The number of groups grows
with the depth of the graph, not with its width.

A linear group is run either as one matrix product (`dense`: W @ X + c, W holding each node's
coefficients, zeros where a node has no term for a row) or term by term (`sparse`: the rows
gathered, scaled and summed per node). Dense pays for every entry of W, so it is chosen when the
group's terms fill enough of W, and never for a chain of binary `+` with nothing uniform in it,
whose sum must be -0.0 when every term is -0.0 (a matrix product gives 0.0 there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import Op
from .ir import INPUT, LEAF, LINEAR, Node, ProgramGraph, Term

# Dense costs one multiply-add per entry of W and sparse about eight per term (a gather, a scale
# and a reduction, each a pass over memory): dense wins once an eighth of W is filled.
DENSE_ENOUGH = 1 / 8


@dataclass(slots=True, eq=False)
class Group:
    """Nodes of one level computed by one call: an op of the table, or a dense or sparse sum."""

    kind: str                       # "op", "dense" or "sparse"
    level: int
    nodes: list[Node]
    op: Op | None = None
    columns: list[Node] = field(default_factory=list)   # dense: the row each column of W reads


@dataclass(slots=True, eq=False)
class Stage:
    """One part of the program: its sources (rows the caller fills) and its groups, in order."""

    sources: list[Node]
    groups: list[Group]
    outside: set[Node]              # nodes of the once-per-run part that this part reads

    @property
    def nodes(self) -> list[Node]:
        return [n for g in self.groups for n in g.nodes]


def row_terms(node: Node, outside: set[Node]) -> list[Term]:
    """The terms of a linear node that read a row of its own part (not a uniform value)."""
    return [t for t in node.terms if t.x not in outside]


def bias_term(node: Node, outside: set[Node]) -> Term | None:
    """The one term of a per-example linear node that is the same for every example, if any."""
    return next((t for t in node.terms if t.x in outside), None)


def split(graph: ProgramGraph) -> tuple[Stage, Stage]:
    """The once-per-run stage (parameters, constants in) and the per-example stage (inputs in)."""
    leaves = [n for n in graph.nodes if n.kind == LEAF]
    once_nodes = [n for n in graph.nodes if n.uniform and n.kind != LEAF]
    each_nodes = [n for n in graph.nodes if not n.uniform and n.kind != INPUT]
    once = Stage(leaves, group(once_nodes, leaves, set(), dense=False), set())
    outside = {p for n in each_nodes for p in n.reads() if p.uniform}
    each = Stage(list(graph.inputs), group(each_nodes, graph.inputs, outside, dense=True), outside)
    return once, each


def group(nodes: list[Node], sources: list[Node], outside: set[Node], dense: bool) -> list[Group]:
    """Nodes (topological order) in groups by level and by what they do, in an order that runs."""
    position = {n: i for i, n in enumerate(nodes)}
    level: dict[Node, int] = {}
    for node in nodes:
        level[node] = 1 + max((level[p] for p in node.reads() if p in level), default=0)

    def key(node: Node) -> tuple:
        if node.kind == LINEAR:
            exact_zero = not node.from_zero and bias_term(node, outside) is None
            return (level[node], "linear", exact_zero)
        kinds = tuple(a in outside for a in node.args)
        return (level[node], node.op.name, len(node.args), kinds)

    groups: list[Group] = []
    last_key = None
    for node in sorted(nodes, key=lambda n: (key(n), position[n])):
        k = key(node)
        if k == last_key:
            groups[-1].nodes.append(node)
        else:
            kind = "sparse" if node.kind == LINEAR else "op"
            groups.append(Group(kind, level[node], [node], node.op))
            last_key = k
    if dense:
        index = {n: (-1, i) for i, n in enumerate(sources)}
        index.update({n: (g, i) for g, grp in enumerate(groups) for i, n in enumerate(grp.nodes)})
        for grp in groups:
            if grp.kind == "sparse" and not key(grp.nodes[0])[2]:
                _maybe_dense(grp, outside, index)
    return groups


def _maybe_dense(grp: Group, outside: set[Node], index: dict) -> None:
    """Make a linear group dense when its terms fill enough of W; columns follow the rows' order."""
    columns: dict[tuple, Node] = {}
    nnz = 0
    for node in grp.nodes:
        seen: dict[Node, int] = {}
        for t in row_terms(node, outside):
            k = seen[t.x] = seen.get(t.x, -1) + 1   # a row read twice by one node: two columns
            columns.setdefault((*index[t.x], k), t.x)
            nnz += 1
    if nnz >= DENSE_ENOUGH * len(grp.nodes) * len(columns):
        grp.kind = "dense"
        grp.columns = [columns[k] for k in sorted(columns)]
