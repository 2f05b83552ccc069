"""Rosenblatt's perceptron (1958) learning AND from its truth table, and never learning XOR.

Follows the lecture's slides "Perceptron learning rule" (w ← w + η(t − y)x, b ← b + η(t − y),
output 1 if Sum > 0) and the convergence theorem: "for any data set which is linearly separable
the Perceptron learning rule is guaranteed to find a solution in a finite number of steps". AND
is separable, so the rule stops; XOR is not, so it never does. nn.Perceptron is checked against
the rule written out by hand here, epoch by epoch.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from common import Checks, Pictures, parse_args, section

ETA = 0.1
MAX_EPOCHS = 100


def by_hand(X, y, eta: float = ETA, max_epochs: int = MAX_EPOCHS) -> tuple[list[float], float, list[int]]:
    """The lecture's rule in plain Python: weights, bias and the errors of each epoch."""
    w, b, errors = [0.0, 0.0], 0.0, []
    for _ in range(max_epochs):
        wrong = 0
        for x, t in zip(X, y):
            out = 1 if w[0] * x[0] + w[1] * x[1] + b > 0 else 0
            error = t - out
            w = [w[0] + eta * error * x[0], w[1] + eta * error * x[1]]
            b += eta * error
            wrong += error != 0
        errors.append(wrong)
        if wrong == 0:
            break
    return w, b, errors


def brief(errors: list[int]) -> str:
    """A list of per-epoch error counts, long runs of the same count shortened."""
    if len(errors) <= 8:
        return str(errors)
    return f"{str(errors[:6])[:-1]}, then {errors[6]} ×{len(errors) - 6}]" if len(set(errors[6:])) == 1 else str(errors)


def draw_decision_lines(figure, learned: dict[str, nn.Perceptron]) -> None:
    """Each gate's truth table and the line w₁x₁ + w₂x₂ + b = 0 its perceptron learned, side by side."""
    for k, gate in enumerate(learned):
        X, y = nn.data.gate(gate)
        ax = figure.add_subplot(1, len(learned), k + 1)
        for value, marker in ((0, "o"), (1, "s")):
            chosen = X[y == value]
            ax.scatter(chosen[:, 0], chosen[:, 1], s=120, marker=marker,
                       facecolors="none" if value == 0 else "C3", edgecolors="k", label=f"target {value}")
        (w1, w2), b = [p.data for p in learned[gate].w], learned[gate].b.data
        grid = np.linspace(-0.5, 1.5, 201)
        G1, G2 = np.meshgrid(grid, grid)
        ax.contourf(G1, G2, (w1 * G1 + w2 * G2 + b > 0).astype(float), levels=[0.5, 1.5],
                    colors=["#fde2e2"])
        if w2 != 0:
            ax.plot(grid, -(w1 * grid + b) / w2, "C0-", label="w₁x₁ + w₂x₂ + b = 0")
        elif w1 != 0:
            ax.axvline(-b / w1, color="C0", label="w₁x₁ + w₂x₂ + b = 0")
        converged = learned[gate].predict(X).tolist() == y.tolist()
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x₁", ylabel="x₂",
               title=f"{gate}: {'converged' if converged else 'not separated'}")
        ax.set_aspect("equal")
        ax.legend(fontsize=8, loc="upper right")
    figure.suptitle("The perceptron's decision line")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "perceptron", argv)
    checks, pictures = Checks(), Pictures(args)
    learned = {}

    for gate, separable in (("AND", True), ("XOR", False)):
        section(f"{gate}: η = {ETA}, weights start at 0, at most {MAX_EPOCHS} epochs")
        X, y = nn.data.gate(gate)
        perceptron = nn.Perceptron(2, lr=ETA)
        report = perceptron.fit(X, y, max_epochs=MAX_EPOCHS)
        learned[gate] = perceptron
        w = [p.data for p in perceptron.w]
        print(f"{report}; errors per epoch {report.errors[:12]}{' …' if report.epochs > 12 else ''}")
        print(f"w = [{w[0]:.4g}, {w[1]:.4g}], b = {perceptron.b.data:.4g}; "
              f"outputs {perceptron.predict(X).tolist()} for targets {y.tolist()}")
        hand_w, hand_b, hand_errors = by_hand(X.tolist(), y.tolist())
        checks.same(f"{gate} converges", separable, report.converged)
        checks.row(f"{gate} errors per epoch", brief(hand_errors), brief(report.errors),
                   hand_errors == report.errors, note="the rule by hand vs nn, every epoch")
        checks.row(f"{gate} final w, b", f"[{hand_w[0]:.12g}, {hand_w[1]:.12g}, {hand_b:.12g}]",
                   f"[{w[0]:.12g}, {w[1]:.12g}, {perceptron.b.data:.12g}]",
                   [*hand_w, hand_b] == [*w, perceptron.b.data])
        if separable:
            checks.same(f"{gate} outputs", y.tolist(), perceptron.predict(X).tolist())
            print(f"epochs to converge: {report.epochs}")
        else:
            checks.same(f"{gate} every epoch has an error", True, min(report.errors) > 0)

    pictures.plot("decision_lines.png", lambda figure: draw_decision_lines(figure, learned), figsize=(9, 4.5))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
