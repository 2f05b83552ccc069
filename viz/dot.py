"""Drawing a traced graph as Graphviz DOT: one box per Value (name, data, grad) and one small node per op.

Everything here is decided by the graph's structure: node ids come from the topological order of
`autodiff.trace`, so the same graph always gives the same DOT text. `draw` is the public entry;
the stepper in `viz.steps` reuses `_Drawing` with its own gradients and marks. A drawing can mark
the paths from the output down to one node (`highlight`), and write each edge's local derivative
on it (`edge_labels`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any, Callable

import graphviz

from autodiff import Constant, Derivation, Graph, Parameter, Value, format_number, trace
from autodiff.arguments import MAX_COUNT, check_bool, check_choice, check_int, describe, is_int
from autodiff.notation import render

from .text import dot_html, dot_string, visible

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
# The paths of `highlight`: a violet border and violet edges, which neither the kinds, the gradient
# colours nor the stepper's marks use; everything else greyed, its text still dark enough to read
# (#666666 on white is 5.7:1, above the 4.5:1 that WCAG asks of body text).
ON_PATH = dict(color="#6b46c1", penwidth="2.6")
OFF_PATH = dict(color="#c8c8c8", fontcolor="#666666", penwidth="1")
ON_PATH_EDGE = dict(color="#6b46c1", penwidth="2.4")
OFF_PATH_EDGE = dict(color="#d0d0d0")
EDGE_FORMULA_LIMIT = 24     # characters: a longer local derivative formula is left off its edge
LEGEND_FONT = "10"
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


@dataclass(frozen=True, slots=True)
class Paths:
    """The nodes and edges on the paths from a graph's output down to one node, and how the legend says so."""

    nodes: frozenset
    edges: frozenset        # (parent, child) pairs
    legend: str             # 'on the paths from E to w5'


def paths_of(graph: Graph, highlight: Any, caller: str) -> Paths | None:
    """The Paths that `highlight` asks a drawing of `graph` to mark: a Value (every path from the output
    down to it), a Derivation (its nodes and edges) or None (nothing); errors name `caller`."""
    if highlight is None:
        return None
    if isinstance(highlight, Derivation):
        names = graph.names
        if not all(node in names for node in highlight.nodes):
            raise ValueError(f"{caller} highlight is a derivation of {visible(highlight.name)} over another graph: "
                             f"its nodes are not all in the graph of output {visible(graph.name(graph.output))}")
        edges = frozenset(highlight.edges)
        return Paths(frozenset(highlight.nodes), edges, f"on the paths of {highlight.name}")
    if not isinstance(highlight, Value):
        raise TypeError(f"{caller} highlight must be a Value of output's graph (its paths to the output are "
                        f"marked), an autodiff Derivation (from autodiff.explain) or None, got {describe(highlight)}")
    names = graph.names
    if highlight not in names:
        shown = f"{highlight.label!r} ({highlight!r})" if highlight.label else repr(highlight)
        raise ValueError(f"{caller} highlight {visible(shown)} is not in the graph of output "
                         f"{visible(graph.name(graph.output))}: no path leads from the output to it")
    on = {highlight}
    for node in graph.nodes:
        if node is not highlight and any(parent in on for parent in node.parents):
            on.add(node)
    edges = frozenset((parent, node) for node in on if node is not highlight
                      for parent in node.parents if parent in on)
    legend = f"on the paths from {graph.name(graph.output)} to {graph.ref(highlight)}"
    return Paths(frozenset(on), edges, legend)


