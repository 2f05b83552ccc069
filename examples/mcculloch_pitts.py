"""McCulloch–Pitts neurons (1943): AND and OR gates from fixed weights and a threshold.

Follows the lecture's slides on "A logical calculus of the ideas immanent in nervous activity":
the AND gate with T = 1.5, w_a = w_b = 1 (from w_a ≤ T, w_b ≤ T, w_a + w_b > T), the OR gate, and
the "Geometric interpretation of M-P neuron" (OR: x₁ + x₂ ≥ 1, AND: x₁ + x₂ ≥ 2). The lecture
states the rule both ways, "1 if Sum > T" and "when the sum is greater than or equal to the
threshold, the output is 1"; the two differ exactly when a sum lands on T, shown here with T = 1
and T = 2.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from common import Checks, Pictures, parse_args, section

INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]
# The gates' truth tables, for the inputs above: AND as the lecture's "2 Input AND gate" table.
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1]}
CONSTANT_0 = [0, 0, 0, 0]


def table(neuron: nn.McCullochPitts) -> list[int]:
    """The neuron's outputs for (0,0), (0,1), (1,0), (1,1)."""
    return [neuron(list(x)) for x in INPUTS]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "mcculloch_pitts", argv)
    checks, pictures = Checks(), Pictures(args)

    gates = {"AND": nn.McCullochPitts([1, 1], threshold=1.5),
             "OR": nn.McCullochPitts([1, 1], threshold=0.5)}
    for name, neuron in gates.items():
        section(f"{name}: {neuron}")
        print(" A  B  Sum  output")
        for (a, b), out in zip(INPUTS, table(neuron)):
            print(f" {a}  {b}  {a + b:>3}  {out:>6}")
        checks.same(f"{name} truth table", TRUTH[name], table(neuron), note="outputs for 00 01 10 11")

    section("strict (Sum > T) vs non-strict (Sum ≥ T), weights 1, 1")
    expected = {(1.0, True): TRUTH["AND"], (1.0, False): TRUTH["OR"],
                (2.0, True): CONSTANT_0, (2.0, False): TRUTH["AND"],
                (1.5, True): TRUTH["AND"], (1.5, False): TRUTH["AND"]}
    names = {tuple(TRUTH["AND"]): "AND", tuple(TRUTH["OR"]): "OR", tuple(CONSTANT_0): "always 0"}
    for (threshold, strict), want in expected.items():
        got = table(nn.McCullochPitts([1, 1], threshold=threshold, strict=strict))
        rule = f"Sum {'>' if strict else '≥'} {threshold:g}"
        checks.same(f"{rule}", want, got, note=names.get(tuple(got), "another function"))

    def draw(figure):
        points = np.array(INPUTS)
        for k, name in enumerate(gates):
            ax = figure.add_subplot(1, 2, k + 1)
            outputs = np.array(table(gates[name]))
            for value, marker in ((0, "o"), (1, "s")):
                chosen = points[outputs == value]
                ax.scatter(chosen[:, 0], chosen[:, 1], s=120, marker=marker,
                           facecolors="none" if value == 0 else "C3", edgecolors="k", label=f"output {value}")
            cut = gates[name].threshold
            ax.plot([-0.5, 1.5], [cut + 0.5, cut - 1.5], "C0-", label=f"x₁ + x₂ = {cut:g}")
            ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x₁", ylabel="x₂", title=f"{name}, T = {cut:g}")
            ax.set_aspect("equal")
            ax.legend(fontsize=8, loc="upper right")
        figure.suptitle("McCulloch–Pitts neurons: a line splits the inputs")

    pictures.plot("gates.png", draw, figsize=(9, 4.5))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
