"""Write examples/lecture.ipynb from its readable source, examples/lecture_notebook.md, and run it.

    python examples/make_notebook.py            # rewrites examples/lecture.ipynb with its outputs

The source is Markdown: each ```python block becomes a code cell, the text between blocks a
Markdown cell. The notebook is executed top to bottom with nbclient on an IPython kernel (ipykernel),
in examples/ (so `import lecture` works as it does for a reader who opens the notebook there), and
saved with its outputs, so that a reader sees every number and picture without running it.

The file depends only on the source and on what the code computes: cell ids come from each cell's
text, execution counts run 1, 2, 3, …, and nothing records when, where or how long it ran (no
timings, no Python version, no kernel session). Run again with nothing changed, it writes the same
bytes, and git shows no difference. A cell that raises, or writes to stderr (a warning), stops the
run and nothing is written. tests/test_notebook.py runs the same `execute` and compares its
outputs with the committed ones.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "lecture_notebook.md"
NOTEBOOK = HERE / "lecture.ipynb"
KERNEL = "python3"
CELL_TIMEOUT = 120        # seconds; the whole notebook runs in well under a minute
CODE_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$\n?", re.MULTILINE | re.DOTALL)
DEFAULT_REPR = re.compile(r"<[\w.]+ (?:object )?at 0x[0-9a-fA-F]+>")
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
    "language_info": {"name": "python"},
}


def cells_of(text: str) -> list[tuple[str, str]]:
    """The (kind, source) of each cell: 'code' for a ```python block, 'markdown' for the text between.

    Only a fence opened with exactly ```python makes a code cell, so a Markdown cell can still show
    code in other fences (```sh, plain ```).
    """
    cells, start = [], 0
    for block in CODE_FENCE.finditer(text):
        cells.append(("markdown", text[start:block.start()]))
        cells.append(("code", block.group(1)))
        start = block.end()
    cells.append(("markdown", text[start:]))
    return [(kind, source.strip("\n")) for kind, source in cells if source.strip()]


def cell_id(kind: str, source: str, taken: set[str]) -> str:
    """An id made from the cell's text (so editing one cell changes only its own id), unique in `taken`."""
    base = hashlib.sha1(f"{kind}\n{source}".encode("utf-8")).hexdigest()[:8]
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    taken.add(name)
    return name


def build(text: str):
    """The notebook of a source text, without outputs."""
    import nbformat

    cells, taken = [], set()
    for kind, source in cells_of(text):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cells.append(make(source, id=cell_id(kind, source, taken)))
    return nbformat.v4.new_notebook(cells=cells, metadata=METADATA)


class NotebookError(RuntimeError):
    """A cell failed or wrote to stderr; the message names the cell and quotes what it wrote."""


def execute(notebook):
    """Run every cell in order on a fresh kernel in examples/; return the notebook with its outputs.

    The kernel starts with its own empty IPython folder (no startup files or profile of the user's),
    hashing fixed (PYTHONHASHSEED=0) and matplotlib's inline backend. Raises NotebookError if a
    cell raises or writes to stderr.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    # On a machine where matplotlib has never run, its first import builds a font cache and says
    # so on stderr; built here, outside the kernel, the notebook's own run stays quiet.
    import matplotlib.font_manager  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="backprop-lens-kernel-") as folder:
        env = {**os.environ, "IPYTHONDIR": folder, "PYTHONHASHSEED": "0",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONDONTWRITEBYTECODE": "1"}
        # local sockets in the temporary folder rather than TCP ports: nothing else can connect
        sockets = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})
        client = NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_TIMEOUT, record_timing=False,
                                resources={"metadata": {"path": str(HERE)}}, config=sockets)
        try:
            client.execute(env=env)
        except CellExecutionError as error:
            raise NotebookError(f"a cell of {SOURCE.name} failed:\n{error}") from None
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                raise NotebookError(f"cell {number} of {SOURCE.name} wrote to stderr:\n{output.text}\n"
                                    f"{cell.source}")
    return clean(notebook)


def clean(notebook):
    """Drop what would change from run to run without the source or results changing.

    The kernel sends printed text in pieces as its buffer fills, so one print may arrive as two
    stream outputs: consecutive pieces of the same stream are joined into one. An object without a
    repr of its own (a graphviz.Digraph) has Python's default `<graphviz.graphs.Digraph at 0x…>`
    as its plain-text form, a memory address: it is dropped where a rich form (the SVG) is there.
    """
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        joined = []
        for output in cell.outputs:
            output.pop("transient", None)
            data = output.get("data", {})
            if len(data) > 1 and DEFAULT_REPR.fullmatch(data.get("text/plain", "")):
                del data["text/plain"]
            last = joined[-1] if joined else None
            if (output.output_type == "stream" and last is not None and last.output_type == "stream"
                    and last.name == output.name):
                last.text += output.text
            else:
                joined.append(output)
        cell.outputs = joined
    notebook.metadata = dict(METADATA)
    return notebook


def write(notebook, path: Path) -> None:
    """Save the notebook, whole or not at all."""
    import nbformat

    nbformat.validate(notebook)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        nbformat.write(notebook, str(temporary))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.parse_args(argv)
    notebook = execute(build(SOURCE.read_text(encoding="utf-8")))
    write(notebook, NOTEBOOK)
    outputs = sum(len(cell.get("outputs", [])) for cell in notebook.cells)
    print(f"wrote {NOTEBOOK.relative_to(Path.cwd()) if NOTEBOOK.is_relative_to(Path.cwd()) else NOTEBOOK}: "
          f"{len(notebook.cells)} cells, {outputs} outputs")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except NotebookError as error:
        print(f"make_notebook: {error}", file=sys.stderr)
        sys.exit(1)
