"""Engine benchmark: ns per node to build and to backpropagate, bytes per node, deepest chain.

Bytes are measured with tracemalloc over a chain of 100,000 links `x = x * 1.0000001` and divided by
the nodes the chain holds: each link is a product node and the constant leaf the engine makes for
the number (both engines make one), so about 200,000 nodes.

The workload is micrograd's demo: an MLP with 2 inputs, two hidden layers of 16 relu units and one
linear output, hinge loss averaged over 100 points. When micrograd is installed
(`pip install micrograd`, never a dependency) the same workload runs on it, interleaved, for the
ratios. micrograd makes more nodes for the same workload (its Σ is a chain of additions, where
`Value.sum` is one node), so the table also gives each engine's milliseconds for the whole workload.
Run: python benchmarks/engine.py
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc

from autodiff import Parameter, Value

SIZES = (2, 16, 16, 1)
POINTS = 100
REPEATS = 5


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
    t0 = time.perf_counter()
    depth = deepest_chain()
    print(f"deepest chain backpropagated: {depth:,} additions, the longest tried "
          f"({time.perf_counter() - t0:.1f} s, no recursion)")


if __name__ == "__main__":
    main()
