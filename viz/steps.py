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
from typing import Any, Callable

import graphviz

from autodiff import Constant, Graph, Step, Value, format_number
from autodiff.arguments import check_int, describe

from .dot import DEFAULT_MAX_NODES, NumberFormat, _Drawing, as_graph, check_options, nearest, number_formatter
from .files import DotNotFoundError, check_format, checked_folder, make_folder, run_dot_many, write_all
from .text import dot_html, visible

PARTIAL = " (so far)"
_POINTS_PER_CHAR = 6.6      # Helvetica 11 pt averages about 6.1 pt a character; a little to spare

# The limit on what stepping through a graph may draw, in estimated bytes of DOT (Graphviz's input)
# over all frames; time, memory and the stepper page grow with it. Measured on 2 cores: the lecture's
# network is 0.4 MB (24 frames; a 1.4 MB page in 0.5 s), a 2-4-4-1 MLP's loss 1.7 MB (6 MB page,
# 1 s), a 2-8-8-1 MLP's 11 MB (41 MB page, 7 s, 335 MB of memory). A page is about 3.7 times its
# DOT. The default keeps a page under about 40 MB and 10 s; issue 10's 1,000-link chain (over
# 400 MB) is refused in about 10 ms.
DEFAULT_MAX_BYTES = 10_000_000
MAX_BYTES_LIMIT = 10**12

# What each part of a frame adds to its DOT besides the text it shows, read off the lecture's frames.
_FRAME_BYTES = 2_400            # the graph's header and the legend
_BOX_BYTES = 240                # a Value's box: its table, class, colours, width
_CONSTANT_BYTES = 112
_OP_BYTES = 135                 # the op's circle
_EDGE_BYTES = 18
_CAPTION_LINE_BYTES = 30        # '∂E/∂ += × = ' with its separators


@dataclass(frozen=True, slots=True)
class Size:
    """What stepping through a graph would draw: frames, Value boxes drawn in each, estimated bytes of DOT."""

    frames: int
    nodes: int
    bytes: int


def megabytes(count: int) -> str:
    """A byte count for a message: '967 MB', '1.4 MB', '0.02 MB'."""
    mb = count / 1e6
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:.1f} MB" if mb >= 0.1 else f"{mb:.2f} MB"


class TooLarge(ValueError):
    """Stepping through a graph would draw more than its limit allows; the message says what to do instead."""

    def __init__(self, caller: str, size: Size, limit: int, advice: str):
        self.size, self.limit = size, limit
        super().__init__(f"{caller}: stepping through this graph draws {size.frames:,} frames of "
                         f"{size.nodes:,} nodes each, about {megabytes(size.bytes)} of Graphviz input, more "
                         f"than the limit of {megabytes(limit)}; {advice}")


LIBRARY_ADVICE = ("draw it once without steps (viz.draw or viz.render), step through a smaller graph, "
                  "or raise the limit with max_bytes=N")


def _length(text: str) -> int:
    return len(visible(text).encode())


def estimate(graph: Graph, fmt: Callable[[float], str], max_nodes: int, final: bool) -> Size:
    """The frames, drawn Values per frame and bytes of DOT that stepping through `graph` takes, without drawing.

    Each frame draws the same nodes (the `max_nodes` nearest the output), so its size is known from
    their names and numbers; each gradient is taken to be as long as its node's data, plus " (so far)".
    """
    shown = nearest(graph, max_nodes)
    kept = set(shown)
    frame = _FRAME_BYTES
    for node in shown:
        number = _length(fmt(node.data))
        if isinstance(node, Constant):
            frame += _CONSTANT_BYTES + number
            continue
        frame += _BOX_BYTES + len(dot_html(graph.name(node)).encode()) + 2 * number
        if node._op is not None:
            frame += _OP_BYTES + _EDGE_BYTES * (1 + sum(1 for parent in node.parents if parent in kept))
    steps, captions = 0, 0
    output = _length(graph.name(graph.output))
    for node in graph.nodes:
        if node._op is None:
            continue
        steps += 1
        captions += _CAPTION_LINE_BYTES + 2 * _length(graph.name(node)) + output + 20
        for parent in node.parents:
            captions += _CAPTION_LINE_BYTES + output + 2 * _length(graph.ref(parent)) + 33
    frames = steps + bool(final)
    return Size(frames, sum(1 for node in shown if not isinstance(node, Constant)), frames * frame + captions)


