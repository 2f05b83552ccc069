"""The lecture's worked backpropagation example, number by number (section "Backpropagation Example").

A 2-2-2 sigmoid network, inputs 0.05 and 0.10, targets 0.01 and 0.99, weights .15 .20 .25 .30 .40
.45 .50 .55, biases .35 and .60, E = Σ ½(target − out)², learning rate 0.5, built twice: from
plain Values, and as nn.MLP. Prints every number the lecture derives beside the engine's, marks
each match, prints the backward pass as chain-rule lines, then the lecture's derivations of ∂E/∂w5
and ∂E/∂w1 as explain() gives them (each factor's name, formula and number, checked against the
lecture's) and the δ form with the update w ← w + α δ⁽ˡ⁾ y⁽ˡ⁻¹⁾ for every weight. Draws the graph
with every value and gradient (SVG, PNG), the same graph with the path of ∂E/∂w5 marked and every
edge labelled with its local derivative, and a step-by-step HTML stepper that ends with the update
of each weight (η = 0.5), then runs 10,000 rounds of the update (biases held fixed, as in the
lecture's source) and plots the error falling. Exits with status 1 if any number differs from the
lecture in a printed digit.
"""

from __future__ import annotations

import math
import sys

import nn
import viz
from autodiff import explain, format_number, trace
from autodiff.notation import Factors, Neg, parse, render, sympy_available, tidy, to_sympy
from common import Checks, Pictures, parse_args, section
from lecture import (AFTER, AFTER_ROUNDS, AFTER_TOLERANCE, BIASES, DERIVED_BY_HAND, FORMULAS, HAND_ROUNDING,
                     INNER_DELTAS, INPUTS, LEARNING_RATE, LECTURE, OUTPUT_DELTAS, TARGETS, UPDATES, WEIGHTS,
                     WorkedExample, decimals, matches)

SYMPY_MISSING = ("(sympy is not installed, so no formulas are checked: pip install sympy, or "
                 "bash scripts/setup.sh, which installs the extras)")


def engine_text(name: str, value: float) -> str:
    """The engine's value with three more decimals than the lecture printed."""
    return f"{value:.{decimals(LECTURE[name]) + 3}f}"


def lecture_rows(checks: Checks, got: dict[str, float], prefix: str = "") -> None:
    """One row per lecture number: the lecture's digits, the engine's, and whether they match."""
    for name, printed in LECTURE.items():
        if name not in got:
            continue
        note = ""
        if name in DERIVED_BY_HAND:
            note = f"not printed; by hand: {DERIVED_BY_HAND[name]}"
        elif name in HAND_ROUNDING:
            note = "the lecture rounds a product of rounded factors: within ±1 in the last digit"
        checks.row(f"{prefix}{name}", printed, engine_text(name, got[name]), matches(name, got[name]), note)


def lecture_formula(factors: tuple[str, ...]):
    """A formula the lecture writes, factor by factor, as a tree."""
    trees = [parse(f) for f in factors]
    return trees[0] if len(trees) == 1 else Factors(tuple(trees))


def same_formula(tree, expression) -> bool:
    """Whether a formula equals a sympy expression: simplify(a − b) == 0."""
    import sympy
    return sympy.simplify(to_sympy(tree) - expression) == 0


def derivations(checks: Checks, example: WorkedExample) -> None:
    """∂E/∂w5 and ∂E/∂w1 as explain() derives them; each factor checked against the lecture's number
    and, with sympy, against the formula the lecture writes for it."""
    found = {}
    for weight in (example.w[4], example.w[0]):
        derivation = explain(example.E, weight)
        print(derivation)
        print()
        for quantity in derivation.quantities:
            found.setdefault(quantity.name, quantity)
    for name in LECTURE:
        if name in found:
            value = found[name].value
            note = "the lecture rounds a product of rounded factors" if name in HAND_ROUNDING else ""
            checks.row(f"explain() {name}", LECTURE[name], engine_text(name, value), matches(name, value), note)
    if not sympy_available():
        print(SYMPY_MISSING)
        return
    for name, factors in FORMULAS.items():
        lecture = lecture_formula(factors)
        quantity = found[name]
        checks.row(f"explain() {name} formula", render(lecture), quantity.formula or "",
                   same_formula(lecture, quantity.expression), "sympy: simplify(lecture − explain()) = 0")


def output_delta(unit: str) -> str:
    """The lecture's δ of an output neuron, (t − y)y(1 − y), in Python syntax."""
    target, out = OUTPUT_DELTAS[unit]
    return f"({target} - {out})*{out}*(1 - {out})"


