"""One neuron, three ways: the lecture's chain-rule derivations of ∂E/∂w checked number by number.

Follows the slides "Single neuron with linear activation function" (E = ½(t − y)², y = a,
∂E/∂w₁ = −(t − y)x₁), "Sigmoid activation function" under the same E (∂E/∂w₁ = −(t − y)y(1 − y)x₁,
δ = (t − y)y(1 − y)) and under binary cross-entropy E = −(t log y + (1 − t) log(1 − y))
(∂E/∂w₁ = (y − t)x₁, δ = t − y). For each, the lecture's derivation of ∂E/∂w₁ as explain() gives it
on the neuron written as the lecture writes it (x1, w1, a, y, t, E named), each factor's formula
checked against the lecture's, then the engine's gradient of every weight and the bias checked against
the closed form and against a central difference, and one update w ← w + αδx against a step of
nn.SGD. Then the point of the cross-entropy: a sigmoid that is confidently wrong learns slowly under
½(t − y)², because y(1 − y) is tiny, but at full speed under cross-entropy.
"""

from __future__ import annotations

import math
import sys

import nn
from autodiff import Parameter, Value, explain
from autodiff.notation import Factors, parse, render, sympy_available, tidy, to_sympy
from common import Checks, Pictures, parse_args, section

X = [0.6, -0.4]
WEIGHTS = [0.3, 0.8]
BIAS = 0.1
TARGET = 0.9
ALPHA = 0.5

# name -> (activation, y(a), loss, E(t, y), δ(t, y) as the lecture writes it: ∂E/∂w_i = −δ·x_i),
# the closed forms in plain floats so that they owe nothing to the engine
SETUPS = {
    "linear, ½(t − y)²": ("identity", lambda a: a, nn.half_squared_error,
                          lambda t, y: 0.5 * (t - y) ** 2, lambda t, y: t - y),
    "sigmoid, ½(t − y)²": ("sigmoid", lambda a: 1 / (1 + math.exp(-a)), nn.half_squared_error,
                           lambda t, y: 0.5 * (t - y) ** 2, lambda t, y: (t - y) * y * (1 - y)),
    "sigmoid, cross-entropy": ("sigmoid", lambda a: 1 / (1 + math.exp(-a)), nn.binary_cross_entropy,
                               lambda t, y: -(t * math.log(y) + (1 - t) * math.log(1 - y)),
                               lambda t, y: t - y),
}


# title -> the lecture's ∂E/∂y, ∂y/∂a, ∂a/∂w1 and ∂E/∂w1 as it writes them, in Python syntax; a
# product the lecture writes factor by factor is a tuple of its factors
DERIVATIONS = {
    "linear, ½(t − y)²": {"∂E/∂y": ("-(t - y)",), "∂y/∂a": ("1",), "∂a/∂w1": ("x1",),
                          "∂E/∂w1": ("-(t - y)", "x1")},
    "sigmoid, ½(t − y)²": {"∂E/∂y": ("-(t - y)",), "∂y/∂a": ("y*(1 - y)",), "∂a/∂w1": ("x1",),
                           "∂E/∂w1": ("-(t - y)", "y*(1 - y)", "x1")},
    "sigmoid, cross-entropy": {"∂E/∂y": ("-(t/y - (1 - t)/(1 - y))",), "∂y/∂a": ("y*(1 - y)",),
                               "∂a/∂w1": ("x1",), "∂E/∂w1": ("(y - t)*x1",)},
}
SYMPY_MISSING = ("(sympy is not installed, so explain() gives names and numbers only: pip install sympy, "
                 "or bash scripts/setup.sh, which installs the extras)")


def as_the_lecture_writes_it(activation: str, loss: str) -> tuple[Value, Value]:
    """E and w1 of the neuron with every node named as the lecture names it: x1, x2, w1, w2, b, a, y, t, E."""
    x1, x2 = Value(X[0], label="x1"), Value(X[1], label="x2")
    w1, w2, b = Parameter(WEIGHTS[0], label="w1"), Parameter(WEIGHTS[1], label="w2"), Parameter(BIAS, label="b")
    t = Value(TARGET, label="t")
    a = Value.sum([x1 * w1, x2 * w2, b])
    a.label = "a"
    # the identity activation as a node of its own, so the chain shows the lecture's ∂y/∂a = 1
    y = a.sigmoid() if activation == "sigmoid" else a * 1
    y.label = "y"
    if loss is nn.binary_cross_entropy:
        E = -(t * y.log() + (1 - t) * (1 - y).log())
    else:
        E = 0.5 * (t - y) ** 2
    E.label = "E"
    return E, w1


def derivation(checks: Checks, title: str, activation: str, loss, closed: float) -> None:
    """The lecture's ∂E/∂w1 = ∂E/∂y · ∂y/∂a · ∂a/∂w1 by explain(), checked factor by factor against
    the formulas the lecture writes (the whole product in the form explain() ends with)."""
    E, w1 = as_the_lecture_writes_it(activation, loss)
    found = explain(E, w1)
    print(found)
    checks.close(f"{title}: explain() ∂E/∂w1", closed, found.total, tol=1e-12,
                 note="the product of explain()'s factors vs the closed form")
    if not sympy_available():
        print(SYMPY_MISSING)
        return
    import sympy
    quantities = {q.name: q for q in found.quantities}
    for name, factors in DERIVATIONS[title].items():
        trees = [parse(f) for f in factors]
        lecture = tidy(trees[0] if len(trees) == 1 else Factors(tuple(trees)))
        quantity = quantities[name]
        equal = sympy.simplify(to_sympy(lecture) - quantity.expression) == 0
        checks.row(f"{title}: {name} formula", render(lecture), quantity.simplified or quantity.formula,
                   equal, "sympy: simplify(lecture − explain()) = 0")


