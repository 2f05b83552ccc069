"""The stepper: one self-contained HTML page to walk through the backward pass (no network, no files beside it).

`stepper(output)` makes the page and returns a `Stepper`, which a notebook shows inline (an
`<iframe srcdoc>`, sandboxed to run only its own script) and `.save(path)` writes; `save_stepper`
is the two in one call. The page's script moves between frames (buttons, arrow keys, a list of
steps, `#step=N` and `#node=NAME` in the address), keeps the current node in view, and never shows
text smaller than 8 CSS pixels: a drawing that would have to shrink further to fit the window is
shown at actual size and scrolls instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from autodiff import Derivation, Graph, Value, format_number

from .dot import DEFAULT_MAX_NODES, NumberFormat, as_graph
from .files import output_format, run_dot_many, writable_path, write_atomic
from .steps import DEFAULT_MAX_BYTES, Frame, frames
from .text import visible

SMALLEST_TEXT_PX = 8        # CSS pixels: no text of the page's drawings is ever shown smaller
OPTION_CHARS = 60           # characters of a node's name the list of steps shows
IFRAME_HEIGHT = (320, 800)  # CSS pixels: the inline stepper's height is its drawing's, within these

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1a202c; }
header { position: sticky; top: 0; z-index: 1; background: #f7fafc; border-bottom: 1px solid #cbd5e0;
         padding: 8px 12px; display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; }
button, select { font-size: 15px; padding: 4px 12px; }
select { max-width: 22em; }
#counter { font-variant-numeric: tabular-nums; min-width: 6em; text-align: center; font-weight: bold; }
.hint { color: #4a5568; font-size: 13px; }
#notice, #fitnote { color: #9c4221; font-size: 13px; }
#caption { margin: 8px 12px; font-size: 15px; line-height: 1.45; white-space: pre-wrap; max-height: 40vh;
           overflow: auto; }
.frame svg { max-width: calc(100% - 24px); height: auto; display: block; margin: 0 12px; }
main.actual { overflow-x: auto; }
main.actual .frame svg { max-width: none; }
"""

SCRIPT = """
"use strict";
(function () {
  const frames = Array.from(document.querySelectorAll("section.frame"));
  const counter = document.getElementById("counter");
  const caption = document.getElementById("caption");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  const zoom = document.getElementById("zoom");
  const jump = document.getElementById("jump");
  const notice = document.getElementById("notice");
  const fitnote = document.getElementById("fitnote");
  const header = document.querySelector("header");
  const main = document.getElementById("frames");
  // name -> the frame (counted from 1) at whose step that node's gradient is complete
  const completed = JSON.parse(document.getElementById("nodes").textContent);
  const SMALLEST_TEXT_PX = %(smallest)d;
  const MARGIN_PX = 24;     // the drawing's margins, from the style sheet
  let current = 0;
  let actualWanted = false;
  const smallestFont = new Map();

  // The smallest font size of a drawing, in its own units (dot writes one on every text).
  function smallestFontOf(svg) {
    if (!smallestFont.has(svg)) {
      let least = Infinity;
      svg.querySelectorAll("text").forEach(function (text) {
        const size = parseFloat(text.getAttribute("font-size"));
        if (size > 0 && size < least) { least = size; }
      });
      smallestFont.set(svg, least);
    }
    return smallestFont.get(svg);
  }

  // How many CSS pixels the smallest text would measure if the drawing were fitted to the window.
  function fittedTextPx(svg) {
    const natural = svg.width.baseVal.value;
    const box = svg.viewBox.baseVal;
    const perUnit = box && box.width > 0 ? natural / box.width : 1;
    const scale = Math.min(1, (main.clientWidth - MARGIN_PX) / natural);
    return smallestFontOf(svg) * perUnit * scale;
  }

  // Fitting a wide drawing to a narrow window can shrink its text below reading size; then the
  // drawing is shown at actual size and scrolls instead.
  function layout() {
    const svg = frames[current].querySelector("svg");
    const fitted = fittedTextPx(svg);
    const fits = fitted >= SMALLEST_TEXT_PX;
    const actual = actualWanted || !fits;
    main.classList.toggle("actual", actual);
    zoom.textContent = actual ? "Fit to window" : "Actual size";
    zoom.disabled = !fits;
    fitnote.textContent = fits ? "" :
      "actual size: fitted to this window its text would be " + fitted.toFixed(1) + " px";
  }

  // Scroll the current node into view (beside the drawing's own scroll bar, below the header).
  function reveal() {
    const node = frames[current].querySelector("g.node.highlight");
    if (!node) { return; }
    const box = node.getBoundingClientRect();
    const area = main.getBoundingClientRect();
    const page = document.documentElement;
    const left = Math.max(0, area.left);
    const right = Math.min(page.clientWidth, area.right);
    if (box.left < left || box.right > right) {
      main.scrollLeft += (box.left + box.right) / 2 - (left + right) / 2;
    }
    const top = header.getBoundingClientRect().bottom;
    const bottom = page.clientHeight;
    if (box.top < top || box.bottom > bottom) {
      window.scrollBy(0, (box.top + box.bottom) / 2 - (top + bottom) / 2);
    }
  }

  function show(index, note) {
    current = Math.max(0, Math.min(frames.length - 1, index));
    frames.forEach(function (frame, k) { frame.hidden = k !== current; });
    counter.textContent = (current + 1) + " / " + frames.length;
    caption.textContent = frames[current].dataset.caption;
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    jump.value = String(current + 1);
    notice.textContent = note || "";
    layout();
    reveal();
    const wanted = "#step=" + (current + 1);
    if (location.hash !== wanted) {
      try { history.replaceState(null, "", wanted); } catch (e) { /* file:// views and sandboxes may forbid it */ }
    }
  }

  // [frame index, note] for #step=N or #node=NAME.
  function fromHash() {
    const step = /^#step=(\\d+)$/.exec(location.hash);
    if (step) { return [parseInt(step[1], 10) - 1, ""]; }
    const node = /^#node=([^]*)$/.exec(location.hash);
    if (node) {
      let name = node[1];
      try { name = decodeURIComponent(name); } catch (e) { /* not percent-encoded: taken as it is */ }
      if (Object.prototype.hasOwnProperty.call(completed, name)) { return [completed[name] - 1, ""]; }
      return [0, "no node named " + name + " in this graph"];
    }
    return [0, ""];
  }

  function toggleZoom() {
    actualWanted = !main.classList.contains("actual");
    layout();
    reveal();
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  zoom.addEventListener("click", toggleZoom);
  jump.addEventListener("change", function () { show(parseInt(jump.value, 10) - 1); });
  document.addEventListener("keydown", function (event) {
    // the list of steps has its own keys, and modified keys are the browser's
    if (event.target === jump || event.altKey || event.ctrlKey || event.metaKey) { return; }
    const moves = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1,
                    ArrowUp: current - 1, Home: 0, End: frames.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]);
    } else if (event.key === "z") {
      toggleZoom();
    }
  });
  window.addEventListener("hashchange", function () { show.apply(null, fromHash()); });
  window.addEventListener("resize", layout);
  show.apply(null, fromHash());
})();
""".replace("%(smallest)d", str(SMALLEST_TEXT_PX))


