"""explain(output, wrt): ∂output/∂wrt derived the way a lecture writes it, by name, formula and number.

The lecture derives ∂E/∂w5 as ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5 = −(0.01 − out_o1) ·
out_o1(1 − out_o1) · out_h1 = 0.74136507 × 0.186815602 × 0.593269992 = 0.082167041: a chain between
the nodes it has *named*, each link with its formula and its number. `explain` builds that from the
graph:

- The links join labelled nodes (and the output and `wrt`). Nodes without a label fold into the link
  around them, their local derivatives multiplied (and summed over the ways through them) into one
  formula in the labelled nodes: ½(0.01 − out_o1)², its square and its subtraction make the link
  ∂E_o1/∂out_o1 = −(0.01 − out_o1). An unlabelled node used by two or more nodes on the way to the
  output is kept as a link's end under its graph name, so paths that join there are summed there.
- Where every path from `wrt` to the output passes through the same named nodes, the derivative is
  a `Chain` of the parts between them. Where paths split, it is a `Sum` with one term per node just
  below the top (∂E/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1), each term derived in turn.
- Every quantity carries its number, and with sympy installed (the `extras`) its formula: composed
  from the op table's formulas, and also simplified by sympy where that is much shorter, so the
  cross-entropy neuron's −(t/y − (1 − t)/(1 − y))·y(1 − y)·x1 also reads (y − t)x1.
- Large graphs never hang: paths are counted by dynamic programming, never listed; at most `limit`
  terms of a sum and `limit` parts of a chain are derived further (the rest are given by their
  numbers), at most 8 × `limit` quantities in all, and sympy only sees formulas of bounded size.

The total is computed from the derivation's own numbers, as a hand derivation would; it equals the
backward pass's gradient up to rounding (the two add and multiply in different orders) wherever
every local derivative is finite. Where one is infinite, its product with a 0 reads nan here, while
the backward pass may give 0 or inf: its relu, step and quotient rules pass a gradient on without
multiplying by the local derivative (`autodiff.ops`, vjp).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

from .arguments import check_bool, check_count, describe
from .notation import (Add, Expr, Factors, Mul, Name, Num, definition, format_number, from_sympy,
                       local_formulas, partial, render, size, sympy_available, tidy, to_sympy)
from .tracing import Graph, plain_text_view, trace
from .value import Constant, Value

SYMPY_NOTE = ("(formulas need sympy: pip install sympy, or install this project with its extras: "
              "pip install 'backprop-lens[extras]')")
EXPAND_SIZE = 40        # nodes of the tree an unlabelled node is written as; past it, its name
FORMULA_SIZE = 400      # nodes of a formula tree past which it is not written out
SIMPLIFY_OPS = 80       # sympy operations past which a formula is not simplified
SHORTER = 1 / 2         # sympy's form is shown too when it is at most this fraction of the length
LINE_WIDTH = 160        # characters of formula a printed line shows before it says "…"
_LATER = object()       # a link's formula, not built yet


@dataclass(frozen=True, slots=True, eq=False)
class Quantity:
    """One ∂top/∂bottom of a derivation: its name, its number and (with sympy) its formula."""

    top: Value
    bottom: Value
    name: str                       # '∂out_o1/∂net_o1'
    value: float
    formula: str | None             # in the labelled nodes: 'out_o1(1 − out_o1)'; None without sympy
    simplified: str | None          # sympy's form, when much shorter than `formula`; else None
    expression: object | None = field(repr=False)   # the formula as a sympy expression
    tree: Expr | None = field(repr=False)           # the formula as printed (its shorter form)


@dataclass(frozen=True, slots=True, eq=False)
class Link(Quantity):
    """∂top/∂bottom across one link: two named nodes with only unlabelled ones (`through`) between."""

    through: tuple[Value, ...] = ()   # the unlabelled nodes folded into it, nearest the top first


@dataclass(frozen=True, slots=True, eq=False)
class Chain(Quantity):
    """∂top/∂bottom as a product: every path from bottom to top passes through each part's ends."""

    parts: tuple[Quantity, ...] = ()   # top first, as the lecture multiplies them


@dataclass(frozen=True, slots=True, eq=False)
class Sum(Quantity):
    """∂top/∂bottom where paths join: one term per node just below top, each a product of quantities."""

    terms: tuple[tuple[Quantity, ...], ...] = ()    # the terms written out
    more: int = 0                                   # terms not written out
    more_value: float = 0.0                         # their sum (part of `value`)


