"""The backward pass one step at a time: a drawing per step of `Graph.backward()`, with its arithmetic.

In the frame of step k the node whose gradient is passed on is highlighted, as are the edges it
flows along; the parents it just updated are marked; every gradient the sweep has reached so far is
shown (marked "(so far)" while more contributions are still to come) and the rest are blank. Each
frame's caption is the step as `Step` and `Term` write it: the node and the gradient reaching it,
then per parent the local derivative with its formula and number and the chain rule's update
(`∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602   ∂E/∂net_o1 += 0.74136507 × 0.186815602 =
0.138498562`). The stepper may end with one frame per parameter showing its gradient-descent update.
All frames of one graph have the same layout: each box is as wide as its widest text in any frame.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import graphviz

from autodiff import Constant, Derivation, Graph, Parameter, Step, Value, format_number
from autodiff.arguments import check_int, check_real, describe
from autodiff.notation import Name, Num, atomic, local_formulas, partial, render

from .dot import (DEFAULT_MAX_NODES, EDGE_FORMULA_LIMIT, NumberFormat, Paths, _Drawing, _locals, as_graph,
                  check_options, edge_texts, nearest, number_formatter, paths_of)
from .files import DotNotFoundError, check_format, checked_folder, make_folder, run_dot_many, write_all
from .text import dot_html, dot_string, visible

PARTIAL = " (so far)"
_POINTS_PER_CHAR = 6.6      # Helvetica 11 pt averages about 6.1 pt a character; a little to spare

# The limit on what stepping through a graph may draw, in estimated bytes of DOT (Graphviz's input)
# over all frames; time, memory and the stepper page grow with it. Measured on 2 cores: the lecture's
# network is 0.4 MB (24 frames; a 1.4 MB page in 0.5 s), a 2-4-4-1 MLP's loss 1.7 MB (6 MB page,
# 1 s), a 2-8-8-1 MLP's 11 MB (41 MB page, 7 s, 335 MB of memory). A network's page is about 3.7
# times its DOT; where many edges join the same two nodes it is up to 17 times (an edge is 18 bytes
# of DOT but about 450 of SVG), which the limit does not model. The default keeps a page under about 40 MB and 10 s; issue 10's 1,000-link chain (over
# 400 MB) is refused in about 10 ms.
DEFAULT_MAX_BYTES = 10_000_000
MAX_BYTES_LIMIT = 10**12

# What each part of a frame adds to its DOT besides the text it shows, read off the lecture's frames.
_FRAME_BYTES = 2_400            # the graph's header and the legend
_BOX_BYTES = 240                # a Value's box: its table, class, colours, width
_CONSTANT_BYTES = 112
_OP_BYTES = 135                 # the op's circle
_EDGE_BYTES = 18
_PATH_NODE_BYTES = 30           # a box or an op on or off the marked paths: its border, class, font colour
_PATH_EDGE_BYTES = 40
_PATH_LEGEND_BYTES = 260        # the legend's two entries for the paths, besides the text
_EDGE_LABEL_BYTES = 40          # an edge's label: its font and colour, besides the text
_EDGE_LABEL_LEGEND_BYTES = 160
_UPDATE_ARROW_BYTES = 5         # ' → ' in a box whose parameter is updated

# The op table's formulas are measured with these names in place of y and the inputs (letters no
# formula uses); the names of the graph then go where they stand.
_STAND_INS = ("Ж", "Щ", "Ю", "Э")
_STAND_IN = re.compile("[" + "".join(_STAND_INS) + "]")


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
    """The bytes `text` takes in a DOT string: as `dot_string` writes it, with its quotes escaped."""
    return len(dot_string(text).encode()) + text.count('"')


class _Formulas:
    """Roughly the formula of each local derivative, without printing it: the op table's formula printed
    once per op (and per set of constant inputs) with stand-in names, the graph's names then put in."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.printed: dict[tuple, list[str]] = {}

    def __call__(self, node: Value, k: int) -> str:
        """∂node/∂(parent k)'s formula in names, about as `Term.formula` prints it; '' if it is a number."""
        op = node._op
        if op.arity is None or op.arity >= len(_STAND_INS):   # the n-ary sum: every partial is 1
            return ""
        key = (op.name, tuple(p.data if isinstance(p, Constant) else None for p in node.parents))
        printed = self.printed.get(key)
        if printed is None:
            inputs = [Num(p.data) if isinstance(p, Constant) else Name(_STAND_INS[1 + i])
                      for i, p in enumerate(node.parents)]
            printed = self.printed[key] = [render(f) for f in local_formulas(op, Name(_STAND_INS[0]), inputs)]
        template = printed[k]
        if not _STAND_IN.search(template):
            return ""
        alone = len(template) == 1
        names = {_STAND_INS[0]: self.graph.name(node)}
        names.update((_STAND_INS[1 + i], self.graph.ref(p)) for i, p in enumerate(node.parents))
        return _STAND_IN.sub(lambda m: names[m[0]] if alone or atomic(names[m[0]]) else f"({names[m[0]]})",
                             template)


