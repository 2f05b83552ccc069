"""The stepper: one self-contained HTML page to walk through the backward pass (no network, no files beside it)."""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path

from autodiff import Graph, Value, format_number

from .dot import DEFAULT_MAX_NODES, NumberFormat, as_graph
from .files import output_format, run_dot_many, writable_path, write_atomic
from .steps import DEFAULT_MAX_BYTES, frames
from .text import visible

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1a202c; }
header { position: sticky; top: 0; background: #f7fafc; border-bottom: 1px solid #cbd5e0;
         padding: 8px 12px; display: flex; gap: 12px; align-items: center; }
button { font-size: 15px; padding: 4px 12px; }
#counter { font-variant-numeric: tabular-nums; min-width: 6em; text-align: center; font-weight: bold; }
.hint { color: #718096; font-size: 13px; }
#caption { margin: 8px 12px; font-size: 15px; line-height: 1.45; white-space: pre-wrap; }
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
  const main = document.getElementById("frames");
  let current = 0;

  // A wide graph fitted to the window can have text too small to read; actual size scrolls instead.
  function toggleZoom() {
    const actual = main.classList.toggle("actual");
    zoom.textContent = actual ? "Fit to window" : "Actual size";
  }

  function show(index) {
    current = Math.max(0, Math.min(frames.length - 1, index));
    frames.forEach(function (frame, k) { frame.hidden = k !== current; });
    counter.textContent = (current + 1) + " / " + frames.length;
    caption.textContent = frames[current].dataset.caption;
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    const wanted = "#step=" + (current + 1);
    if (location.hash !== wanted) {
      try { history.replaceState(null, "", wanted); } catch (e) { /* some file:// views forbid it */ }
    }
  }

  function fromHash() {
    const match = /^#step=(\\d+)$/.exec(location.hash);
    return match ? parseInt(match[1], 10) - 1 : 0;
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  zoom.addEventListener("click", toggleZoom);
  document.addEventListener("keydown", function (event) {
    const moves = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1,
                    ArrowUp: current - 1, Home: 0, End: frames.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      show(moves[event.key]);
    } else if (event.key === "z") {
      toggleZoom();
    }
  });
  window.addEventListener("hashchange", function () { show(fromHash()); });
  show(fromHash());
})();
"""


def inline_svg(svg: str, prefix: str) -> str:
    """dot's SVG made fit to sit inside HTML: no XML prolog, and ids made unique with a prefix."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("dot produced no <svg> element")
    return re.sub(r'\bid="', f'id="{prefix}', svg[start:])


def stepper_page(output: Value | Graph, caller: str, *, rankdir: str = "LR",
                 number_format: NumberFormat = format_number, clusters: bool = True, legend: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The HTML of `save_stepper`'s page; errors name `caller`."""
    graph = as_graph(output, caller)
    pictures = frames(graph, caller=caller, rankdir=rankdir, number_format=number_format, clusters=clusters,
                      legend=legend, max_nodes=max_nodes, max_bytes=max_bytes, captions_in_drawing=False,
                      final=True)
    svgs = run_dot_many([p.digraph.source for p in pictures], "svg")
    sections = []
    for k, (picture, svg) in enumerate(zip(pictures, svgs), start=1):
        sections.append(f'<section class="frame" id="frame-{k}" data-node="{escape(picture.node_name)}" '
                        f'data-caption="{escape(picture.caption)}" hidden>\n'
                        f'{inline_svg(svg.decode("utf-8"), f"f{k}-")}\n</section>')
    title = f"Backward pass of {visible(graph.name(graph.output))}"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f'<header><button id="prev" type="button">◀ Previous</button>'
            f'<span id="counter">1 / {len(pictures)}</span>'
            f'<button id="next" type="button">Next ▶</button>'
            f'<button id="zoom" type="button">Actual size</button>'
            f'<span class="hint">{escape(title)} · ← → keys · z zooms · link to a step with #step=N</span>'
            f'</header>\n'
            f'<pre id="caption"></pre>\n<main id="frames">\n' + "\n".join(sections) +
            f"\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def save_stepper(output: Value | Graph, path: str | os.PathLike, *, rankdir: str = "LR",
                 number_format: NumberFormat = format_number, clusters: bool = True, legend: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Write one self-contained HTML page that steps through the backward pass of `output`; return its path.

    One frame per backward step, then a final frame with every gradient filled in. Previous/Next
    buttons and the arrow keys move between frames; a counter and the step's arithmetic are shown;
    `page.html#step=5` opens at the fifth frame. Drawing options are those of `viz.draw`. A graph
    whose frames would take more than `max_bytes` bytes of DOT (estimated before anything is drawn;
    10 MB by default, a page of about 37 MB) is refused with a ValueError that says what to do instead.
    """
    graph = as_graph(output, "save_stepper()")
    output_format(path, ("html", "htm"), "save_stepper() path")
    path = writable_path(path, "save_stepper() path")
    page = stepper_page(graph, "save_stepper()", rankdir=rankdir, number_format=number_format,
                        clusters=clusters, legend=legend, max_nodes=max_nodes, max_bytes=max_bytes)
    write_atomic(path, page)
    return path
