"""Tracing: a computation as plain data (a Wengert list), and the backward pass as a list of steps.

`trace(output)` gives a `Graph` whose listing reads like a jaxpr or Linnainmaa's evaluation trace;
`Graph.backward()` runs the ordinary backward sweep and returns what each step of it did, with the
numbers and formulas a hand derivation writes: the gradient arriving at a node, each local
derivative with its formula from the op table (∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602),
and each contribution added to a parent (`grad × local`, or what the row's vjp passes).

Every node has a name: its label when that is unique in the graph; else, for a node an op made, its
expression when that is short (`w3·i1`, `0.01 − out_o1`, `(0.01 − out_o1)²`: at most `NAME_LIMIT`
characters, and never a name already given or any label in the graph); else n<k>, k its position
among the graph's non-constant nodes. Constants are named by their value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from . import notation as _notation
from .arguments import describe
from .backward import backward as _backward
from .backward import topo_order
from .compile import Program
from .notation import Expr, Known, Name, Num, Printed, format_number, partial, render
from .value import Constant, Parameter, Value

NAME_LIMIT = 24         # characters: a longer expression names its node n<k> instead
HTML_ROWS = 500         # rows a notebook table shows; the rest are counted, not drawn


@dataclass(slots=True, eq=False)
class Term:
    """What one step passed to one parent: the contribution, the local derivative and its formula.

    The contribution is grad × local, except for a row with a vjp, which computes it otherwise
    (`autodiff.ops`): a closed relu passes exactly 0 even when grad is inf, and a quotient rule
    divides rather than multiply by a reciprocal that overflows.
    """

    parent: Value
    local: float            # ∂node/∂parent
    contribution: float     # what was added to the parent's gradient (see above)
    grad: float             # the gradient that arrived at the node
    node_name: str
    parent_name: str
    output_name: str
    # (graph, node, k): where the formulas are read from, the first time one is asked for
    _source: tuple | None = field(default=None, repr=False)

    @property
    def formula(self) -> str:
        """∂node/∂parent in node names, as the op table writes it: 'out_o1(1 − out_o1)'; '' if unknown."""
        return self._formulas()[0]

    @property
    def formula_numbers(self) -> str:
        """The formula with each node's value in place of its name: '0.75136507(1 − 0.75136507)'."""
        return self._formulas()[1]

    def _formulas(self) -> tuple[str, str]:
        if self._source is None:
            return ("", "")
        graph, node, k = self._source
        return graph._local_texts(node)[k]

    def derivative(self, fmt=format_number) -> str:
        """'∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602' (the formula left out when it is a number)."""
        head = partial(self.node_name, self.parent_name)
        formula, numbers = self._formulas()
        if not formula or formula == numbers:
            return f"{head} = {fmt(self.local)}"
        return f"{head} = {formula} = {fmt(self.local)}"

    def update(self, fmt=format_number) -> str:
        """'∂E/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562': the chain rule's step into the parent."""
        return (f"{partial(self.output_name, self.parent_name)} += {fmt(self.grad)} × {fmt(self.local)}"
                f" = {fmt(self.contribution)}")

    def __str__(self) -> str:
        return f"{self.derivative()}   {self.update()}"


@dataclass(slots=True, eq=False)
class Step:
    """One step of the backward pass: the gradient arriving at `node`, passed to its parents."""

    node: Value
    grad: float             # ∂output/∂node
    terms: tuple[Term, ...]
    node_name: str
    output_name: str
    _graph: Graph | None = field(default=None, repr=False)

    @property
    def definition(self) -> str:
        """How the node was computed, in its parents' names: 'σ(net_o1)'; '' if unknown."""
        return self._graph.definition(self.node) if self._graph is not None else ""

    def head(self, fmt=format_number) -> str:
        """'out_o1 = σ(net_o1): ∂E/∂out_o1 = 0.74136507'."""
        definition = self.definition
        made = self.node_name if definition in ("", self.node_name) else f"{self.node_name} = {definition}"
        return f"{made}: {partial(self.output_name, self.node_name)} = {fmt(self.grad)}"

    def __str__(self) -> str:
        lines = [self.head()]
        lines.extend(f"    {term}" for term in self.terms
                     # no gradient is meant for a number written in the expression
                     if not isinstance(term.parent, Constant))
        return "\n".join(lines)


def plain_text_view(self, printer, cycle: bool) -> None:
    """IPython's plain-text view, for front ends that show no HTML or LaTeX: what print() shows,
    not a dump of the record's fields."""
    printer.text(str(self))


