"""Every example runs as a student would run it, pictures on: it exits 0, writes every file it
promises as a valid image, and every number it prints as checked really does match.

The examples print their checks as rows `✓ name │ expected │ engine │ note`; these tests read the
rows back and compare the two numbers again, to the digits the expected side shows, so an example
cannot pass by marking a row ✓ that its own numbers contradict.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import common
import lecture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"

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
    "backprop_worked_example": ["graph.svg", "graph.png", "stepper.html", "error.png"],
}

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", re.IGNORECASE)


@functools.cache
def run_example(name: str, out: Path) -> subprocess.CompletedProcess:
    """Run examples/<name>.py with pictures into out, once per session."""
    return subprocess.run([sys.executable, str(EXAMPLES_DIR / f"{name}.py"), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="session")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("examples")
    return lambda name: (run_example(name, base / name), base / name)


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


@pytest.mark.parametrize("name", sorted(PROMISED))
def test_example_exits_0_and_says_all_checks_match(name, outputs):
    result, _ = outputs(name)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    found = rows(result.stdout)
    assert found, f"{name} printed no check rows"
    assert [r for r in found if r[0] == common.BAD] == []
    assert f"All {len(found)} checks match." in result.stdout


@pytest.mark.parametrize("name", sorted(PROMISED))
def test_every_checked_row_really_matches(name, outputs):
    result, _ = outputs(name)
    wrong = [(n, e, g) for _, n, e, g, note in rows(result.stdout) if not agree(e, g, note)]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(PROMISED))
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
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
        elif filename.endswith(".svg"):
            assert ET.fromstring(data).tag.endswith("svg")
        elif filename.endswith(".html"):
            text = data.decode("utf-8")
            assert text.lstrip().lower().startswith("<!doctype html") and "<svg" in text
        else:
            pytest.fail(f"unexpected kind of file {filename}")


def test_no_images_writes_nothing(tmp_path):
    out = tmp_path / "nothing"
    result = subprocess.run([sys.executable, str(EXAMPLES_DIR / "gradient_descent.py"), "--no-images",
                             "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert not out.exists()
    assert "wrote " not in result.stdout


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
    assert "out_o1 = sigmoid(net_o1): ∂E/∂out_o1 = 0.74136507" in result.stdout
    assert "∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041" in result.stdout


def test_worked_example_exits_1_when_a_lecture_number_differs(monkeypatch, capsys):
    import backprop_worked_example

    monkeypatch.setitem(lecture.LECTURE, "E_total", "0.298371119")
    assert backprop_worked_example.main(["--no-images"]) == 1
    out = capsys.readouterr().out
    assert f"{common.BAD} E_total" in out and "checks FAILED" in out
