"""`python -m viz`: good input prints the value and gradients and writes files; bad input is one line, status 2."""

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autodiff import Value, format_number
from viz.cli import MAX_CHARS, main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_value_and_gradients(capsys, tmp_path):
    status, out, err = run(capsys, "tanh(x*w + b)", "--at", "x=0.5", "--at", "w=-1", "--at", "b=0.2")
    assert status == 0 and err == ""
    x, w, b = Value(0.5), Value(-1.0), Value(0.2)
    f = (x * w + b).tanh()
    f.backward()
    assert out.splitlines() == [f"f = {format_number(f.data)}", f"∂f/∂x = {format_number(x.grad)}",
                                f"∂f/∂w = {format_number(w.grad)}", f"∂f/∂b = {format_number(b.grad)}"]


def test_every_function_and_operator(capsys):
    status, out, _ = run(capsys, "-(exp(x) + log(y) - sqrt(y)) * sigmoid(x) / relu(y) ** 2 + abs(-x) "
                                 "+ arctan(x) + sin(x) * cos(y) + softplus(x) + log_sigmoid(y) + step(x) + 2 ** -x",
                         "--at", "x=0.3", "--at", "y=1.7")
    x, y = 0.3, 1.7
    sig = 1 / (1 + math.exp(-x))
    expected = (-(math.exp(x) + math.log(y) - math.sqrt(y)) * sig / y ** 2 + abs(-x) + math.atan(x)
                + math.sin(x) * math.cos(y) + math.log1p(math.exp(x)) - math.log1p(math.exp(-y)) + 1 + 2 ** -x)
    assert status == 0
    assert float(out.splitlines()[0].split(" = ")[1]) == pytest.approx(expected, rel=1e-8)


def test_writes_the_drawing_and_the_stepper(capsys, tmp_path):
    svg, html = tmp_path / "g.svg", tmp_path / "s.html"
    status, out, err = run(capsys, "x*x + 1", "--at", "x=3", "--out", str(svg), "--steps", str(html))
    assert status == 0, err
    assert out.splitlines()[:2] == ["f = 10", "∂f/∂x = 6"]
    assert "grad 6" in svg.read_text(encoding="utf-8")
    ET.parse(svg)
    assert html.read_text(encoding="utf-8").count('<section class="frame"') == 3   # ×, +, then the final frame


def test_a_name_used_for_the_output_is_kept_for_the_variable(capsys):
    status, out, _ = run(capsys, "f * 2", "--at", "f=1.5", "--at", "unused=4")
    assert out.splitlines() == ["out = 3", "∂out/∂f = 2", "∂out/∂unused = 0   (not in the expression)"]


def test_engine_arithmetic_not_python(capsys):
    status, out, _ = run(capsys, "x / 0", "--at", "x=1")
    assert status == 0 and out.splitlines()[0] == "f = inf"


def balanced_product(term, count):
    """term * term * ... (count times, a power of 2) nested as a balanced tree, so it stays shallow."""
    terms = [term] * count
    while len(terms) > 1:
        terms = [f"({a}) * ({b})" for a, b in zip(terms[::2], terms[1::2])]
    return terms[0]


BAD = {
    "attribute access": (["x.real", "--at", "x=1"], "attribute access"),
    "import": (["__import__('os')", "--at", "x=1"], "unknown function '__import__'"),
    "call on an import": (["__import__('os').system('touch pwned')", "--at", "x=1"], "only plain function calls"),
    "import statement": (["import os", "--at", "x=1"], "not a valid expression"),
    "unknown name": (["x + y", "--at", "x=1"], "unknown name 'y'"),
    "unknown function": (["gamma(x)", "--at", "x=1"], "unknown function 'gamma'"),
    "method call": (["x.tanh()", "--at", "x=1"], "only plain function calls"),
    "lambda": (["(lambda: x)()", "--at", "x=1"], "only plain function calls"),
    "bare lambda": (["lambda: x", "--at", "x=1"], "lambda is not allowed"),
    "subscript": (["x[0]", "--at", "x=1"], "Subscript is not allowed"),
    "comparison": (["x < 1", "--at", "x=1"], "Compare is not allowed"),
    "string": (["x + 'a'", "--at", "x=1"], "only numbers"),
    "keyword argument": (["tanh(x=x)", "--at", "x=1"], "exactly one argument"),
    "two arguments": (["tanh(x, x)", "--at", "x=1"], "exactly one argument"),
    "other operator": (["x // 2", "--at", "x=1"], "operator FloorDiv is not allowed"),
    "huge exponent": (["x ** 100000", "--at", "x=1"], "exponent 100000 is larger than 1000"),
    "huge number": (["x + " + "9" * 400, "--at", "x=1"], "too large"),
    "too long": (["+".join(["x"] * MAX_CHARS), "--at", "x=1"], "characters long"),
    "too deep": (["(" * 80 + "x" + ")" * 80 + " + -" * 80 + "x", "--at", "x=1"], "nested more than"),
    "no variable": (["1 + 2", "--at", "x=1"], "uses no variable"),
    "empty": (["  ", "--at", "x=1"], "empty"),
    "bad --at": (["x", "--at", "x"], "NAME=VALUE"),
    "bad --at value": (["x", "--at", "x=abc"], "'abc' is not a number"),
    "--at twice": (["x", "--at", "x=1", "--at", "x=2"], "given twice"),
    "--at function name": (["x", "--at", "tanh=1"], "is a function name"),
    "bad --out": (["x", "--at", "x=1", "--out", "graph.gif"], ".svg, .png, .pdf"),
    "bad --steps": (["x", "--at", "x=1", "--steps", "steps.svg"], ".html"),
    "bare function name": (["tanh + x", "--at", "x=1"], "tanh is a function: call it"),
    "other unary operator": (["not x", "--at", "x=1"], "operator Not is not allowed"),
    "float literal beyond the largest float": (["1e999 * x", "--at", "x=1"], "number 1e999 is too large"),
    "--at keyword": (["x", "--at", "x=1", "--at", "None=2"], "'None' is a Python keyword"),
    "too many steps for the stepper": ([balanced_product("-" * 29 + "x", 16), "--at", "x=1",
                                        "--out", "g.svg", "--steps", "s.html"],
                                       "--steps: the backward pass of this graph has 479 steps, more than"),
    "no expression": ([], "required: expr"),
    "unknown option": (["x", "--at", "x=1", "--eval", "1"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_rejections_are_one_line_status_2_and_write_nothing(case, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, reason = BAD[case]
    extra = ["--out", str(tmp_path / "g.svg"), "--steps", str(tmp_path / "s.html")] \
        if "--out" not in argv and "--steps" not in argv and argv else []
    status, out, err = run(capsys, *argv, *extra)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("python -m viz: error: ") and reason in err
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_viz(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "viz", "x*y", "--at", "x=2", "--at", "y=5"],
                        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.splitlines() == ["f = 10", "∂f/∂x = 5", "∂f/∂y = 2"]
    bad = subprocess.run([sys.executable, "-m", "viz", "open('x')", "--at", "x=2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