@dataclass(frozen=True, slots=True, eq=False)
class Number(Quantity):
    """∂top/∂bottom given by its number alone: past explain's limit, it is not derived further."""

    links: int = 1      # how many links of a chain it stands for


@dataclass(frozen=True, slots=True, eq=False)
class Derivation:
    """∂output/∂wrt in the lecture's form; prints as text, `to_latex()` gives LaTeX.

    `root` is the derivation's top quantity; `total` its number; `paths` how many paths lead from
    wrt to output in the graph; `nodes` the nodes on them (topological order), for drawings.
    """

    output: Value
    wrt: Value
    root: Quantity
    paths: int
    nodes: tuple[Value, ...] = field(repr=False)
    graph: Graph = field(repr=False)
    values: dict[str, float] = field(repr=False)    # each name a formula uses -> its node's value
    note: str = ""

    @property
    def name(self) -> str:
        """'∂E/∂w5'."""
        return self.root.name

    @property
    def total(self) -> float:
        """∂output/∂wrt, from the derivation's own numbers."""
        return self.root.value

    @property
    def formula(self) -> str | None:
        """The whole derivative as a product (or sum) of its parts' formulas; None without sympy."""
        return self.root.formula

    @property
    def simplified(self) -> str | None:
        """sympy's shorter form of the whole derivative: (y − t)x1; None when it is not much shorter."""
        return self.root.simplified

    @property
    def expression(self):
        """The whole derivative as a sympy expression in the named nodes; None without sympy."""
        return self.root.expression

    @property
    def quantities(self) -> list[Quantity]:
        """Every quantity written out, each once, in the order the text shows them (top first)."""
        found: dict[int, Quantity] = {}
        _walk(self.root, found)
        return list(found.values())

    @property
    def factors(self) -> list[Link]:
        """The links written out, in the order the text shows them."""
        return [q for q in self.quantities if isinstance(q, Link)]

    @property
    def edges(self) -> list[tuple[Value, Value]]:
        """(parent, child) pairs on the paths from wrt to output."""
        on = set(self.nodes)
        return [(p, n) for n in self.nodes for p in n.parents if p in on and n is not self.wrt]

    def substitutions(self) -> dict:
        """{sympy Symbol: value} for evaluating any formula of this derivation at the graph's values."""
        import sympy
        return {sympy.Symbol(name): value for name, value in self.values.items()}

    def iter_paths(self) -> Iterator[tuple[Value, ...]]:
        """The paths from output down to wrt, one at a time (there may be very many)."""
        on = set(self.nodes)
        stack: list[tuple[Value, ...]] = [(self.output,)]
        while stack:
            path = stack.pop()
            node = path[-1]
            if node is self.wrt:
                yield path
                continue
            stack.extend(path + (p,) for p in reversed(node.parents) if p in on)

    def __str__(self) -> str:
        lines = [f"{self.name}: {_paths_text(self.paths)} from {self.graph.name(self.wrt)} to "
                 f"{self.graph.name(self.output)}"]
        _text(self.root, 0, lines, set())
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def to_latex(self) -> str:
        r"""The derivation as a LaTeX `aligned` block: one equation per line (\frac{\partial E}{\partial w_{5}} &= …)."""
        rows: list[str] = []
        _latex(self.root, rows, self.graph, set())
        body = " \\\\\n".join(rows)
        note = f" \\\\\n&\\text{{{_latex_text(self.note)}}}" if self.note else ""
        return "\\begin{aligned}\n" + body + note + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$$\n{self.to_latex()}\n$$"

    _repr_pretty_ = plain_text_view