def _partial_length(top: str, bottom: str) -> int:
    return _length(partial(top, bottom))


def estimate(graph: Graph, fmt: Callable[[float], str], max_nodes: int, final: bool, *,
             paths: Paths | None = None, edge_labels: bool = False, updates: tuple[Value, ...] = ()) -> Size:
    """The frames, drawn Values per frame and bytes of DOT that stepping through `graph` takes, without drawing.

    Each frame draws the same nodes (the `max_nodes` nearest the output), so its size is known from
    their names and numbers; each gradient is taken to be as long as its node's data, plus " (so far)".
    A caption's formulas are the op table's, measured with stand-in names (see `_Formulas`).
    `updates` are the parameters whose update frames follow the final frame.
    """
    shown = nearest(graph, max_nodes)
    kept = set(shown)
    formulas = _Formulas(graph)
    frame = _FRAME_BYTES
    if paths is not None:
        frame += _PATH_LEGEND_BYTES + _length(paths.legend)
    if edge_labels:
        frame += _EDGE_LABEL_LEGEND_BYTES
    for node in shown:
        number = _length(fmt(node.data))
        if isinstance(node, Constant):
            frame += _CONSTANT_BYTES + number
            continue
        frame += _BOX_BYTES + len(dot_html(graph.name(node)).encode()) + 2 * number
        if paths is not None:
            frame += _PATH_NODE_BYTES
        if node._op is None:
            continue
        edges = 1 + sum(1 for parent in node.parents if parent in kept)
        frame += _OP_BYTES + _EDGE_BYTES * edges
        if paths is not None:
            frame += _PATH_NODE_BYTES + _PATH_EDGE_BYTES * edges
        if edge_labels:
            for k, (parent, local) in enumerate(zip(node.parents, _locals(node))):
                if parent in kept and not isinstance(parent, Constant):
                    formula = formulas(node, k)
                    frame += _EDGE_LABEL_BYTES + _length(fmt(local))
                    if formula and len(formula) <= EDGE_FORMULA_LIMIT:
                        frame += _length(formula) + 4
    # each update frame shows every parameter updated so far as 'data old → new'
    arrows = sum((len(updates) - k) * (_length(fmt(parameter.data)) + _UPDATE_ARROW_BYTES)
                 for k, parameter in enumerate(updates))
    steps = sum(1 for node in graph.nodes if node._op is not None)
    frames = steps + bool(final) + len(updates)
    return Size(frames, sum(1 for node in shown if not isinstance(node, Constant)),
                frames * frame + arrows + caption_bytes(graph, fmt, updates, formulas))


def caption_bytes(graph: Graph, fmt: Callable[[float], str], updates: tuple[Value, ...] = (),
                  formulas: _Formulas | None = None) -> int:
    """About how many bytes the captions of stepping through `graph` take (with update frames for
    `updates`), without stepping: gradients are taken to be as long as their node's data."""
    formulas = formulas or _Formulas(graph)
    captions = 0
    output = graph.name(graph.output)
    for node in graph.nodes:
        if node._op is None:
            continue
        name = graph.name(node)
        grad = _length(fmt(node.data))
        definition = graph.definition(node)
        captions += (_partial_length(output, name) + _length(name) + grad + 8
                     + (_length(definition) + 3 if definition != name else 0))
        for k, (parent, local) in enumerate(zip(node.parents, _locals(node))):
            if isinstance(parent, Constant):
                continue
            formula = formulas(node, k)
            local = _length(fmt(local))
            captions += (_partial_length(name, graph.name(parent)) + _partial_length(output, graph.name(parent))
                         + 2 * local + grad + _length(fmt(parent.data)) + 25
                         + (_length(formula) + 3 if formula else 0))
    for parameter in updates:
        name = graph.name(parameter)
        number = _length(fmt(parameter.data))
        captions += 2 * _length(name) + _partial_length(output, name) + 4 * number + 30
    return captions


def check_size(graph: Graph, fmt: Callable[[float], str], max_nodes: int, final: bool, max_bytes: int,
               caller: str, advice: str = LIBRARY_ADVICE, **options) -> Size:
    """The Size of stepping through `graph`; TooLarge if its estimated bytes exceed `max_bytes`.

    `options` are those of `estimate` (paths, edge_labels, updates)."""
    size = estimate(graph, fmt, max_nodes, final, **options)
    if size.bytes > max_bytes:
        raise TooLarge(caller, size, max_bytes, advice)
    return size


