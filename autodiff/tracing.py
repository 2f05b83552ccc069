"""Tracing: a computation as plain data (a Wengert list), and the backward pass as a list of steps.

`trace(output)` gives a `Graph` whose listing reads like a jaxpr or Linnainmaa's evaluation trace;
`Graph.backward()` runs the ordinary backward sweep and returns what each step of it did, with the
numbers a hand derivation writes: the gradient arriving at a node, each local derivative, and each
contribution `grad × local` added to a parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backward import backward as _backward
from .backward import topo_order
from .compile import Program
from .value import Constant, Value


def format_number(x: float, digits: int = 9) -> str:
    """A number as the lecture prints it: `digits` decimals, trailing zeros dropped.

    A nonzero number too small for that many decimals keeps `digits` significant digits instead,
    so a gradient of 1e-5 never shows as 0.

    >>> format_number(0.7413650695523157), format_number(0.4), format_number(-1.5e-12)
    ('0.74136507', '0.4', '-1.5e-12')
    """
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return repr(x)
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0") and x != 0.0:
        return f"{x:.{digits}g}"
    return "0" if text == "-0" else text


@dataclass(slots=True, eq=False)
class Term:
    """What one step passed to one parent: contribution = grad × local."""

    parent: Value
    local: float            # ∂node/∂parent
    contribution: float     # grad × local, added to the parent's gradient
    grad: float             # the gradient that arrived at the node
    node_name: str
    parent_name: str
    output_name: str

    def __str__(self) -> str:
        f = format_number
        return (f"∂{self.output_name}/∂{self.parent_name} += {f(self.grad)} × {f(self.local)}"
                f" = {f(self.contribution)}")


@dataclass(slots=True, eq=False)
class Step:
    """One step of the backward pass: the gradient arriving at `node`, passed to its parents."""

    node: Value
    grad: float             # ∂output/∂node
    terms: tuple[Term, ...]
    node_name: str
    output_name: str

    def __str__(self) -> str:
        symbol = self.node._op.symbol
        operands = ", ".join(term.parent_name for term in self.terms)
        head = (f"{self.node_name} = {self.node._op.name}({operands}): "
                f"∂{self.output_name}/∂{self.node_name} = {format_number(self.grad)}")
        lines = [head]
        for term in self.terms:
            if isinstance(term.parent, Constant):
                continue  # no gradient is meant for a number written in the expression
            lines.append(f"    ∂{self.node_name}/∂{term.parent_name} = {format_number(term.local)}"
                         f"  [{symbol}]   {term}")
        return "\n".join(lines)


@dataclass(eq=False)
class Graph:
    """A traced computation: its nodes in topological order (output last) and their names."""

    output: Value
    nodes: list[Value]
    names: dict[Value, str] = field(repr=False)

    @property
    def edges(self) -> list[tuple[Value, Value]]:
        """(parent, child) pairs, in the order of the listing."""
        return [(p, node) for node in self.nodes for p in node.parents]

    @property
    def leaves(self) -> list[Value]:
        """The nodes no op made (inputs, parameters, constants), in topological order."""
        return [node for node in self.nodes if node._op is None]

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def name(self, node: Value) -> str:
        """The node's name in the listing: its label when unique, else n<index>."""
        return self.names[node]

    def ref(self, node: Value) -> str:
        """How the listing refers to a node: constants by their value, others by name."""
        if isinstance(node, Constant):
            return format_number(node.data)
        return self.names[node]

    def __str__(self) -> str:
        lines = []
        width = max((len(self.names[n]) for n in self.nodes if not isinstance(n, Constant)),
                    default=1)
        for node in self.nodes:
            if isinstance(node, Constant):
                continue
            name = self.names[node].ljust(width)
            if node._op is None:
                lines.append(f"{name} = {format_number(node.data)}")
                continue
            rhs = f"{node._op.name} {' '.join(self.ref(p) for p in node.parents)}"
            lines.append(f"{name} = {rhs:<28} # {format_number(node.data)}")
        return "\n".join(lines)

    def compile(self, inputs: list[Value]) -> Program:
        """A `Program` that replays this graph on a batch; `inputs` are the leaves that vary per example.

        >>> x, w = Value(1.0, label='x'), Value(2.0, label='w')
        >>> trace(w * x).compile(inputs=[x])([[1.0], [3.0]]).tolist()
        [2.0, 6.0]
        """
        return Program(self, inputs)

    def backward(self) -> list[Step]:
        """Run `output.backward()` over this graph and return each step of the sweep, in order.

        Leaf gradients accumulate exactly as with `output.backward()`.
        """
        steps: list[Step] = []
        out_name = self.names[self.output]

        def record(node: Value, partials) -> None:
            g = node.grad
            node_name = self.names[node]
            terms = tuple(
                Term(parent, float(local), g * local, g, node_name, self.names[parent], out_name)
                for parent, local in zip(node.parents, partials))
            steps.append(Step(node, g, terms, node_name, out_name))

        _backward(self.output, self.nodes, record)
        return steps


def trace(output: Value) -> Graph:
    """The graph that computed `output`, as data: nodes, edges, leaves and a printable listing.

    >>> x = Value(2.0, label='x')
    >>> print(trace(x * x + 1))
    x  = 2
    n1 = mul x x                      # 4
    n2 = add n1 1                     # 5
    """
    if not isinstance(output, Value):
        raise TypeError(f"trace() needs a Value, got {type(output).__name__} {output!r}")
    nodes = topo_order(output)
    label_count: dict[str, int] = {}
    for node in nodes:
        if node.label:
            label_count[node.label] = label_count.get(node.label, 0) + 1
    taken = {label for label, count in label_count.items() if count == 1}
    names = {}
    index = 0
    for node in nodes:
        if isinstance(node, Constant):
            names[node] = format_number(node.data)
            continue
        if node.label in taken:
            names[node] = node.label
        else:
            name = f"n{index}"
            while name in taken:  # a user's label 'n3' keeps its name; the index gives way
                name += "'"
            names[node] = name
        index += 1
    return Graph(output, nodes, names)
