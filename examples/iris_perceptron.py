"""The perceptron and Adaline separating Iris setosa from versicolor, and why inputs are standardised.

Follows the lecture's Iris slides (setosa, versicolor, virginica), Rosenblatt's rule, Widrow and
Hoff's Adaline (±1 targets, learning from the linear output under the mean squared error), and
the remark that "convergence is usually faster if the average of each input variable over the
training set is close to zero". Two features, sepal length and petal length, in cm.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from common import Checks, Pictures, parse_args, section
from perceptron import by_hand as perceptron_by_hand

FEATURES = ["sepal_length", "petal_length"]
ADALINE_LR, ADALINE_EPOCHS = 0.1, 50


def adaline_by_hand(X: np.ndarray, t: np.ndarray, lr: float = ADALINE_LR,
                    epochs: int = ADALINE_EPOCHS) -> list[float]:
    """The lecture's batch rule w_j ← w_j + α(1/m)Σ(t − y)x_j in numpy: the MSE of each epoch."""
    w, b, mse = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        residuals = t - (X @ w + b)
        mse.append(float(np.mean(residuals ** 2)))
        w = w + lr * residuals @ X / len(t)
        b += lr * float(np.mean(residuals))
    return mse


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "iris_perceptron", argv)
    checks, pictures = Checks(), Pictures(args)
    X, y = nn.data.load_iris(species=["setosa", "versicolor"], features=FEATURES)
    Z = nn.data.standardize(X)
    signs = 2 * y - 1

    section("the perceptron, η = 0.1, on the raw measurements")
    perceptron = nn.Perceptron(2, lr=0.1)
    report = perceptron.fit(X, y, max_epochs=100)
    print(f"{report}; misclassified per epoch {report.errors}")
    checks.same("perceptron converges (the classes are separable)", True, report.converged)
    checks.same("perceptron errors per epoch", perceptron_by_hand(X.tolist(), y.tolist())[2], report.errors,
                note="the rule by hand (perceptron.py) vs nn, every epoch")
    checks.same("perceptron errors after training", 0, int(np.sum(perceptron.predict(X) != y)))

    section(f"Adaline, ±1 targets, batch updates, α = {ADALINE_LR}, {ADALINE_EPOCHS} epochs: raw vs "
            f"standardised inputs")
    fits = {}
    for name, inputs in (("raw", X), ("standardised", Z)):
        adaline = nn.Adaline(2, lr=ADALINE_LR)
        fits[name] = (adaline, adaline.fit(inputs, signs, epochs=ADALINE_EPOCHS, mode="batch"))
        mse = fits[name][1].mse
        print(f"{name:>13}: MSE {', '.join(f'{m:.3g}' for m in mse[:5])}, …, {mse[-1]:.3g}; "
              f"{fits[name][1].errors[-1]} misclassified at the end")
    raw, standard = fits["raw"][1], fits["standardised"][1]
    for name, inputs, report in (("raw", X, raw), ("standardised", Z, standard)):
        hand = adaline_by_hand(inputs, signs)
        gap = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(hand, report.mse))
        checks.small(f"{name}: MSE per epoch, nn − by hand", gap, 1e-9,
                     note=f"the lecture's batch rule in numpy, {ADALINE_EPOCHS} epochs, relative")
    checks.same("raw inputs: MSE grows (diverges)", True, raw.mse[-1] > raw.mse[0],
                note=f"inputs around 5 cm make α = {ADALINE_LR} too large")
    checks.same("standardised: MSE falls every epoch", True,
                all(b < a for a, b in zip(standard.mse, standard.mse[1:])))
    checks.same("standardised: every flower classified right", 0, standard.errors[-1])

    def draw(figure):
        ax = figure.add_subplot(1, 3, 1)
        (w1, w2), b = [p.data for p in perceptron.w], perceptron.b.data
        line = np.linspace(X[:, 0].min() - 0.3, X[:, 0].max() + 0.3, 2)
        for value, (name, colour) in enumerate((("setosa", "C0"), ("versicolor", "C3"))):
            ax.scatter(X[y == value, 0], X[y == value, 1], s=16, c=colour, label=name)
        ax.plot(line, -(w1 * line + b) / w2, "k-", label="perceptron: w·x + b = 0")
        ax.set(xlabel="sepal length (cm)", ylabel="petal length (cm)", title="Perceptron decision boundary")
        ax.legend(fontsize=8)
        ax = figure.add_subplot(1, 3, 2)
        ax.semilogy(range(1, ADALINE_EPOCHS + 1), raw.mse, "o-", ms=3)
        ax.set(xlabel="epoch", ylabel="MSE (log scale)", title=f"Adaline, raw inputs, α = {ADALINE_LR}")
        ax = figure.add_subplot(1, 3, 3)
        ax.plot(range(1, ADALINE_EPOCHS + 1), standard.mse, "o-", ms=3)
        ax.set(xlabel="epoch", ylabel="MSE", title=f"Adaline, standardised, α = {ADALINE_LR}")

    pictures.plot("iris.png", draw, figsize=(13, 4))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
