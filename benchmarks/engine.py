"""Engine benchmark: ns per node to build and to backpropagate, bytes per node, deepest chain, and a
training step written the way micrograd writes it, on this engine and on micrograd.

Bytes are measured with tracemalloc over a chain of 100,000 links `x = x * 1.0000001` and divided by
the nodes the chain holds: each link is a product node and the constant leaf the engine makes for
the number (both engines make one), so about 200,000 nodes.

The first workload is micrograd's demo: an MLP with 2 inputs, two hidden layers of 16 relu units and
one linear output, hinge loss averaged over 100 points, each neuron's Σ one `Value.sum` node here
(micrograd's Σ is a chain of additions). The second is one whole training step of that demo written
exactly as micrograd's README and notebook write it, one source for both engines: neurons as
`sum((wi*xi for ...), b)` (chains of binary additions), relu, hinge loss plus an L2 penalty
1e-4 · Σ p², 100 moons points, then an SGD update; both engines start from the same weights, and the
table shows the largest difference between their losses.

When micrograd is installed (`pip install micrograd`, never a dependency) it runs the same workloads,
interleaved round by round with this engine, for the ratios. Every timed round starts from a
collected heap (gc.collect() before it), so no engine pays for another's garbage. Each figure is
the best round. Run: python benchmarks/engine.py
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time
import tracemalloc

from autodiff import Parameter, Value

SIZES = (2, 16, 16, 1)
POINTS = 100
REPEATS = 5
ALPHA = 1e-4       # the L2 penalty of micrograd's demo
STEP_ROUNDS = 7


def make_workload(value_type, sum_terms):
    """A function that builds the loss graph over the 100 points with the given engine."""
    rng = random.Random(0)
    layers = [[[value_type(rng.uniform(-1, 1)) for _ in range(nin + 1)] for _ in range(nout)]
              for nin, nout in zip(SIZES, SIZES[1:])]
    data = [((rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)), rng.choice((-1.0, 1.0)))
            for _ in range(POINTS)]

    def build():
        losses = []
        for x, y in data:
            h = list(x)
            for depth, layer in enumerate(layers):
                out = []
                for neuron in layer:
                    act = sum_terms([w * xi for w, xi in zip(neuron, h)] + [neuron[-1]])
                    out.append(act.relu() if depth < len(layers) - 1 else act)
                h = out
            losses.append((1 + -y * h[0]).relu())
        return sum_terms(losses) * (1.0 / POINTS)
    return build


def count_nodes(root) -> int:
    """Nodes reachable from root, walking either engine's parent links without recursion."""
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        for parent in getattr(node, "parents", None) or getattr(node, "_prev", ()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def time_engine(build):
    """Nodes of the loss graph `build` makes, seconds to build it and seconds to backpropagate."""
    gc.collect()
    t0 = time.perf_counter()
    loss = build()
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    return count_nodes(loss), t1 - t0, t2 - t1


def bytes_per_node(chain, n=100_000) -> float:
    """Bytes traced while building a chain of n links, per node of the graph it made."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    nodes = chain(n)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count_nodes(nodes[-1])


def make_chain(value_type):
    """A function building a chain of n links x = x * 1.0000001, all kept alive."""
    def chain(n):
        x = value_type(1.0)
        nodes = [x]
        for _ in range(n):
            x = x * 1.0000001
            nodes.append(x)
        return nodes
    return chain


def deepest_chain(limit=1_000_000) -> int:
    """Backpropagate through a chain of `limit` additions; `limit` if the gradient arrives intact."""
    x = Value(1.0)
    y = x
    for _ in range(limit):
        y = y + 1.0
    y.backward()
    return limit if x.grad == 1.0 else 0


def engines():
    """Each installed engine's (workload builder, chain builder), autodiff first."""
    found = {"autodiff": (make_workload(Parameter, Value.sum), make_chain(Value))}
    try:
        from micrograd.engine import Value as MicroValue
    except ImportError:
        return found
    found["micrograd"] = (make_workload(MicroValue, sum), make_chain(MicroValue))
    return found


def measure() -> dict[str, dict[str, float]]:
    """Best-of-REPEATS ns/node for build and backward, and bytes/node, for each engine."""
    found = engines()
    results = {name: {"build": float("inf"), "backward": float("inf")} for name in found}
    for _ in range(REPEATS):
        for name, (build, _) in found.items():  # interleaved, so drift hits both alike
            nodes, t_build, t_back = time_engine(build)
            results[name]["nodes"] = nodes
            results[name]["build"] = min(results[name]["build"], t_build / nodes * 1e9)
            results[name]["backward"] = min(results[name]["backward"], t_back / nodes * 1e9)
    for name, (_, chain) in found.items():
        results[name]["bytes"] = bytes_per_node(chain)
    return results


# -- a training step written the micrograd way -------------------------------------------------

def micrograd_style_model(value_type, weights):
    """An MLP as micrograd's nn.py writes one, for any engine's Value type; `weights` holds, per
    layer and neuron, the weights then the bias."""

    class Neuron:
        def __init__(self, numbers, nonlin):
            self.w = [value_type(w) for w in numbers[:-1]]
            self.b = value_type(numbers[-1])
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self):
            return self.w + [self.b]

    class MLP:
        def __init__(self):
            self.layers = [[Neuron(numbers, depth < len(weights) - 1) for numbers in layer]
                           for depth, layer in enumerate(weights)]

        def __call__(self, x):
            for layer in self.layers:
                x = [neuron(x) for neuron in layer]
            return x[0]

        def parameters(self):
            return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]

    return MLP()


