"""viz benchmark: seconds to draw (Python) and render (Graphviz dot) three graphs, and the stepper.

Graphs: a random expression of 1,000 nodes; the graph of an MLP 2-16-16-1 (tanh, nn's parameter
names, so drawn in layer/neuron clusters) over one training example with a squared-error loss; and
a graph of 5,000 nodes drawn with the default limit of 2,000 (truncated). Then the HTML stepper of
the lecture's 2-2-2 network (one `dot` per frame). Run: python benchmarks/viz.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

# Run as `python benchmarks/viz.py`, this file's folder heads sys.path and the file would shadow the
# package it measures; the project's root goes first instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import viz  # noqa: E402  (after the path fix above)
from autodiff import Parameter, Value, trace  # noqa: E402
from nn import MLP  # noqa: E402


def random_graph(nodes: int, seed: int = 0) -> Value:
    """A random expression of at least `nodes` nodes over 20 leaves, mixing kinds of op, summed to one output."""
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1, 1), f"x{k}") for k in range(10)]
    pool += [Parameter(rng.uniform(-1, 1), f"p{k}") for k in range(10)]
    output = Value.sum(pool)
    while len(trace(output).nodes) < nodes:
        for _ in range(25):
            a, b = rng.choice(pool[-40:]), rng.choice(pool)
            pool.append(rng.choice([lambda: a * b, lambda: a + b, lambda: (a - b).tanh(),
                                    lambda: (a * 0.5).sigmoid(), lambda: a.relu() + 1])())
        output = Value.sum(pool[-8:])
    return output


def mlp_graph() -> Value:
    """An MLP 2-16-16-1's squared error on one example."""
    net = MLP(2, [16, 16, 1], activation="tanh")
    return (net([0.5, -1.2]) - 1.0) ** 2


def time_render(output: Value, folder: Path, name: str, **options) -> tuple[int, float, float]:
    """(nodes, seconds to draw, seconds to render to SVG) for one graph."""
    output.backward()
    t0 = time.perf_counter()
    source = viz.draw(output, **options)
    t1 = time.perf_counter()
    viz.render(source, folder / f"{name}.svg")
    t2 = time.perf_counter()
    return len(trace(output).nodes), t1 - t0, t2 - t1


def lecture() -> Value:
    """The lecture's 2-2-2 sigmoid network and its error on one example."""
    net = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    net.set_weights([[[.15, .20], [.25, .30]], [[.40, .45], [.50, .55]]], biases=[.35, .60])
    o1, o2 = net([0.05, 0.10])
    return 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print(f"{'graph':<34}{'nodes':>7}{'draw s':>9}{'dot -Tsvg s':>13}")
        for name, output, options in (("random expression", random_graph(1000), {}),
                                      ("MLP 2-16-16-1, one example", mlp_graph(), {}),
                                      ("random, 5,000 nodes (truncated)", random_graph(5000), {})):
            nodes, drawing, rendering = time_render(output, folder, name.split()[0], **options)
            print(f"{name:<34}{nodes:>7,}{drawing:>9.2f}{rendering:>13.2f}")
        t0 = time.perf_counter()
        out = lecture()
        page = viz.save_stepper(out, folder / "lecture.html")
        frames = sum(1 for node in trace(out).nodes if node.op) + 1
        print(f"stepper of the lecture's network: {frames} frames, {page.stat().st_size / 1e6:.1f} MB, "
              f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
