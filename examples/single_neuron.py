"""One neuron, three ways: the lecture's chain-rule derivations of ∂E/∂w checked number by number.

Follows the slides "Single neuron with linear activation function" (E = ½(t − y)², y = a,
∂E/∂w₁ = −(t − y)x₁), "Sigmoid activation function" under the same E (∂E/∂w₁ = −(t − y)y(1 − y)x₁,
δ = (t − y)y(1 − y)) and under binary cross-entropy E = −(t log y + (1 − t) log(1 − y))
(∂E/∂w₁ = (y − t)x₁, δ = t − y). For each, the engine's gradient of every weight and the bias is
checked against the closed form and against a central difference, and one update
w ← w + αδx is checked against a step of nn.SGD. Then the point of the cross-entropy: a sigmoid
that is confidently wrong learns slowly under ½(t − y)², because y(1 − y) is tiny, but at full
speed under cross-entropy.
"""

from __future__ import annotations

import math
import sys

import nn
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
