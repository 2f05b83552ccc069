"""How far the lowered program may be from the scalar engine: a bound propagated through the graph.

The lowered program's claim (autodiff.compile.Program): every sum may add its terms in another
order (a neuron's Σ, a chain of +, a gradient's contributions), which moves it by at most
SUM_ROUNDING × the sum of its terms' magnitudes; every other op computes exactly what the scalar
engine computes from the same inputs (numpy's transcendental functions may differ from `math`'s in
the last bit). This module turns that claim into a bound for each value and each gradient of one
example, by evaluating each op of the scalar graph at the corners of the box its inputs may lie in.

A bound is 0 where nothing uncertain reaches a value (it must then match exactly, nan, inf and
the sign of a zero included), and inf where the box crosses a pole, a kink or an overflow (the
value is then ill-defined under reordering, and left unchecked).
"""

from __future__ import annotations

import itertools
import math

from autodiff import trace

SUM_ROUNDING = 1e-12
LAST_BIT = 4e-16
SUBNORMAL = 5e-324   # below 2.2e-308 a rounding is absolute: n terms may move a sum by n of these
EXACT = {"add", "sub", "mul", "div", "neg", "sum", "abs", "relu", "step", "sqrt"}
SUMS = {"add": (1.0, 1.0), "sub": (1.0, -1.0)}


def same(a: float, b: float) -> bool:
    """Equal as IEEE numbers: nan equals nan, and 0.0 differs from -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _gap(value: float, center: float) -> float:
    if same(value, center) or value == center:
        return 0.0
    if not (math.isfinite(value) and math.isfinite(center)):
        return math.inf
    return abs(value - center)


def _spread(f, centers: list[float], bounds: list[float]) -> float:
    """The largest change of f over the corners of the box centers ± bounds (inf if it breaks)."""
    if any(math.isinf(b) for b in bounds):
        return math.inf
    at = f(*centers)
    choices = [(c,) if b == 0.0 else (c - b, c, c + b) for c, b in zip(centers, bounds)]
    worst = 0.0
    for corner in itertools.product(*choices):
        worst = max(worst, _gap(f(*corner), at))
    return 2.0 * worst   # the corners of a curved function under-estimate its range a little


def rounding(terms) -> float:
    """How far reordering a sum of these terms (and fusing their products) may move it."""
    terms = [t for t in terms if math.isfinite(t)]
    return SUM_ROUNDING * sum(abs(t) for t in terms) + SUBNORMAL * len(terms)


def bounds(output) -> tuple[dict, dict]:
    """(value bound, gradient bound) per node of the scalar graph of `output`, after
    output.backward() has run on it (the graph's .data and .grad are the scalar engine's)."""
    nodes = trace(output).nodes
    ev: dict = {}
    for node in nodes:
        op = node._op
        if op is None:
            ev[node] = 0.0
            continue
        parents = node.parents
        if op.name in SUMS or op.name == "sum":
            bound = sum(ev[p] for p in parents)
            if math.isfinite(node.data):
                bound += rounding(p.data for p in parents)
            ev[node] = bound
            continue
        bound = _spread(op.forward, [p.data for p in parents], [ev[p] for p in parents])
        if op.name not in EXACT and math.isfinite(node.data):
            bound += LAST_BIT * abs(node.data)
        ev[node] = bound

    contributions: dict = {n: [] for n in nodes}   # (contribution, its bound) per parent
    eg: dict = {}
    for node in reversed(nodes):
        arriving = contributions[node]
        if node is output:
            arriving = arriving + [(1.0, 0.0)]
        bound = sum(b for _, b in arriving)
        if math.isfinite(node.grad):
            bound += rounding(c for c, _ in arriving)
        eg[node] = bound
        op = node._op
        if op is None:
            continue
        g, parents = node.grad, node.parents
        if op.name in SUMS or op.name == "sum":
            signs = SUMS.get(op.name, (1.0,) * len(parents))
            for p, s in zip(parents, signs):
                contributions[p].append((g * s, bound))
            continue
        xs = [p.data for p in parents]

        def vjp(g, y, *xs, op=op):
            if op.vjp is not None:
                return op.vjp(g, y, *xs)
            return tuple(g * d for d in op.local(y, *xs))

        centers = [g, node.data, *xs]
        boxes = [bound, ev[node], *(ev[p] for p in parents)]
        values = vjp(*centers)
        for k, p in enumerate(parents):
            spread = _spread(lambda *a, k=k: float(vjp(*a)[k]), centers, boxes)
            if op.name not in EXACT and math.isfinite(values[k]):
                spread += LAST_BIT * abs(values[k])
            contributions[p].append((float(values[k]), spread))
    return ev, eg


def batch_within(got: float, want: float, bound: float) -> bool:
    """`within` for a sum over the batch: where the scalar sum is not finite, only not finite.

    What is computed once per run is differentiated once, from the batch's summed gradient:
    (0 + g)·inf is inf where the scalar engine's 0·inf + g·inf is nan (PyTorch does the same)."""
    if not math.isfinite(want):
        return not math.isfinite(got)
    return within(got, want, bound)


def within(got: float, want: float, bound: float) -> bool:
    """True if got is want to within bound; non-finite wants must match exactly (same())."""
    if math.isinf(bound):
        return True
    if bound == 0.0 or not math.isfinite(want):
        return same(got, want) if bound == 0.0 else (got == want or same(got, want))
    return math.isfinite(got) and abs(got - want) <= bound
