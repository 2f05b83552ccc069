"""The project as a user installs it, not as a clone runs it.

`python -m build` makes the sdist from a copy of the source (so the work tree gets no egg-info or
build/ folder), then the wheel from that sdist (so the sdist is known to hold what a build needs).
The wheel is installed, not editable, into a clean virtual environment, which then loads the Iris
data, runs `python -m viz` and runs the lecture's worked example as a script, each from a folder
outside the repository. Asked from that folder, with the same first entry on sys.path as the command
(its working directory for `-m`, the script's folder for a script), the environment's python
imports autodiff, nn and viz from its own site-packages, never from the checkout.

Building and installing need the package index (PyPI, or pip's cache) for setuptools, numpy and
graphviz: without it these tests fail and say so; they are never skipped.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import pytest

import common
import nn
from viz.cli import main as viz_main

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autodiff", "nn", "viz")
# The repository's own machinery; everything else a clone holds goes into the sdist (MANIFEST.in).
NOT_IN_SDIST = {".ci/run", ".gitignore"}
LICENSE_HEAD = ("MIT License", "", "Copyright (c) 2026 the backprop-lens authors")
# Imports as a command whose sys.path starts with argv[1] would, and prints where each module came from.
WHERE = ("import importlib, json, sys; sys.path[0] = sys.argv[1]; "
         "print(json.dumps({name: importlib.import_module(name).__file__ for name in sys.argv[2:]}))")
NO_INDEX = ("this test needs the package index (PyPI) or pip's cache, for setuptools when building "
            "and numpy and graphviz when installing; is the network reachable?")


def metadata() -> tuple[str, str]:
    """The distribution's name as file names spell it, and its version, from setup.cfg."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["metadata"]["name"].replace("-", "_"), config["metadata"]["version"]


def project_files() -> set[str]:
    """The project's files, relative to ROOT: in a clone, those git tracks or would add; in an
    unpacked sdist, those its manifest lists."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, text=True, check=True).stdout
        names = listed.split("\0")
    elif (ROOT / "PKG-INFO").is_file():
        egg_info = f"{metadata()[0]}.egg-info"
        names = (ROOT / egg_info / "SOURCES.txt").read_text(encoding="utf-8").splitlines()
        names = [name for name in names if not name.startswith(egg_info + "/")]
    else:
        pytest.fail(f"{ROOT} is neither a git clone nor an unpacked sdist: cannot tell its files")
    # A tracked file deleted in the work tree is not part of what is being built.
    return {name for name in names if name and (ROOT / name).is_file()}


def run(command: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run command in cwd, with no PYTHONPATH or PYTHONHOME to lead imports back to the checkout;
    a command still running after timeout seconds is stopped and reported as failed."""
    command = [str(part) for part in command]
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as stopped:
        # The output caught so far comes as bytes whatever text= said.
        said = [part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                for part in (stopped.stdout, stopped.stderr)]
        return subprocess.CompletedProcess(command, -1, said[0], f"{said[1]}\n(stopped after {timeout:g} s)")


def must_succeed(result: subprocess.CompletedProcess, what: str, hint: str = "") -> None:
    """Fail with the command's own words (and a hint) unless it exited 0."""
    if result.returncode != 0:
        pytest.fail(f"{what} failed with status {result.returncode}{'; ' + hint if hint else ''}\n"
                    f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}",
                    pytrace=False)


@dataclass(slots=True)
class Dists:
    source: Path        # the copy of the project they were built from
    sdist: Path
    wheel: Path
    files: set[str]     # project_files() at the time of the build
    root_before: set[str]   # the repository's top level before the build, and after it
    root_after: set[str]


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> Dists:
    """An sdist built from a copy of the project, and a wheel built from that sdist, once a session."""
    base = tmp_path_factory.mktemp("package")
    source, out = base / "source", base / "dist"
    files, root_before = project_files(), set(os.listdir(ROOT))
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    build = [sys.executable, "-m", "build", "--outdir", out]
    must_succeed(run([*build, "--sdist", source], cwd=base), "python -m build --sdist", NO_INDEX)
    (sdist,) = out.glob("*.tar.gz")
    must_succeed(run([*build, "--wheel", sdist], cwd=base), "python -m build --wheel (from the sdist)", NO_INDEX)
    (wheel,) = out.glob("*.whl")
    return Dists(source, sdist, wheel, files, root_before, set(os.listdir(ROOT)))


