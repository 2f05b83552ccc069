"""Running Graphviz's `dot` and writing its output: whole files or nothing, and a clear error without it."""

from __future__ import annotations

import os
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import graphviz

from autodiff import Graph, Value
from autodiff.arguments import check_path, describe
from autodiff.atomic import write_atomic

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


def output_format(path: Any, allowed: tuple[str, ...] = FORMATS, name: str = "path") -> str:
    """The format a path's extension asks for (one of `allowed`); ValueError naming `name` for any other."""
    path = check_path(path, name)
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in allowed:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ValueError(f"{name}: cannot tell what to write from {path!r} ({shown}); "
                         f"use one of {', '.join('.' + f for f in allowed)}")
    return suffix


def check_format(format: Any, name: str = "format") -> str:
    """A format name ('svg', 'png', 'pdf', any case, with or without a dot), checked."""
    if not isinstance(format, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(FORMATS)}; got {describe(format)}")
    lowered = format.lower().lstrip(".")
    if lowered not in FORMATS:
        raise ValueError(f"{name} must be one of {', '.join(FORMATS)}, got {format!r}")
    return lowered


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


def _check_can_create_files(folder: Path, shown: str, name: str) -> None:
    """ValueError unless a file can be created in `folder` (tried with an empty file, removed at once).

    Permissions alone cannot tell: root may write a read-only folder, and nobody can create
    files in /proc or /sys whatever their modes say.
    """
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".viz-probe-")
    except OSError as error:
        raise ValueError(f"{name}: cannot write {shown!r}: no file can be created in folder "
                         f"{os.fspath(folder)!r} ({error.strerror or error})") from None
    os.close(handle)
    with suppress(OSError):
        os.unlink(probe)


def writable_path(path: Any, name: str = "path") -> Path:
    """The path as a Path, after checking everything that can fail later: it is a non-empty path, not a
    folder or a device, and its folder exists and accepts new files (a symlink is checked at its target)."""
    shown = check_path(path, name)
    target = Path(os.path.realpath(shown))
    try:
        mode = target.lstat().st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):     # realpath stops where links go round in a circle
        raise ValueError(f"{name}: cannot write {shown!r}: its symlinks form a loop")
    if mode is not None and stat.S_ISDIR(mode):
        raise ValueError(f"{name}: cannot write {shown!r}: it is a folder; give a file name inside it")
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"{name}: cannot write {shown!r}: it is not a regular file (a device, a pipe or a socket)")
    if not target.parent.is_dir():
        # a dangling symlink points into a folder other than its own
        folder = target.parent if os.path.islink(shown) else Path(shown).parent
        raise ValueError(f"{name}: cannot write {shown!r}: folder {os.fspath(folder)!r} does not exist")
    _check_can_create_files(target.parent, shown, name)
    return Path(shown)


def checked_folder(folder: Any, name: str = "folder") -> Path:
    """The folder as a Path, after checking it is (or can be created as) a folder that accepts new files."""
    shown = check_path(folder, name)
    existing = Path(os.path.realpath(shown))
    while not existing.exists():
        if existing.is_symlink():   # realpath stops where links go round in a circle
            raise ValueError(f"{name}: cannot write into {shown!r}: the symlinks of "
                             f"{os.fspath(existing)!r} form a loop")
        existing = existing.parent
    if not existing.is_dir():
        what = "it is" if existing == Path(os.path.realpath(shown)) else f"{os.fspath(existing)!r} is"
        raise ValueError(f"{name}: cannot write into {shown!r}: {what} a file, not a folder")
    _check_can_create_files(existing, shown, name)
    return Path(shown)


def make_folder(folder: Path) -> list[Path]:
    """Create `folder` and any missing parents; return the folders created, outermost first (or, if one
    cannot be created, remove those that were and raise)."""
    missing = []
    current = Path(os.path.realpath(folder))
    while not current.exists():
        missing.append(current)
        current = current.parent
    created = []
    try:
        for path in reversed(missing):
            path.mkdir()
            created.append(path)
    except OSError:
        for path in reversed(created):
            with suppress(OSError):
                path.rmdir()
        raise
    return created


def write_all(files: list[tuple[Path, bytes | str]], created: list[Path] = ()) -> None:
    """Write every file or leave things as they were: if one write fails, the files written before it are
    removed (or given back their old contents) and the `created` folders removed, then the error is raised."""
    done: list[tuple[Path, bytes | None]] = []
    path = None
    try:
        for path, data in files:
            target = Path(os.path.realpath(path))
            before = target.read_bytes() if target.is_file() else None
            write_atomic(path, data)
            done.append((target, before))
    except BaseException as error:
        for target, before in reversed(done):
            with suppress(OSError):
                if before is None:
                    target.unlink()
                else:
                    write_atomic(target, before)
        for folder in reversed(created):
            with suppress(OSError):
                folder.rmdir()
        if isinstance(error, OSError) and path is not None:
            raise OSError(error.errno, error.strerror, os.fspath(path)) from error
        raise


def render(output: Value | Graph | graphviz.Digraph, path: str | os.PathLike, **draw_options) -> Path:
    """Draw `output` and write it to `path` as SVG, PNG or PDF (from the extension); return the path.

    `output` is a Value (or Graph), drawn with `viz.draw(output, **draw_options)`, or a ready
    Digraph such as a frame of `backward_frames`. If Graphviz's `dot` is missing, the DOT source is
    written beside `path` (same name, `.dot`) and DotNotFoundError says how to install Graphviz.
    """
    from .dot import DRAW_OPTIONS, as_graph, drawing

    if isinstance(output, graphviz.Digraph):
        if draw_options:
            raise TypeError(f"render() got drawing options {sorted(draw_options)} with a ready Digraph")
    else:
        output = as_graph(output, "render()")
        unknown = sorted(set(draw_options) - set(DRAW_OPTIONS))
        if unknown:
            raise TypeError(f"render() got unknown options {', '.join(map(repr, unknown))}; "
                            f"the options are {', '.join(DRAW_OPTIONS)}")
    format = output_format(path, FORMATS, "render() path")
    path = writable_path(path, "render() path")
    source = output.source if isinstance(output, graphviz.Digraph) else \
        drawing(output, "render()", **draw_options).source
    try:
        data = run_dot(source, format)
    except DotNotFoundError:
        dot_file = path.with_suffix(".dot")
        write_atomic(dot_file, source)
        raise DotNotFoundError(dot_file) from None
    write_atomic(path, data)
    return path