def explain(output: Value, wrt: Value, *, limit: int = 6, formulas: bool = True) -> Derivation:
    """∂output/∂wrt derived the lecture's way: a chain between labelled nodes, sums where paths join,
    each part with its name, number and (with sympy) formula.

    `limit` is how many terms of a sum, and parts of a chain, are derived further; `formulas=False`
    skips sympy (names and numbers only, faster).

    >>> x, w, t = Value(3.0, label='x'), Value(0.5, label='w'), Value(1.0, label='t')
    >>> a = w * x; a.label = 'a'
    >>> y = a.sigmoid(); y.label = 'y'
    >>> E = 0.5 * (t - y) ** 2; E.label = 'E'
    >>> print(explain(E, w))
    ∂E/∂w: 1 path from w to E
    ∂E/∂w = ∂E/∂y · ∂y/∂a · ∂a/∂w
      ∂E/∂y = −(t − y) = -0.182425524
      ∂y/∂a = y(1 − y) = 0.149146452
      ∂a/∂w = x = 3
    ∂E/∂w = −(t − y)·y(1 − y)·x = -0.182425524 × 0.149146452 × 3 = -0.081624359
    """
    if not isinstance(output, Value):
        raise TypeError(f"explain() output must be a Value, got {describe(output)}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain() wrt must be a Value (a node of output's graph), got {describe(wrt)}")
    for what, node in (("output", output), ("wrt", wrt)):
        if isinstance(node, Constant):
            raise ValueError(f"explain() {what} is a Constant ({format_number(node.data)}, a number written "
                             f"in an expression): no derivative is meant for it; pass a Value you made")
    limit = check_count(limit, "explain() limit", high=1000)
    formulas = check_bool(formulas, "explain() formulas")
    graph = trace(output)
    if wrt not in set(graph.nodes):
        raise ValueError(f"explain() wrt {_describe_node(wrt)} is not in the graph of output "
                         f"{_describe_node(output)}: output does not depend on it")
    return _Deriver(graph, wrt, limit, formulas).derivation()


def _describe_node(node: Value) -> str:
    return f"{node.label!r} ({node!r})" if node.label else repr(node)


def _paths_text(n: int) -> str:
    return "1 path" if n == 1 else f"{n:,} paths" if n < 10**15 else f"about {float(n):.3g} paths"


