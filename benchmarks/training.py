"""Training-step benchmark: the moons workload on the scalar engine, its compiled replay, anchors.

The workload is micrograd's demo: an MLP 2-16-16-1 with relu, hinge loss averaged over 100 moons
points plus an L2 penalty 1e-4 · Σ p², then one SGD update. Our engines run it written two ways:
each neuron's Σ as one `Value.sum` node, or as micrograd writes it, `sum((w*x for ...), b)`, a
chain of binary + (the same source micrograd runs). Every engine starts from the same weights and
takes the same steps, so their losses must agree; the table shows the largest difference.
micrograd (`pip install micrograd`) and PyTorch (a batched float64 MLP on one thread) run only
when installed, never as dependencies.

Fairness: rounds are interleaved, so drift hits all alike, and each engine's time is its best
round. Every timed round of every engine starts from a collected heap (`gc.collect()` just
before it): micrograd's closures leave reference cycles, and without this the next engine's round
pays a full collection of micrograd's garbage. numpy's BLAS runs on one thread, as PyTorch does.
Run: python benchmarks/training.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy loads: one thread, as torch

import gc  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import nn  # noqa: E402
from autodiff import Parameter, Value, trace  # noqa: E402
from nn.data import make_moons  # noqa: E402

SIZES = (2, 16, 16, 1)
POINTS = 100
ALPHA = 1e-4
LR = 0.05
ROUNDS = 5
ROUND_SECONDS = 0.2
STYLES = ("Value.sum", "micrograd")


def moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(POINTS, noise=0.1)
    return X, 2.0 * y - 1.0


def initial_weights() -> list[list[list[float]]]:
    """Per layer, per neuron: its weights then its bias, from nn.MLP's seed-0 initialisation."""
    model = nn.MLP(SIZES[0], list(SIZES[1:]), activation="relu", seed=0)
    return [[[w.data for w in neuron.w] + [neuron.b.data] for neuron in layer.neurons]
            for layer in model.layers]


def total(terms, style: str):
    """Σ terms: one node (`Value.sum`) or micrograd's `sum()`, a chain of binary + from 0."""
    return Value.sum(terms) if style == "Value.sum" else sum(terms)


def neuron_sum(neuron, h, style: str) -> Value:
    """Σ w·x + b for one neuron (its weights, then its bias) written in `style`."""
    if style == "Value.sum":
        return Value.sum([w * v for w, v in zip(neuron, h)] + [neuron[-1]])
    return sum((w * v for w, v in zip(neuron, h)), neuron[-1])


def network(layers, x, style: str) -> Value:
    h = list(x)
    for depth, layer in enumerate(layers):
        acts = [neuron_sum(neuron, h, style) for neuron in layer]
        h = [a.relu() for a in acts] if depth < len(layers) - 1 else acts
    return h[0]


def sample_loss(layers, x, y, style: str = "Value.sum"):
    """One point's hinge loss plus the L2 penalty, written with scalar Values."""
    penalty = ALPHA * total([p * p for layer in layers for neuron in layer for p in neuron], style)
    return (1 - y * network(layers, x, style)).relu() + penalty


