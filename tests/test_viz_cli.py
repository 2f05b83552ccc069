"""`python -m viz`: good input prints the value and gradients and writes files; bad input is one line, status 2."""

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autodiff import Value, format_number, trace
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


def test_the_output_is_named_by_a_name_no_variable_has(capsys):
    status, out, err = run(capsys, "f + out + result + _f", "--at", "f=1", "--at", "out=2", "--at", "result=3",
                           "--at", "_f=4")
    assert (status, err) == (0, "")
    name = out.splitlines()[0].partition(" = ")[0]
    assert name not in ("f", "out", "result", "_f") and name.isidentifier()
    assert out.splitlines() == [f"{name} = 10"] + [f"∂{name}/∂{v} = 1" for v in ("f", "out", "result", "_f")]


def test_an_expression_that_is_one_variable_leaves_the_variable_its_name(capsys):
    for expr in ("x", "+x"):
        status, out, err = run(capsys, expr, "--at", "x=2", "--explain", "x")
        assert (status, err) == (0, "")
        assert out.splitlines()[:2] == ["x = 2", "∂x/∂x = 1"], "the value of x is x, not a renamed x"
        assert "∂f/∂f" not in out


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
    "huge negative exponent": (["x ** -2000", "--at", "x=1"], "exponent -2000 is larger than 1000 in size"),
    "exponent beyond the largest float": (["x ** 1e400", "--at", "x=1"], "exponent 1e400 is larger than 1000"),
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
                                       "--steps: stepping through this graph draws 480 frames of 480 nodes each"),
    "no expression": ([], "required: expr"),
    "unknown option": (["x", "--at", "x=1", "--eval", "1"], "unknown option '--eval'"),
    "a second expression": (["x", "--at", "x=1", "x*2"], "unrecognized arguments: x*2"),
    "--explain an unknown name": (["x*w", "--at", "x=1", "--at", "w=2", "--explain", "z"],
                                  "--explain 'z': not a variable of the expression; the variables are x, w"),
    "--explain a near miss": (["x*weight", "--at", "x=1", "--at", "weight=2", "--explain", "wieght"],
                              "--explain 'wieght' (did you mean weight?): not a variable"),
    "--explain a name not used": (["x*2", "--at", "x=1", "--at", "w=2", "--explain", "w", "--explain", "q"],
                                  "--explain 'w', 'q': not a variable of the expression; w is given with --at but "
                                  "not used in the expression (the derivative is 0); the variables are x"),
    "--lr without --steps": (["x*w", "--at", "x=1", "--at", "w=2", "--out", "g.svg", "--lr", "0.5"],
                             "--lr adds the update frames of the --steps page; give --steps FILE.html"),
    "--lr zero": (["x", "--at", "x=1", "--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
    "--lr negative": (["x", "--at", "x=1", "--lr", "-0.5"], "argument --lr: must be a finite number > 0"),
    "--lr not a number": (["x", "--at", "x=1", "--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
    "--lr nan": (["x", "--at", "x=1", "--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
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


# --- outputs: checked before anything is written, all written or none (issue 10, item 7) ------------

def test_out_at_a_folder_a_device_or_an_empty_path_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.svg").mkdir()
    for out, reason in ((str(tmp_path / "folder.svg"), "it is a folder"), (str(tmp_path), "(no extension)"),
                        ("", "--out must be a path, got an empty string"),
                        ("/dev/null", "cannot tell what to write from '/dev/null'")):
        status, stdout, err = run(capsys, "x*x", "--at", "x=2", "--out", out)
        assert (status, stdout) == (2, ""), out
        assert err.count("\n") == 1 and reason in err, err
    status, _, err = run(capsys, "x*x", "--at", "x=2", "--steps", "")
    assert status == 2 and "--steps must be a path, got an empty string" in err
    os.mkfifo(tmp_path / "pipe.svg")
    status, _, err = run(capsys, "x*x", "--at", "x=2", "--out", str(tmp_path / "pipe.svg"))
    assert status == 2 and "it is not a regular file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.svg", "pipe.svg"]


def test_out_at_a_symlink_loop_is_refused_in_one_line(capsys, tmp_path):
    (tmp_path / "a.svg").symlink_to("b.svg")
    (tmp_path / "b.svg").symlink_to("a.svg")
    for option, name in (("--out", "a.svg"), ("--steps", "a.html")):
        if option == "--steps":
            (tmp_path / "a.html").symlink_to("b.html")
            (tmp_path / "b.html").symlink_to("a.html")
        status, out, err = run(capsys, "x*x", "--at", "x=2", option, str(tmp_path / name))
        assert (status, out) == (2, "")
        assert err.count("\n") == 1 and "its symlinks form a loop" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "a.svg", "b.html", "b.svg"]


def test_a_path_replaced_by_a_fifo_after_the_check_fails_in_one_line(capsys, tmp_path, monkeypatch):
    """Between the check and the write another process may put a FIFO at the path: exit 1, one line."""
    import viz.files

    real = viz.files.write_atomic

    def swapped_first(path, data):
        Path(path).unlink(missing_ok=True)
        os.mkfifo(path)
        real(path, data)

    monkeypatch.setattr(viz.files, "write_atomic", swapped_first)
    status, out, err = run(capsys, "x*x", "--at", "x=2", "--out", str(tmp_path / "g.svg"))
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and "it is a FIFO" in err and "nothing was left written" in err


@pytest.mark.parametrize("folder", ["/proc", "/proc/self", "/sys"])
def test_a_folder_no_file_can_be_created_in_is_refused_and_nothing_is_left(folder, capsys, tmp_path):
    if not Path(folder).is_dir():
        pytest.skip(f"{folder} does not exist on this system")
    ok = tmp_path / "ok.svg"
    for argv in (["--out", f"{folder}/x.svg"], ["--out", str(ok), "--steps", f"{folder}/x.html"],
                 ["--steps", str(tmp_path / "s.html"), "--out", f"{folder}/x.svg"]):
        status, out, err = run(capsys, "x*x", "--at", "x=2", *argv)
        assert (status, out) == (2, "")
        assert err.count("\n") == 1 and f"cannot write '{folder}/x." in err and "no file can be created" in err
        assert list(tmp_path.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder no file can be created in, for this user: mode 0555, or for root (whom modes do not
    stop) the immutable attribute."""
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o555)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(locked)], check=True, capture_output=True)
    try:
        with pytest.raises(OSError):
            (locked / "probe").touch()
        yield locked
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(locked)], check=True, capture_output=True)


def test_a_read_only_folder_is_refused(capsys, tmp_path, read_only_folder):
    status, out, err = run(capsys, "x*x", "--at", "x=2", "--out", str(tmp_path / "ok.svg"),
                           "--steps", str(read_only_folder / "x.html"))
    assert (status, out) == (2, "") and "no file can be created in folder" in err
    assert [p.name for p in tmp_path.iterdir()] == ["ro"] and list(read_only_folder.iterdir()) == []


def test_a_write_that_fails_late_leaves_nothing_behind(capsys, tmp_path, monkeypatch):
    import viz.files

    written = []
    real = viz.files.write_atomic

    def full_disk_on_the_page(path, data):
        if Path(path).suffix == ".html":
            raise OSError(28, "No space left on device", str(path))
        written.append(Path(path).name)
        real(path, data)

    monkeypatch.setattr(viz.files, "write_atomic", full_disk_on_the_page)
    fresh, old = tmp_path / "fresh.svg", tmp_path / "old.svg"
    old.write_text("the drawing from before")
    for out in (fresh, old):
        status, stdout, err = run(capsys, "x*x", "--at", "x=2", "--out", str(out), "--steps", str(tmp_path / "s.html"))
        assert (status, stdout) == (1, "")
        assert err == (f"python -m viz: error: could not write '{tmp_path / 's.html'}': No space left on device; "
                       f"nothing was left written\n")
    assert written[0] == "fresh.svg" and "old.svg" in written, "the drawing was written, then taken back"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.svg"]
    assert old.read_text() == "the drawing from before"


def test_without_graphviz_nothing_is_written_and_the_message_says_how_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    status, out, err = run(capsys, "x*x", "--at", "x=2", "--out", str(tmp_path / "g.svg"),
                           "--steps", str(tmp_path / "s.html"))
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and "apt-get install graphviz" in err
    assert list(tmp_path.iterdir()) == []


# --- what may be typed (issue 10, item 7; issue 13) -------------------------------------------------------

def gradients(out):
    """{name: gradient} from the CLI's output lines."""
    return dict(line.removeprefix("∂f/∂").split(" = ") for line in out.splitlines() if line.startswith("∂f/∂"))


@pytest.mark.parametrize(("expr", "value"), [("-x*w", "-6"), ("-1*x", "-2"), ("--x*w", "6"), ("-(x+w)", "-5"),
                                             ("- x", "-2")])
def test_an_expression_may_start_with_a_minus_sign(expr, value, capsys):
    for argv in ([expr, "--at", "x=2", "--at", "w=3"], ["--at", "x=2", expr, "--at", "w=3"],
                 ["--at", "x=2", "--at", "w=3", expr]):
        status, out, err = run(capsys, *argv)
        assert (status, err) == (0, "")
        assert out.splitlines()[0] == f"f = {value}"


def test_an_option_takes_the_next_word_even_when_it_starts_with_a_minus_sign(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "x*x", "--at", "x=2", "--out", "-g.svg", "--steps", "--s.html")
    assert (status, err) == (0, "")
    assert out.splitlines()[-2:] == ["wrote -g.svg", "wrote --s.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["--s.html", "-g.svg"]


def test_an_option_shaped_word_is_an_unknown_option_not_an_expression(capsys):
    status, out, err = run(capsys, "--x", "--at", "x=1")
    assert status == 2 and "unknown option '--x'" in err and "goes after --" in err
    status, out, _ = run(capsys, "--at", "x=1", "--", "--x")
    assert status == 0 and out.splitlines()[0] == "f = 1"


def test_at_names_are_normalised_as_python_reads_identifiers(capsys):
    for expr, at, value in (("ｘ * 2", "ｘ=3", 6), ("x * 2", "ｘ=3", 6), ("ｘ * 2", "x=3", 6),
                            ("ﬁ + 1", "fi=2", 3)):
        status, out, err = run(capsys, expr, "--at", at)
        assert (status, err) == (0, ""), (expr, at, err)
        assert out.splitlines()[0] == f"f = {value}"
    status, _, err = run(capsys, "x", "--at", "x=1", "--at", "ｘ=2")
    assert status == 2 and "--at x is given twice" in err


def test_every_missing_name_is_listed_at_once(capsys):
    status, out, err = run(capsys, "a*x + b*tanh(c) + a", "--at", "x=1")
    assert status == 2
    assert err == ("python -m viz: error: unknown names 'a', 'b', 'c': give their values with "
                   "--at a=VALUE --at b=VALUE --at c=VALUE\n")
    status, _, err = run(capsys, "x1 * y", "--at", "x=1", "--at", "y=2")
    assert "unknown name 'x1' (did you mean x?): give its value with --at x1=VALUE" in err


@pytest.mark.parametrize(("typed", "meant"), [("tnah", "tanh"), ("Tanh", "tanh"), ("sigmod", "sigmoid"),
                                              ("ln", "log"), ("atan", "arctan"), ("sqr", "sqrt"), ("expp", "exp")])
def test_near_miss_function_names_get_a_suggestion(typed, meant, capsys):
    status, _, err = run(capsys, f"{typed}(x)", "--at", "x=1")
    assert status == 2 and f"unknown function {typed!r} (did you mean {meant}?)" in err


PLAIN_WORDS = {
    "x^2": "use ** for powers: x**2",
    "2x": "for a product write 2*x",
    "2.5x + 1": "for a product write 2.5*x",
    "3 x": "for a product write 3*x",
    "1e3x": "for a product write 1e3*x",
    "2(x + 1)": "2 is not a function; to multiply, write 2*(x + 1)",
    "x(x + 1)": "x is not a function; to multiply, write x*(x + 1)",
    "x if x > 0 else -x": "conditional expressions (a if b else c) are not supported",
}


@pytest.mark.parametrize("expr", sorted(PLAIN_WORDS))
def test_mathematical_habits_get_plain_words(expr, capsys):
    status, out, err = run(capsys, expr, "--at", "x=1")
    assert (status, out) == (2, "") and PLAIN_WORDS[expr] in err and err.count("\n") == 1


def test_pi_and_e_are_constants_unless_given_with_at(capsys):
    status, out, _ = run(capsys, "sin(pi * x) + e ** x", "--at", "x=0.5")
    assert status == 0
    assert out.splitlines() == [f"f = {format_number(math.sin(math.pi * 0.5) + math.e ** 0.5)}",
                                f"∂f/∂x = {format_number(math.pi * math.cos(math.pi * 0.5) + math.e ** 0.5)}"]
    status, out, _ = run(capsys, "e * x", "--at", "x=3", "--at", "e=2")
    assert out.splitlines() == ["f = 6", "∂f/∂x = 2", "∂f/∂e = 3"]
    status, _, err = run(capsys, "pi * e", "--at", "x=3")
    assert status == 2 and "uses no variable" in err


def test_color_grads_colours_the_drawing(capsys, tmp_path):
    plain, coloured = tmp_path / "plain.svg", tmp_path / "coloured.svg"
    assert run(capsys, "x*w", "--at", "x=2", "--at", "w=-3", "--out", str(plain))[0] == 0
    assert run(capsys, "x*w", "--at", "x=2", "--at", "w=-3", "--out", str(coloured), "--color-grads")[0] == 0
    assert "grad &gt; 0" not in plain.read_text(encoding="utf-8")
    assert "grad &gt; 0" in coloured.read_text(encoding="utf-8")   # the legend of gradient colours
    status, out, err = run(capsys, "x*w", "--at", "x=2", "--at", "w=-3", "--color-grads")
    assert (status, out) == (2, "") and "--color-grads colours the --out drawing; give --out" in err


def test_print_steps_prints_the_backward_steps(capsys):
    status, out, err = run(capsys, "tanh(x*w + b)", "--at", "x=0.5", "--at", "w=-1", "--at", "b=0.2", "--print-steps")
    assert (status, err) == (0, "")
    x, w, b = Value(0.5, label="x"), Value(-1.0, label="w"), Value(0.2, label="b")
    f = (x * w + b).tanh()
    f.label = "f"
    steps = trace(f).backward()
    lines = out.splitlines()
    assert lines[0] == f"f = {format_number(f.data)}"
    assert lines[1] == "backward pass, one step per node from the output back:"
    assert "\n".join(lines[2:-3]) == "\n".join(str(step) for step in steps)
    assert lines[-3:] == [f"∂f/∂x = {format_number(x.grad)}", f"∂f/∂w = {format_number(w.grad)}",
                          f"∂f/∂b = {format_number(b.grad)}"]


def test_max_bytes_sets_the_limit_on_the_stepper(capsys, tmp_path):
    page = tmp_path / "s.html"
    status, out, err = run(capsys, "tanh(x*w + b)", "--at", "x=1", "--at", "w=2", "--at", "b=0",
                           "--steps", str(page), "--max-bytes", "1_000")
    assert (status, out) == (2, "")
    assert "--steps: stepping through this graph draws 4 frames of 6 nodes each" in err
    assert "drop --steps" in err and "raise the limit with --max-bytes N" in err
    assert not page.exists()
    for bad in ("0", "-5", "lots", str(10**13)):
        status, _, err = run(capsys, "x", "--at", "x=1", "--max-bytes", bad)
        assert status == 2 and "argument --max-bytes" in err
    status, out, _ = run(capsys, "tanh(x*w + b)", "--at", "x=1", "--at", "w=2", "--at", "b=0", "--steps", str(page))
    assert status == 0 and page.exists()


def test_help_describes_the_options_constants_and_habits():
    help_text = subprocess.run([sys.executable, "-m", "viz", "--help"], cwd=ROOT, capture_output=True,
                               text=True, timeout=60).stdout
    for needed in ("--color-grads", "--print-steps", "--max-bytes", "--explain NAME", "--lr RATE", "constants: pi and e",
                   "a name given with --at is a variable", "x**2", "2*x", "'-x*w'", "not supported", "exit status"):
        assert needed in help_text, needed


# --- hostile text (issue 10, item 9) ------------------------------------------------------------------------

@pytest.mark.parametrize("expr", ["x\x00", "x + \ud800", "x\x1b[2J", "x\u202e+1", "x\n+ y"])
def test_hostile_expressions_are_one_visible_line(expr, capsys):
    status, out, err = run(capsys, expr, "--at", "x=1")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("python -m viz: error: ")
    assert all(c.isprintable() for c in err[:-1]), repr(err)


def test_a_file_name_that_is_not_utf8_is_written_and_printed_visibly(tmp_path):
    name = os.fsdecode(b"g\xff.svg")      # a surrogate escape: a byte that is not UTF-8
    done = subprocess.run([sys.executable, "-m", "viz", "x*x", "--at", "x=2", "--out", str(tmp_path / name)],
                          cwd=ROOT, capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").splitlines()[-1] == f"wrote {tmp_path}/g\\udcff.svg"
    assert os.listdir(os.fsencode(tmp_path)) == [b"g\xff.svg"]


# --- issue 11: --explain and --lr ---------------------------------------------------------------------------

def test_explain_prints_the_chain_rule_by_name_formula_and_number(capsys):
    from autodiff import explain
    from viz.cli import parse

    argv = ["0.5*(t - sigmoid(w*x + b))**2", "--at", "w=0.5", "--at", "x=3", "--at", "b=0.1", "--at", "t=1"]
    status, out, err = run(capsys, *argv, "--explain", "w", "--explain", "b", "--explain", "w")
    assert (status, err) == (0, "")
    f, variables = parse(argv[0], {"w": 0.5, "x": 3.0, "b": 0.1, "t": 1.0})
    f.label = "f"
    explained = [str(explain(f, variables[name])) for name in ("w", "b")]
    lines = out.splitlines()
    assert lines[:5] == [f"f = {format_number(f.data)}"] + [
        f"∂f/∂{name} = {format_number(explain(f, variables[name]).total)}" for name in "wxbt"]
    assert "\n".join(lines[5:]) == "\n" + "\n\n".join(explained), "each derivation once, in the order asked"
    assert "∂f/∂w: 1 path from w to f" in out
    f.backward()
    assert lines[-1].endswith(f" = {format_number(variables['b'].grad)}"), "the total is the backward pass's"


def test_lr_ends_the_stepper_with_each_variables_update(capsys, tmp_path):
    page = tmp_path / "s.html"
    status, out, err = run(capsys, "tanh(x*w + b)", "--at", "x=0.5", "--at", "w=-1", "--at", "b=0.2",
                           "--steps", str(page), "--lr", "0.1")
    assert (status, err) == (0, "")
    x, w, b = Value(0.5, label="x"), Value(-1.0, label="w"), Value(0.2, label="b")
    f = (x * w + b).tanh()
    f.label = "f"
    steps = trace(f).backward()
    text = page.read_text(encoding="utf-8")
    assert text.count('<section class="frame"') == len(steps) + 1 + 3
    assert text.count('data-kind="update"') == 3
    assert (f"w⁺ = w − α·∂f/∂w = -1 − 0.1 × {format_number(w.grad)} = {format_number(-1 - 0.1 * w.grad)}"
            in text)