def check_size(graph: Graph, fmt: Callable[[float], str], max_nodes: int, final: bool, max_bytes: int,
               caller: str, advice: str = LIBRARY_ADVICE) -> Size:
    """The Size of stepping through `graph`; TooLarge if its estimated bytes exceed `max_bytes`."""
    size = estimate(graph, fmt, max_nodes, final)
    if size.bytes > max_bytes:
        raise TooLarge(caller, size, max_bytes, advice)
    return size


def check_max_bytes(max_bytes: Any, name: str) -> int:
    """The size limit given as max_bytes, checked: an int from 1 to 10**12."""
    return check_int(max_bytes, name, low=1, high=MAX_BYTES_LIMIT)


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


def caption_lines(graph: Graph, step: Step, fmt: Callable[[float], str]) -> list[str]:
    """The lines of `caption`."""
    lines = [f"{step.node_name} = {expression(graph, step.node)}     "
             f"∂{step.output_name}/∂{step.node_name} = {fmt(step.grad)}"]
    for term in step.terms:
        if not isinstance(term.parent, Constant):
            lines.append(f"∂{term.output_name}/∂{term.parent_name} += {fmt(term.grad)} × {fmt(term.local)}"
                         f" = {fmt(term.contribution)}")
    return lines


def caption(graph: Graph, step: Step, fmt: NumberFormat = format_number) -> str:
    """The arithmetic of one step: the node and its gradient, then one `∂E/∂p += g × local = c` per parent.

    Constants get no line: no gradient is meant for them. `fmt` is a number of decimals or a
    function float -> str, as `number_format` of `viz.draw`.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"caption() graph must be an autodiff Graph (from autodiff.trace), got {describe(graph)}")
    if not isinstance(step, Step):
        raise TypeError(f"caption() step must be an autodiff Step (from Graph.backward()), got {describe(step)}")
    if step.node not in graph.names:
        raise ValueError(f"caption() step is a step of another graph: its node {visible(step.node_name)!r} "
                         f"is not in this graph")
    return "\n".join(caption_lines(graph, step, number_formatter(fmt, "caption() fmt")))


def sweep(graph: Graph) -> list[Step]:
    """The steps of the backward pass, leaving every node's .grad as it was before."""
    saved = [node.grad for node in graph.nodes]
    try:
        return graph.backward()
    finally:
        for node, grad in zip(graph.nodes, saved):
            node.grad = grad


def frames(output: Value | Graph, *, caller: str, rankdir: str = "LR",
           number_format: NumberFormat = format_number, clusters: bool = True, legend: bool = True,
           max_nodes: int = DEFAULT_MAX_NODES, max_bytes: int = DEFAULT_MAX_BYTES,
           captions_in_drawing: bool = True, final: bool = False) -> list[Frame]:
    """One Frame per backward step (and, with `final`, one more with every gradient and no highlight).

    Every argument is checked, and the size against `max_bytes`, before anything is drawn;
    errors name `caller`.
    """
    graph = as_graph(output, caller)
    fmt = number_formatter(number_format, f"{caller} number_format")
    max_nodes = check_options(caller, rankdir, max_nodes, clusters=clusters, legend=legend)
    max_bytes = check_max_bytes(max_bytes, f"{caller} max_bytes")
    check_size(graph, fmt, max_nodes, final, max_bytes, caller)
    steps = sweep(graph)
    waiting = Counter(parent for node in graph.nodes for parent in node.parents)
    total: dict[Value, float] = {graph.output: 1.0}
    shown: list[dict[Value, str]] = []
    widest = {node: max(len(visible(graph.name(node))), len("data " + visible(fmt(node.data))))
              for node in graph.nodes if not isinstance(node, Constant)}
    for step in steps:
        for term in step.terms:
            total[term.parent] = total.get(term.parent, 0.0) + term.contribution
            waiting[term.parent] -= 1
        texts = {node: fmt(g) + (PARTIAL if waiting[node] else "") for node, g in total.items()}
        for node, text in texts.items():
            if node in widest:
                widest[node] = max(widest[node], len("grad " + visible(text)))
        shown.append(texts)
    width = {node: chars * _POINTS_PER_CHAR / 72 + 0.2 for node, chars in widest.items()}

    def picture(grads, highlight, touched, text):
        return _Drawing(graph, fmt, grads, rankdir=rankdir, clusters=clusters, legend=legend,
                        max_nodes=max_nodes, stepping=True, highlight=highlight, touched=frozenset(touched),
                        caption=text if captions_in_drawing else "", min_width=width).digraph()

    result = []
    for step, grads in zip(steps, shown):
        # each line made visible on its own, so a newline inside a label cannot start a caption line
        text = "\n".join(visible(line) for line in caption_lines(graph, step, fmt))
        touched = [t.parent for t in step.terms if not isinstance(t.parent, Constant)]
        result.append(Frame(picture(grads, step.node, touched, text), text, visible(step.node_name)))
    if final:
        text = (f"Backward pass done in {len(steps)} steps: every gradient "
                f"∂{visible(graph.name(graph.output))}/∂· is filled in.")
        grads = {node: fmt(g) for node, g in total.items()}
        result.append(Frame(picture(grads, None, (), text), text, ""))
    return result