class _Deriver:
    """Builds one Derivation: the named stations, their links, then the chains and sums between them."""

    def __init__(self, graph: Graph, wrt: Value, limit: int, formulas: bool):
        self.graph, self.wrt, self.output, self.limit = graph, wrt, graph.output, limit
        self.sympy = formulas and sympy_available()
        self.note = SYMPY_NOTE if formulas and not self.sympy else ""
        self.trees = self.sympy   # formula trees are only worth building when they will be printed
        self.budget = 8 * limit
        self.names = graph.names
        self.values: dict[str, float] = {}
        self._expanded: dict[Value, Expr] = {}
        self._on_paths()
        self._stations()
        self._links()
        self._made: dict[tuple[Value, Value], Quantity] = {}
        self._symbols: dict = {}    # sympy Symbol -> the Name it stands for, to print sympy's forms

    # -- the graph between wrt and output ----------------------------------------------------------
    def _on_paths(self) -> None:
        nodes, wrt = self.graph.nodes, self.wrt
        start = nodes.index(wrt)
        reach = {wrt}
        for node in nodes[start + 1:]:
            if any(p in reach for p in node.parents):
                reach.add(node)
        on = {self.output}
        for node in reversed(nodes):
            if node in on and node is not wrt:
                on.update(p for p in node.parents if p in reach)
        self.on = on
        self.between = [n for n in nodes[start:] if n in on]
        self.position = {n: i for i, n in enumerate(self.between)}
        count = {wrt: 1}
        for node in self.between[1:]:
            count[node] = sum(count[p] for p in node.parents if p in on)
        self.paths = count[self.output]

    def _stations(self) -> None:
        consumers: dict[Value, int] = {}
        for node in self.between:
            if node is not self.wrt:
                for p in set(node.parents):
                    if p in self.on:
                        consumers[p] = consumers.get(p, 0) + 1
        self.stations = {n for n in self.between
                         if n is self.output or n is self.wrt or n.label or consumers.get(n, 0) > 1}
        self.order = [n for n in self.between if n in self.stations]
        self.index = {n: i for i, n in enumerate(self.order)}

    def _links(self) -> None:
        """For each station, ∂station/∂(each station just below it), its unlabelled nodes folded in."""
        self.links: dict[Value, dict[Value, list]] = {}
        self._cones: dict[Value, list[Value]] = {}
        for top in self.order:
            if top is not self.wrt:
                self.links[top] = self._cone(top)

    def _cone(self, top: Value) -> dict[Value, list]:
        """The links from one station down to the stations just below it, through unlabelled nodes:
        {bottom: [value, formula (built when first asked for), folded nodes nearest the top first]}.

        Each unlabelled node on the paths has one consumer there (else it is a station), so the
        nodes folded below a station form a tree and every node is visited once over all stations.
        Numbers flow down from the top, as in the backward pass.
        """
        on, stations = self.on, self.stations
        adjoint: dict[Value, float] = {top: 1.0}
        found: dict[Value, list] = {}
        cone = [top]                        # each node before the nodes folded below it
        stack = [top]
        while stack:
            node = stack.pop()
            partials = node._op.local(node.data, *[p.data for p in node.parents])
            for parent, local in zip(node.parents, partials):
                if parent not in on:
                    continue
                value = adjoint[node] * float(local)
                if parent in stations:
                    found.setdefault(parent, [0.0, _LATER, set()])[0] += value
                    continue
                if parent not in adjoint:   # its only consumer on the paths is `node`
                    adjoint[parent] = 0.0
                    cone.append(parent)
                    stack.append(parent)
                adjoint[parent] += value
        self._cones[top] = cone
        reaches: dict[Value, set] = {}      # the stations each folded node leads to
        for node in reversed(cone):
            reached = set()
            for parent in node.parents:
                if parent in stations and parent in on:
                    reached.add(parent)
                elif parent in reaches:
                    reached |= reaches[parent]
            reaches[node] = reached
            if node is not top:
                for bottom in reached:
                    found[bottom][2].add(node)
        for entry in found.values():
            entry[2] = tuple(sorted(entry[2], key=lambda n: -self.position[n]))
        return found

    def _tree(self, top: Value, bottom: Value) -> Expr | None:
        """The formula of the link from top to bottom, in the labelled nodes (None if too long).

        Built from the bottom up, ∂v/∂b = Σ local · ∂parent/∂b, so a factor common to several paths
        stays outside their sum (−(t/y − (1 − t)/(1 − y)), as the lecture writes it). Trees travel
        with their sizes, so a long fold stops growing its formula at once.
        """
        entry = self.links[top][bottom]
        if entry[1] is not _LATER:
            return entry[1]
        on, stations = self.on, self.stations
        below: dict[Value, dict[Value, tuple]] = {}     # node -> {bottom: (tree, size)}
        for node in reversed(self._cones[top]):
            reached: dict[Value, list] = {}
            locals_ = None
            # no formula is printed past a fold too long to write: none is built for it either
            if any(p in stations or any(t is not None for t, _ in below[p].values())
                   for p in node.parents if p in on):
                locals_ = local_formulas(node._op, self.expand(node), [self.expand(p) for p in node.parents])
            for k, parent in enumerate(node.parents):
                if parent not in on:
                    continue
                local = (locals_[k], size(locals_[k])) if locals_ is not None else (None, 0)
                if parent in stations:
                    reached.setdefault(parent, []).append(local)
                    continue
                for end, (tree, n) in below[parent].items():
                    joined = (None, 0) if tree is None or local[0] is None else (Mul((local[0], tree)),
                                                                                 local[1] + n + 1)
                    reached.setdefault(end, []).append(joined)
            below[node] = {end: _joined(terms) for end, terms in reached.items()}
        for end, (tree, _) in below[top].items():
            self.links[top][end][1] = tree
        return entry[1]

    def expand(self, node: Value) -> Expr:
        """How a formula writes a node: by name if it is named (labelled, a station or a leaf), else as
        its expression in named nodes (w1·i1 + w2·i2 + b1), or by its graph name if that is too long."""
        done = self._expanded.get(node)
        if done is not None:
            return done
        stack = [node]
        while stack:
            current = stack[-1]
            if current in self._expanded:
                stack.pop()
                continue
            if isinstance(current, Constant):
                self._expanded[current] = Num(current.data)
                stack.pop()
                continue
            if current._op is None or current.label or current in self.stations:
                self._expanded[current] = self._named(current)
                stack.pop()
                continue
            waiting = [p for p in current.parents if p not in self._expanded]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            tree = definition(current._op, [self._expanded[p] for p in current.parents])
            self._expanded[current] = tree if size(tree) <= EXPAND_SIZE else self._named(current)
        return self._expanded[node]

    def _named(self, node: Value) -> Expr:
        name = self.graph.expression(node)
        self.values[self.names[node]] = node.data
        return name

    # -- the chains and sums ------------------------------------------------------------------------
    def derivation(self) -> Derivation:
        root = self.quantity(self.output, self.wrt)
        return Derivation(self.output, self.wrt, root, self.paths, tuple(self.between), self.graph,
                          dict(self.values), self.note)

    def sweep(self, bottom: Value, top: Value) -> dict[Value, float]:
        """∂station/∂bottom for the stations from bottom up to top, by one forward sweep over the links
        between them (so the elided parts of a chain cost, together, one sweep over the chain)."""
        done = {bottom: 1.0}
        for station in self.order[self.index[bottom] + 1:self.index[top] + 1]:
            total, reached = 0.0, False
            for below, entry in self.links[station].items():
                factor = done.get(below)
                if factor is not None:
                    total += entry[0] * factor
                    reached = True
            if reached:
                done[station] = total
        return done

    def quantity(self, top: Value, bottom: Value) -> Quantity:
        key = (top, bottom)
        made = self._made.get(key)
        if made is not None:
            return made
        if top is bottom:
            made = self._link(top, bottom, [1.0, Num(1.0) if self.trees else None, ()])
        elif self.budget <= 0:
            made = self._number(top, bottom)
        else:
            self.budget -= 1
            made = self._derive(top, bottom)
        self._made[key] = made
        return made

    def _derive(self, top: Value, bottom: Value) -> Quantity:
        span = self.order[self.index[bottom]:self.index[top] + 1]
        up = {bottom: 1}        # paths from bottom to each station
        for station in span[1:]:
            n = sum(up[b] for b in self.links[station] if b in up)
            if n:
                up[station] = n
        down = {top: 1}         # paths from each station to top
        for station in reversed(span):
            n = down.get(station)
            if n and station is not bottom:
                for below in self.links[station]:
                    if below in up:
                        down[below] = down.get(below, 0) + n
        total = up[top]
        passes = [s for s in span if s in up and s in down and up[s] * down[s] == total]
        if len(passes) > 2:
            # every path through a pass: the paths between two passes are the quotient of the counts
            single = {upper: up[upper] == up[lower] for upper, lower in zip(passes[1:], passes)}
            return self._chain(top, bottom, passes[::-1], single)
        if total == 1:
            return self._link(top, bottom, self.links[top][bottom])
        return self._sum(top, bottom, [b for b in self.links[top] if b in up])

    def _name(self, top: Value, bottom: Value) -> str:
        return partial(self.names[top], self.names[bottom])

    def _link(self, top: Value, bottom: Value, entry: list, direct: bool = False) -> Link:
        value, _, through = entry
        tree = self._tree(top, bottom) if self.trees and top is not bottom else entry[1]
        name = self._name(top, bottom) + (" (direct)" if direct else "")
        return Link(top, bottom, name, value, *self._formulas(tree), through=through)

    def _number(self, top: Value, bottom: Value) -> Number:
        return Number(top, bottom, self._name(top, bottom), self.sweep(bottom, top).get(top, 0.0),
                      None, None, None, None)

    def _chain(self, top: Value, bottom: Value, passes: list[Value], single: dict[Value, bool]) -> Chain:
        # A link that only adds (∂E/∂E_o1 = 1 where E = E_o1 + E_o2) is not a part of its own, as in
        # the lecture: it joins the link below it (∂E/∂out_o1 = −(0.01 − out_o1)), or drops out.
        steps: list[tuple[Value, Value, Value | None, tuple]] = []   # (upper, lower, merged top, through)
        merged, through = None, ()
        for k, (upper, lower) in enumerate(zip(passes, passes[1:])):
            entry = self.links[upper].get(lower) if single[upper] else None
            if k < len(passes) - 2 and _is_one(upper, entry):
                merged, through = merged or upper, through + entry[2] + (lower,)
                continue
            steps.append((upper, lower, merged, through))
            merged, through = None, ()
        if len(steps) > self.limit + 1:
            # the first `limit` parts and the last are derived; one number stands for the middle
            upper, lower = steps[self.limit][2] or steps[self.limit][0], steps[-2][1]
            middle = Number(upper, lower, self._name(upper, lower), self.sweep(lower, upper)[upper],
                            None, None, None, None, links=len(steps) - self.limit - 1)
            parts = [self._part(*s) for s in steps[:self.limit]] + [middle, self._part(*steps[-1])]
        else:
            parts = [self._part(*s) for s in steps]
        if len(parts) == 1:
            return parts[0]
        value = 1.0
        for part in parts:
            value *= part.value
        trees = [part.tree for part in parts]
        tree = Factors(tuple(trees)) if all(t is not None for t in trees) else None
        return Chain(top, bottom, self._name(top, bottom), value, *self._formulas(tree), parts=tuple(parts))

    def _part(self, upper: Value, lower: Value, merged: Value | None, through: tuple) -> Quantity:
        part = self.quantity(upper, lower)
        if merged is None or not isinstance(part, Link):
            return part
        return replace(part, top=merged, name=self._name(merged, lower), through=through + part.through)

    def _sum(self, top: Value, bottom: Value, children: list[Value]) -> Sum:
        children.sort(key=self.position.__getitem__)
        terms, more, more_value = [], 0, 0.0
        below_top = None
        for child in children:
            entry = self.links[top][child]
            if len(terms) >= self.limit:
                below_top = below_top or self.sweep(bottom, top)
                more += 1
                more_value += entry[0] * below_top.get(child, 0.0)
                continue
            if child is bottom:
                terms.append((self._link(top, bottom, entry, direct=True),))
                continue
            below = self.quantity(child, bottom)
            if _is_one(top, entry):
                terms.append((below,))
            else:
                terms.append((self._link(top, child, entry), below))
        value = 0.0
        for term in terms:
            product = 1.0
            for q in term:
                product *= q.value
            value += product
        value += more_value
        trees = [q.tree for term in terms for q in term]
        tree = None
        if not more and all(t is not None for t in trees):
            tree = Add(tuple(Factors(tuple(q.tree for q in term)) if len(term) > 1 else term[0].tree
                             for term in terms))
        return Sum(top, bottom, self._name(top, bottom), value, *self._formulas(tree),
                   terms=tuple(terms), more=more, more_value=more_value)

    def _formulas(self, tree: Expr | None) -> tuple:
        """(formula, simplified, expression, tree) of a quantity whose composed formula is `tree`."""
        if tree is None or not self.sympy or size(tree) > FORMULA_SIZE:
            return (None, None, None, None)
        import sympy
        tree = tidy(tree)
        text = render(tree)
        expression = to_sympy(tree, self._symbol)
        simplified, shown = None, tree
        if sympy.count_ops(expression) <= SIMPLIFY_OPS:
            factored = sympy.factor(expression)
            candidate = from_sympy(factored, self._symbols)
            candidate_text = render(candidate)
            if len(candidate_text) <= SHORTER * len(text):
                simplified, shown = candidate_text, candidate
        return (text, simplified, expression, shown)

    def _symbol(self, name: Name):
        import sympy
        symbol = sympy.Symbol(name.name)
        self._symbols[symbol] = name
        return symbol


