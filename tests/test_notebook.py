"""examples/lecture.ipynb: the lecture as a notebook, run top to bottom on a real IPython kernel.

The notebook is executed afresh with nbclient on ipykernel, exactly as `python
examples/make_notebook.py` executes it (any error fails), and every output is compared with the
committed one. What may legitimately differ between the committed run and a fresh one on another
machine, and only that, is set aside:
- the last digits of numbers: floating-point rounding may differ between machines (BLAS in the
  compiled replay's matrix products, libm), so numbers agree to 1e-9 relative (1e-12 absolute near
  zero) or to one unit in the last digit printed; the text around them must be the same;
- pictures: matplotlib's PNGs depend on matplotlib's and FreeType's versions, so each is checked
  to be there, of the same kind, and a valid PNG; Graphviz's SVG geometry (coordinates, sizes, and
  the iframe height the stepper derives from them) depends on Graphviz's version, so of an SVG only
  its text is compared (every name, value, gradient, formula and caption drawn), and of HTML its
  tags and text (attributes apart, except the stepper's srcdoc page, compared the same way).
Nothing else is masked: no output may hold a memory address or a time.
"""

from __future__ import annotations

import base64
import copy
import re
import struct
from html.parser import HTMLParser

import nbformat
import pytest

import lecture
import make_notebook
from test_examples import NUMBER, unit

ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b|\b\d+(?:\.\d+)? ?(?:ms|µs|seconds?)\b|\b\d{4}-\d{2}-\d{2}\b")
TEXT_KINDS = ("text/plain", "text/markdown", "text/latex")


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(make_notebook.NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def fresh():
    """The notebook built from its source and executed now, as the generator does it."""
    return make_notebook.execute(make_notebook.build(make_notebook.SOURCE.read_text(encoding="utf-8")))


class _Reading(HTMLParser):
    """The tags and text of an HTML fragment, in order, attributes left out; inside <svg> only text;
    an iframe's srcdoc page read the same way, in its place."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: list[str] = []
        self.svg_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svg_depth += 1
        if not self.svg_depth:
            self.tokens.append(f"<{tag}>")
        srcdoc = dict(attrs).get("srcdoc")
        if tag == "iframe" and srcdoc is not None:
            self.tokens.extend(reading(srcdoc))

    def handle_endtag(self, tag):
        if not self.svg_depth:
            self.tokens.append(f"</{tag}>")
        if tag == "svg":
            self.svg_depth -= 1

    def handle_data(self, data):
        if data.strip():
            self.tokens.append(data.strip())


def reading(page: str) -> list[str]:
    parser = _Reading()
    parser.feed(page)
    parser.close()
    return parser.tokens


def same_numbers(expected: str, got: str) -> bool:
    """Whether two texts are the same but for rounding in their numbers (see the module docstring)."""
    want, have = NUMBER.findall(expected), NUMBER.findall(got)
    if NUMBER.sub("#", expected) != NUMBER.sub("#", got) or len(want) != len(have):
        return False
    return all(abs(float(w) - float(h)) <= max(unit(w), unit(h)) + 1e-9 * abs(float(w)) + 1e-12
               for w, h in zip(want, have))


def shown(kind: str, content: str) -> str:
    """What of an output is compared, as one text."""
    if kind in ("text/html", "image/svg+xml"):
        if kind == "image/svg+xml":
            content = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", content, flags=re.S)
        return "\n".join(reading(content))
    return content


def is_png(data: str) -> bool:
    raw = base64.b64decode(data)
    width, height = struct.unpack(">II", raw[16:24])
    return raw.startswith(b"\x89PNG\r\n\x1a\n") and raw[12:16] == b"IHDR" and width > 0 and height > 0 \
        and raw.endswith(b"IEND\xaeB`\x82")


def differences(expected, got) -> list[str]:
    """How the outputs of two runs of the notebook differ, cell by cell; [] when they agree."""
    found = []
    code = [(k, a, b) for k, (a, b) in enumerate(zip(expected.cells, got.cells)) if a.cell_type == "code"]
    for k, old, new in code:
        where = f"cell {k + 1} ({old.source.splitlines()[0]!r})"
        if [o.output_type for o in old.outputs] != [o.output_type for o in new.outputs]:
            found.append(f"{where}: outputs {[o.output_type for o in old.outputs]} became "
                         f"{[o.output_type for o in new.outputs]}")
            continue
        for before, after in zip(old.outputs, new.outputs):
            if before.output_type == "stream":
                pairs = {before.name: (before.text, after.text if after.name == before.name else None)}
            else:
                if sorted(before.data) != sorted(after.data):
                    found.append(f"{where}: kinds {sorted(before.data)} became {sorted(after.data)}")
                    continue
                pairs = {kind: (before.data[kind], after.data[kind]) for kind in before.data}
            for kind, (a, b) in pairs.items():
                if b is None:
                    found.append(f"{where}: the {before.name} stream became {after.name}")
                elif kind == "image/png":
                    if not (is_png(a) and is_png(b)):
                        found.append(f"{where}: not a valid PNG")
                elif not same_numbers(shown(kind, a), shown(kind, b)):
                    found.append(f"{where}, {kind}:\n  committed {shown(kind, a)[:2000]!r}\n"
                                 f"  fresh     {shown(kind, b)[:2000]!r}")
    return found


def test_the_committed_notebook_is_built_from_its_source(committed):
    source = make_notebook.SOURCE.read_text(encoding="utf-8")
    built = make_notebook.build(source)
    assert [(c.cell_type, c.source, c.id) for c in committed.cells] == \
        [(c.cell_type, c.source, c.id) for c in built.cells], \
        "lecture.ipynb is out of date or was edited by hand: edit lecture_notebook.md, then run " \
        "python examples/make_notebook.py"
    assert committed.metadata == make_notebook.METADATA
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run once, top to bottom"
    assert all(c.metadata == {} for c in committed.cells), "no timings or other run metadata"
    assert all(o.output_type != "error" and o.get("name") != "stderr" for c in code for o in c.outputs)


def test_the_notebook_runs_and_gives_the_committed_outputs(committed, fresh):
    assert len(fresh.cells) == len(committed.cells)
    found = differences(committed, fresh)
    assert found == [], "\n".join(found) + "\nIf the change is meant, run python examples/make_notebook.py"


def test_no_output_holds_a_memory_address_or_a_time(committed):
    for k, cell in enumerate(committed.cells, 1):
        for output in cell.get("outputs", []):
            texts = [output.text] if output.output_type == "stream" else \
                [v for kind, v in output.data.items() if kind != "image/png"]
            for text in texts:
                for pattern in (ADDRESS, CLOCK):
                    found = pattern.search(text)
                    around = text[max(0, found.start() - 100):found.end() + 100] if found else ""
                    assert not found, f"cell {k}: {found[0]!r} in {around!r}"


def outputs_of(notebook, start: str) -> list:
    """The outputs of the code cell whose source starts with `start`."""
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(start)]
    return cell.outputs


def test_the_lectures_numbers_and_pictures_are_there(committed):
    text = "\n".join(o.text if o.output_type == "stream" else "\n".join(
        v for kind, v in o.data.items() if kind in (*TEXT_KINDS, "text/html"))
        for c in committed.cells if c.cell_type == "code" for o in c.outputs)
    tables = [o.data["text/markdown"] for c in committed.cells if c.cell_type == "code"
              for o in c.outputs if "the lecture" in o.get("data", {}).get("text/markdown", "")]
    rows = [line for table in tables for line in table.splitlines()[2:]]
    assert {row.split("`")[1] for row in rows} == set(lecture.LECTURE), "every number of the worked example"
    assert all(row.endswith("| ✓ |") for row in rows), [row for row in rows if not row.endswith("| ✓ |")]
    for line in ("AND: perceptron converged after 6 epochs", "XOR: perceptron did not converge in 100 epochs",
                 "E_total: 0.298371109 in round 1, 0.0000351085 in round 10,000",
                 "History(80 epochs: loss 0.000000, accuracy 100.0%)", "lower_contractions: 304 products p·x"):
        assert line in text, line
    (derivation,) = outputs_of(committed, "w5_chain = explain(")
    latex = derivation.data["text/latex"]
    assert "0.74136507 \\times 0.186815602 \\times 0.593269992 = 0.082167041" in latex
    (drawing,) = outputs_of(committed, "viz.draw(example.E, highlight=")
    assert "out_o1(1 − out_o1)" in drawing.data["image/svg+xml"]
    (stepper,) = outputs_of(committed, "viz.stepper(")
    assert stepper.data["text/plain"].startswith("<Stepper: Backward pass of E, 34 frames")
    assert "w5⁺ = w5 − α·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648" in stepper.data["text/html"]
    pictures = [o for c in committed.cells if c.cell_type == "code" for o in c.outputs
                if "image/png" in o.get("data", {})]
    assert len(pictures) == 6 and all(is_png(o.data["image/png"]) for o in pictures)


def test_the_comparison_finds_a_changed_output(committed):
    assert differences(committed, committed) == []
    changed = copy.deepcopy(committed)
    (output,) = outputs_of(changed, "learned = {}")
    output.text = output.text.replace("after 6 epochs", "after 7 epochs")
    (table,) = outputs_of(changed, "beside_the_lecture([name for name")
    table.data["text/markdown"] = table.data["text/markdown"].replace("0.082167041", "0.082167051")
    found = differences(committed, changed)
    assert len(found) == 2 and "after 7 epochs" in found[0] and "0.082167051" in found[1]


def test_a_failing_cell_stops_the_run_and_names_it():
    notebook = make_notebook.build("Text.\n\n```python\nx = 1\n```\n\n```python\n1 / 0\n```\n")
    with pytest.raises(make_notebook.NotebookError, match="ZeroDivisionError"):
        make_notebook.execute(notebook)


def test_a_cell_that_warns_stops_the_run():
    notebook = make_notebook.build("```python\nimport warnings\nwarnings.warn('careful')\n```\n")
    with pytest.raises(make_notebook.NotebookError, match=r"cell 1 of lecture_notebook.md wrote to stderr:\n"
                                                          r".*UserWarning: careful"):
        make_notebook.execute(notebook)


def test_cells_come_from_python_fences_and_the_text_between():
    source = ("# Title\n\nSome text.\n\n```python\nx = 1\n```\n\n```sh\n$ ls\n```\n\n"
              "```python\nx\n```\n")
    assert make_notebook.cells_of(source) == [("markdown", "# Title\n\nSome text."), ("code", "x = 1"),
                                              ("markdown", "```sh\n$ ls\n```"), ("code", "x")]
    first, second = make_notebook.build(source), make_notebook.build(source.replace("x = 1", "x = 2"))
    assert [c.id for c in first.cells] == [c.id for c in make_notebook.build(source).cells], "stable ids"
    changed = [a.id != b.id for a, b in zip(first.cells, second.cells)]
    assert changed == [False, True, False, False], "editing one cell changes only its own id"
    twice = make_notebook.build("```python\nx\n```\n\n```python\nx\n```\n")
    assert len({c.id for c in twice.cells}) == 2


def test_clean_joins_stream_pieces_and_drops_default_reprs_and_timings():
    notebook = make_notebook.build("```python\nx\n```\n")
    cell = notebook.cells[0]
    cell.metadata["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
    drawing = {"image/svg+xml": "<svg/>", "text/plain": "<graphviz.graphs.Digraph at 0x7f3a2b1c0d90>"}
    bare = {"text/plain": "<object object at 0x7f3a2b1c0d90>"}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a = 1\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="b = 2\n"),
                    nbformat.v4.new_output("display_data", data=drawing),
                    nbformat.v4.new_output("stream", name="stdout", text="c\n"),
                    nbformat.v4.new_output("display_data", data=bare)]
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    cleaned = make_notebook.clean(notebook)
    outputs = cleaned.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data", "stream", "display_data"]
    assert outputs[0].text == "a = 1\nb = 2\n" and outputs[2].text == "c\n"
    assert outputs[1].data == {"image/svg+xml": "<svg/>"}
    assert outputs[3].data == {"text/plain": "<object object at 0x7f3a2b1c0d90>"}, "the only form is kept"
    assert cleaned.cells[0].metadata == {} and cleaned.metadata == make_notebook.METADATA


def test_the_comparison_sees_a_changed_number_and_ignores_geometry():
    assert same_numbers("loss 0.298371109", "loss 0.2983711090000001")
    assert same_numbers("w5⁺ = 0.35891648", "w5⁺ = 0.35891649"), "one unit in the last digit: rounding"
    assert not same_numbers("w5⁺ = 0.35891648", "w5⁺ = 0.35891650")
    assert not same_numbers("loss 0.298371109", "loss 0.298371119")
    assert not same_numbers("10 epochs", "11 epochs") and not same_numbers("loss 0.5", "accuracy 0.5")
    svg = '<svg width="{w}pt"><g><text x="{x}">w5</text><text>grad 0.082167041</text></g></svg>'
    assert shown("image/svg+xml", svg.format(w=100, x=3)) == shown("image/svg+xml", svg.format(w=120, x=7))
    assert shown("image/svg+xml", svg.format(w=1, x=1)) != shown("image/svg+xml", svg.format(w=1, x=1).replace(
        "0.082167041", "0.08216704"))
    page = '<!DOCTYPE html><p>step 3</p><svg height="{h}"><text>E</text></svg>'
    frame = '<iframe style="height: {h}px" srcdoc="{page}"></iframe>'
    from html import escape
    assert shown("text/html", frame.format(h=500, page=escape(page.format(h=1)))) == \
        shown("text/html", frame.format(h=640, page=escape(page.format(h=2))))
    assert shown("text/html", frame.format(h=500, page=escape(page.format(h=1)))) != \
        shown("text/html", frame.format(h=500, page=escape(page.format(h=1).replace("step 3", "step 4"))))
