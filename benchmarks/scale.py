"""Scale benchmark: how a compiled replay's training step grows with the batch and with the graph.

Batch: the moons program (MLP 2-16-16-1, hinge + L2) at 100, 1,000 and 10,000 examples; the time
should grow near-linearly, i.e. the cost per example should fall and then flatten. Graph: MLPs
2-W-W-1 of about 1k, 10k and 100k nodes at batch 100; they share one depth, hence one number of
groups (numpy calls), so the time per node and example should stay flat as the graph grows.
Run: python benchmarks/scale.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training import initial_weights, sample_loss  # noqa: E402  (a sibling script)

from autodiff import Parameter, Value, trace  # noqa: E402

BATCHES = (100, 1_000, 10_000)
WIDTHS = (16, 64, 220)  # about 1k, 10k and 100k nodes
GRAPH_BATCH = 100


def program_of(weights):
    """The per-example hinge + L2 loss for these weights, compiled; its parameters."""
    layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
    inputs = [Value(0.0), Value(0.0), Value(0.0)]
    start = time.perf_counter()
    program = trace(sample_loss(layers, inputs[:2], inputs[2])).compile(inputs)
    return program, time.perf_counter() - start


def random_weights(width: int, seed: int = 0):
    rng = random.Random(seed)
    sizes = (2, width, width, 1)
    bound = [1.0 / n ** 0.5 for n in sizes]
    return [[[rng.uniform(-bound[i], bound[i]) for _ in range(nin)] + [0.0] for _ in range(nout)]
            for i, (nin, nout) in enumerate(zip(sizes, sizes[1:]))]


def batch_of(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(size=(size, 2)), rng.choice([-1.0, 1.0], size)])


def time_step(program, batch, budget: float = 0.5, rounds: int = 5) -> float:
    """Best seconds per `program.backward(batch)` call."""
    program.backward(batch)
    start = time.perf_counter()
    program.backward(batch)
    calls = max(1, int(budget / rounds / (time.perf_counter() - start)))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            program.backward(batch)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main() -> dict:
    """Print both tables and return the measurements."""
    moons, _ = program_of(initial_weights())
    by_batch = {size: time_step(moons, batch_of(size)) for size in BATCHES}
    print(f"Scale, batch: moons program ({moons.node_count:,} nodes, {moons.group_count} groups)")
    print(f"{'batch':>8}{'ms/step':>10}{'µs/example':>12}{'MB':>8}")
    for size, s in by_batch.items():
        print(f"{size:>8,}{s * 1e3:>10.3f}{s / size * 1e6:>12.2f}{moons.memory(size) / 1e6:>8.1f}")

    by_graph = {}
    for width in WIDTHS:
        program, compiling = program_of(random_weights(width))
        s = time_step(program, batch_of(GRAPH_BATCH))
        by_graph[width] = (program.node_count, program.group_count, s, compiling,
                           program.memory(GRAPH_BATCH))
    print(f"Scale, graph: MLP 2-W-W-1, hinge + L2, batch {GRAPH_BATCH}")
    print(f"{'W':>5}{'nodes':>9}{'groups':>8}{'ms/step':>10}{'ns/node/example':>17}"
          f"{'compile s':>11}{'MB':>8}")
    for width, (nodes, groups, s, compiling, memory) in by_graph.items():
        print(f"{width:>5}{nodes:>9,}{groups:>8}{s * 1e3:>10.3f}"
              f"{s / nodes / GRAPH_BATCH * 1e9:>17.2f}{compiling:>11.2f}{memory / 1e6:>8.1f}")
    return {"batch": by_batch, "graph": by_graph}


if __name__ == "__main__":
    main()