def _joined(trees: list[tuple]) -> tuple[Expr | None, int]:
    """The sum of (tree, size) pairs, and its size; (None, 0) if any is missing or it is too large to write."""
    total = sum(n for _, n in trees) + (len(trees) > 1)
    if total > FORMULA_SIZE or any(t is None for t, _ in trees):
        return (None, 0)
    return (trees[0][0] if len(trees) == 1 else Add(tuple(t for t, _ in trees)), total)


def _is_one(top: Value, entry: list | None) -> bool:
    """Whether a link only adds (E = E_o1 + E_o2: ∂E/∂E_o1 = 1), so the lecture leaves it unwritten."""
    return entry is not None and entry[0] == 1.0 and all(n.op in ("add", "sum") for n in (top, *entry[2]))


def _walk(q: Quantity, found: dict) -> None:
    if id(q) in found:
        return
    found[id(q)] = q
    if isinstance(q, Chain):
        for part in q.parts:
            _walk(part, found)
    elif isinstance(q, Sum):
        for term in q.terms:
            for part in term:
                _walk(part, found)


def _short(text: str) -> str:
    return text if len(text) <= LINE_WIDTH else text[:LINE_WIDTH - 1] + "…"


def _formula_part(q: Quantity) -> str:
    if q.formula is None or q.formula == render(Num(q.value)):
        return ""
    shown = f" = {_short(q.formula)}"
    if q.simplified is not None:
        shown += f" = {q.simplified}"
    return shown


