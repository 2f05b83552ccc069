"""Every example runs as a student would run it, pictures on: it exits 0, writes every file it
promises as a valid image, and every number it prints as checked really does match. Run again with
--no-images and one check forced to fail, it writes nothing and exits 1.

The examples print their checks as rows `✓ name │ expected │ engine │ note`; these tests read the
rows back and compare the two numbers again, to the digits the expected side shows, so an example
cannot pass by marking a row ✓ that its own numbers contradict.
"""

from __future__ import annotations

import ast
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

import common
import lecture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
# scripts in examples/ that are not examples: the shared modules, and the notebook's generator
NOT_EXAMPLES = {"common", "lecture", "make_notebook"}
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.py") if p.stem not in NOT_EXAMPLES)

PROMISED = {  # example -> the files it promises in its output folder
    "gradient_descent": ["descent_1d.png", "contours.png"],
    "activations": ["activations.png"],
    "critical_points": ["critical_points.png"],
    "single_neuron": ["learning_speed.png"],
    "mcculloch_pitts": ["gates.png"],
    "perceptron": ["decision_lines.png"],
    "iris_perceptron": ["iris.png"],
    "mlp_moons": ["moons.png"],
    "mlp_xor": ["xor.png"],
    "softmax_iris": ["confusion.png"],
    "backprop_worked_example": ["graph.svg", "graph.png", "graph_w5.svg", "stepper.html", "error.png"],
}

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", re.IGNORECASE)


# Runs the example as `python examples/<name>.py` would, except that its first check row is
# marked failed whatever its numbers say: the way to see the exit status on a mismatch.
FIRST_ROW_FAILS = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
import common
honest_row = common.Checks.row
def first_row_fails(self, name, expected, engine, ok, note=""):
    first = self.passed + len(self.failed) == 0
    return honest_row(self, name, expected, engine, ok and not first, note)