def backward_frames(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
                    clusters: bool = True, legend: bool = True, max_nodes: int = DEFAULT_MAX_NODES,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> list[graphviz.Digraph]:
    """One `graphviz.Digraph` per step of the backward pass, captioned with that step's arithmetic.

    The stored gradients of the graph are left as they were. Options are those of `viz.draw`, and
    `max_bytes`: a graph whose frames would take more than this many bytes of DOT together
    (estimated before anything is drawn; 10 MB by default) is refused with a ValueError.

    >>> from autodiff import Value
    >>> x = Value(2.0, label='x')
    >>> y = x * 3
    >>> y.label = 'y'
    >>> [f.graph_attr['label'].split('\\\\l')[1] for f in backward_frames(y)]
    ['∂y/∂x += 1 × 3 = 3']
    """
    return [frame.digraph for frame in frames(output, caller="backward_frames()", rankdir=rankdir,
                                              number_format=number_format, clusters=clusters, legend=legend,
                                              max_nodes=max_nodes, max_bytes=max_bytes)]


FRAME_OPTIONS = ("rankdir", "number_format", "clusters", "legend", "max_nodes", "max_bytes")


def save_frames(output: Value | Graph, folder: str | os.PathLike, format: str = "svg",
                **options) -> list[Path]:
    """Write the frames of `backward_frames` as step_001.svg, step_002.svg, ... in `folder`; return the paths.

    `format` is 'svg', 'png' or 'pdf'; the folder is created if needed. `options` are those of
    `backward_frames` (`max_bytes` included). Every frame is written or none: if one write fails,
    those written before it are removed. Without Graphviz's `dot`, the DOT sources
    (step_001.dot, ...) are written instead and DotNotFoundError is raised.
    """
    unknown = sorted(set(options) - set(FRAME_OPTIONS))
    if unknown:
        raise TypeError(f"save_frames() got unknown options {', '.join(map(repr, unknown))}; "
                        f"the options are {', '.join(FRAME_OPTIONS)}")
    graph = as_graph(output, "save_frames()")
    folder = checked_folder(folder, "save_frames() folder")
    format = check_format(format, "save_frames() format")
    pictures = frames(graph, caller="save_frames()", **options)
    digits = max(3, len(str(len(pictures))))
    names = [f"step_{k:0{digits}d}" for k in range(1, len(pictures) + 1)]
    sources = [picture.digraph.source for picture in pictures]
    try:
        rendered = run_dot_many(sources, format)
    except DotNotFoundError:
        write_all([(folder / f"{name}.dot", source) for name, source in zip(names, sources)],
                  make_folder(folder))
        raise DotNotFoundError(folder, f"the DOT sources of the {len(names)} frames were") from None
    paths = [folder / f"{name}.{format}" for name in names]
    write_all(list(zip(paths, rendered)), make_folder(folder))
    return paths
