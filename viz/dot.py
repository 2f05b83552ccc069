"""Drawing a traced graph as Graphviz DOT: one box per Value (name, data, grad) and one small node per op.

Everything here is decided by the graph's structure: node ids come from the topological order of
`autodiff.trace`, so the same graph always gives the same DOT text. `draw` is the public entry;
the stepper in `viz.steps` reuses `_Drawing` with its own gradients and highlights.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any, Callable

import graphviz

from autodiff import Constant, Graph, Parameter, Value, format_number, trace
from autodiff.arguments import MAX_COUNT, check_bool, check_choice, check_int, describe, is_int

from .text import dot_html, dot_string

NumberFormat = Callable[[float], str] | int
RANKDIRS = ("LR", "TB", "RL", "BT")
DEFAULT_MAX_NODES = 2000
# Above LARGE drawn Values dot's defaults can take minutes on a graph with many long edges (its
# network-simplex placement grows with every edge crossing many ranks); these limits bring a
# 1,000-node random expression from about 70 s to a few seconds, at some cost in edge crossings.
LARGE = 400
QUICK_LAYOUT = {"nslimit": "0.5", "nslimit1": "0.5", "mclimit": "0.3", "searchsize": "10"}

# Kinds of node, each with its own shape and colours so they are told apart at a glance (even in
# grayscale: the border style differs as well as the colour).
STYLES = {
    "parameter": dict(shape="box", style="filled,bold", color="#c05621", fillcolor="#feebc8",
                      penwidth="1.6"),
    "input": dict(shape="box", style="filled,rounded", color="#2b6cb0", fillcolor="#dbeafe"),
    "constant": dict(shape="box", style="filled,dashed", color="#808080", fillcolor="#f2f2f2",
                     fontcolor="#555555"),
    "computed": dict(shape="box", style="filled", color="#333333", fillcolor="#ffffff"),
    "op": dict(shape="circle", style="filled", color="#666666", fillcolor="#eeeeee",
               fontsize="12", width="0.3", margin="0.02"),
}
LEGEND_TEXT = {
    "parameter": "parameter (learned)",
    "input": "input",
    "constant": "constant",
    "computed": "computed value",
}
HIGHLIGHT = dict(fillcolor="#ffe066", color="#b7791f", penwidth="3")   # the node of a backward step
TOUCHED = dict(fillcolor="#c6f6d5", color="#2f855a", penwidth="2")     # the parents it just updated
DEAD_RELU = dict(color="#c53030", fillcolor="#fed7d7", fontcolor="#c53030")
NEGATIVE_RGB = (178, 24, 43)    # red for a negative gradient
POSITIVE_RGB = (33, 102, 172)   # blue for a positive one

_NEURON = re.compile(r"layers\.(\d+)\.neurons\.(\d+)\.")


def kind(node: Value) -> str:
    """'parameter', 'input', 'constant' or 'computed': how a drawing styles the node."""
    if not isinstance(node, Value):
        raise TypeError(f"kind() node must be an autodiff Value, got {describe(node)}")
    if isinstance(node, Constant):
        return "constant"
    if node._op is not None:
        return "computed"
    return "parameter" if isinstance(node, Parameter) else "input"


def number_formatter(number_format: NumberFormat, name: str = "draw() number_format") -> Callable[[float], str]:
    """A function float -> str from an int (decimals, lecture style) or a callable returning a str."""
    if is_int(number_format):
        digits = check_int(number_format, f"{name} as decimals", low=0, high=17)
        return lambda x: format_number(x, digits)
    if isinstance(number_format, (bool, type)) or not callable(number_format):
        raise TypeError(f"{name} must be an int (decimals, 0 to 17) or a function float -> str, "
                        f"got {describe(number_format)}")

    def formatted(x: float) -> str:
        text = number_format(x)
        if not isinstance(text, str):
            raise TypeError(f"{name} must return a str, returned {describe(text)} for {x!r}")
        return text

    return formatted


def dead_relu(node: Value) -> bool:
    """True for a relu whose input is not positive: no gradient flows back through it."""
    return node.op == "relu" and not node.parents[0].data > 0.0


def neurons(graph: Graph) -> dict[Value, tuple[int, int]]:
    """Which nodes belong to which (layer, neuron), read from nn's parameter labels.

    A parameter labelled `...layers.L.neurons.N....` belongs to neuron (L, N). A computed node is
    "pre-activation" of N when its parameter parents all belong to N (w·x products, the sum that
    takes the bias), or when it adds up only pre-activation nodes of N (and constants): a bias-free
    Σ or a chain of +. A one-input op on a pre-activation node of N is N's activation. Nothing
    downstream of the activation (the next layer's products take that layer's parameters, a loss
    takes none) is pulled in.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"neurons() graph must be an autodiff Graph (from autodiff.trace), got {describe(graph)}")
    owner: dict[Value, tuple[int, int]] = {}
    pre: set[Value] = set()
    for node in graph.nodes:
        if node._op is None:
            match = _NEURON.search(node.label) if isinstance(node, Parameter) else None
            if match:
                owner[node] = (int(match[1]), int(match[2]))
            continue
        params = {owner.get(p) for p in node.parents if isinstance(p, Parameter)}
        others = [p for p in node.parents if not isinstance(p, (Parameter, Constant))]
        if params:
            if len(params) == 1 and None not in params:
                owner[node] = params.pop()
                pre.add(node)
        elif node.op in ("add", "sum") and others and all(p in pre for p in others):
            if len({owner[p] for p in others}) == 1:
                owner[node] = owner[others[0]]
                pre.add(node)
        elif len(node.parents) == 1 and node.parents[0] in pre:
            owner[node] = owner[node.parents[0]]
    return owner