def check_max_bytes(max_bytes: Any, name: str) -> int:
    """The size limit given as max_bytes, checked: an int from 1 to 10**12."""
    return check_int(max_bytes, name, low=1, high=MAX_BYTES_LIMIT)


def check_lr(lr: Any, name: str) -> float | None:
    """A learning rate for the stepper's update frames: None (no updates) or a finite number > 0."""
    if lr is None:
        return None
    return check_real(lr, name, low=0.0, low_open=True)


def updated(graph: Graph) -> tuple[Value, ...]:
    """What gradient descent updates: the graph's Parameters, or, if it has none, every leaf that is not a
    Constant (an expression's variables); in the order of their names, numbers counted (w2 before w10)."""
    leaves = [node for node in graph.leaves if not isinstance(node, Constant)]
    parameters = [node for node in leaves if isinstance(node, Parameter)] or leaves

    def natural(node: Value) -> list:
        return [(0, int(part), "") if "0" <= part[0] <= "9" else (1, 0, part)
                for part in re.split("([0-9]+)", graph.name(node)) if part]

    return tuple(sorted(parameters, key=natural))


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture of the stepper: its drawing, its caption, the highlighted node's name, and its kind."""

    digraph: graphviz.Digraph
    caption: str
    node_name: str          # '' for the final frame, which highlights nothing
    kind: str = "step"      # 'step', 'final' or 'update'
    completes: tuple[str, ...] = ()     # the nodes whose gradient is complete once this step is done


def caption_lines(graph: Graph, step: Step, fmt: Callable[[float], str]) -> list[str]:
    """The lines of `caption`."""
    lines = [step.head(fmt)]
    lines.extend(f"    {term.derivative(fmt)}   {term.update(fmt)}" for term in step.terms
                 # no gradient is meant for a number written in the expression
                 if not isinstance(term.parent, Constant))
    return lines


