"""Activation functions by name (the lecture's table), and softmax / log-softmax over a list.

Every activation is a Value method from the op table, so its derivative is the table's row:
identity f'=1, step f'=0, sigmoid f'=f(1-f), tanh f'=1-f², arctan f'=1/(x²+1), relu f'=[x>0].
"""

from __future__ import annotations

from typing import Callable, Sequence

from autodiff import Value
from autodiff.arguments import check_real, describe, is_sequence


def _identity(x: Value) -> Value:
    return x


# canonical name -> the function applied to a neuron's pre-activation
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "identity": _identity,
    "step": Value.step,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "arctan": Value.arctan,
    "relu": Value.relu,
}

ALIASES: dict[str, str] = {"linear": "identity", "logistic": "sigmoid"}


def canonical(name: str, what: str = "activation") -> str:
    """The table's own name for an activation: 'linear' is 'identity', 'logistic' is 'sigmoid'.

    `what` names the argument in errors (e.g. "MLP() activation").

    >>> canonical('logistic')
    'sigmoid'
    """
    known = ", ".join(sorted([*ACTIVATIONS, *ALIASES]))
    if not isinstance(name, str):
        raise TypeError(f"{what} must be an activation's name, one of {known}; got {describe(name)}")
    key = ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {known}; got unknown activation {name!r}")
    return key


def activation(name: str) -> Callable[[Value], Value]:
    """The function an activation name stands for.

    >>> activation('tanh')(Value(0.0)).data
    0.0
    """
    return ACTIVATIONS[canonical(name, "activation() name")]


def _as_values(values, what: str) -> list[Value]:
    """values, a non-empty list of numbers or Values, as Values (numbers become leaves)."""
    name = f"{what}() values"
    if not is_sequence(values):
        raise TypeError(f"{name} must be a list of numbers or Values, got {describe(values)}")
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one number or Value, got an empty list")
    return [v if isinstance(v, Value) else Value(check_real(v, f"{name}[{i}]", finite=False))
            for i, v in enumerate(values)]


def log_softmax(values: Sequence) -> list[Value]:
    """log(softmax(values)) as zᵢ − m − log Σⱼ exp(zⱼ − m), with m = max z, so it never overflows.

    The shift m is a plain number: softmax does not change when every input moves by the same
    amount, so the gradient is exact.

    >>> [round(v.data, 6) for v in log_softmax([1000.0, 1000.0])]
    [-0.693147, -0.693147]
    """
    zs = _as_values(values, "log_softmax")
    m = max(z.data for z in zs)
    shifted = [z - m for z in zs]
    log_total = Value.sum([s.exp() for s in shifted]).log()
    return [s - log_total for s in shifted]


def softmax(values: Sequence) -> list[Value]:
    """exp(zᵢ − m) / Σⱼ exp(zⱼ − m), with m = max z: probabilities that sum to 1, never nan.

    >>> [round(p.data, 6) for p in softmax([0.0, 0.0, 0.0, 0.0])]
    [0.25, 0.25, 0.25, 0.25]
    """
    zs = _as_values(values, "softmax")
    m = max(z.data for z in zs)
    exps = [(z - m).exp() for z in zs]
    total = Value.sum(exps)
    return [e / total for e in exps]
