"""What gradients of gradients and traced steps cost, relative to one plain backward().

The workload is micrograd's demo: an MLP with 2 inputs, two hidden layers of 16 relu units and one
linear output, hinge loss averaged over 100 points. On one loss graph it times, best of a few runs:
`loss.backward()`; `gradients(loss, params)` (its own sweep, .grad untouched);
`gradients(loss, params, create_graph=True)` (every local derivative recorded as a node); and
`trace(loss)` followed by `Graph.backward()` (every step kept as data). It also checks that all
of them give the plain backward pass's gradients. Run: python benchmarks/transforms.py
"""

from __future__ import annotations

import gc
import random
import time

from autodiff import Parameter, Value, gradients, topo_order, trace

SIZES = (2, 16, 16, 1)


def make_loss(points: int, seed: int = 0) -> tuple[Value, list[Parameter]]:
    """The hinge loss of a 2-16-16-1 relu MLP over `points` random labelled points, and its weights."""
    rng = random.Random(seed)
    layers = [[[Parameter(rng.uniform(-1, 1)) for _ in range(nin + 1)] for _ in range(nout)]
              for nin, nout in zip(SIZES, SIZES[1:])]
    data = [((rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)), rng.choice((-1.0, 1.0)))
            for _ in range(points)]
    losses = []
    for x, y in data:
        h = list(x)
        for depth, layer in enumerate(layers):
            acts = [Value.sum([w * xi for w, xi in zip(neuron, h)] + [neuron[-1]]) for neuron in layer]
            h = [a.relu() for a in acts] if depth < len(layers) - 1 else acts
        losses.append((1 + -y * h[0]).relu())
    params = [w for layer in layers for neuron in layer for w in neuron]
    return Value.sum(losses) * (1.0 / points), params


def best_time(run, repeats: int) -> tuple[float, object]:
    """The fastest of `repeats` calls of run(), in seconds, and what the last call returned."""
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(points: int = 100, repeats: int = 3) -> dict:
    """Time each way of differentiating the workload, print a table and return the figures."""
    loss, params = make_loss(points)
    nodes = len(topo_order(loss))

    def plain():
        for p in params:
            p.grad = 0.0
        loss.backward()
        return [p.grad for p in params]

    def traced():
        for p in params:
            p.grad = 0.0
        steps = trace(loss).backward()
        return steps, [p.grad for p in params]

    seconds = {}
    seconds["backward()"], reference = best_time(plain, repeats)
    seconds["gradients"], floats = best_time(lambda: gradients(loss, params), repeats)
    seconds["gradients(create_graph=True)"], values = best_time(
        lambda: gradients(loss, params, create_graph=True), repeats)
    seconds["trace + Graph.backward()"], (steps, from_trace) = best_time(traced, repeats)

    derivative_nodes = len(topo_order(Value.sum(values))) - 1
    differences = [abs(a - b) for got in (floats, [v.data for v in values], from_trace)
                   for a, b in zip(got, reference)]
    base = seconds["backward()"]
    relative = {name: s / base for name, s in seconds.items() if name != "backward()"}

    print(f"Transforms: MLP 2-16-16-1, relu, hinge loss, {points} points: {nodes:,} nodes, "
          f"{len(params)} parameters; best of {repeats}")
    print(f"{'way of differentiating':<32}{'ms':>9}{'× backward()':>14}")
    for name, s in seconds.items():
        ratio = f"{s / base:.2f}" if name != "backward()" else "1"
        print(f"{name:<32}{s * 1e3:>9.1f}{ratio:>14}")
    print(f"create_graph=True recorded a derivative graph of {derivative_nodes:,} nodes "
          f"({derivative_nodes / nodes:.2f} per node of the loss); trace kept {len(steps):,} steps")
    print(f"largest difference from backward()'s gradients: {max(differences):.3g}")
    return {"nodes": nodes, "derivative_nodes": derivative_nodes, "steps": len(steps),
            "seconds": seconds, "relative": relative, "max_gradient_difference": max(differences)}


if __name__ == "__main__":
    main()