class Steps(list):
    """The steps of a backward pass, a list that a notebook shows as a table with a formula column."""

    _repr_pretty_ = plain_text_view

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self)

    def _repr_html_(self) -> str:
        rows = []
        for k, step in enumerate(self, 1):
            terms = [t for t in step.terms if not isinstance(t.parent, Constant)] or [None]
            for term in terms:
                cells = [str(k), step.node_name, step.definition, format_number(step.grad)]
                if term is None:
                    cells += ["", "", "", ""]
                else:
                    cells += [partial(term.node_name, term.parent_name),
                              term.formula if term.formula != term.formula_numbers else "",
                              format_number(term.local), term.update()]
                rows.append(cells)
        output = self[0].output_name if self else ""
        headers = ["step", "node", "computed as", f"{partial(output, 'node')}", "local derivative",
                   "formula", "value", "chain rule"]
        return html_table(headers, rows, "rows of steps")


def html_table(headers: list[str], rows: list[list[str]], what: str) -> str:
    """A small HTML table, every cell escaped; past HTML_ROWS rows, one last row says how many more."""
    def row(cells, tag="td"):
        return "<tr>" + "".join(f"<{tag}>{escape(c)}</{tag}>" for c in cells) + "</tr>"
    body = [row(cells) for cells in rows[:HTML_ROWS]]
    if len(rows) > HTML_ROWS:
        body.append(f'<tr><td colspan="{len(headers)}">… {len(rows) - HTML_ROWS:,} more {escape(what)} '
                    f"not shown (print() lists them all)</td></tr>")
    return ('<table class="backprop-lens"><thead>' + row(headers, "th") + "</thead><tbody>"
            + "".join(body) + "</tbody></table>")


