"""Run every benchmark of this folder and print their tables: python benchmarks/run.py [names].

Each benchmark is a module here with a `main()`; one that is not there yet is skipped with a note.
Names on the command line pick some of them (engine transforms viz training scale save_load).
"""

from __future__ import annotations

import os

# numpy's BLAS on one thread, as every benchmark here runs PyTorch: set before any numpy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("engine", "transforms", "viz", "training", "scale", "save_load")


def load(name: str):
    """The benchmark module `name`, loaded from its file under the name benchmark_<name>.

    Not under its own name: benchmarks/viz.py measures the package viz and must not stand for it.
    """
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(names: list[str]) -> dict[str, str]:
    """Run the named benchmarks in order; return each outcome ('ok', 'missing' or an error)."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    outcome = {}
    for name in names:
        print(f"\n== {name} ==", flush=True)
        if not (HERE / f"{name}.py").exists():
            print(f"benchmarks/{name}.py is not there yet: skipped")
            outcome[name] = "missing"
            continue
        start = time.perf_counter()
        load(name).main()
        print(f"({name}: {time.perf_counter() - start:.1f} s)", flush=True)
        outcome[name] = "ok"
    return outcome


def main(argv: list[str] | None = None) -> dict[str, str]:
    """Run the benchmarks named in argv (all when none is named)."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    return run(names)


if __name__ == "__main__":
    main()