def nearest(graph: Graph, limit: int) -> list[Value]:
    """The `limit` nodes fewest edges away from the output, in topological order."""
    if len(graph.nodes) <= limit:
        return graph.nodes
    kept = {graph.output}
    frontier = [graph.output]
    while frontier and len(kept) < limit:
        following = []
        for node in frontier:
            for parent in node.parents:
                if parent not in kept and len(kept) < limit:
                    kept.add(parent)
                    following.append(parent)
        frontier = following
    return [node for node in graph.nodes if node in kept]


def _blend(rgb: tuple[int, int, int], t: float) -> str:
    """White blended toward rgb by t in [0, 1], as #rrggbb."""
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _strength(magnitude: float, scale: float) -> float:
    """How strongly to colour a gradient: square root of its share of the largest, visible if nonzero."""
    if not magnitude > 0.0 or scale <= 0.0:
        return 0.0
    if math.isinf(magnitude):
        return 1.0
    return max(0.12, math.sqrt(min(magnitude / scale, 1.0)))


def _gradient_colour(g: float, scale: float) -> str:
    if g != g:
        return "#bbbbbb"
    t = _strength(abs(g), scale)
    return _blend(NEGATIVE_RGB if g < 0 else POSITIVE_RGB, 0.75 * t)


@dataclass
class _Drawing:
    """One drawing of a traced graph; `grads` maps a node to the text shown after 'grad' (None: blank)."""

    graph: Graph
    fmt: Callable[[float], str]
    grads: dict[Value, str | None]
    rankdir: str = "LR"
    clusters: bool = True
    legend: bool = True
    max_nodes: int = DEFAULT_MAX_NODES
    gradient_of: dict[Value, float] | None = None     # set to colour by gradient sign and size
    stepping: bool = False                            # a frame of the stepper: the legend explains its marks
    highlight: Value | None = None
    touched: frozenset = frozenset()                  # parents the highlighted step just updated
    caption: str = ""
    min_width: dict[Value, float] = field(default_factory=dict)
    ids: dict[Value, str] = field(init=False)
    _scale: float = field(init=False, default=0.0)   # the largest finite |gradient|, for colours

    def __post_init__(self):
        self.ids = {node: f"v{i}" for i, node in enumerate(self.graph.nodes)}
        if self.gradient_of is not None:
            self._scale = max((abs(g) for n, g in self.gradient_of.items()
                               if not isinstance(n, Constant) and math.isfinite(g)), default=0.0)

    def label(self, node: Value) -> str:
        if isinstance(node, Constant):
            return f"<{dot_html(self.fmt(node.data))}>"
        name = dot_html(self.graph.name(node))
        grad = self.grads.get(node)
        rows = [f"<B>{name}</B>", f"data {dot_html(self.fmt(node.data))}",
                f"grad {dot_html(grad)}" if grad is not None else "grad"]
        cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'

    def node_attrs(self, node: Value) -> dict[str, str]:
        which = kind(node)
        attrs = dict(STYLES[which])
        attrs["class"] = which
        if self.gradient_of is not None and which != "constant":
            attrs["fillcolor"] = _gradient_colour(self.gradient_of[node], self._scale)
        if node in self.min_width:
            attrs["width"] = f"{self.min_width[node]:.2f}"
        if node is self.highlight:
            attrs.update(HIGHLIGHT)
            attrs["class"] += " highlight"
        elif node in self.touched:
            attrs.update(TOUCHED)
            attrs["class"] += " touched"
        return attrs

    def op_attrs(self, node: Value) -> dict[str, str]:
        attrs = dict(STYLES["op"])
        attrs["class"] = f"op op-{node.op}"
        if len(node._op.symbol) > 2:
            attrs["shape"] = "ellipse"
        if dead_relu(node):
            attrs.update(DEAD_RELU)
            attrs["class"] += " dead-relu"
            attrs["tooltip"] = "relu input ≤ 0: no gradient flows back"
            return {**attrs, "label": f'<{escape(node._op.symbol)}<BR/><FONT POINT-SIZE="8">no grad</FONT>>'}
        if node is self.highlight:
            attrs.update(fillcolor="#ffe066", color="#b7791f", penwidth="2")
        return {**attrs, "label": node._op.symbol}

    def edge_attrs(self, parent: Value, node: Value, local: float) -> dict[str, str]:
        if dead_relu(node):
            return {"style": "dashed", "color": "#c53030", "class": "dead-relu"}
        if node is self.highlight:
            return {"color": "#b7791f", "penwidth": "2.5", "class": "highlight"}
        if self.gradient_of is None or isinstance(parent, Constant):
            return {}
        flow = self.gradient_of[node] * local
        t = _strength(abs(flow), self._scale)
        if t == 0.0:
            return {"color": "#bbbbbb" if flow == 0.0 else "#888888"}
        rgb = NEGATIVE_RGB if flow < 0 else POSITIVE_RGB
        return {"color": _blend(rgb, 0.4 + 0.6 * t), "penwidth": f"{0.8 + 2.4 * t:.2f}"}

    def digraph(self) -> graphviz.Digraph:
        shown = nearest(self.graph, self.max_nodes)
        kept = set(shown)
        dot = graphviz.Digraph(name="autodiff", node_attr={"fontname": "Helvetica", "fontsize": "11"},
                               edge_attr={"arrowsize": "0.6", "color": "#555555"})
        dot.graph_attr.update(rankdir=self.rankdir, fontname="Helvetica", nodesep="0.25", ranksep="0.35")
        if len(shown) > LARGE:
            dot.graph_attr.update(QUICK_LAYOUT)
        if self.caption:
            lines = self.caption.split("\n")
            dot.graph_attr.update(label="\\l".join(map(dot_string, lines)) + "\\l", labelloc="t", labeljust="l",
                                  fontsize="13")
        owner = neurons(self.graph) if self.clusters else {}
        loose: list[tuple[str, dict]] = []
        grouped: dict[tuple[int, int], list[tuple[str, dict]]] = {}
        for node in shown:
            home = grouped.setdefault(owner[node], []) if node in owner else loose
            ident = self.ids[node]
            home.append((ident, {"label": self.label(node), **self.node_attrs(node)}))
            if node._op is not None:
                home.append((ident + "op", self.op_attrs(node)))
        for ident, attrs in loose:
            dot.node(ident, **attrs)
        for layer in sorted({layer for layer, _ in grouped}):
            with dot.subgraph(name=f"cluster_layer{layer}") as outer:
                outer.attr(label=f"layer {layer}", style="rounded", color="#999999", fontsize="12")
                for (lay, neuron), items in sorted(grouped.items()):
                    if lay != layer:
                        continue
                    with outer.subgraph(name=f"cluster_layer{layer}_neuron{neuron}") as inner:
                        inner.attr(label=f"layer {layer} / neuron {neuron}", style="rounded,dashed",
                                   color="#bbbbbb", fontsize="10")
                        for ident, attrs in items:
                            inner.node(ident, **attrs)
        for node in shown:
            if node._op is None:
                continue
            ident = self.ids[node]
            dot.edge(ident + "op", ident, **({"color": "#b7791f", "penwidth": "2.5", "class": "highlight"}
                                             if node is self.highlight else {}))
            locals_ = _locals(node) if self.gradient_of is not None else [0.0] * len(node.parents)
            for parent, local in zip(node.parents, locals_):
                if parent in kept:
                    dot.edge(self.ids[parent], ident + "op", **self.edge_attrs(parent, node, local))
        if len(shown) < len(self.graph.nodes):
            left = len(self.graph.nodes) - len(shown)
            dot.node("truncated", label=(f"truncated: {left:,} of {len(self.graph.nodes):,} nodes not drawn"
                                         f"\\n(showing the {len(shown):,} nearest the output;"
                                         f" raise max_nodes to see more)"),
                     shape="note", style="filled", fillcolor="#fff5b1", color="#b7791f", fontsize="14",
                     **{"class": "truncated"})
        if self.legend:
            self._legend(dot, shown)
        return dot

    def _legend(self, dot: graphviz.Digraph, shown: list[Value]) -> None:
        present = {kind(node) for node in shown}
        entries = []
        for which in ("parameter", "input", "constant", "computed"):
            if which in present:
                attrs = dict(STYLES[which])
                if self.gradient_of is not None and which != "constant":
                    attrs["fillcolor"] = "#ffffff"    # the fill shows the gradient, not the kind
                entries.append((which, LEGEND_TEXT[which], attrs))
        if any(node._op is not None for node in shown):
            entries.append(("op", "op", STYLES["op"]))
        if self.gradient_of is not None:
            entries += [("positive", "grad > 0", {**STYLES["computed"], "fillcolor": _blend(POSITIVE_RGB, 0.75)}),
                        ("negative", "grad < 0", {**STYLES["computed"], "fillcolor": _blend(NEGATIVE_RGB, 0.75)})]
        if self.stepping:
            entries += [("highlight", "this step's node", {**STYLES["computed"], **HIGHLIGHT}),
                        ("touched", "gradient just updated", {**STYLES["computed"], **TOUCHED})]
        with dot.subgraph(name="cluster_legend") as box:
            box.attr(label="legend", style="rounded", color="#cccccc", fontsize="10")
            for name, text, attrs in entries:
                box.node(f"legend_{name}", label=text,
                         **{**attrs, "fontsize": "9", "class": f"legend legend-{name}"})
            # invisible edges keep the entries in this order along the rank direction: a row above a
            # left-to-right drawing (rather than a tall column that adds to its height), a column beside
            # a top-to-bottom one
            for (first, *_), (second, *_) in zip(entries, entries[1:]):
                box.edge(f"legend_{first}", f"legend_{second}", style="invis")