def neuron(activation: str, weights=WEIGHTS, bias=BIAS) -> nn.Neuron:
    """A two-input neuron with the given weights."""
    unit = nn.Neuron(2, activation=activation)
    unit.set_weights(weights, bias)
    return unit


def loss_at(activation: str, loss, weights, bias, x=X, target=TARGET) -> float:
    """E for the given weights, in a fresh neuron (for central differences)."""
    return loss(neuron(activation, weights, bias)(x), target).data


def central(activation: str, loss, h: float = 1e-6) -> list[float]:
    """∂E/∂w₁, ∂E/∂w₂, ∂E/∂b by central differences."""
    out = []
    for k in range(3):
        params = [*WEIGHTS, BIAS]
        up, down = list(params), list(params)
        up[k] += h
        down[k] -= h
        out.append((loss_at(activation, loss, up[:2], up[2]) - loss_at(activation, loss, down[:2], down[2]))
                   / (2 * h))
    return out


def train(activation: str, loss, steps: int, weights, bias, x, target) -> list[float]:
    """E after each of `steps` gradient-descent steps on one sample."""
    unit = neuron(activation, weights, bias)
    sgd = nn.SGD(unit.parameters(), lr=ALPHA)
    errors = []
    for _ in range(steps):
        sgd.zero_grad()
        error = loss(unit(x), target)
        error.backward()
        sgd.step()
        errors.append(error.data)
    return errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "single_neuron", argv)
    checks, pictures = Checks(), Pictures(args)

    for title, (activation, f, loss, error, delta) in SETUPS.items():
        section(f"{title}: x = {X}, w = {WEIGHTS}, b = {BIAS}, t = {TARGET}")
        unit = neuron(activation)
        y = unit(X)
        E = loss(y, TARGET)
        E.backward()
        y_closed = f(WEIGHTS[0] * X[0] + WEIGHTS[1] * X[1] + BIAS)
        d = delta(TARGET, y_closed)
        print(f"y = {y.data:.9f}, E = {E.data:.9f}, δ = {d:.9f}")
        checks.close(f"{title}: y", y_closed, y.data, tol=1e-15, note="closed form vs engine")
        checks.close(f"{title}: E", error(TARGET, y_closed), E.data, tol=1e-15, note="closed form vs engine")
        closed = [-d * X[0], -d * X[1], -d]
        print()
        derivation(checks, title, activation, loss, closed[0])
        print()
        engine = [unit.w[0].grad, unit.w[1].grad, unit.b.grad]
        numeric = central(activation, loss)
        for name, c, e, n in zip(("∂E/∂w1", "∂E/∂w2", "∂E/∂b"), closed, engine, numeric):
            checks.close(f"{title}: {name}", c, e, tol=1e-12, note="closed form vs engine")
            checks.close(f"{title}: {name} numerically", c, n, tol=1e-7, digits=7,
                         note="central difference, h = 1e-6")
        nn.SGD(unit.parameters(), lr=ALPHA).step()
        by_rule = [WEIGHTS[0] + ALPHA * d * X[0], WEIGHTS[1] + ALPHA * d * X[1]]
        checks.row(f"{title}: w ← w + αδx", f"[{by_rule[0]:.12f}, {by_rule[1]:.12f}]",
                   f"[{unit.w[0].data:.12f}, {unit.w[1].data:.12f}]",
                   max(abs(a - b.data) for a, b in zip(by_rule, unit.w)) < 1e-15, note="SGD step")

    section("a confidently wrong sigmoid: y ≈ 0.98 for target 0")
    wrong = dict(weights=[3.0, 1.0], bias=1.0, x=[1.0, 0.0], target=0.0)
    slow = train("sigmoid", nn.half_squared_error, 60, **wrong)
    fast = train("sigmoid", nn.binary_cross_entropy, 60, **wrong)
    print(f"½(t − y)²:      E = {slow[0]:.4f} at the start, {slow[9]:.4f} after 10 steps, {slow[-1]:.4f} after 60")
    print(f"cross-entropy:  E = {fast[0]:.4f} at the start, {fast[9]:.4f} after 10 steps, {fast[-1]:.4f} after 60")
    y0 = neuron("sigmoid", wrong["weights"], wrong["bias"])(wrong["x"]).data
    checks.same("cross-entropy learns faster", True, fast[9] / fast[0] < slow[9] / slow[0],
                note=f"y(1 − y) = {y0 * (1 - y0):.4f} slows ½(t − y)²")

    def draw(figure):
        ax = figure.add_subplot()
        ax.plot([e / slow[0] for e in slow], label="sigmoid, ½(t − y)²: δ = (t − y)y(1 − y)")
        ax.plot([e / fast[0] for e in fast], label="sigmoid, cross-entropy: δ = t − y")
        ax.set(xlabel="gradient-descent step (α = 0.5)", ylabel="E / E at the start",
               title="A confidently wrong neuron (y ≈ 0.98, t = 0)")
        ax.legend()

    pictures.plot("learning_speed.png", draw)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
