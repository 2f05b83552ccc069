"""What every example shares: its command line, its "lecture vs engine" check rows, its picture files.

Each example prints rows of the form

    ✓ name │ expected │ engine │ note

one per number it checks (✗ when the engine disagrees), and exits with status 1 if any row is ✗.
The row format is fixed so that the tests can read the numbers back and check them again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Sequence

from autodiff import format_number

SEPARATOR = " │ "
OK, BAD = "✓", "✗"


def parse_args(doc: str, name: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options every example takes: --out DIR (default out/<name>) and --no-images."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out") / name,
                        help=f"folder for the pictures (default out/{name}; created if missing)")
    parser.add_argument("--no-images", action="store_true", help="print the numbers only, write no files")
    args = parser.parse_args(argv)
    # Said before any work is done, rather than as a traceback once the pictures are drawn.
    if not args.no_images and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; it must be a folder (created if missing)")
    return args


class Checks:
    """Prints check rows as they come and remembers whether any failed."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def row(self, name: str, expected: str, engine: str, ok: bool, note: str = "") -> bool:
        """Print one row with expected and engine already formatted; return ok."""
        mark = OK if ok else BAD
        cells = [f"{mark} {name:<44}", f"{expected:>16}", f"{engine:>16}"]
        print(SEPARATOR.join(cells + ([note] if note else [])))
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        return ok

    def close(self, name: str, expected: float, engine: float, tol: float = 1e-9, digits: int = 9,
              note: str = "") -> bool:
        """A row for two numbers that must agree within tol (absolute, or relative for large ones)."""
        ok = abs(engine - expected) <= tol * max(1.0, abs(expected))
        return self.row(name, format_number(expected, digits), format_number(engine, digits), ok, note)

    def same(self, name: str, expected, engine, note: str = "") -> bool:
        """A row for two things that must be equal (truth tables, counts, labels)."""
        return self.row(name, str(expected), str(engine), expected == engine, note)

    def small(self, name: str, gap: float, bound: float, note: str = "") -> bool:
        """A row for a difference that must stay below bound (shown as the bound when it does)."""
        shown = f"below {bound:g}"
        ok = gap < bound
        largest = f"largest {gap:.1g}"
        return self.row(name, shown, shown if ok else f"{gap:.2g}", ok, f"{note}; {largest}" if note else largest)

    def status(self) -> int:
        """Print the summary line and return the exit status: 0 if every row matched, else 1."""
        print()
        if self.failed:
            print(f"{len(self.failed)} of {self.passed + len(self.failed)} checks FAILED: "
                  f"{', '.join(self.failed)}")
            return 1
        print(f"All {self.passed} checks match.")
        return 0


def section(title: str) -> None:
    """Print a heading between the parts of an example's output."""
    print(f"\n── {title} " + "─" * max(3, 72 - len(title)))


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend, or None (with a note) if it is missing."""
    try:
        import matplotlib
    except ImportError:
        print("(matplotlib is not installed, so no plots: pip install matplotlib, or "
              "bash scripts/setup.sh, which installs the extras)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


class Pictures:
    """Where an example writes its files: created on first use, each file announced as written."""

    def __init__(self, args: argparse.Namespace):
        self.enabled = not args.no_images
        self.folder: Path = args.out
        self.written: list[Path] = []
        self._plt = None

    @property
    def plt(self):
        """matplotlib.pyplot (Agg), or None when images are off or matplotlib is missing."""
        if self.enabled and self._plt is None:
            self._plt = pyplot() or False
        return self._plt or None

    def path(self, filename: str) -> Path:
        """The path of filename inside the output folder, which is created if needed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / filename

    def wrote(self, path: Path) -> Path:
        """Record and announce a file written by someone else (viz.render, save_stepper)."""
        self.written.append(Path(path))
        print(f"wrote {path}")
        return Path(path)

    def plot(self, filename: str, draw: Callable, figsize: tuple[float, float] = (6.4, 4.8)) -> Path | None:
        """Call draw(figure) on a new figure and save it as filename; None when plots are off."""
        plt = self.plt
        if plt is None:
            return None
        figure = plt.figure(figsize=figsize)
        try:
            draw(figure)
            figure.tight_layout()
            target = self.path(filename)
            figure.savefig(target, dpi=100)
        finally:
            plt.close(figure)
        return self.wrote(target)