def _locals(node: Value) -> list[float]:
    return [float(x) for x in node._op.local(node.data, *[p.data for p in node.parents])]


def check_options(caller: str, rankdir: str, max_nodes: int, **flags: bool) -> int:
    """Raise TypeError/ValueError naming `caller` for a bad layout direction, node limit or on/off option."""
    for name, flag in flags.items():
        check_bool(flag, f"{caller} {name}")
    check_choice(rankdir, f"{caller} rankdir", RANKDIRS)
    return check_int(max_nodes, f"{caller} max_nodes", low=1, high=MAX_COUNT)


def as_graph(output: Any, caller: str = "draw()") -> Graph:
    """The traced graph of a Value (a Graph is passed through); TypeError naming `caller` for anything else."""
    if isinstance(output, Graph):
        return output
    if not isinstance(output, Value):
        raise TypeError(f"{caller} output must be an autodiff Value or Graph, got {describe(output)}")
    return trace(output)


DRAW_OPTIONS = ("rankdir", "number_format", "color_grads", "clusters", "legend", "max_nodes")


def drawing(output: Value | Graph, caller: str, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
            color_grads: bool = False, clusters: bool = True, legend: bool = True,
            max_nodes: int = DEFAULT_MAX_NODES) -> graphviz.Digraph:
    """`draw`, with errors naming `caller`."""
    graph = as_graph(output, caller)
    fmt = number_formatter(number_format, f"{caller} number_format")
    max_nodes = check_options(caller, rankdir, max_nodes, color_grads=color_grads, clusters=clusters,
                              legend=legend)
    grads = {node: fmt(node.grad) for node in graph.nodes}
    picture = _Drawing(graph, fmt, grads, rankdir=rankdir, clusters=clusters, legend=legend,
                       max_nodes=max_nodes,
                       gradient_of={node: node.grad for node in graph.nodes} if color_grads else None)
    return picture.digraph()


