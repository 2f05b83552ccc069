"""Scale benchmark: the compiled replay against batched PyTorch as the batch and the graph grow.

A step is what training repeats: every gradient cleared, the forward pass, the backward pass (no
update, so both sides do the same work). Ours is `program.backward(batch)` on the per-example loss
traced once, for both ways of writing a neuron (`Value.sum`, or micrograd's `sum((w*x ...), b)`);
PyTorch's is the same MLP as matrices, float64, one thread. Rounds are interleaved, each from a
collected heap; numpy's BLAS runs on one thread too.

Batch: the moons loss (MLP 2-16-16-1, relu, hinge + L2) at batch 1 to 100,000, with the bytes
each side needs: the program's buffers (`program.memory`) and what PyTorch keeps alive for its
backward pass (its saved tensors, each storage once). Graph: MLPs 2-W-W-1 of about 1k, 10k and
100k traced nodes, at batch 100. The bars of issue 12, checked on each line: within 1.5× of
PyTorch from batch 100 to 100,000, and faster than PyTorch at batch 1,000 and below.
Run: python benchmarks/scale.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy loads: one thread, as torch

import gc  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training import STYLES, Torch, initial_weights, sample_loss  # noqa: E402  (a sibling)

from autodiff import Parameter, Value, trace  # noqa: E402

BATCHES = (1, 10, 100, 1_000, 10_000, 100_000)
WIDTHS = (16, 64, 220)  # about 1k, 10k and 100k traced nodes
GRAPH_BATCH = 100
ROUNDS = 9
ROUND_SECONDS = 0.1


class Replay:
    """One training step of a compiled per-example loss: gradients cleared, program.backward."""

    def __init__(self, weights, batch: np.ndarray, style: str):
        self.name = f"compiled, {style}"
        layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
        self.params = [p for layer in layers for neuron in layer for p in neuron]
        inputs = [Value(0.0), Value(0.0), Value(0.0)]
        start = time.perf_counter()
        self.program = trace(sample_loss(layers, inputs[:2], inputs[2], style)).compile(inputs)
        self.compile_seconds = time.perf_counter() - start
        self.batch = batch

    def step(self) -> float:
        for p in self.params:
            p.grad = 0.0
        return self.program.backward(self.batch)

    def bytes(self) -> int:
        return self.program.memory(len(self.batch))


class TorchStep(Torch):
    """training's PyTorch MLP and loss (matrices, float64, one thread), without the update: one
    step is clear, forward, backward, as the replay's."""

    name = "PyTorch"

    def __init__(self, weights, batch: np.ndarray):
        super().__init__(batch[:, :2], batch[:, 2], weights)

    def step(self) -> float:
        for p in self.params:
            p.grad = None
        loss = self.loss()
        loss.backward()
        return loss.item()

    def bytes(self) -> int:
        """Bytes of the tensors the forward pass saves for backward, each storage counted once."""
        saved: dict[int, int] = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        with self.torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            self.loss()
        return sum(saved.values())


def torch_available() -> bool:
    try:
        __import__("torch")
    except ImportError:
        return False
    return True


def batch_of(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(size=(size, 2)), rng.choice([-1.0, 1.0], size)])


def random_weights(width: int, seed: int = 0):
    rng = random.Random(seed)
    sizes = (2, width, width, 1)
    bound = [1.0 / n ** 0.5 for n in sizes]
    return [[[rng.uniform(-bound[i], bound[i]) for _ in range(nin)] + [0.0] for _ in range(nout)]
            for i, (nin, nout) in enumerate(zip(sizes, sizes[1:]))]


def interleaved(runners, rounds: int = ROUNDS, round_seconds: float = ROUND_SECONDS) -> dict:
    """Best seconds per step of each runner: rounds interleaved, each from a collected heap."""
    calls = {}
    for r in runners:
        r.step()
        gc.collect()
        start = time.perf_counter()
        r.step()
        calls[r.name] = max(1, int(round_seconds / (time.perf_counter() - start)))
    best = {r.name: float("inf") for r in runners}
    for _ in range(rounds):
        for r in runners:
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls[r.name]):
                r.step()
            best[r.name] = min(best[r.name], (time.perf_counter() - start) / calls[r.name])
    return best


