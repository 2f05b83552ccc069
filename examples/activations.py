"""The lecture's table of activation functions, their derivatives, and a dying ReLU.

Follows the slides "Sigmoid / tanh / ReLU" and the table "Name | Plot | Equation | Derivative":
identity, binary step, logistic, tanh, arctan and ReLU, each derivative taken by the engine beside
the closed form the table gives; tanh(x) = 2σ(2x) − 1; the ranges the lecture states ("for input
between [−1, 1], tanh' is between [0.42, 1]"; "for input between [0, 1], σ' is between [0.20,
0.25]"); and the slide's warning that ReLU neurons can be "pushed into states in which they become
inactive for essentially all inputs": no gradient flows back, and the neuron never recovers.
"""

from __future__ import annotations

import math
import sys

import numpy as np

import nn
from autodiff import Value, grad
from common import Checks, Pictures, parse_args, section

POINTS = [-2.0, -0.5, 0.0, 0.5, 2.0]


def sigmoid(x: float) -> float:
    """σ(x) = 1 / (1 + e^−x), in floats."""
    return 1.0 / (1.0 + math.exp(-x))


# name in the lecture's table -> (nn activation name, f(x), f'(x) in closed form)
TABLE = {
    "Identity": ("identity", lambda x: x, lambda x: 1.0),
    "Binary step": ("step", lambda x: float(x >= 0), lambda x: 0.0),
    "Logistic": ("sigmoid", sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "tanh": ("tanh", math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "arctan": ("arctan", math.atan, lambda x: 1 / (x * x + 1)),
    "ReLU": ("relu", lambda x: max(0.0, x), lambda x: float(x >= 0)),
}

# The table writes 1 for ReLU' at 0 and '?' for the step's; the engine, as PyTorch, takes 0 at
# both kinks. Either is a valid subgradient, so the kinks are compared apart from the table's rows.
KINKS = {"Binary step": "'?'", "ReLU": "1 (x ≥ 0)"}


def engine(name: str):
    """f and f' of an activation, both computed by the engine."""
    f = nn.activation(name)
    return (lambda x: f(Value(x)).data), grad(f)


def shown(xs) -> str:
    """A list of numbers as the rows print them."""
    return "[" + ", ".join(f"{x:.9g}" for x in xs) + "]"


def derivative_range(name: str, low: float, high: float) -> tuple[float, float]:
    """The smallest and largest f' the engine finds on a fine grid of [low, high]."""
    _, df = engine(name)
    values = [df(x) for x in np.linspace(low, high, 2001)]
    return min(values), max(values)


def dying_relu(checks: Checks) -> None:
    """A ReLU neuron whose bias keeps it below 0 for every input gets no gradient and never moves."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(32, 2))
    targets = X[:, 0] - X[:, 1]
    for bias, expect_dead in ((-5.0, True), (0.1, False)):
        neuron = nn.Neuron(2, activation="relu")
        neuron.set_weights([0.5, -0.3], bias)
        before = neuron.state_dict()
        active = sum(neuron(list(x)).data > 0 for x in X)
        history = nn.fit(neuron, X, targets, loss="mse", optimizer=nn.SGD(neuron.parameters(), lr=0.1),
                         epochs=50, verbose=False)
        moved = max(abs(neuron.state_dict()[k] - v) for k, v in before.items())
        label = "dead" if expect_dead else "live"
        print(f"{label} ReLU neuron, bias {bias}: active on {active} of {len(X)} inputs; after 50 epochs "
              f"of SGD the weights moved by at most {moved:.3g}, loss {history.loss[0]:.4f} → "
              f"{history.loss[-1]:.4f}")
        checks.same(f"{label} ReLU: active on some input", not expect_dead, active > 0)
        checks.same(f"{label} ReLU: weights move under SGD", not expect_dead, moved > 0)


def draw_activations(figure) -> None:
    """Each activation of TABLE and its derivative, both computed by the engine, on [−3, 3]."""
    grid = np.linspace(-3, 3, 241)
    for k, (title, (name, _, _)) in enumerate(TABLE.items()):
        ef, edf = engine(name)
        ax = figure.add_subplot(2, 3, k + 1)
        ax.axhline(0, color="0.85", lw=0.8)
        ax.axvline(0, color="0.85", lw=0.8)
        ax.plot(grid, [ef(x) for x in grid], lw=2, label="f(x)")
        ax.plot(grid, [edf(x) for x in grid], "--", lw=1.5, label="f'(x), by the engine")
        ax.set_title(title)
        ax.set_ylim(-1.6, 2.1)
        if k == 0:
            ax.legend(fontsize=8, loc="upper left")
    figure.suptitle("Activation functions and their derivatives")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "activations", argv)
    checks, pictures = Checks(), Pictures(args)

    section(f"f and f' at x = {POINTS}: the lecture's closed form vs the engine")
    for title, (name, f, df) in TABLE.items():
        ef, edf = engine(name)
        checks.row(f"{title} f(x)", shown(map(f, POINTS)), shown(map(ef, POINTS)),
                   all(abs(f(x) - ef(x)) < 1e-15 for x in POINTS))
        smooth = [x for x in POINTS if x != 0 or title not in KINKS]
        checks.row(f"{title} f'(x)", shown(map(df, smooth)), shown(map(edf, smooth)),
                   all(abs(df(x) - edf(x)) < 1e-15 for x in smooth),
                   note="x = 0 apart, below" if title in KINKS else "")
    for title, table_says in KINKS.items():
        checks.same(f"{title} f'(0), at the kink", 0.0, engine(TABLE[title][0])[1](0.0),
                    note=f"the engine's choice, as PyTorch's; the table has {table_says}")

    section("tanh(x) = 2σ(2x) − 1, on 601 points of [−3, 3]")
    gap = max(abs(math.tanh(x) - (2 * Value(2 * x).sigmoid() - 1).data) for x in np.linspace(-3, 3, 601))
    checks.small("tanh(x) − (2σ(2x) − 1)", gap, 1e-15)

    section("the derivative ranges the lecture states")
    for title, name, low, high, lecture in (("tanh' on [−1, 1]", "tanh", -1.0, 1.0, (0.42, 1.0)),
                                            ("σ' on [0, 1]", "sigmoid", 0.0, 1.0, (0.20, 0.25))):
        smallest, largest = derivative_range(name, low, high)
        ok = round(smallest, 2) == lecture[0] and round(largest, 2) == lecture[1]
        checks.row(title, f"[{lecture[0]:.2f}, {lecture[1]:.2f}]", f"[{smallest:.6f}, {largest:.6f}]", ok)

    section("a dying ReLU")
    dying_relu(checks)

    pictures.plot("activations.png", draw_activations, figsize=(10, 6))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