def draw(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
         color_grads: bool = False, clusters: bool = True, legend: bool = True,
         max_nodes: int = DEFAULT_MAX_NODES) -> graphviz.Digraph:
    """The graph that computed `output` as a `graphviz.Digraph`: each Value's name, data and grad.

    Each node shows its stored `.grad` (call `.backward()` first to see gradients). Parameters,
    inputs and constants have their own styles (see the legend); op nodes carry the op table's
    symbol; a relu with a non-positive input is marked "no grad". `number_format` is a number of
    decimals or a function float -> str (default: the lecture's 9 decimals, small numbers never
    shown as 0). `color_grads` fills nodes and colours edges by gradient sign (blue +, red −) and
    size. `clusters` groups an nn model's neurons and layers by their parameter labels. Beyond
    `max_nodes` Values only those nearest the output are drawn, with a note saying so. A label's
    control characters, lone surrogates and reordering marks are drawn as escapes (`a\\x00b`).

    >>> from autodiff import Value
    >>> x = Value(3.0, label='x')
    >>> y = x * x
    >>> y.backward()
    >>> 'grad 6' in draw(y).source
    True
    """
    return drawing(output, "draw()", rankdir=rankdir, number_format=number_format, color_grads=color_grads,
                   clusters=clusters, legend=legend, max_nodes=max_nodes)