def edge_texts(graph: Graph, nodes: list[Value], fmt: Callable[[float], str]) -> dict[tuple[Value, int], tuple]:
    """The label of each edge into the op of a node in `nodes`, by (node, parent index), as lines: the
    local derivative ∂node/∂parent's formula when it is short and not itself a number, then its
    number. Edges from constants get none: no gradient is meant for them."""
    texts = {}
    for node in nodes:
        if node._op is None:
            continue
        for k, (parent, local) in enumerate(zip(node.parents, _locals(node))):
            if isinstance(parent, Constant):
                continue
            formula = render(graph.local_formula(node, k))
            if formula != render(graph.local_formula(node, k, numbers=True)) and len(formula) <= EDGE_FORMULA_LIMIT:
                texts[node, k] = (formula, f"= {fmt(local)}")
            else:
                texts[node, k] = (fmt(local),)
    return texts


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
    current: Value | None = None                      # the node of this step (highlighted in yellow)
    touched: frozenset = frozenset()                  # parents the current step just updated
    caption: str = ""
    min_width: dict[Value, float] = field(default_factory=dict)
    paths: Paths | None = None                        # marked: on them emphasised, the rest greyed
    edge_labels: dict[tuple[Value, int], tuple] | None = None   # (node, parent index) -> lines of text
    data: dict[Value, str] = field(default_factory=dict)        # text shown after 'data' instead of the value
    updating: bool = False                            # a frame of the stepper's parameter updates
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
        data = self.data.get(node)
        rows = [f"<B>{name}</B>", f"data {dot_html(self.fmt(node.data) if data is None else data)}",
                f"grad {dot_html(grad)}" if grad is not None else "grad"]
        cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'

    def on_path(self, node: Value) -> bool | None:
        """True or False when paths are marked (whether node is on them), None when they are not."""
        return None if self.paths is None else node in self.paths.nodes

    def node_attrs(self, node: Value) -> dict[str, str]:
        which = kind(node)
        attrs = dict(STYLES[which])
        attrs["class"] = which
        if self.gradient_of is not None and which != "constant":
            attrs["fillcolor"] = _gradient_colour(self.gradient_of[node], self._scale)
        if node in self.min_width:
            attrs["width"] = f"{self.min_width[node]:.2f}"
        on = self.on_path(node)
        if on is not None:
            attrs.update(ON_PATH if on else OFF_PATH)
            attrs["class"] += " on-path" if on else " off-path"
        if node is self.current:
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
        # an op is on the paths when its node is and some input is too (the bottom node's own op is not)
        on = self.on_path(node)
        if on is not None:
            on = on and any((parent, node) in self.paths.edges for parent in node.parents)
            attrs.update(ON_PATH if on else OFF_PATH)
            attrs["penwidth"] = "2" if on else "1"
            attrs["class"] += " on-path" if on else " off-path"
        if dead_relu(node):
            attrs.update(DEAD_RELU)
            attrs["class"] += " dead-relu"
            attrs["tooltip"] = "relu input ≤ 0: no gradient flows back"
            return {**attrs, "label": f'<{escape(node._op.symbol)}<BR/><FONT POINT-SIZE="9">no grad</FONT>>'}
        if node is self.current:
            attrs.update(fillcolor="#ffe066", color="#b7791f", penwidth="2")
        return {**attrs, "label": node._op.symbol}

    def edge_attrs(self, parent: Value, node: Value, k: int, local: float) -> dict[str, str]:
        attrs = self._edge_style(parent, node, local)
        text = self.edge_labels.get((node, k)) if self.edge_labels is not None else None
        if text is not None:
            attrs.update(label=dot_string(*text), fontsize="10",
                         fontcolor=OFF_PATH["fontcolor"] if "off-path" in attrs.get("class", "") else "#444444")
        return attrs

    def _edge_style(self, parent: Value, node: Value, local: float) -> dict[str, str]:
        if dead_relu(node):
            return {"style": "dashed", "color": "#c53030", "class": "dead-relu"}
        if node is self.current:
            return {"color": "#b7791f", "penwidth": "2.5", "class": "highlight"}
        if self.paths is not None:
            if (parent, node) in self.paths.edges:
                return {**ON_PATH_EDGE, "class": "on-path"}
            return {**OFF_PATH_EDGE, "class": "off-path"}
        if self.gradient_of is None or isinstance(parent, Constant):
            return {}
        flow = self.gradient_of[node] * local
        t = _strength(abs(flow), self._scale)
        if t == 0.0:
            return {"color": "#bbbbbb" if flow == 0.0 else "#888888"}
        rgb = NEGATIVE_RGB if flow < 0 else POSITIVE_RGB
        return {"color": _blend(rgb, 0.4 + 0.6 * t), "penwidth": f"{0.8 + 2.4 * t:.2f}"}

    def result_edge_attrs(self, node: Value) -> dict[str, str]:
        """The edge from a node's op to the node."""
        if node is self.current:
            return {"color": "#b7791f", "penwidth": "2.5", "class": "highlight"}
        if self.paths is not None:
            on = any((parent, node) in self.paths.edges for parent in node.parents)
            return {**ON_PATH_EDGE, "class": "on-path"} if on else {**OFF_PATH_EDGE, "class": "off-path"}
        return {}

    def digraph(self) -> graphviz.Digraph:
        shown = nearest(self.graph, self.max_nodes)
        kept = set(shown)
        dot = graphviz.Digraph(name="autodiff", node_attr={"fontname": "Helvetica", "fontsize": "11"},
                               edge_attr={"arrowsize": "0.6", "color": "#555555", "fontname": "Helvetica"})
        dot.graph_attr.update(rankdir=self.rankdir, fontname="Helvetica", nodesep="0.25", ranksep="0.35")
        if len(shown) > LARGE:
            dot.graph_attr.update(QUICK_LAYOUT)
        if self.caption:
            lines = self.caption.split("\n")
            dot.graph_attr.update(label=dot_string(*lines, sep="\\l", end="\\l"), labelloc="t", labeljust="l",
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
            dot.edge(ident + "op", ident, **self.result_edge_attrs(node))
            needs_locals = self.gradient_of is not None and self.paths is None
            locals_ = _locals(node) if needs_locals else [0.0] * len(node.parents)
            for k, (parent, local) in enumerate(zip(node.parents, locals_)):
                if parent in kept:
                    dot.edge(self.ids[parent], ident + "op", **self.edge_attrs(parent, node, k, local))
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
        if self.paths is not None:
            entries += [("on_path", self.paths.legend, {**STYLES["computed"], **ON_PATH}),
                        ("off_path", "off those paths", {**STYLES["computed"], **OFF_PATH})]
        if self.edge_labels is not None:
            entries.append(("edge_label", "edge: ∂node/∂input (formula, value)",
                            {"shape": "plaintext", "fontcolor": "#444444"}))
        if self.stepping:
            entries.append(("highlight", "this parameter's update" if self.updating else "this step's node",
                            {**STYLES["computed"], **HIGHLIGHT}))
            if not self.updating:
                entries.append(("touched", "gradient just updated", {**STYLES["computed"], **TOUCHED}))
        with dot.subgraph(name="cluster_legend") as box:
            box.attr(label="legend", style="rounded", color="#cccccc", fontsize=LEGEND_FONT)
            for name, text, attrs in entries:
                box.node(f"legend_{name}", label=dot_string(text),
                         **{**attrs, "fontsize": LEGEND_FONT, "class": f"legend legend-{name}"})
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


DRAW_OPTIONS = ("rankdir", "number_format", "color_grads", "clusters", "legend", "max_nodes", "highlight",
                "edge_labels")


def drawing(output: Value | Graph, caller: str, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
            color_grads: bool = False, clusters: bool = True, legend: bool = True,
            max_nodes: int = DEFAULT_MAX_NODES, highlight: Value | Derivation | None = None,
            edge_labels: bool = False) -> graphviz.Digraph:
    """`draw`, with errors naming `caller`."""
    graph = as_graph(output, caller)
    fmt = number_formatter(number_format, f"{caller} number_format")
    max_nodes = check_options(caller, rankdir, max_nodes, color_grads=color_grads, clusters=clusters,
                              legend=legend, edge_labels=edge_labels)
    paths = paths_of(graph, highlight, caller)
    grads = {node: fmt(node.grad) for node in graph.nodes}
    picture = _Drawing(graph, fmt, grads, rankdir=rankdir, clusters=clusters, legend=legend,
                       max_nodes=max_nodes,
                       gradient_of={node: node.grad for node in graph.nodes} if color_grads else None,
                       paths=paths,
                       edge_labels=edge_texts(graph, nearest(graph, max_nodes), fmt) if edge_labels else None)
    return picture.digraph()


def draw(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
         color_grads: bool = False, clusters: bool = True, legend: bool = True,
         max_nodes: int = DEFAULT_MAX_NODES, highlight: Value | Derivation | None = None,
         edge_labels: bool = False) -> graphviz.Digraph:
    """The graph that computed `output` as a `graphviz.Digraph`: each Value's name, data and grad.

    Each node shows its stored `.grad` (call `.backward()` first to see gradients). Parameters,
    inputs and constants have their own styles (see the legend); op nodes carry the op table's
    symbol; a relu with a non-positive input is marked "no grad". `number_format` is a number of
    decimals or a function float -> str (default: the lecture's 9 decimals, small numbers never
    shown as 0). `color_grads` fills nodes and colours edges by gradient sign (blue +, red −) and
    size. `clusters` groups an nn model's neurons and layers by their parameter labels. Beyond
    `max_nodes` Values only those nearest the output are drawn, with a note saying so. A label's
    control characters, lone surrogates and reordering marks are drawn as escapes (`a\\x00b`).

    `highlight` marks the paths from the output down to a node: a Value of the graph (every path
    to it, as the chain rule sums them) or a Derivation from `autodiff.explain` (its nodes and
    edges); nodes and edges on them get a violet border, the rest are greyed but readable.
    `edge_labels` writes each edge's local derivative ∂node/∂input on it: its number, below its
    formula when that is short (`out_o1(1 − out_o1)` / `= 0.186815602`).

    >>> from autodiff import Value
    >>> x = Value(3.0, label='x')
    >>> y = x * x
    >>> y.backward()
    >>> 'grad 6' in draw(y).source
    True
    >>> w = Value(0.5, label='w')
    >>> z = w * y
    >>> 'class="input on-path"' in draw(z, highlight=x).source
    True
    """
    return drawing(output, "draw()", rankdir=rankdir, number_format=number_format, color_grads=color_grads,
                   clusters=clusters, legend=legend, max_nodes=max_nodes, highlight=highlight,
                   edge_labels=edge_labels)