@dataclass(eq=False)
class Graph:
    """A traced computation: its nodes in topological order (output last) and their names.

    Names are given the first time one is asked for (see the module docstring), so tracing a large
    graph only to compile or walk it costs no naming.
    """

    output: Value
    nodes: list[Value]
    _names: dict[Value, str] | None = field(default=None, init=False, repr=False)
    _pieces: dict[Value, tuple] = field(default_factory=dict, init=False, repr=False)   # names, printed
    _by_expression: set[Value] = field(default_factory=set, init=False, repr=False)
    _shown: dict[Value, Expr] = field(default_factory=dict, init=False, repr=False)
    _texts: dict[Value, tuple] = field(default_factory=dict, init=False, repr=False)   # local formulas

    @property
    def names(self) -> dict[Value, str]:
        """Every node's name (constants named by their value)."""
        if self._names is None:
            self._names = self._give_names()
        return self._names

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
        """The node's name: its label when unique, else its expression when short, else n<index>."""
        return self.names[node]

    def ref(self, node: Value) -> str:
        """How the listing refers to a node: constants by their value, others by name."""
        if isinstance(node, Constant):
            return format_number(node.data)
        return self.names[node]

    def expression(self, node: Value) -> Expr:
        """The node as a formula refers to it: a constant as its number, any other node by its name
        (which, for a node named by its expression, prints as that expression: w3·i1)."""
        if isinstance(node, Constant):
            return Num(node.data)
        names = self.names
        if node not in self._by_expression:
            return Name(names[node])
        shown = self._shown.get(node)
        if shown is None:
            shown = _notation.definition(node._op, [self.expression(p) for p in node.parents])
            self._shown[node] = shown
        return Name(names[node], shown)

    def definition(self, node: Value) -> str:
        """How the node was computed, in its parents' names ('σ(net_o1)', 'w5·out_h1'); a leaf's value."""
        if node._op is None:
            return format_number(node.data)
        self.names  # noqa: B018 - gives the names, and with them the printed pieces
        if node in self._by_expression:
            return self._pieces[node][0]
        return _notation.definition_piece(node._op, [self._pieces[p] for p in node.parents])[0]

    def local_formula(self, node: Value, k: int, numbers: bool = False) -> Expr:
        """∂node/∂(parent k) as the op table writes it, in node names (or, with numbers, node values).

        >>> x = Value(0.5, label='x')
        >>> graph = trace(x.sigmoid())
        >>> render(graph.local_formula(graph.output, 0))
        'σ(x)(1 − σ(x))'
        """
        if numbers:
            y = Known(node.data)
            inputs = [Num(p.data) if isinstance(p, Constant) else Known(p.data) for p in node.parents]
        else:
            y, inputs = self.expression(node), [self.expression(p) for p in node.parents]
        return _notation.local_formula(node._op, k, y, inputs)

    def __str__(self) -> str:
        names = self.names
        lines = []
        width = max((len(names[n]) for n in self.nodes if not isinstance(n, Constant)), default=1)
        for node in self.nodes:
            if isinstance(node, Constant):
                continue
            name = names[node].ljust(width)
            if node._op is None:
                lines.append(f"{name} = {format_number(node.data)}")
                continue
            lines.append(f"{name} = {self._call(node):<28} # {format_number(node.data)}")
        return "\n".join(lines)

    def _call(self, node: Value) -> str:
        return f"{node._op.name}({', '.join(self.ref(p) for p in node.parents)})"

    _repr_pretty_ = plain_text_view

    def _repr_html_(self) -> str:
        names, rows = self.names, []
        for node in self.nodes:
            if isinstance(node, Constant):
                continue
            if node._op is None:
                made = "parameter" if isinstance(node, Parameter) else "input"
            else:
                made = self._call(node)
            rows.append([names[node], made, format_number(node.data)])
        return html_table(["name", "computed as", "value"], rows, "nodes")

    def _give_names(self) -> dict[Value, str]:
        label_count: dict[str, int] = {}
        for node in self.nodes:
            if node.label:
                label_count[node.label] = label_count.get(node.label, 0) + 1
        used = set(label_count)     # a generated name never repeats a label, even one used twice
        names: dict[Value, str] = {}
        pieces, by_expression = self._pieces, self._by_expression
        index = 0
        for node in self.nodes:
            if isinstance(node, Constant):
                names[node] = format_number(node.data)
                pieces[node] = _notation.number_piece(node.data)
                continue
            label = node.label
            if label and label_count[label] == 1:
                name = label
                pieces[node] = _notation.name_piece(name)
            else:
                name = None
                if node._op is not None:
                    inputs = [pieces[p] for p in node.parents]
                    # an expression is at least as long as its operands' names: checked before printing
                    if sum([len(p[0]) for p in inputs]) <= NAME_LIMIT:
                        printed = _notation.definition_piece(node._op, inputs)
                        if len(printed[0]) <= NAME_LIMIT and printed[0] not in used:
                            name = printed[0]
                            pieces[node] = printed
                            by_expression.add(node)
                if name is None:
                    name = f"n{index}"
                    while name in used:  # a user's label 'n3' keeps its name; the index gives way
                        name += "'"
                    pieces[node] = _notation.name_piece(name)
                used.add(name)
            names[node] = name
            index += 1
        return names

    def compile(self, inputs: list[Value], exact: bool = False) -> Program:
        """A `Program` that replays this graph on a batch; `inputs` are the leaves that vary per example.

        By default sums may add their terms in another order (neuron sums become matrix products):
        results agree with the scalar engine's to 1e-12 relative to the terms summed. `exact=True`
        keeps the scalar engine's order and gives its results bit for bit (see `Program`).

        >>> x, w = Value(1.0, label='x'), Value(2.0, label='w')
        >>> trace(w * x).compile(inputs=[x])([[1.0], [3.0]]).tolist()
        [2.0, 6.0]
        """
        return Program(self, inputs, exact=exact)

    def backward(self) -> Steps:
        """Run `output.backward()` over this graph and return each step of the sweep, in order.

        Leaf gradients accumulate exactly as with `output.backward()`. Each term can give the
        formula of its local derivative (`Term.formula`), printed the first time it is asked for.
        """
        steps: list[Step] = []
        out_name = self.names[self.output]

        def record(node: Value, partials, contributions) -> None:
            g = node.grad
            node_name = self.names[node]
            terms = tuple(
                Term(parent, float(local), contribution, g, node_name, self.names[parent], out_name)
                for parent, local, contribution in zip(node.parents, partials, contributions))
            steps.append(Step(node, g, terms, node_name, out_name))

        _backward(self.output, self.nodes, record)
        for step in steps:
            step._graph = self
            for k, term in enumerate(step.terms):
                term._source = (self, step.node, k)
        return Steps(steps)

    def _local_texts(self, node: Value) -> tuple[tuple[str, str], ...]:
        """(formula in names, formula in values) of ∂node/∂ each parent, printed once and kept."""
        texts = self._texts.get(node)
        if texts is None:
            self.names  # noqa: B018 - gives the names, and with them the printed pieces
            pieces, op = self._pieces, node._op
            # a printed piece puts each name in place without printing its expression again
            inputs = [Num(p.data) if isinstance(p, Constant) else Printed(pieces[p]) for p in node.parents]
            values = [Num(p.data) if isinstance(p, Constant) else Known(p.data) for p in node.parents]
            texts = tuple((render(formula), render(numbers)) for formula, numbers in zip(
                _notation.local_formulas(op, Printed(pieces[node]), inputs),
                _notation.local_formulas(op, Known(node.data), values)))
            self._texts[node] = texts
        return texts


def trace(output: Value) -> Graph:
    """The graph that computed `output`, as data: nodes, edges, leaves, names and a printable listing.

    >>> x = Value(2.0, label='x')
    >>> print(trace(x * x + 1))
    x       = 2
    x·x     = mul(x, x)                    # 4
    x·x + 1 = add(x·x, 1)                  # 5
    """
    if not isinstance(output, Value):
        raise TypeError(f"trace() needs a Value, got {describe(output)} as its output")
    return Graph(output, topo_order(output))