def inline_svg(svg: str, prefix: str) -> str:
    """dot's SVG made fit to sit inside HTML: no XML prolog, and ids made unique with a prefix."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("dot produced no <svg> element")
    return re.sub(r'\bid="', f'id="{prefix}', svg[start:])


def script_json(data: Any) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' that HTML could read as markup."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _option(k: int, picture: Frame, output_name: str) -> str:
    if picture.kind == "final":
        text = f"all gradients ∂{output_name}/∂·"
    elif picture.kind == "update":
        text = f"update {picture.node_name}"
    else:
        text = picture.node_name
    if len(text) > OPTION_CHARS:
        text = text[:OPTION_CHARS - 1] + "…"
    return f'<option value="{k}">{k} · {escape(text)}</option>'


def _points(svg: str, attribute: str) -> float:
    match = re.search(rf'<svg[^>]*\b{attribute}="([0-9.]+)pt"', svg)
    return float(match[1]) if match else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Stepper:
    """The stepper page of one backward pass (made by `viz.stepper`): shown inline in a notebook, or saved.

    `page` is the self-contained HTML; `frames` how many frames it has; `height` the CSS pixels
    its inline view takes.
    """

    page: str
    title: str
    frames: int
    height: int

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to `path` (.html or .htm), whole or not at all; return the path."""
        return _write_page(self.page, _page_path(path, "Stepper.save() path"))

    def _repr_html_(self) -> str:
        # srcdoc keeps the page whole (its script, its keys) without a file; the sandbox lets it run
        # its own script and nothing else (no access to the notebook, no forms, no pop-ups)
        return (f'<iframe srcdoc="{escape(self.page, quote=True)}" sandbox="allow-scripts" '
                f'title="{escape(self.title, quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #cbd5e0; border-radius: 4px;">'
                f"</iframe>")

    def __repr__(self) -> str:
        return (f"<Stepper: {self.title}, {self.frames} frame{'' if self.frames == 1 else 's'}, "
                f"{len(self.page.encode()) / 1e6:.1f} MB>")


def _page_path(path: Any, name: str) -> Path:
    output_format(path, ("html", "htm"), name)
    return writable_path(path, name)


def _write_page(page: str, path: Path) -> Path:
    write_atomic(path, page)
    return path