def _listed(names: list[str], sep: str, limit: int = 12) -> str:
    if len(names) <= limit:
        return sep.join(names)
    return sep.join(names[:limit - 2]) + f"{sep}…{sep}" + names[-1] + f"  ({len(names):,} in all)"


def _signed_sum(terms: list[str], minus: str = "−") -> str:
    """'0.055 − 0.019' rather than '0.055 + -0.019': a term that starts negative is subtracted."""
    text = terms[0]
    for term in terms[1:]:
        text += f" {minus} {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def _text(q: Quantity, depth: int, lines: list[str], done: set) -> None:
    pad = "  " * depth
    fmt = format_number
    if id(q) in done and isinstance(q, (Chain, Sum)):
        lines.append(f"{pad}{q.name} = {fmt(q.value)}   (derived above)")
        return
    done.add(id(q))
    if isinstance(q, Link):
        lines.append(f"{pad}{q.name}{_formula_part(q)} = {fmt(q.value)}")
    elif isinstance(q, Number):
        spanned = f"{q.links:,} links, " if q.links > 1 else ""
        lines.append(f"{pad}{q.name} = {fmt(q.value)}   ({spanned}not derived further: past explain's limit)")
    elif isinstance(q, Chain):
        lines.append(f"{pad}{q.name} = {_listed([p.name for p in q.parts], ' · ')}")
        for part in q.parts:
            _text(part, depth + 1, lines, done)
        numbers = _listed([fmt(p.value) for p in q.parts], " × ")
        lines.append(f"{pad}{q.name}{_formula_part(q)} = {numbers} = {fmt(q.value)}")
    else:
        names = [" · ".join(p.name for p in term) for term in q.terms]
        if q.more:
            names.append(f"({q.more:,} more terms)")
        lines.append(f"{pad}{q.name} = {' + '.join(names)}")
        for term in q.terms:
            for part in term:
                _text(part, depth + 1, lines, done)
        numbers = [" × ".join(fmt(p.value) for p in term) for term in q.terms]
        if q.more:
            numbers.append(f"{fmt(q.more_value)} (the other {q.more:,} terms)")
        lines.append(f"{pad}{q.name}{_formula_part(q)} = {_signed_sum(numbers)} = {fmt(q.value)}")