def delta_form(checks: Checks, example: WorkedExample) -> None:
    """The lecture's δ form: δ = −∂E/∂net of each neuron by explain(), the lecture's δ rule for output
    and inner neurons, and the update w ← w + α δ⁽ˡ⁾ y⁽ˡ⁻¹⁾ of every weight against the lecture's w⁺."""
    graph = trace(example.E)
    node = {graph.name(n): n for n in graph.nodes}
    derived = {unit: explain(example.E, node[f"net_{unit}"]) for unit in (*OUTPUT_DELTAS, *INNER_DELTAS)}
    delta = {unit: -d.total for unit, d in derived.items()}
    formulas = sympy_available()
    for unit, (target, out) in OUTPUT_DELTAS.items():
        rule = lecture_formula((f"{target} - {out}", f"{out}*(1 - {out})"))
        print(f"δ_{unit} = −∂E/∂net_{unit} = {render(rule)} = {format_number(delta[unit])}")
        if formulas:
            mine = tidy(Neg(derived[unit].root.tree))
            checks.row(f"δ_{unit}, the lecture's rule (t − y)y(1 − y)", render(rule), render(mine),
                       same_formula(rule, -derived[unit].expression), "sympy: simplify(rule − explain()) = 0")
    for unit, (out, fed) in INNER_DELTAS.items():
        y = node[out].data
        by_rule = sum(delta[o] * node[w].data for o, w in fed) * y * (1 - y)
        sums = " + ".join(f"δ_{o}·{w}" for o, w in fed)
        numbers = " + ".join(f"{format_number(delta[o])} × {format_number(node[w].data)}" for o, w in fed)
        print(f"δ_{unit} = −∂E/∂net_{unit} = ({sums})·{out}(1 − {out}) = ({numbers}) × "
              f"{format_number(y * (1 - y))} = {format_number(by_rule)}")
        checks.close(f"δ_{unit}, the lecture's rule (Σ δw)·y(1 − y)", by_rule, delta[unit], tol=1e-12,
                     note="the rule on explain()'s δ_o vs explain() of ∂E/∂net_h")
        if formulas:
            inner = " + ".join(f"{output_delta(o)}*{w}" for o, w in fed)
            rule = parse(f"({inner})*{out}*(1 - {out})")
            equal = same_formula(rule, -derived[unit].expression)
            checks.same(f"δ_{unit} formula, the lecture's rule", "equal", "equal" if equal else "differs",
                        note="sympy: simplify(rule − explain()) = 0")
    print()
    for weight, (unit, below) in UPDATES.items():
        w, y = node[weight].data, node[below].data
        new = w + LEARNING_RATE * delta[unit] * y
        print(f"{weight}⁺ = {weight} + α·δ_{unit}·{below} = {format_number(w)} + {LEARNING_RATE} × "
              f"{format_number(delta[unit])} × {format_number(y)} = {format_number(new)}")
        checks.row(f"w ← w + α δ y: {weight}⁺", LECTURE[f"{weight}⁺"], engine_text(f"{weight}⁺", new),
                   matches(f"{weight}⁺", new), "δ from explain()")


def lecture_mlp() -> nn.MLP:
    """The lecture's network as nn.MLP, with its weights and biases."""
    net = nn.MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    w = WEIGHTS
    net.set_weights([[[w[0], w[1]], [w[2], w[3]]], [[w[4], w[5]], [w[6], w[7]]]], biases=list(BIASES))
    return net


def weights_of(net: nn.MLP) -> list:
    """w1..w8 of the MLP, in the lecture's order (every parameter but the biases)."""
    return [p for name, p in net.named_parameters() if not name.endswith(".b")]


def mlp_numbers(net: nn.MLP) -> dict[str, float]:
    """The lecture's numbers that an MLP shows from outside: outputs, error, gradients, updates."""
    net.zero_grad()
    out_o1, out_o2 = net(list(INPUTS))
    E = nn.half_squared_error([out_o1, out_o2], list(TARGETS))
    E.backward()
    w = weights_of(net)
    got = {"out_o1": out_o1.data, "out_o2": out_o2.data, "E_total": E.data,
           "∂E/∂w5": w[4].grad, "∂E/∂w1": w[0].grad}
    got.update({f"w{k}⁺": p.data - LEARNING_RATE * p.grad for k, p in enumerate(w, 1)})
    return got


def train(rounds: int) -> tuple[list[float], list[float]]:
    """Rounds of forward, backward, update of w1..w8 only; the error of each round, and the
    outputs of the last round's forward pass."""
    net = lecture_mlp()
    optimizer = nn.SGD(weights_of(net), lr=LEARNING_RATE)
    errors = []
    for _ in range(rounds):
        net.zero_grad()
        outputs = net(list(INPUTS))
        E = nn.half_squared_error(outputs, list(TARGETS))
        E.backward()
        optimizer.step()
        errors.append(E.data)
    return errors, [y.data for y in outputs]