def bars(size: int, ratios: list[float]) -> str:
    """Which of issue 12's bars apply at this batch, and whether every style meets them."""
    marks = []
    if size <= 1_000:
        marks.append(("faster than PyTorch", all(r < 1.0 for r in ratios)))
    if 100 <= size <= 100_000:
        marks.append(("within 1.5×", all(r <= 1.5 for r in ratios)))
    return ", ".join(f"{'✓' if ok else '✗'} {what}" for what, ok in marks)


def by_batch(weights) -> dict:
    rows = {}
    for size in BATCHES:
        batch = batch_of(size)
        runners = [Replay(weights, batch, style) for style in STYLES]
        if torch_available():
            runners.append(TorchStep(weights, batch))
        seconds = interleaved(runners)
        rows[size] = {"seconds": seconds, "bytes": {r.name: r.bytes() for r in runners}}
        if size == BATCHES[0]:
            rows["groups"] = {r.name: r.program.group_count for r in runners[:len(STYLES)]}
            rows["nodes"] = {r.name: r.program.node_count for r in runners[:len(STYLES)]}
    return rows


def by_graph() -> dict:
    rows = {}
    batch = batch_of(GRAPH_BATCH)
    for width in WIDTHS:
        weights = random_weights(width)
        runners = [Replay(weights, batch, style) for style in STYLES]
        if torch_available():
            runners.append(TorchStep(weights, batch))
        rows[width] = {"seconds": interleaved(runners),
                       "nodes": {r.name: r.program.node_count for r in runners[:len(STYLES)]},
                       "groups": {r.name: r.program.group_count for r in runners[:len(STYLES)]},
                       "compile": {r.name: r.compile_seconds for r in runners[:len(STYLES)]}}
    return rows


def main() -> dict:
    """Print both tables and return the measurements."""
    names = [f"compiled, {style}" for style in STYLES]
    torch = torch_available()
    print(f"Scale: one step (clear, forward, backward), best of {ROUNDS} interleaved rounds, each "
          f"from a collected heap; float64, one thread (numpy BLAS threads: "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')})"
          + ("" if torch else "; PyTorch is not installed (pip install torch): no comparison"))
    batch = by_batch(initial_weights())
    print("\nBatch: moons loss, MLP 2-16-16-1; traced nodes "
          + ", ".join(f"{n}: {batch['nodes'][n]:,} in {batch['groups'][n]} groups" for n in names))
    head = f"{'batch':>8}{'PyTorch ms':>12}" if torch else f"{'batch':>8}"
    for style in STYLES:
        head += f"{style + ' ms':>16}" + (f"{'×':>7}" if torch else "")
    head += f"{'ours MB':>9}" + (f"{'torch MB':>10}{'×':>6}  bars" if torch else "")
    print(head)
    for size in BATCHES:
        row = batch[size]
        s, b = row["seconds"], row["bytes"]
        line = f"{size:>8,}" + (f"{s['PyTorch'] * 1e3:>12.3f}" if torch else "")
        ratios = []
        for n in names:
            line += f"{s[n] * 1e3:>16.3f}"
            if torch:
                ratios.append(s[n] / s["PyTorch"])
                line += f"{ratios[-1]:>7.2f}"
        line += f"{b[names[0]] / 1e6:>9.2f}"
        if torch:
            line += (f"{b['PyTorch'] / 1e6:>10.2f}{b[names[0]] / b['PyTorch']:>6.2f}  "
                     f"{bars(size, ratios)}")
        print(line)

    graph = by_graph()
    print(f"\nGraph: MLP 2-W-W-1, hinge + L2, batch {GRAPH_BATCH}")
    head = f"{'W':>5}" + "".join(f"{'nodes':>9}{'groups':>7}" for _ in names)
    head += f"{'PyTorch ms':>12}" if torch else ""
    for style in STYLES:
        head += f"{style + ' ms':>16}" + (f"{'×':>7}" if torch else "") + f"{'compile s':>10}"
    print(head)
    for width in WIDTHS:
        row = graph[width]
        s = row["seconds"]
        line = f"{width:>5}" + "".join(f"{row['nodes'][n]:>9,}{row['groups'][n]:>7}" for n in names)
        line += f"{s['PyTorch'] * 1e3:>12.3f}" if torch else ""
        for n in names:
            line += f"{s[n] * 1e3:>16.3f}"
            line += f"{s[n] / s['PyTorch']:>7.2f}" if torch else ""
            line += f"{row['compile'][n]:>10.2f}"
        print(line)
    return {"batch": batch, "graph": graph}


if __name__ == "__main__":
    main()
