"""Running Graphviz's `dot` and writing its output: whole files or nothing, and a clear error without it."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import graphviz

from autodiff import Graph, Value

FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = ("install Graphviz: Debian/Ubuntu `sudo apt-get install graphviz`, macOS `brew install graphviz`, "
                "conda `conda install -c conda-forge graphviz`")


class DotNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH); the DOT source was saved instead."""

    def __init__(self, dot_file: Path | None, what: str = "the DOT source was"):
        self.dot_file = dot_file
        saved = f"; {what} written to {dot_file}" if dot_file else ""
        super().__init__(f"Graphviz's `dot` program was not found on PATH, so nothing was rendered{saved}; "
                         f"{INSTALL_HINT}")


def output_format(path: str | os.PathLike, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format a path's extension asks for ('svg', 'png' or 'pdf'); ValueError for any other."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r:.60}")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ValueError(f"cannot tell what to write from {os.fspath(path)!r} ({shown}); "
                         f"use one of {', '.join('.' + f for f in allowed)}")
    return suffix


def check_format(format: str) -> str:
    """A format name ('svg', 'png', 'pdf', any case, with or without a dot), checked."""
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, one of {', '.join(FORMATS)}; got {type(format).__name__}")
    name = format.lower().lstrip(".")
    if name not in FORMATS:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    return name


def run_dot(source: str, format: str) -> bytes:
    """`dot -T<format>` on DOT source; DotNotFoundError (with no file) when dot is missing."""
    try:
        return graphviz.pipe("dot", format, source.encode("utf-8"))
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(None) from None


def run_dot_many(sources: list[str], format: str) -> list[bytes]:
    """run_dot on each source, a few at a time: each dot is its own process, so threads overlap them."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda text: run_dot(text, format), sources))


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file or none: into a temporary file beside it, then rename."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o666 & ~_umask())   # mkstemp makes it private; give it a normal file's mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def writable_path(path: str | os.PathLike) -> Path:
    """The path as a Path, after checking its folder exists (so nothing fails half-way later)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"cannot write {os.fspath(path)!r}: folder {os.fspath(path.parent)!r} does not exist")
    return path


def render(output: Value | Graph | graphviz.Digraph, path: str | os.PathLike, **draw_options) -> Path:
    """Draw `output` and write it to `path` as SVG, PNG or PDF (from the extension); return the path.

    `output` is a Value (or Graph), drawn with `viz.draw(output, **draw_options)`, or a ready
    Digraph such as a frame of `backward_frames`. If Graphviz's `dot` is missing, the DOT source is
    written beside `path` (same name, `.dot`) and DotNotFoundError says how to install Graphviz.
    """
    from .dot import draw

    format = output_format(path)
    path = writable_path(path)
    if isinstance(output, graphviz.Digraph):
        if draw_options:
            raise TypeError(f"render() got drawing options {sorted(draw_options)} with a ready Digraph")
        source = output.source
    else:
        source = draw(output, **draw_options).source
    try:
        data = run_dot(source, format)
    except DotNotFoundError:
        dot_file = path.with_suffix(".dot")
        write_atomic(dot_file, source)
        raise DotNotFoundError(dot_file) from None
    write_atomic(path, data)
    return path