def build(output: Value | Graph, caller: str, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
          clusters: bool = True, legend: bool = True, max_nodes: int = DEFAULT_MAX_NODES,
          max_bytes: int = DEFAULT_MAX_BYTES, highlight: Value | Derivation | None = None,
          edge_labels: bool = False, lr: float | None = None) -> Stepper:
    """The Stepper of `output`; every argument checked, errors naming `caller`."""
    graph = as_graph(output, caller)
    pictures = frames(graph, caller=caller, rankdir=rankdir, number_format=number_format, clusters=clusters,
                      legend=legend, max_nodes=max_nodes, max_bytes=max_bytes, highlight=highlight,
                      edge_labels=edge_labels, captions_in_drawing=False, final=True, lr=lr)
    svgs = [svg.decode("utf-8") for svg in run_dot_many([p.digraph.source for p in pictures], "svg")]
    output_name = visible(graph.name(graph.output))
    sections, options, completed = [], [], {}
    for k, (picture, svg) in enumerate(zip(pictures, svgs), start=1):
        sections.append(f'<section class="frame" id="frame-{k}" data-kind="{picture.kind}" '
                        f'data-node="{escape(picture.node_name)}" data-caption="{escape(picture.caption)}" hidden>\n'
                        f'{inline_svg(svg, f"f{k}-")}\n</section>')
        options.append(_option(k, picture, output_name))
        for name in picture.completes:
            completed[name] = k
    title = f"Backward pass of {output_name}"
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f'<header><button id="prev" type="button">◀ Previous</button>'
            f'<span id="counter">1 / {len(pictures)}</span>'
            f'<button id="next" type="button">Next ▶</button>'
            f'<button id="zoom" type="button">Actual size</button>'
            f'<select id="jump" aria-label="Go to a step">{"".join(options)}</select>'
            f'<span id="fitnote"></span><span id="notice" role="status"></span>'
            f'<span class="hint">{escape(title)} · ← → keys · z zooms · open a step with #step=N, or the step '
            f'that completes a gradient with #node=NAME</span>'
            f'</header>\n'
            f'<pre id="caption"></pre>\n<main id="frames">\n' + "\n".join(sections) +
            f'\n</main>\n<script type="application/json" id="nodes">{script_json(completed)}</script>\n'
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
    tallest = max((_points(svg, "height") for svg in svgs), default=0.0) * 4 / 3
    lines = max((picture.caption.count("\n") + 1 for picture in pictures), default=1)
    low, high = IFRAME_HEIGHT
    height = round(min(high, max(low, tallest + 22 * min(lines, 12) + 100)))
    return Stepper(page, title, len(pictures), height)


def stepper(output: Value | Graph, *, rankdir: str = "LR", number_format: NumberFormat = format_number,
            clusters: bool = True, legend: bool = True, max_nodes: int = DEFAULT_MAX_NODES,
            max_bytes: int = DEFAULT_MAX_BYTES, highlight: Value | Derivation | None = None,
            edge_labels: bool = False, lr: float | None = None) -> Stepper:
    """The backward pass of `output` one step at a time, as a page: shown inline in Jupyter, `.save(path)` writes it.

    One frame per backward step, each captioned with the step's arithmetic (the local derivative's
    formula and number, and the chain rule's update), then a final frame with every gradient; with
    a learning rate `lr`, one frame more per parameter with its gradient-descent update
    `w5⁺ = w5 − α·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648` (the graph's Parameters, or, if it
    has none, every input that is not a constant). Buttons, the arrow keys and a list of steps move
    between frames; `#step=N` opens frame N and `#node=w5` the step that completes ∂E/∂w5 (its last
    contribution; for the output, the first step). The current node is scrolled into view; a drawing
    too wide to fit the window with text of at least 8 px is shown at actual size and scrolls.
    Drawing options are those of `viz.draw`; `max_bytes` is the limit of `save_stepper`.

    In a notebook the page sits in an `<iframe srcdoc>` sandboxed to run its own script only (as
    JupyterLab, Jupyter Notebook and VS Code show it; a renderer that strips scripts shows the first
    frame without its buttons working).
    """
    return build(output, "stepper()", rankdir=rankdir, number_format=number_format, clusters=clusters,
                 legend=legend, max_nodes=max_nodes, max_bytes=max_bytes, highlight=highlight,
                 edge_labels=edge_labels, lr=lr)


def save_stepper(output: Value | Graph, path: str | os.PathLike, *, rankdir: str = "LR",
                 number_format: NumberFormat = format_number, clusters: bool = True, legend: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES, max_bytes: int = DEFAULT_MAX_BYTES,
                 highlight: Value | Derivation | None = None, edge_labels: bool = False,
                 lr: float | None = None) -> Path:
    """Write the page of `viz.stepper(output, ...)` to `path` (.html or .htm) and return the path.

    One self-contained file: frames, captions and script, nothing fetched. Every argument (the path
    included) is checked before anything is drawn. A graph whose frames would take more than
    `max_bytes` bytes of DOT (estimated before anything is drawn; 10 MB by default: a page of about
    37 MB for a network's graph, larger where many edges join the same two nodes) is refused with a
    ValueError that says what to do instead. The other options are those of `viz.stepper`.
    """
    graph = as_graph(output, "save_stepper()")
    path = _page_path(path, "save_stepper() path")
    page = build(graph, "save_stepper()", rankdir=rankdir, number_format=number_format, clusters=clusters,
                 legend=legend, max_nodes=max_nodes, max_bytes=max_bytes, highlight=highlight,
                 edge_labels=edge_labels, lr=lr)
    return _write_page(page.page, path)