def by_hand(rounds: int) -> tuple[float, float, float]:
    """The same rounds in plain floats, with the lecture's δ formulas: (error, out_o1, out_o2) of
    the last round's forward pass. The engine must agree to rounding (it adds in another order)."""
    def sigma(x):
        return 1.0 / (1.0 + math.exp(-x))

    w, (i1, i2), (b1, b2), (t1, t2) = list(WEIGHTS), INPUTS, BIASES, TARGETS
    for _ in range(rounds):
        h1 = sigma(w[0] * i1 + w[1] * i2 + b1)
        h2 = sigma(w[2] * i1 + w[3] * i2 + b1)
        o1 = sigma(w[4] * h1 + w[5] * h2 + b2)
        o2 = sigma(w[6] * h1 + w[7] * h2 + b2)
        error = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        e1 = (d1 * w[4] + d2 * w[6]) * h1 * (1 - h1)
        e2 = (d1 * w[5] + d2 * w[7]) * h2 * (1 - h2)
        gradient = [e1 * i1, e1 * i2, e2 * i1, e2 * i2, d1 * h1, d1 * h2, d2 * h1, d2 * h2]
        w = [x - LEARNING_RATE * g for x, g in zip(w, gradient)]
    return error, o1, o2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "backprop_worked_example", argv)
    checks, pictures = Checks(), Pictures(args)

    section("the lecture's numbers vs the engine (plain Values): forward pass, errors, gradients, updates")
    example = WorkedExample()
    lecture_rows(checks, example.numbers())

    section("the same network as nn.MLP(2, [2, 2], activation='sigmoid', output_activation='sigmoid')")
    lecture_rows(checks, mlp_numbers(lecture_mlp()), prefix="MLP ")

    section("the backward pass, step by step (each line: local derivative, then gradient so far × it)")
    for step in example.steps:
        print(step)

    section("the lecture's derivations of ∂E/∂w5 and ∂E/∂w1, by explain(): names, formulas, numbers")
    derivations(checks, example)

    section("the δ form: δ = −∂E/∂net for each neuron, and w ← w + α δ⁽ˡ⁾ y⁽ˡ⁻¹⁾ for each weight")
    delta_form(checks, example)

    section(f"{AFTER_ROUNDS:,} rounds of the update, biases held fixed, η = {LEARNING_RATE}")
    errors, outputs = train(AFTER_ROUNDS)
    hand = by_hand(AFTER_ROUNDS)
    print(f"error: {errors[0]:.9f} in round 1, {errors[1]:.9f} in round 2, "
          f"{errors[-1]:.10f} in round {AFTER_ROUNDS:,}")
    print(f"outputs in round {AFTER_ROUNDS:,}: {outputs[0]:.9f} (target {TARGETS[0]}), "
          f"{outputs[1]:.9f} (target {TARGETS[1]})")
    for name, value in zip(AFTER, [errors[-1], *outputs]):
        printed = AFTER[name]
        tolerance = AFTER_TOLERANCE.get(name)
        if tolerance is None:
            ok, note = f"{value:.{decimals(printed)}f}" == printed, "every printed digit"
        else:
            ok = abs(value - float(printed)) <= tolerance
            note = f"within ±{tolerance:g}: off by {value - float(printed):+.1e}, see AFTER in examples/lecture.py"
        checks.row(f"round {AFTER_ROUNDS:,} {name}", printed, f"{value:.{decimals(printed) + 2}f}", ok, note)
    engine = (errors[-1], *outputs)
    gap = max(abs(a - b) / abs(a) for a, b in zip(hand, engine))
    checks.row("the same rounds by hand, in plain floats", " ".join(f"{x:.12g}" for x in hand),
               " ".join(f"{x:.12g}" for x in engine), gap < 1e-12,
               note=f"the lecture's δ formulas; relative gap {gap:.1g} (sums in another order)")

    if pictures.enabled:
        section("pictures")
        for filename in ("graph.svg", "graph.png"):
            pictures.wrote(viz.render(example.E, pictures.path(filename)))
        # the lecture's first chain, ∂E/∂w5, marked in the drawing, each edge with its local derivative
        w5_chain = explain(example.E, example.w[4])
        pictures.wrote(viz.render(example.E, pictures.path("graph_w5.svg"), highlight=w5_chain, edge_labels=True))
        pictures.wrote(viz.save_stepper(example.E, pictures.path("stepper.html"), lr=LEARNING_RATE))

        def draw(figure):
            ax = figure.add_subplot()
            ax.semilogy(range(1, len(errors) + 1), errors)
            ax.axhline(float(AFTER["E_total"]), color="0.6", ls="--", lw=1,
                       label=f"the lecture's source: {AFTER['E_total']} after {AFTER_ROUNDS:,} rounds")
            ax.set(xlabel="round (forward, backward, update of w1..w8)", ylabel="E_total (log scale)",
                   title="The worked example's error, falling")
            ax.legend()

        pictures.plot("error.png", draw)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