def _latex_partial(q: Quantity, graph: Graph) -> str:
    def name(node):
        text = render(graph.expression(node), latex=True)
        return text if node not in graph._by_expression else rf"\left({text}\right)"
    return rf"\frac{{\partial {name(q.top)}}}{{\partial {name(q.bottom)}}}"


def _latex_text(text: str) -> str:
    return "".join({"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "&": r"\&",
                    "%": r"\%", "$": r"\$", "#": r"\#", "^": r"\^{}", "~": r"\~{}"}.get(c, c) for c in text)


def _latex_formula(q: Quantity) -> str:
    if q.tree is None or q.formula == render(Num(q.value)):
        return ""
    return f" = {render(q.tree, latex=True)}"


def _latex(q: Quantity, rows: list[str], graph: Graph, done: set) -> None:
    if id(q) in done:
        return
    done.add(id(q))
    lhs = _latex_partial(q, graph)
    fmt = format_number
    if isinstance(q, (Link, Number)):
        rows.append(f"{lhs} &{_latex_formula(q)} = {fmt(q.value)}")
        return
    if isinstance(q, Chain):
        rows.append(f"{lhs} &= " + r" \cdot ".join(_latex_partial(p, graph) for p in q.parts))
        for part in q.parts:
            _latex(part, rows, graph, done)
        numbers = r" \times ".join(fmt(p.value) for p in q.parts)
    else:
        written = [r" \cdot ".join(_latex_partial(p, graph) for p in term) for term in q.terms]
        if q.more:
            written.append(rf"\dots\ ({q.more}\ \text{{more terms}})")
        rows.append(f"{lhs} &= " + " + ".join(written))
        for term in q.terms:
            for part in term:
                _latex(part, rows, graph, done)
        terms = [r" \times ".join(fmt(p.value) for p in term) for term in q.terms]
        numbers = _signed_sum(terms + ([fmt(q.more_value)] if q.more else []), minus="-")
    rows.append(f"{lhs} &{_latex_formula(q)} = {numbers} = {fmt(q.value)}")
