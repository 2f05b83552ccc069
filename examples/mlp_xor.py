"""A multilayer network learning XOR, the function one perceptron cannot draw.

Follows the lecture's "ANN with multiple layers": a single neuron's decision boundary is a line
(see perceptron.py, where the rule never converges on XOR), but one hidden layer of four tanh
units and a sigmoid output, trained by backpropagation under binary cross-entropy, bends it
around the two classes.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from common import Checks, Pictures, parse_args, section

EPOCHS, LR, SEED = 300, 0.05, 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "mlp_xor", argv)
    checks, pictures = Checks(), Pictures(args)
    X, y = nn.data.gate("XOR")

    section("one perceptron on XOR")
    report = nn.Perceptron(2, lr=0.1).fit(X, y, max_epochs=100)
    print(report)
    checks.same("the perceptron converges on XOR", False, report.converged)

    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=SEED)
    section(f"{model}, Adam lr {LR}, {EPOCHS} epochs of the whole truth table")
    history = nn.fit(model, X, y, loss="binary_cross_entropy", optimizer=nn.Adam(model.parameters(), lr=LR),
                     epochs=EPOCHS, verbose=False)
    outputs = [model(list(x)).data for x in X]
    print(f"loss {history.loss[0]:.4f} → {history.loss[-1]:.6f}")
    for x, out in zip(X.astype(int).tolist(), outputs):
        print(f"  {x[0]} XOR {x[1]}: network says {out:.4f}")
    checks.same("XOR truth table", y.tolist(), [int(out > 0.5) for out in outputs], note="outputs above 0.5")
    checks.same("every output within 0.1 of its target", True, all(abs(out - t) < 0.1 for out, t in zip(outputs, y)))
    checks.same("loss fell", True, history.loss[-1] < 0.1 * history.loss[0],
                note=f"{history.loss[0]:.4f} → {history.loss[-1]:.6f}")

    def draw(figure):
        grid = np.linspace(-0.5, 1.5, 81)
        G1, G2 = np.meshgrid(grid, grid)
        plane = np.array([[model([a, b]).data for a in grid] for b in grid])
        ax = figure.add_subplot(1, 2, 1)
        shade = ax.contourf(G1, G2, plane, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(G1, G2, plane, levels=[0.5], colors="k", linewidths=1)
        figure.colorbar(shade, ax=ax, label="network output")
        for value, marker in ((0, "o"), (1, "s")):
            chosen = X[y == value]
            ax.scatter(chosen[:, 0], chosen[:, 1], s=120, marker=marker, c="w" if value == 0 else "C3",
                       edgecolors="k", label=f"target {value}")
        ax.set(xlabel="x₁", ylabel="x₂", title="XOR: the boundary output = 0.5")
        ax.set_aspect("equal")
        ax.legend(fontsize=8, loc="upper center")
        ax = figure.add_subplot(1, 2, 2)
        ax.semilogy(range(1, EPOCHS + 1), history.loss)
        ax.set(xlabel="epoch", ylabel="binary cross-entropy (log scale)", title="Training loss")

    pictures.plot("xor.png", draw, figsize=(10, 4.2))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