@dataclass(slots=True)
class Environment:
    python: Path
    site_packages: Path
    work: Path          # an empty folder outside the repository, the processes' working directory

    def run(self, *arguments) -> subprocess.CompletedProcess:
        """The environment's python with these arguments; -B keeps __pycache__ out of examples/."""
        return run([self.python, "-B", "-s", *arguments], cwd=self.work)


@pytest.fixture(scope="session")
def installed(dists, tmp_path_factory) -> Environment:
    """A virtual environment with nothing but the wheel and its dependencies, not editable."""
    base = tmp_path_factory.mktemp("clean-env")
    home, work = base / "env", base / "work"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT)
    # Without its own pip the environment is made in a fraction of a second; this pip installs into it.
    must_succeed(run([sys.executable, "-m", "venv", "--without-pip", home], cwd=base), "python -m venv")
    python = home / "bin" / "python"
    must_succeed(run([sys.executable, "-m", "pip", "--python", python, "install", "--no-compile",
                      "--disable-pip-version-check", dists.wheel], cwd=base),
                 f"pip install {dists.wheel.name} into a clean virtual environment", NO_INDEX)
    where = run([python, "-s", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=work)
    must_succeed(where, "asking the clean environment for its site-packages")
    return Environment(python, Path(where.stdout.strip()).resolve(), work)


def assert_from_the_environment(env: Environment, first_on_path: Path, also: tuple[str, ...] = ()) -> None:
    """autodiff, nn and viz come from the environment for a command whose sys.path starts with
    first_on_path; the modules in `also` come from first_on_path itself."""
    result = env.run("-c", WHERE, first_on_path, *PACKAGES, *also)
    must_succeed(result, "importing from the clean environment")
    where = {name: Path(path).resolve() for name, path in json.loads(result.stdout).items()}
    for name in PACKAGES:
        assert where[name].is_relative_to(env.site_packages), f"{name} came from {where[name]}, not the environment"
        assert not where[name].is_relative_to(ROOT), f"{name} came from the checkout: {where[name]}"
    for name in also:
        assert where[name].parent == first_on_path.resolve(), f"{name} came from {where[name]}"


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert tuple(text.splitlines()[:3]) == LICENSE_HEAD
    assert "Permission is hereby granted, free of charge" in text


def test_sdist_is_the_whole_source_release(dists):
    name, version = metadata()
    top = f"{name}-{version}"
    with tarfile.open(dists.sdist) as sdist:
        members = {m.name.removeprefix(top + "/") for m in sdist.getmembers() if m.isfile()}
        pkg_info = HeaderParser().parsestr(sdist.extractfile(f"{top}/PKG-INFO").read().decode())
        shipped_license = sdist.extractfile(f"{top}/LICENSE").read()
    made_by_setuptools = {m for m in members if m == "PKG-INFO" or m.startswith(f"{name}.egg-info/")}
    assert "PKG-INFO" in made_by_setuptools
    # A new top-level file or folder fails here until MANIFEST.in says whether it ships.
    assert members - made_by_setuptools == dists.files - NOT_IN_SDIST
    assert {"LICENSE", "nn/data/iris.csv", "setup.cfg", "pyproject.toml", "MANIFEST.in"} <= members
    assert shipped_license == (ROOT / "LICENSE").read_bytes()
    assert pkg_info["License-Expression"] == "MIT"
    assert pkg_info.get_all("License-File") == ["LICENSE"]


def test_wheel_holds_the_packages_their_data_and_the_licence(dists):
    name, version = metadata()
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(dists.wheel) as wheel:
        members = set(wheel.namelist())
        meta = HeaderParser().parsestr(wheel.read(f"{info}/METADATA").decode())
        shipped_license = wheel.read(f"{info}/licenses/LICENSE")
    # Every file of the three packages, data included, and nothing else outside the metadata.
    package_files = {f for f in dists.files if f.split("/")[0] in PACKAGES}
    assert {m for m in members if not m.startswith(info + "/")} == package_files
    assert "nn/data/iris.csv" in members
    assert shipped_license == (ROOT / "LICENSE").read_bytes()
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    required = [re.match(r"[\w.-]+", r).group() for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert sorted(required) == ["graphviz", "numpy"]


def test_building_leaves_the_work_tree_as_it_was(dists):
    # setuptools writes <name>.egg-info beside the source it builds an sdist from: the copy's, not ours.
    assert dists.root_after == dists.root_before


def test_installed_wheel_is_not_editable_and_loads_iris(dists, installed):
    program = ("import json, importlib.metadata as m, importlib.resources as r, nn; X, y = nn.data.load_iris(); "
               "print(json.dumps([m.version('backprop-lens'), m.distribution('backprop-lens').read_text("
               "'direct_url.json'), str(r.files('nn.data') / 'iris.csv'), X.tolist(), y.tolist()]))")
    result = installed.run("-c", program)
    must_succeed(result, "loading Iris in the clean environment")
    version, direct_url, csv_path, X, y = json.loads(result.stdout)
    assert version == metadata()[1]
    # pip's record of the install: from the wheel file, not from a source folder (editable or not).
    origin = json.loads(direct_url)
    assert origin["url"] == dists.wheel.as_uri() and "dir_info" not in origin
    assert Path(csv_path).resolve().is_relative_to(installed.site_packages)
    here_X, here_y = nn.data.load_iris()
    assert (X, y) == (here_X.tolist(), here_y.tolist())


def test_installed_python_m_viz(installed, capsys, tmp_path, monkeypatch):
    """The installed command prints and writes exactly what the checkout's does."""
    arguments = ["tanh(x*w + b)", "--at", "x=0.5", "--at", "w=-1", "--at", "b=0.2",
                 "--out", "g.svg", "--steps", "s.html"]   # relative, so that both print the same
    result = installed.run("-m", "viz", *arguments)
    must_succeed(result, "python -m viz in the clean environment")
    monkeypatch.chdir(tmp_path)
    assert viz_main(arguments) == 0
    assert result.stdout == capsys.readouterr().out
    assert ET.parse(installed.work / "g.svg").getroot().tag.endswith("svg")
    for filename in ("g.svg", "s.html"):
        assert (installed.work / filename).read_bytes() == (tmp_path / filename).read_bytes(), filename
    assert_from_the_environment(installed, installed.work)


def test_installed_worked_example_runs_as_a_script(installed):
    out, examples = installed.work / "worked", ROOT / "examples"
    result = installed.run(examples / "backprop_worked_example.py", "--out", out)
    must_succeed(result, "examples/backprop_worked_example.py with the clean environment's python")
    marks = [line[0] for line in result.stdout.splitlines() if line[:1] in (common.OK, common.BAD)]
    assert marks and set(marks) == {common.OK}
    assert f"All {len(marks)} checks match." in result.stdout
    # matplotlib is an extra, so not installed here: the example says so and leaves out its plot.
    assert "matplotlib is not installed" in result.stdout
    for filename in ("graph.svg", "graph.png", "stepper.html"):
        assert (out / filename).is_file() and f"wrote {out / filename}" in result.stdout
    # The script imports its lecture module and common beside it, and the library from the environment.
    assert_from_the_environment(installed, examples, also=("common", "lecture"))
