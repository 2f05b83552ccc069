"""Training-step benchmark: the moons workload on the scalar engine, its compiled replay, and anchors.

The workload is micrograd's demo: an MLP 2-16-16-1 with relu, hinge loss averaged over 100 moons
points plus an L2 penalty 1e-4 · Σ p², then one SGD update. Every engine starts from the same
weights and takes the same steps, so their losses must agree; the table shows the largest
difference. micrograd (`pip install micrograd`) and PyTorch (a batched float64 MLP on one thread)
run only when installed, never as dependencies. Rounds are interleaved, so drift hits all alike;
each engine's time is its best round. Run: python benchmarks/training.py
"""

from __future__ import annotations

import time

import numpy as np

import nn
from autodiff import Parameter, Value, trace
from nn.data import make_moons

SIZES = (2, 16, 16, 1)
POINTS = 100
ALPHA = 1e-4
LR = 0.05
ROUNDS = 5
ROUND_SECONDS = 0.2


def moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(POINTS, noise=0.1)
    return X, 2.0 * y - 1.0


def initial_weights() -> list[list[list[float]]]:
    """Per layer, per neuron: its weights then its bias, from nn.MLP's seed-0 initialisation."""
    model = nn.MLP(SIZES[0], list(SIZES[1:]), activation="relu", seed=0)
    return [[[w.data for w in neuron.w] + [neuron.b.data] for neuron in layer.neurons]
            for layer in model.layers]


def sample_loss(layers, x, y):
    """One point's hinge loss plus the L2 penalty, written with scalar Values."""
    h = list(x)
    for depth, layer in enumerate(layers):
        acts = [Value.sum([w * v for w, v in zip(neuron, h)] + [neuron[-1]]) for neuron in layer]
        h = [a.relu() for a in acts] if depth < len(layers) - 1 else acts
    penalty = ALPHA * Value.sum([p * p for layer in layers for neuron in layer for p in neuron])
    return (1 - y * h[0]).relu() + penalty


def sgd(params, lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


class Scalar:
    """The scalar engine: the whole batch's graph rebuilt and backpropagated every step."""

    name = "autodiff (scalar)"

    def __init__(self, X, y, weights):
        self.rows = [([float(a), float(b)], float(t)) for (a, b), t in zip(X, y)]
        self.layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
        self.params = [p for layer in self.layers for neuron in layer for p in neuron]

    def step(self) -> float:
        for p in self.params:
            p.grad = 0.0
        h_losses = []
        for x, t in self.rows:
            h = x
            for depth, layer in enumerate(self.layers):
                acts = [Value.sum([w * v for w, v in zip(neuron, h)] + [neuron[-1]])
                        for neuron in layer]
                h = [a.relu() for a in acts] if depth < len(self.layers) - 1 else acts
            h_losses.append((1 - t * h[0]).relu())
        penalty = ALPHA * Value.sum([p * p for p in self.params])
        loss = Value.sum(h_losses) / len(self.rows) + penalty
        loss.backward()
        sgd(self.params, LR)
        return loss.data


class Compiled:
    """The same per-point loss traced once, replayed on the batch by an autodiff Program."""

    name = "autodiff (compiled)"

    def __init__(self, X, y, weights):
        self.batch = np.column_stack([X, y])
        self.layers = [[[Parameter(w) for w in neuron] for neuron in layer] for layer in weights]
        self.params = [p for layer in self.layers for neuron in layer for p in neuron]
        inputs = [Value(0.0, label="x1"), Value(0.0, label="x2"), Value(0.0, label="y")]
        self.program = trace(sample_loss(self.layers, inputs[:2], inputs[2])).compile(inputs)

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
        loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in self.model.parameters())
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

    def step(self) -> float:
        torch = self.torch
        h = self.X
        layers = list(zip(self.params[::2], self.params[1::2]))
        for depth, (matrix, bias) in enumerate(layers):
            h = torch.addmm(bias, h, matrix.T)
            if depth < len(layers) - 1:
                h = torch.relu(h)
        penalty = ALPHA * sum((p * p).sum() for p in self.params)
        loss = torch.relu(1 - self.y * h[:, 0]).mean() + penalty
        for p in self.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
        return loss.item()


def available() -> tuple[list[type], list[str]]:
    engines, missing = [Scalar, Compiled], []
    for engine, module, hint in ((Micrograd, "micrograd", "pip install micrograd"),
                                 (Torch, "torch", "pip install torch")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{engine.name} skipped: {module} is not installed ({hint})")
        else:
            engines.append(engine)
    return engines, missing


def measure(rounds: int = ROUNDS, round_seconds: float = ROUND_SECONDS) -> dict:
    """Best seconds per step for each engine, and each engine's losses over the first steps."""
    X, y = moons()
    weights = initial_weights()
    engines, missing = available()
    runners = [engine(X, y, weights) for engine in engines]
    losses = {r.name: [r.step() for _ in range(3)] for r in runners}  # also warms up
    steps = {}
    for r in runners:
        start = time.perf_counter()
        r.step()
        steps[r.name] = max(1, int(round_seconds / (time.perf_counter() - start)))
    best = dict.fromkeys(losses, float("inf"))
    for _ in range(rounds):
        for r in runners:
            start = time.perf_counter()
            for _ in range(steps[r.name]):
                r.step()
            best[r.name] = min(best[r.name], (time.perf_counter() - start) / steps[r.name])
    program = next(r.program for r in runners if isinstance(r, Compiled))
    return {"seconds": best, "losses": losses, "missing": missing, "program": program}


def main() -> dict:
    """Print the table: time per training step and its ratio to the compiled replay."""
    result = measure()
    seconds, losses = result["seconds"], result["losses"]
    program = result["program"]
    compiled = seconds[Compiled.name]
    print(f"Training step: MLP 2-16-16-1, relu, hinge + L2, {POINTS} moons points, SGD; "
          f"best of {ROUNDS} interleaved rounds")
    print(f"compiled program: {program.node_count:,} nodes in {program.group_count} groups, "
          f"{program.memory(POINTS):,} bytes at batch {POINTS}")
    print(f"{'engine':<22}{'ms/step':>10}{'× compiled':>12}")
    for name, s in seconds.items():
        print(f"{name:<22}{s * 1e3:>10.3f}{s / compiled:>12.1f}")
    reference = losses[Scalar.name]
    spread = max(abs(a - b) for ls in losses.values() for a, b in zip(ls, reference))
    print(f"losses over the first 3 steps agree across engines to {spread:.1e}")
    for line in result["missing"]:
        print(line)
    return result


if __name__ == "__main__":
    main()
