"""`viz.stepper(E)`: the stepper page as an object a notebook shows inline, and the same page `save_stepper` writes.

The page's behaviour in a browser is tested in test_viz_stepper.py, on this iframe's page too.
"""

import json
import re
from html.parser import HTMLParser

import pytest

import viz
from autodiff import trace
from test_viz import hostile_graph, lecture_example
from test_viz_stepper import iframe_of
from viz.page import IFRAME_HEIGHT


class _Scripts(HTMLParser):
    """The text of each <script> of a page, by its type ('' for a plain script)."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs).get("type", "")
            self.found.append([self._open, ""])

    def handle_data(self, data):
        if self._open is not None:
            self.found[-1][1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def scripts(page):
    reader = _Scripts()
    reader.feed(page)
    reader.close()
    return reader.found


def test_stepper_is_shown_inline_in_a_sandboxed_iframe_holding_the_whole_page():
    E, _ = lecture_example()
    stepper = viz.stepper(E)
    assert isinstance(stepper, viz.Stepper)
    steps = trace(E).backward()
    assert stepper.frames == len(steps) + 1
    html = stepper._repr_html_()
    assert html.startswith("<iframe ") and html.endswith("</iframe>") and html.count("<") == 2, \
        "everything inside the attribute is escaped: one element, no markup of the page outside it"
    attributes = iframe_of(html)
    assert attributes["srcdoc"] == stepper.page
    assert attributes["sandbox"] == "allow-scripts", "its own script runs; no same origin, forms or pop-ups"
    assert attributes["title"] == "Backward pass of E"
    height = int(re.fullmatch(r"width: 100%; height: (\d+)px; .*", attributes["style"])[1])
    low, high = IFRAME_HEIGHT
    assert low <= height <= high
    assert repr(stepper).startswith(f"<Stepper: Backward pass of E, {len(steps) + 1} frames, ")


def test_save_writes_the_page_that_save_stepper_writes(tmp_path):
    E, nodes = lecture_example()
    options = dict(highlight=nodes["w5"], edge_labels=True, lr=0.5, number_format=6)
    stepper = viz.stepper(E, **options)
    saved = stepper.save(tmp_path / "inline.html")
    assert saved == tmp_path / "inline.html"
    wrapper = viz.save_stepper(E, tmp_path / "saved.htm", **options)
    assert saved.read_bytes() == wrapper.read_bytes() == stepper.page.encode("utf-8")
    with pytest.raises(ValueError, match=r"Stepper.save\(\) path: cannot tell what to write from .*\('.svg'\)"):
        stepper.save(tmp_path / "page.svg")
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(ValueError, match=r"Stepper.save\(\) path: cannot write .*: it is a folder"):
        stepper.save(tmp_path / "folder.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.html", "inline.html", "saved.htm"]


def test_the_page_lists_which_step_completes_each_gradient():
    E, _ = lecture_example()
    page = viz.stepper(E).page
    (kind, text), (plain, script) = scripts(page)
    assert (kind, plain) == ("application/json", "")
    completed = json.loads(text)
    steps = trace(E).backward()
    at = {step.node_name: k for k, step in enumerate(steps, start=1)}
    assert completed["w5"] == at["w5·out_h1"] and completed["w1"] == at["w1·i1"]
    assert completed["E"] == 1 and completed["out_h1"] == max(at["w5·out_h1"], at["w7·out_h1"])
    assert "#node=" in script and "SMALLEST_TEXT_PX = 8" in script


def test_hostile_labels_cannot_leave_the_iframe_or_the_json():
    label = '</script></iframe><img src=x onerror="alert(1)">&amp;\x00"\'\u2028'
    _, E = hostile_graph(label)
    stepper = viz.stepper(E)
    html = stepper._repr_html_()
    assert html.count("<") == 2 and iframe_of(html)["srcdoc"] == stepper.page
    found = scripts(stepper.page)
    assert [kind for kind, _ in found] == ["application/json", ""]
    completed = json.loads(found[0][1])
    from viz.text import visible
    assert completed[visible(label)] == 2 and completed["E" + visible(label)] == 1
    assert "</script" not in found[0][1] and "<img" not in stepper.page


def test_a_jupyter_kernel_displays_the_stepper_as_its_iframe(tmp_path):
    """Through IPython's display protocol on a real kernel: the cell's text/html output is `_repr_html_`."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    from pathlib import Path

    here = Path(__file__).resolve().parent
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "import viz\n"
        "from test_viz import lecture_example\n"
        "viz.stepper(lecture_example()[0])")])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    (output,) = notebook.cells[0].outputs
    assert output["output_type"] == "execute_result"
    E, _ = lecture_example()
    assert output["data"]["text/html"] == viz.stepper(E)._repr_html_()
    assert output["data"]["text/plain"].startswith("<Stepper: Backward pass of E, 24 frames, ")