common.Checks.row = first_row_fails
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(name: str, *options: str, script: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run examples/<name>.py with these options in a fresh interpreter."""
    command = [sys.executable, *script, str(EXAMPLES_DIR / f"{name}.py"), *options]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def run_all(task) -> dict:
    """task(name) for every example, a few at a time (each is one single-threaded process)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        return dict(zip(EXAMPLES, pool.map(task, EXAMPLES)))


@pytest.fixture(scope="session")
def outputs(tmp_path_factory):
    """name -> (the run with pictures into a fresh folder, that folder), every example run once."""
    base = tmp_path_factory.mktemp("examples")
    results = run_all(lambda name: run(name, "--out", str(base / name)))
    return lambda name: (results[name], base / name)


@pytest.fixture(scope="session")
def failing_runs(tmp_path_factory):
    """name -> (the run with --no-images and its first check failed, the --out folder it was given)."""
    base = tmp_path_factory.mktemp("failing")
    script = ("-c", FIRST_ROW_FAILS, str(EXAMPLES_DIR))
    results = run_all(lambda name: run(name, "--no-images", "--out", str(base / name), script=script))
    return lambda name: (results[name], base / name)


def rows(stdout: str) -> list[tuple[str, str, str, str, str]]:
    """(mark, name, expected, engine, note) for every check row printed."""
    found = []
    for line in stdout.splitlines():
        if line[:1] in (common.OK, common.BAD):
            cells = [cell.strip() for cell in line.split(common.SEPARATOR)]
            assert len(cells) in (3, 4), f"malformed check row: {line!r}"
            found.append((line[0], cells[0][1:].strip(), cells[1], cells[2], (cells + [""])[3]))
    return found


def unit(text: str) -> float:
    """One unit in the last digit a printed number shows; 0 for an integer, which must be exact."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        return 0.0 if not exponent else 10.0 ** int(exponent)
    return 10.0 ** (int(exponent or 0) - len(mantissa.split(".")[1]))


def agree(expected: str, engine: str, note: str = "") -> bool:
    """Whether two printed cells say the same: every number within a unit of the expected's last
    digit (and a little for the engine's own rounding), or within the ±tolerance the row's note
    declares, and the same words around them."""
    want, got = NUMBER.findall(expected), NUMBER.findall(engine)
    if NUMBER.sub("#", expected) != NUMBER.sub("#", engine) or len(want) != len(got):
        return expected == engine
    declared = re.search(r"within ±([0-9.e+-]+)", note)
    slack = float(declared.group(1)) if declared else 0.0
    return all(abs(float(w) - float(g)) <= unit(w) + unit(g) + slack + 1e-12 * abs(float(w))
               for w, g in zip(want, got))


def test_agree_reads_numbers_to_the_printed_digits():
    assert agree("0.019049119", "-0.019049118".lstrip("-"))
    assert agree("0.40", "0.4")
    assert agree("[0.42, 1]", "[0.419974, 1]")
    assert not agree("0.298371109", "0.298371119")
    assert not agree("converges", "diverges")
    assert not agree("[0, 0, 0, 1]", "[0, 0, 1, 1]")
    assert agree("0.015912196", "0.01591418503", "within ±1e-05: off by +2.0e-06")
    assert not agree("0.015912196", "0.01591418503", "within ±1e-06")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_exits_0_and_says_all_checks_match(name, outputs):
    result, _ = outputs(name)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    found = rows(result.stdout)
    assert found, f"{name} printed no check rows"
    assert [r for r in found if r[0] == common.BAD] == []
    assert f"All {len(found)} checks match." in result.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_checked_row_really_matches(name, outputs):
    result, _ = outputs(name)
    wrong = [(n, e, g) for _, n, e, g, note in rows(result.stdout) if not agree(e, g, note)]
    assert wrong == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_promised_pictures_exist_and_are_valid(name, outputs):
    result, folder = outputs(name)
    written = {Path(line.split(" ", 1)[1]).name for line in result.stdout.splitlines()
               if line.startswith("wrote ")}
    assert set(PROMISED[name]) <= written, f"{name} did not announce {set(PROMISED[name]) - written}"
    for filename in PROMISED[name]:
        path = folder / filename
        assert path.is_file(), f"{name} promised {path}"
        data = path.read_bytes()
        if filename.endswith(".png"):
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR", filename
            width, height = struct.unpack(">II", data[16:24])
            assert width >= 200 and height >= 200, f"{filename} is {width}×{height}"
            assert data.endswith(b"IEND\xaeB`\x82"), f"{filename} is cut short"
        elif filename.endswith(".svg"):
            assert ET.fromstring(data).tag.endswith("svg")
        elif filename.endswith(".html"):
            text = data.decode("utf-8")
            assert text.lstrip().lower().startswith("<!doctype html") and "<svg" in text
        else:
            pytest.fail(f"unexpected kind of file {filename}")


def test_every_example_is_run_and_promises_its_pictures():
    assert sorted(PROMISED) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_exits_1_when_a_check_fails_and_still_prints_the_rest(name, failing_runs, outputs):
    result, _ = failing_runs(name)
    assert result.returncode == 1, f"{name}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    found = rows(result.stdout)
    assert [mark for mark, *_ in found] == [common.BAD] + [common.OK] * (len(found) - 1)
    assert len(found) == len(rows(outputs(name)[0].stdout))
    assert f"1 of {len(found)} checks FAILED: {found[0][1]}" in result.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_images_writes_nothing(name, failing_runs):
    result, out = failing_runs(name)
    assert not out.exists()
    assert "wrote " not in result.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_docstring_says_which_part_of_the_lecture_it_follows(name):
    doc = ast.get_docstring(ast.parse((EXAMPLES_DIR / f"{name}.py").read_text(encoding="utf-8")))
    assert doc, f"{name} has no docstring"
    assert re.search(r"\blecture's\b", doc), f"{name}'s docstring does not name the lecture's part it follows"


def readme_section(title: str) -> str:
    """The README's text from the heading that starts with title to the next heading of its level."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^(#+) {re.escape(title)}.*?$(.*?)(?=^\1 |\Z)", text, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(2)


def test_readme_table_lists_every_example():
    table = readme_section("The examples")
    for name in EXAMPLES:
        assert f"`{name}.py`" in table, f"README's examples table misses {name}.py"


def test_gallery_holds_only_pictures_the_examples_draw_and_readme_shows_them():
    gallery = ROOT / "docs" / "gallery"
    drawn = sorted(p.relative_to(gallery) for p in gallery.rglob("*") if p.is_file())
    assert drawn, "the gallery is empty"
    for path in drawn:
        assert path.parts[0] in PROMISED and path.name in PROMISED[path.parts[0]], path
    shown = re.findall(r"\]\((docs/gallery/[^)]+)\)", readme_section("The examples"))
    assert shown, "README shows no gallery picture"
    for link in shown:
        assert (ROOT / link).is_file(), f"README shows {link}, which does not exist"


def test_checks_exit_status_is_1_on_any_mismatch(capsys):
    checks = common.Checks()
    checks.close("right", 0.25, 0.25)
    assert checks.status() == 0
    checks.close("wrong", 0.25, 0.2500001)
    assert checks.status() == 1
    assert "1 of 2 checks FAILED: wrong" in capsys.readouterr().out


def test_worked_example_prints_every_lecture_number_as_a_match(outputs):
    result, _ = outputs("backprop_worked_example")
    checked = {name: (mark, expected) for mark, name, expected, _, _ in rows(result.stdout)}
    for name, printed in lecture.LECTURE.items():
        assert checked[name] == (common.OK, printed), name
    for name in ("out_o1", "out_o2", "E_total", "∂E/∂w5", "∂E/∂w1", *(f"w{k}⁺" for k in range(1, 9))):
        assert checked[f"MLP {name}"] == (common.OK, lecture.LECTURE[name]), name
    for name, printed in lecture.AFTER.items():
        assert checked[f"round 10,000 {name}"] == (common.OK, printed), name


def test_worked_example_prints_the_backward_steps_as_chain_rule_lines(outputs):
    result, _ = outputs("backprop_worked_example")
    lines = result.stdout.splitlines()
    assert "out_o1 = σ(net_o1): ∂E/∂out_o1 = 0.74136507" in lines
    assert ("    ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602   "
            "∂E/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562") in lines
    assert "∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041" in result.stdout


def test_worked_example_derives_de_dw5_and_de_dw1_as_the_lecture_does(outputs):
    result, _ = outputs("backprop_worked_example")
    lines = result.stdout.splitlines()
    for line in ["∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5",
                 "  ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602",
                 "∂E/∂w5 = −(0.01 − out_o1)·out_o1(1 − out_o1)·out_h1 = 0.74136507 × 0.186815602 × 0.593269992"
                 " = 0.082167041",
                 "∂E/∂w1 = ∂E/∂out_h1 · ∂out_h1/∂net_h1 · ∂net_h1/∂w1",
                 "  ∂E/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1"]:
        assert line in lines, line
    checked = {name: (mark, expected, engine) for mark, name, expected, engine, _ in rows(result.stdout)}
    for name in ("∂E/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂w5", "∂E/∂w5", "∂E/∂out_h1", "∂E_o1/∂out_h1",
                 "∂E_o2/∂out_h1", "∂out_h1/∂net_h1", "∂net_h1/∂w1", "∂E/∂w1"):
        assert checked[f"explain() {name}"][:2] == (common.OK, lecture.LECTURE[name]), name
    for name, factors in lecture.FORMULAS.items():
        mark, expected, engine = checked[f"explain() {name} formula"]
        assert mark == common.OK and expected == engine, name
    for k in range(1, 9):
        assert checked[f"w ← w + α δ y: w{k}⁺"][:2] == (common.OK, lecture.LECTURE[f"w{k}⁺"])
    assert "δ_h1 = −∂E/∂net_h1 = (δ_o1·w5 + δ_o2·w7)·out_h1(1 − out_h1) = " in result.stdout
    assert "w5⁺ = w5 + α·δ_o1·out_h1 = 0.4 + 0.5 × -0.138498562 × 0.593269992 = 0.35891648" in lines


class _Frames(HTMLParser):
    """(kind, node, caption) of every frame of a stepper page."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and attributes.get("class") == "frame":
            self.found.append((attributes["data-kind"], attributes["data-node"], attributes["data-caption"]))


def test_worked_example_draws_the_path_to_w5_and_a_stepper_ending_with_the_lectures_updates(outputs):
    _, folder = outputs("backprop_worked_example")
    svg = ET.parse(folder / "graph_w5.svg").getroot()
    namespace = {"svg": "http://www.w3.org/2000/svg"}

    def texts(group):
        return [t.text for t in group.iterfind(".//svg:text", namespace) if t.text]

    groups = [g for g in svg.iterfind(".//svg:g", namespace) if "node" in g.get("class", "").split()]
    marked = [g for g in groups if "on-path" in g.get("class", "").split()]
    parameters = [texts(g)[0] for g in marked if "parameter" in g.get("class", "").split()]
    assert parameters == ["w5"], "the only parameter on the path of ∂E/∂w5 is w5"
    names = {texts(g)[0] for g in marked if texts(g) and "op" not in g.get("class", "").split()}
    assert {"E", "E_o1", "out_o1", "net_o1", "w5·out_h1", "w5"} <= names
    assert not {"E_o2", "out_o2", "w1", "w6"} & names
    edge_texts = [text for g in svg.iterfind(".//svg:g", namespace) if "edge" in g.get("class", "").split()
                  for text in texts(g)]
    assert "out_o1(1 − out_o1)" in edge_texts and "= 0.186815602" in edge_texts, "edges carry their local derivatives"
    frames = _Frames()
    frames.feed((folder / "stepper.html").read_text(encoding="utf-8"))
    updates = {node: caption for kind, node, caption in frames.found if kind == "update"}
    assert frames.found[-len(updates) - 1][0] == "final"
    for k in range(1, 9):
        caption = updates[f"w{k}"]
        assert caption.startswith(f"w{k}⁺ = w{k} − α·∂E/∂w{k} = "), caption
        assert agree(lecture.LECTURE[f"w{k}⁺"], caption.rsplit(" = ", 1)[1]), caption


def test_single_neuron_prints_the_lectures_three_derivations(outputs):
    result, _ = outputs("single_neuron")
    lines = result.stdout.splitlines()
    assert lines.count("∂E/∂w1 = ∂E/∂y · ∂y/∂a · ∂a/∂w1") == 3
    for line in ["  ∂y/∂a = 1", "  ∂y/∂a = y(1 − y) = 0.249900027",
                 "  ∂E/∂y = −(t/y − (1 − t)/(1 − y)) = -1.640650753"]:
        assert line in lines, line
    assert any(line.startswith("∂E/∂w1 = −(t/y − (1 − t)/(1 − y))·y(1 − y)·x1 = (y − t)x1 = ") for line in lines)
    checked = {name: (mark, expected, engine) for mark, name, expected, engine, _ in rows(result.stdout)}
    import single_neuron
    for title, derivation in single_neuron.DERIVATIONS.items():
        for name in derivation:
            mark, expected, engine = checked[f"{title}: {name} formula"]
            assert mark == common.OK and expected == engine, (title, name)
    assert checked["sigmoid, cross-entropy: ∂E/∂w1 formula"][1] == "(y − t)x1"


def test_worked_example_exits_1_when_a_lecture_number_differs(monkeypatch, capsys):
    import backprop_worked_example

    monkeypatch.setitem(lecture.LECTURE, "E_total", "0.298371119")
    assert backprop_worked_example.main(["--no-images"]) == 1
    out = capsys.readouterr().out
    assert f"{common.BAD} E_total" in out and "checks FAILED" in out


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    with pytest.raises(SystemExit) as stop:
        common.parse_args("An example.", "example", ["--out", str(taken)])
    assert stop.value.code == 2
    assert f"--out {taken} is a file; it must be a folder" in capsys.readouterr().err
    assert taken.read_text() == "keep me"
    assert common.parse_args("An example.", "example", ["--out", str(taken), "--no-images"]).no_images