def caption(graph: Graph, step: Step, fmt: NumberFormat = format_number) -> str:
    """The arithmetic of one step: the node and its gradient, then per parent its local derivative (formula
    and number) and the chain rule's `∂E/∂p += g × local = c`.

    Constants get no line: no gradient is meant for them. `fmt` is a number of decimals or a
    function float -> str, as `number_format` of `viz.draw`. With the default `fmt` it is `str(step)`.

    >>> from autodiff import Value, trace
    >>> net = Value(0.5, label='net')
    >>> out = net.sigmoid(); out.label = 'out'
    >>> graph = trace(out)
    >>> print(caption(graph, graph.backward()[0], 4))
    out = σ(net): ∂out/∂out = 1
        ∂out/∂net = out(1 − out) = 0.235   ∂out/∂net += 1 × 0.235 = 0.235
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"caption() graph must be an autodiff Graph (from autodiff.trace), got {describe(graph)}")
    if not isinstance(step, Step):
        raise TypeError(f"caption() step must be an autodiff Step (from Graph.backward()), got {describe(step)}")
    if step.node not in graph.names:
        raise ValueError(f"caption() step is a step of another graph: its node {visible(step.node_name)!r} "
                         f"is not in this graph")
    return "\n".join(caption_lines(graph, step, number_formatter(fmt, "caption() fmt")))


def update_caption(graph: Graph, parameter: Value, gradient: float, lr: float,
                   fmt: Callable[[float], str]) -> tuple[str, float]:
    """'w5⁺ = w5 − α·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648' and the new value."""
    name = graph.name(parameter)
    shown = name if atomic(name) else f"({name})"
    new = parameter.data - lr * gradient
    return (f"{shown}⁺ = {shown} − α·{partial(graph.name(graph.output), name)} = "
            f"{fmt(parameter.data)} − {fmt(lr)} × {fmt(gradient)} = {fmt(new)}", new)


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
           highlight: Value | Derivation | None = None, edge_labels: bool = False,
           captions_in_drawing: bool = True, final: bool = False, lr: float | None = None) -> list[Frame]:
    """One Frame per backward step (and, with `final`, one more with every gradient and no highlight; with a
    learning rate `lr`, one more per parameter with its update).

    Every argument is checked, and the size against `max_bytes`, before anything is drawn;
    errors name `caller`.
    """
    graph = as_graph(output, caller)
    fmt = number_formatter(number_format, f"{caller} number_format")
    max_nodes = check_options(caller, rankdir, max_nodes, clusters=clusters, legend=legend, edge_labels=edge_labels)
    max_bytes = check_max_bytes(max_bytes, f"{caller} max_bytes")
    lr = check_lr(lr, f"{caller} lr")
    paths = paths_of(graph, highlight, caller)
    updates = updated(graph) if lr is not None else ()
    check_size(graph, fmt, max_nodes, final or bool(updates), max_bytes, caller, paths=paths,
               edge_labels=edge_labels, updates=updates)
    steps = sweep(graph)
    waiting = Counter(parent for node in graph.nodes for parent in node.parents)
    total: dict[Value, float] = {graph.output: 1.0}
    shown: list[dict[Value, str]] = []
    completes: list[tuple[str, ...]] = []
    widest = {node: max(len(visible(graph.name(node))), len("data " + visible(fmt(node.data))))
              for node in graph.nodes if not isinstance(node, Constant)}
    for step in steps:
        done = []
        for term in step.terms:
            total[term.parent] = total.get(term.parent, 0.0) + term.contribution
            waiting[term.parent] -= 1
            if not waiting[term.parent] and not isinstance(term.parent, Constant):
                done.append(visible(term.parent_name))
        completes.append(tuple(done))
        texts = {node: fmt(g) + (PARTIAL if waiting[node] else "") for node, g in total.items()}
        for node, text in texts.items():
            if node in widest:
                widest[node] = max(widest[node], len("grad " + visible(text)))
        shown.append(texts)
    if completes:   # ∂E/∂E = 1 holds from the first step on
        completes[0] = (visible(graph.name(graph.output)), *completes[0])
    news = {}
    for parameter in updates:
        text, new = update_caption(graph, parameter, total.get(parameter, 0.0), lr, fmt)
        news[parameter] = (text, f"{fmt(parameter.data)} → {fmt(new)}")
        widest[parameter] = max(widest[parameter], len("data " + visible(news[parameter][1])))
    width = {node: chars * _POINTS_PER_CHAR / 72 + 0.2 for node, chars in widest.items()}
    labels = edge_texts(graph, nearest(graph, max_nodes), fmt) if edge_labels else None

    def picture(grads, current, touched, text, data=None, updating=False):
        return _Drawing(graph, fmt, grads, rankdir=rankdir, clusters=clusters, legend=legend,
                        max_nodes=max_nodes, stepping=True, current=current, touched=frozenset(touched),
                        caption=text if captions_in_drawing else "", min_width=width, paths=paths,
                        edge_labels=labels, data=data or {}, updating=updating).digraph()

    result = []
    for step, grads, done in zip(steps, shown, completes):
        # each line made visible on its own, so a newline inside a label cannot start a caption line
        text = "\n".join(visible(line) for line in caption_lines(graph, step, fmt))
        touched = [t.parent for t in step.terms if not isinstance(t.parent, Constant)]
        result.append(Frame(picture(grads, step.node, touched, text), text, visible(step.node_name), "step", done))
    if final or updates:
        text = (f"Backward pass done in {len(steps)} steps: every gradient "
                f"∂{visible(graph.name(graph.output))}/∂· is filled in.")
        grads = {node: fmt(g) for node, g in total.items()}
        result.append(Frame(picture(grads, None, (), text), text, "", "final"))
        data = {}
        for parameter in updates:
            text, data[parameter] = news[parameter]
            result.append(Frame(picture(grads, parameter, (), visible(text), dict(data), True), visible(text),
                                visible(graph.name(parameter)), "update"))
    return result


def backward_frames(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
                    clusters: bool = True, legend: bool = True, max_nodes: int = DEFAULT_MAX_NODES,
                    max_bytes: int = DEFAULT_MAX_BYTES, highlight: Value | Derivation | None = None,
                    edge_labels: bool = False) -> list[graphviz.Digraph]:
    """One `graphviz.Digraph` per step of the backward pass, captioned with that step's arithmetic.

    The caption is the step as `str(step)` writes it: the node and its gradient, then per parent the
    local derivative with its formula and number, and the chain rule's update. The stored gradients
    of the graph are left as they were. Options are those of `viz.draw` (`highlight` marks its
    paths in every frame), and `max_bytes`: a graph whose frames would take more than this many
    bytes of DOT together (estimated before anything is drawn; 10 MB by default) is refused with a
    ValueError.

    >>> from autodiff import Value
    >>> x = Value(2.0, label='x')
    >>> y = (x * x).tanh()
    >>> y.label = 'y'
    >>> print(backward_frames(y, number_format=4)[0].graph_attr['label'].replace('\\\\l', '\\n'))
    y = tanh(x·x): ∂y/∂y = 1
        ∂y/∂(x·x) = 1 − y² = 0.0013   ∂y/∂(x·x) += 1 × 0.0013 = 0.0013
    <BLANKLINE>
    """
    return [frame.digraph for frame in frames(output, caller="backward_frames()", rankdir=rankdir,
                                              number_format=number_format, clusters=clusters, legend=legend,
                                              max_nodes=max_nodes, max_bytes=max_bytes, highlight=highlight,
                                              edge_labels=edge_labels)]


FRAME_OPTIONS = ("rankdir", "number_format", "clusters", "legend", "max_nodes", "max_bytes", "highlight",
                 "edge_labels")


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
