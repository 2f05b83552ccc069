"""The lecture's worked backpropagation example, number by number (section "Backpropagation Example").

A 2-2-2 sigmoid network, inputs 0.05 and 0.10, targets 0.01 and 0.99, weights .15 .20 .25 .30 .40
.45 .50 .55, biases .35 and .60, E = Σ ½(target − out)², learning rate 0.5. Prints every number the
lecture derives beside the engine's, marks each match, prints the backward pass as chain-rule lines,
and exits with status 1 if any number differs from the lecture in a printed digit.
"""

from __future__ import annotations

import argparse
import sys

from lecture import DERIVED_BY_HAND, HAND_ROUNDING, LECTURE, WorkedExample, decimals, matches


def print_table(got: dict[str, float]) -> bool:
    """Print the lecture's numbers beside the engine's; return whether all of them match."""
    all_match = True
    print(f"{'quantity':<18}{'lecture':>15}{'engine':>22}")
    for name, printed in LECTURE.items():
        ok = matches(name, got[name])
        all_match &= ok
        note = ""
        if name in DERIVED_BY_HAND:
            note = f"  (not printed; by hand: {DERIVED_BY_HAND[name]})"
        elif name in HAND_ROUNDING:
            note = "  (the lecture rounds a product of rounded factors: ±1 in the last digit)"
        engine = f"{got[name]:.{decimals(printed) + 3}f}"
        print(f"{name:<18}{printed:>15}{engine:>22}  {'✓' if ok else '✗ MISMATCH'}{note}")
    return all_match


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)

    example = WorkedExample()
    got = example.numbers()
    print("The lecture's worked example: forward pass, errors, gradients, updated weights\n")
    all_match = print_table(got)

    print("\nThe backward pass, step by step (each line: gradient so far × local derivative):\n")
    for step in example.steps:
        print(step)

    print()
    if not all_match:
        print("Some numbers differ from the lecture: see the ✗ rows above.")
        return 1
    print(f"All {len(LECTURE)} numbers match the lecture to every printed digit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
