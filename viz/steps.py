"""The backward pass one step at a time: a drawing per step of `Graph.backward()`, with its arithmetic.

In the frame of step k the node whose gradient is passed on is highlighted, as are the edges it
flows along; the parents it just updated are marked; every gradient the sweep has reached so far is
shown (marked "(so far)" while more contributions are still to come) and the rest are blank. All
frames of one graph have the same layout: each box is as wide as its widest text in any frame.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import graphviz

from autodiff import Constant, Graph, Step, Value, format_number

from .dot import DEFAULT_MAX_NODES, NumberFormat, _Drawing, as_graph, check_options, number_formatter
from .files import DotNotFoundError, check_format, run_dot_many, write_atomic

PARTIAL = " (so far)"
_POINTS_PER_CHAR = 6.6      # Helvetica 11 pt averages about 6.1 pt a character; a little to spare


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture of the stepper: its drawing, its caption and the name of the highlighted node."""

    digraph: graphviz.Digraph
    caption: str
    node_name: str          # '' for the final frame, which highlights nothing


def expression(graph: Graph, node: Value) -> str:
    """How the caption writes the op that made a node: 'w5 × out_h1', 'σ(net_o1)', 'Σ(n3, n6, b1)'."""
    refs = [graph.ref(p) for p in node.parents]
    symbol = node._op.symbol
    if node._op.arity == 2:
        return f"{refs[0]} {symbol} {refs[1]}"
    if node.op == "neg":
        return f"−{refs[0]}"
    if node.op == "abs":
        return f"|{refs[0]}|"
    return f"{symbol}({', '.join(refs)})"


def caption(graph: Graph, step: Step, fmt: Callable[[float], str] = format_number) -> str:
    """The arithmetic of one step: the node and its gradient, then one `∂E/∂p += g × local = c` per parent.

    Constants get no line: no gradient is meant for them.
    """
    lines = [f"{step.node_name} = {expression(graph, step.node)}     "
             f"∂{step.output_name}/∂{step.node_name} = {fmt(step.grad)}"]
    for term in step.terms:
        if not isinstance(term.parent, Constant):
            lines.append(f"∂{term.output_name}/∂{term.parent_name} += {fmt(term.grad)} × {fmt(term.local)}"
                         f" = {fmt(term.contribution)}")
    return "\n".join(lines)


def sweep(graph: Graph) -> list[Step]:
    """The steps of the backward pass, leaving every node's .grad as it was before."""
    saved = [node.grad for node in graph.nodes]
    try:
        return graph.backward()
    finally:
        for node, grad in zip(graph.nodes, saved):
            node.grad = grad


def frames(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
           clusters: bool = True, legend: bool = True, max_nodes: int = DEFAULT_MAX_NODES,
           captions_in_drawing: bool = True, final: bool = False) -> list[Frame]:
    """One Frame per backward step (and, with `final`, one more with every gradient and no highlight)."""
    fmt = number_formatter(number_format)
    check_options(rankdir, max_nodes, clusters=clusters, legend=legend)
    graph = as_graph(output)
    steps = sweep(graph)
    waiting = Counter(parent for node in graph.nodes for parent in node.parents)
    total: dict[Value, float] = {graph.output: 1.0}
    shown: list[dict[Value, str]] = []
    widest = {node: max(len(graph.name(node)), len("data " + fmt(node.data)))
              for node in graph.nodes if not isinstance(node, Constant)}
    for step in steps:
        for term in step.terms:
            total[term.parent] = total.get(term.parent, 0.0) + term.contribution
            waiting[term.parent] -= 1
        texts = {node: fmt(g) + (PARTIAL if waiting[node] else "") for node, g in total.items()}
        for node, text in texts.items():
            if node in widest:
                widest[node] = max(widest[node], len("grad " + text))
        shown.append(texts)
    width = {node: chars * _POINTS_PER_CHAR / 72 + 0.2 for node, chars in widest.items()}

    def picture(grads, highlight, touched, text):
        return _Drawing(graph, fmt, grads, rankdir=rankdir, clusters=clusters, legend=legend,
                        max_nodes=max_nodes, stepping=True, highlight=highlight, touched=frozenset(touched),
                        caption=text if captions_in_drawing else "", min_width=width).digraph()

    result = []
    for step, grads in zip(steps, shown):
        text = caption(graph, step, fmt)
        touched = [t.parent for t in step.terms if not isinstance(t.parent, Constant)]
        result.append(Frame(picture(grads, step.node, touched, text), text, step.node_name))
    if final:
        text = (f"Backward pass done in {len(steps)} steps: every gradient ∂{graph.name(graph.output)}/∂· "
                f"is filled in.")
        grads = {node: fmt(g) for node, g in total.items()}
        result.append(Frame(picture(grads, None, (), text), text, ""))
    return result


def backward_frames(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
                    clusters: bool = True, legend: bool = True,
                    max_nodes: int = DEFAULT_MAX_NODES) -> list[graphviz.Digraph]:
    """One `graphviz.Digraph` per step of the backward pass, captioned with that step's arithmetic.

    The stored gradients of the graph are left as they were. Options are those of `viz.draw`.

    >>> from autodiff import Value
    >>> x = Value(2.0, label='x')
    >>> y = x * 3
    >>> y.label = 'y'
    >>> [f.graph_attr['label'].split('\\\\l')[1] for f in backward_frames(y)]
    ['∂y/∂x += 1 × 3 = 3']
    """
    return [frame.digraph for frame in frames(output, rankdir=rankdir, number_format=number_format,
                                              clusters=clusters, legend=legend, max_nodes=max_nodes)]


def save_frames(output: Value | Graph, folder: str | os.PathLike, format: str = "svg",
                **draw_options) -> list[Path]:
    """Write the frames of `backward_frames` as step_001.svg, step_002.svg, ... in `folder`; return the paths.

    `format` is 'svg', 'png' or 'pdf'; the folder is created if needed. Without Graphviz's `dot`,
    the DOT sources (step_001.dot, ...) are written instead and DotNotFoundError is raised.
    """
    format = check_format(format)
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a str or os.PathLike, got {type(folder).__name__} {folder!r}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"cannot write frames into {os.fspath(folder)!r}: it is a file, not a folder")
    drawings = backward_frames(output, **draw_options)
    digits = max(3, len(str(len(drawings))))
    names = [f"step_{k:0{digits}d}" for k in range(1, len(drawings) + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    sources = [d.source for d in drawings]
    try:
        rendered = run_dot_many(sources, format)
    except DotNotFoundError:
        for name, source in zip(names, sources):
            write_atomic(folder / f"{name}.dot", source)
        raise DotNotFoundError(folder, f"the DOT sources of the {len(names)} frames were") from None
    paths = [folder / f"{name}.{format}" for name in names]
    for path, data in zip(paths, rendered):
        write_atomic(path, data)
    return paths
