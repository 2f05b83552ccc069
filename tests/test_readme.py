"""README.md cannot go stale: its code runs and its printed outputs are what the code prints.

- Every ```python block runs, in order, in one namespace and in a scratch folder, as one reader
  would paste them into one session: a block with `>>>` prompts is a doctest whose every output
  must be the one shown; a block without prompts must run without error.
- Every fenced block with `$ ` lines is a shell transcript: each command runs in bash in a scratch
  folder (with `examples/` linked in, `python` this interpreter) and prints exactly the lines
  shown under it, where a line `⋮` stands for lines left out.
- Outputs quoted in the prose or shown without their code (gradcheck's table, the anomaly
  message, the stepper's captions, the softmax example's accuracy) are computed again here and
  must be the quoted text.
- Every link to a file of the repository and every `autodiff.…`, `nn.…` and `viz.…` name exists.
"""

from __future__ import annotations

import doctest
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff import AnomalyError, GradcheckError, Value, detect_anomaly, gradcheck, trace

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
GAP = "⋮"


def blocks(language: str | None = None) -> list[tuple[int, str, str]]:
    """(line number, language, text) of every fenced block, or of those in one language."""
    found = []
    for match in FENCE.finditer(README):
        line = README.count("\n", 0, match.start()) + 2      # the block's first line, 1-based
        if language is None or match.group(1) == language:
            found.append((line, match.group(1), match.group(2)))
    return found


def section(title: str) -> str:
    """The README's text from the heading `## title` to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


PYTHON = blocks("python")


@pytest.fixture(scope="module")
def python_results(tmp_path_factory) -> dict[int, str]:
    """Line of each ```python block -> what went wrong when it ran ('' if nothing did)."""
    folder = tmp_path_factory.mktemp("readme")
    namespace: dict = {"__name__": "README"}
    parser = doctest.DocTestParser()
    results = {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for line, _, text in PYTHON:
            if ">>>" in text:
                test = parser.get_doctest(text, namespace, f"README.md line {line}", "README.md", line - 1)
                test.globs = namespace          # one session: each block sees what the ones above made
                report = io.StringIO()
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
                runner.run(test, out=report.write, clear_globs=False)
                results[line] = report.getvalue()
            else:
                try:
                    exec(compile(text, f"README.md line {line}", "exec"), namespace)
                    results[line] = ""
                except Exception as error:     # reported as the test's failure
                    results[line] = f"{type(error).__name__}: {error}"
    finally:
        os.chdir(here)
    return results


def test_the_readme_has_the_blocks_these_tests_run():
    assert len(PYTHON) >= 10 and all(">>>" in text for _, _, text in PYTHON), \
        "every python block shows what it prints"
    assert len(transcripts()) >= 2
    micrograd = section("Coming from micrograd, PyTorch or JAX")
    assert micrograd.count("```python") >= 5, "the section has its snippets"


@pytest.mark.parametrize("line", [line for line, _, _ in PYTHON], ids=lambda line: f"line{line}")
def test_python_block_runs_and_prints_what_it_shows(line, python_results):
    assert python_results[line] == "", python_results[line]


def transcripts() -> list[tuple[int, str, list[str]]]:
    """(line, command, lines shown after it) of every `$ ` command in a fenced block."""
    found = []
    for line, _, text in blocks():
        lines = text.splitlines()
        starts = [k for k, row in enumerate(lines) if row.startswith("$ ")]
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines)
            found.append((line + start, lines[start][2:], lines[start + 1:end]))
    return found


def shows(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` is `expected` with each ⋮ line standing for any number of lines."""
    pattern = "".join(r"(?:.*\n)*?" if row == GAP else re.escape(row.rstrip()) + r"\n" for row in expected)
    return re.fullmatch(pattern, "".join(row.rstrip() + "\n" for row in actual)) is not None


def test_shows_reads_the_gap_mark():
    assert shows(["a", GAP, "c"], ["a", "b", "b", "c"]) and shows(["a", GAP, "c"], ["a", "c"])
    assert not shows(["a", "c"], ["a", "b", "c"]) and not shows(["a"], ["a", "b"])
    assert shows([GAP, "b"], ["a", "b"]) and not shows(["b"], ["a", "b"])


@pytest.mark.parametrize(("line", "command", "expected"), transcripts(),
                         ids=[f"line{line}" for line, _, _ in transcripts()])
def test_shell_transcript_prints_what_it_shows(line, command, expected, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONDONTWRITEBYTECODE": "1"}
    # one pipe for both streams, so that they interleave as a terminal shows them
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    actual = result.stdout.splitlines()
    assert shows(expected, actual), f"README.md line {line}: $ {command}\n" + "\n".join(actual)


def test_gradchecks_table_is_what_gradcheck_prints():
    from test_check import wrong_sin

    (table,) = [text for _, language, text in blocks("") if text.startswith("gradcheck failed")]
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: wrong_sin(x) * y, (1.0, 2.0))
    assert table.rstrip("\n") == str(info.value)


def quoted(text: str) -> bool:
    """Whether the README's prose quotes `text` in backquotes."""
    return f"`{text}`" in re.sub(r"\s*\n\s*", " ", README)


def test_the_anomaly_message_is_quoted_as_detect_anomaly_says_it():
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        Value(0.0, label="x").log()
    assert quoted(f"AnomalyError: {info.value}")


def test_the_stepper_captions_are_quoted_as_the_stepper_writes_them():
    import viz
    from lecture import LEARNING_RATE, WorkedExample

    example = WorkedExample()
    graph = trace(example.E)
    steps = graph.backward()
    (step,) = [s for s in steps if s.node_name == "w5·out_h1"]
    (line,) = [row.strip() for row in str(step).splitlines() if "∂E/∂w5 +=" in row]
    assert quoted(line)
    page = viz.stepper(example.E, lr=LEARNING_RATE).page
    (update,) = re.findall(r'data-caption="(w5⁺ = [^"]*)"', page)
    assert quoted(update)


def test_the_softmax_accuracy_is_the_one_the_example_reaches(capsys):
    import softmax_iris

    assert softmax_iris.main(["--no-images"]) == 0
    (accuracy,) = re.findall(r", accuracy ([\d.]+)%\n", capsys.readouterr().out)
    assert f"reaches {float(accuracy):.0f}% on the standardised Iris data" in README


def test_every_link_to_a_file_of_the_repository_exists():
    links = re.findall(r"\]\((?!https?:|#)([^)\s]+)\)", README)
    assert "examples/lecture.ipynb" in links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == []


def test_every_library_name_the_readme_gives_exists():
    names = set(re.findall(r"`((?:autodiff|nn|viz)(?:\.[A-Za-z_]\w*)+)", README))
    assert len(names) >= 5
    for name in sorted(names):
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:split]))
                break
            except ImportError:
                continue
        for attribute in parts[split:]:
            assert hasattr(found, attribute), f"README names {name}, which does not exist"
            found = getattr(found, attribute)