def micrograd_style_step(value_type, weights, X, y):
    """A function running one training step the micrograd way; it returns the loss graph."""
    model = micrograd_style_model(value_type, weights)
    parameters = model.parameters()

    def loss():
        inputs = [list(map(value_type, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in parameters)
        return data_loss + reg_loss

    def step(learning_rate=0.1):
        total = loss()
        for p in parameters:
            p.grad = 0.0
        total.backward()
        for p in parameters:
            p.data -= learning_rate * p.grad
        return total

    return loss, step


def moons_and_weights(points: int = POINTS):
    """Moons points with labels ±1, and seeded weights for the 2-16-16-1 MLP."""
    from nn.data import make_moons
    X, labels = make_moons(points, noise=0.1)
    rng = random.Random(0)
    weights = [[[rng.uniform(-1, 1) for _ in range(nin)] + [0.0] for _ in range(nout)]
               for nin, nout in zip(SIZES, SIZES[1:])]
    return [tuple(map(float, row)) for row in X], [2.0 * t - 1.0 for t in labels], weights


def step_engines():
    """Each installed engine's Value type, autodiff first."""
    found = {"autodiff": Value}
    try:
        from micrograd.engine import Value as MicroValue
    except ImportError:
        return found
    found["micrograd"] = MicroValue
    return found


def measure_steps(rounds: int = STEP_ROUNDS, points: int = POINTS) -> dict[str, dict[str, float]]:
    """Best-of-rounds build and backward ns/node, step ms and bytes/node of the micrograd-style
    step on each engine, and each engine's losses over the rounds (they take the same steps)."""
    X, y, weights = moons_and_weights(points)
    engines = step_engines()
    results = {}
    for name, value_type in engines.items():
        loss, step = micrograd_style_step(value_type, weights, X, y)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        graph = loss()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        nodes = count_nodes(graph)
        del graph
        results[name] = {"nodes": nodes, "bytes": held / nodes, "build": math.inf,
                         "backward": math.inf, "step": math.inf, "losses": [], "run": (loss, step)}
    for _ in range(rounds):
        for name, r in results.items():  # interleaved, so drift hits every engine alike
            loss, step = r["run"]
            gc.collect()
            t0 = time.perf_counter()
            total = step()
            t1 = time.perf_counter()
            r["step"] = min(r["step"], t1 - t0)
            r["losses"].append(total.data)
            del total
            gc.collect()
            t0 = time.perf_counter()
            total = loss()
            t1 = time.perf_counter()
            total.backward()
            t2 = time.perf_counter()
            r["build"] = min(r["build"], (t1 - t0) / r["nodes"] * 1e9)
            r["backward"] = min(r["backward"], (t2 - t1) / r["nodes"] * 1e9)
            del total
    for r in results.values():
        del r["run"]
    return results


def print_steps(results: dict[str, dict[str, float]]) -> None:
    print(f"\nTraining step written the micrograd way (sum() of binary adds), MLP 2-16-16-1, relu, "
          f"hinge + L2, {POINTS} moons points; best of {STEP_ROUNDS} interleaved rounds, each "
          f"from a collected heap")
    print(f"{'engine':<12}{'nodes':>8}{'build ns/node':>15}{'backward ns/node':>18}{'bytes/node':>12}"
          f"{'step ms':>10}")
    for name, r in results.items():
        print(f"{name:<12}{r['nodes']:>8,}{r['build']:>15.0f}{r['backward']:>18.0f}{r['bytes']:>12.0f}"
              f"{r['step'] * 1e3:>10.1f}")
    if "micrograd" in results:
        ours, theirs = results["autodiff"], results["micrograd"]
        difference = max(abs(a - b) for a, b in zip(ours["losses"], theirs["losses"]))
        print(f"micrograd / autodiff per training step: {theirs['step'] / ours['step']:.1f}× "
              f"(largest difference between their losses over the steps: {difference:.3g})")
    else:
        print("micrograd is not installed (pip install micrograd) : no comparison")


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    results = measure()
    print(f"Engine: MLP 2-16-16-1, relu, hinge loss, {POINTS} points; best of {REPEATS}")
    print(f"{'engine':<12}{'nodes':>8}{'build ns/node':>15}{'backward ns/node':>18}{'bytes/node':>12}"
          f"{'build+backward ms':>19}")
    for name, r in results.items():
        total_ms = (r['build'] + r['backward']) * r['nodes'] / 1e6
        print(f"{name:<12}{r['nodes']:>8,}{r['build']:>15.0f}{r['backward']:>18.0f}"
              f"{r['bytes']:>12.0f}{total_ms:>19.1f}")
    if "micrograd" in results:
        ours, theirs = results["autodiff"], results["micrograd"]
        total = (theirs["build"] + theirs["backward"]) / (ours["build"] + ours["backward"])
        print(f"micrograd / autodiff: build {theirs['build'] / ours['build']:.1f}×, "
              f"backward {theirs['backward'] / ours['backward']:.1f}×, build+backward {total:.1f}×, "
              f"bytes {theirs['bytes'] / ours['bytes']:.1f}×")
    else:
        print("micrograd is not installed (pip install micrograd) : no comparison")
    print_steps(measure_steps())
    t0 = time.perf_counter()
    depth = deepest_chain()
    print(f"deepest chain backpropagated: {depth:,} additions, the longest tried "
          f"({time.perf_counter() - t0:.1f} s, no recursion)")


if __name__ == "__main__":
    main()