def sgd(params, lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


class Scalar:
    """The scalar engine: the whole batch's graph rebuilt and backpropagated every step."""

    def __init__(self, X, y, weights, style: str = "Value.sum"):
        self.name = f"autodiff (scalar, {style})"
        self.style = style
        self.rows = [([float(a), float(b)], float(t)) for (a, b), t in zip(X, y)]
        self.layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
        self.params = [p for layer in self.layers for neuron in layer for p in neuron]

    def step(self) -> float:
        for p in self.params:
            p.grad = 0.0
        style = self.style
        hinges = [(1 - t * network(self.layers, x, style)).relu() for x, t in self.rows]
        penalty = ALPHA * total([p * p for p in self.params], style)
        loss = total(hinges, style) * (1.0 / len(self.rows)) + penalty
        loss.backward()
        sgd(self.params, LR)
        return loss.data


class Compiled:
    """The same per-point loss traced once, replayed on the batch by an autodiff Program."""

    def __init__(self, X, y, weights, style: str = "Value.sum"):
        self.name = f"autodiff (compiled, {style})"
        self.batch = np.column_stack([X, y])
        self.layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
        self.params = [p for layer in self.layers for neuron in layer for p in neuron]
        inputs = [Value(0.0, label="x1"), Value(0.0, label="x2"), Value(0.0, label="y")]
        loss = sample_loss(self.layers, inputs[:2], inputs[2], style)
        self.program = trace(loss).compile(inputs)

    def step(self) -> float:
        for p in self.params:
            p.grad = 0.0
        loss = self.program.backward(self.batch, reduction="mean")
        sgd(self.params, LR)
        return loss


class Micrograd:
    """micrograd's own MLP and Value, the demo's step."""

    name = "micrograd"

    def __init__(self, X, y, weights):
        from micrograd.engine import Value as MicroValue
        from micrograd.nn import MLP
        self.value = MicroValue
        self.model = MLP(SIZES[0], list(SIZES[1:]))
        for layer, ws in zip(self.model.layers, weights):
            for neuron, w in zip(layer.neurons, ws):
                for p, v in zip(neuron.w, w[:-1]):
                    p.data = v
                neuron.b.data = w[-1]
        self.rows = [([float(a), float(b)], float(t)) for (a, b), t in zip(X, y)]

    def step(self) -> float:
        self.model.zero_grad()
        scores = [self.model([self.value(a) for a in x]) for x, _ in self.rows]
        losses = [(1 + -t * s).relu() for (_, t), s in zip(self.rows, scores)]
        penalty = ALPHA * sum(p * p for p in self.model.parameters())
        loss = sum(losses) * (1.0 / len(losses)) + penalty
        loss.backward()
        sgd(self.model.parameters(), LR)
        return loss.data


class Torch:
    """A batched float64 MLP in PyTorch on one thread: matrices, not scalars."""

    name = "PyTorch (batched)"

    def __init__(self, X, y, weights):
        import torch
        torch.set_num_threads(1)
        self.torch = torch
        self.X = torch.tensor(X, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.float64)
        self.params = []
        for layer in weights:
            matrix = torch.tensor([neuron[:-1] for neuron in layer], dtype=torch.float64)
            bias = torch.tensor([neuron[-1] for neuron in layer], dtype=torch.float64)
            self.params += [matrix.requires_grad_(), bias.requires_grad_()]

    def loss(self):
        torch = self.torch
        h = self.X
        layers = list(zip(self.params[::2], self.params[1::2]))
        for depth, (matrix, bias) in enumerate(layers):
            h = torch.addmm(bias, h, matrix.T)
            if depth < len(layers) - 1:
                h = torch.relu(h)
        penalty = ALPHA * sum((p * p).sum() for p in self.params)
        return torch.relu(1 - self.y * h[:, 0]).mean() + penalty

    def step(self) -> float:
        loss = self.loss()
        for p in self.params:
            p.grad = None
        loss.backward()
        with self.torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
        return loss.item()


def engine(cls, style: str):
    """A maker of `cls` runners for one writing style (what `available` lists)."""
    def make(X, y, weights):
        return cls(X, y, weights, style)
    return make


def available() -> tuple[list, list[str]]:
    """Makers of every engine that can run here, and a line for each one that cannot."""
    engines = [engine(kind, style) for kind in (Scalar, Compiled) for style in STYLES]
    missing = []
    for maker, module, hint in ((Micrograd, "micrograd", "pip install micrograd"),
                                (Torch, "torch", "pip install torch")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{maker.name} skipped: {module} is not installed ({hint})")
        else:
            engines.append(maker)
    return engines, missing


def interleaved(runners, rounds: int, round_seconds: float) -> dict[str, float]:
    """Best seconds per step of each runner: rounds interleaved, each from a collected heap."""
    steps = {}
    for r in runners:
        gc.collect()
        start = time.perf_counter()
        r.step()
        steps[r.name] = max(1, int(round_seconds / (time.perf_counter() - start)))
    best = {r.name: float("inf") for r in runners}
    for _ in range(rounds):
        for r in runners:
            gc.collect()
            start = time.perf_counter()
            for _ in range(steps[r.name]):
                r.step()
            best[r.name] = min(best[r.name], (time.perf_counter() - start) / steps[r.name])
    return best


def measure(rounds: int = ROUNDS, round_seconds: float = ROUND_SECONDS) -> dict:
    """Best seconds per step for each engine, and each engine's losses over the first steps."""
    X, y = moons()
    weights = initial_weights()
    makers, missing = available()
    runners = [make(X, y, weights) for make in makers]
    losses = {r.name: [r.step() for _ in range(3)] for r in runners}  # also warms up
    best = interleaved(runners, rounds, round_seconds)
    programs = {r.name: r.program for r in runners if isinstance(r, Compiled)}
    return {"seconds": best, "losses": losses, "missing": missing, "programs": programs}


def main() -> dict:
    """Print the table: time per training step and its ratio to the compiled replay."""
    result = measure()
    seconds, losses = result["seconds"], result["losses"]
    anchor = f"autodiff (compiled, {STYLES[0]})"
    print(f"Training step: MLP 2-16-16-1, relu, hinge + L2, {POINTS} moons points, SGD; best of "
          f"{ROUNDS} interleaved rounds, each from a collected heap (gc.collect() before every "
          f"timed round of every engine); numpy BLAS threads: "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    for name, program in result["programs"].items():
        print(f"{name}: {program.node_count:,} traced nodes in {program.group_count} groups, "
              f"{program.memory(POINTS):,} bytes at batch {POINTS}")
    print(f"{'engine':<34}{'ms/step':>10}{'× compiled':>12}")
    for name, s in seconds.items():
        print(f"{name:<34}{s * 1e3:>10.3f}{s / seconds[anchor]:>12.1f}")
    reference = losses[f"autodiff (scalar, {STYLES[0]})"]
    spread = max(abs(a - b) for ls in losses.values() for a, b in zip(ls, reference))
    print(f"losses over the first 3 steps agree across engines to {spread:.1e}")
    for line in result["missing"]:
        print(line)
    return result


if __name__ == "__main__":
    main()
