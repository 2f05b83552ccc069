"""Losses on Values, for one sample: a prediction (a Value or a list of them) and its target.

Each returns one Value to call `.backward()` on. Over a sample with several outputs,
`half_squared_error` sums (the lecture's E_total = Σ ½(t − y)²); the others average, as
PyTorch's default reduction does. `nn.fit` averages these sample losses over a batch.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

from autodiff import Value

from .activations import log_softmax


def _listed(x) -> list:
    if isinstance(x, (Value, numbers.Real, np.bool_)):
        return [x]
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"a loss takes a Value, a number or a list of them, got {type(x).__name__}")
    return list(x)


def _pairs(pred, target, loss: str) -> tuple[list[Value], list[float]]:
    ys, ts = _listed(pred), _listed(target)
    if len(ys) != len(ts):
        raise ValueError(f"{loss}: {len(ys)} predictions but {len(ts)} targets")
    if not ys:
        raise ValueError(f"{loss}: got no predictions")
    ys = [y if isinstance(y, Value) else Value(y) for y in ys]
    for t in ts:
        if isinstance(t, Value):
            raise TypeError(f"{loss}: a target is a number, got a Value ({t!r})")
    return ys, [float(t) for t in ts]


def half_squared_error(pred, target) -> Value:
    """E = Σ ½(t − y)², the lecture's error: its gradient with respect to y is −(t − y).

    >>> round(half_squared_error(Value(0.75136507), 0.01).data, 9)
    0.274811084
    """
    ys, ts = _pairs(pred, target, "half_squared_error")
    return Value.sum([0.5 * (t - y) ** 2 for y, t in zip(ys, ts)])


def mse(pred, target) -> Value:
    """(1/n) Σ (t − y)²: the mean squared error over the outputs."""
    ys, ts = _pairs(pred, target, "mse")
    return Value.sum([(t - y) ** 2 for y, t in zip(ys, ts)]) / len(ys)


def _clamped(p: Value, eps: float) -> Value:
    """p kept inside [eps, 1 − eps] by shifting it by a constant: the value is clamped, the
    gradient still flows (it is 1 with respect to p), so log never sees 0."""
    if p.data < eps:
        return p + (eps - p.data)
    if p.data > 1.0 - eps:
        return p - (p.data - (1.0 - eps))
    return p


def binary_cross_entropy(pred, target, eps: float = 1e-12) -> Value:
    """−(t log y + (1 − t) log(1 − y)) on probabilities y, averaged over the outputs.

    y is clamped into [eps, 1 − eps] first, so a saturated sigmoid gives a large finite loss,
    never log(0). For a sigmoid output y = σ(a), the gradient with respect to a is y − t.
    """
    if not 0.0 < eps < 0.5:
        raise ValueError(f"binary_cross_entropy eps must be in (0, 0.5), got {eps!r}")
    ys, ts = _pairs(pred, target, "binary_cross_entropy")
    _check_probabilities(ts, "binary_cross_entropy")
    terms = []
    for y, t in zip(ys, ts):
        p = _clamped(y, eps)
        terms.append(-(t * p.log() + (1.0 - t) * (1.0 - p).log()))
    return Value.sum(terms) / len(terms)


def binary_cross_entropy_with_logits(pred, target) -> Value:
    """BCE on logits x, in the stable form softplus(x) − t·x: finite for any x, gradient σ(x) − t.

    >>> round(binary_cross_entropy_with_logits(Value(1000.0), 0.0).data, 6)
    1000.0
    """
    xs, ts = _pairs(pred, target, "binary_cross_entropy_with_logits")
    _check_probabilities(ts, "binary_cross_entropy_with_logits")
    return Value.sum([x.softplus() - t * x for x, t in zip(xs, ts)]) / len(xs)


def cross_entropy(logits: Sequence, target) -> Value:
    """Softmax cross-entropy on logits: −log softmax(z)[target], stable for any logits.

    `target` is a class index, or a list of class probabilities as long as the logits.
    The gradient with respect to the logits is softmax(z) − one_hot(target).

    >>> round(cross_entropy([1000.0, -1000.0], 1).data, 6)
    2000.0
    """
    zs = _listed(logits)
    if not zs:
        raise ValueError("cross_entropy: got no logits")
    logp = log_softmax(zs)
    if isinstance(target, numbers.Integral) and not isinstance(target, (bool, np.bool_)):
        if not 0 <= target < len(zs):
            raise ValueError(f"cross_entropy: class {target} is out of range for {len(zs)} logits "
                             f"(classes 0..{len(zs) - 1})")
        return -logp[int(target)]
    if isinstance(target, (numbers.Real, np.bool_, Value)):
        raise TypeError(f"cross_entropy: a target is a class index (an int in 0..{len(zs) - 1}) or "
                        f"a list of {len(zs)} probabilities, got {type(target).__name__} {target!r}")
    probs = _listed(target)
    if len(probs) != len(zs):
        raise ValueError(f"cross_entropy: {len(zs)} logits but {len(probs)} target probabilities")
    probs = [float(q) for q in probs]
    _check_probabilities(probs, "cross_entropy")
    return -Value.sum([q * lp for q, lp in zip(probs, logp) if q != 0.0] or [0.0])


def hinge(pred, target) -> Value:
    """The max-margin loss max(0, 1 − t·y) for targets t of ±1, averaged over the outputs."""
    ys, ts = _pairs(pred, target, "hinge")
    bad = [t for t in ts if t not in (-1.0, 1.0)]
    if bad:
        raise ValueError(f"hinge targets must be -1 or +1, got {bad[0]!r}")
    return Value.sum([(1.0 - t * y).relu() for y, t in zip(ys, ts)]) / len(ys)


def l2(params: Sequence[Value], alpha: float) -> Value:
    """The weight penalty alpha · Σ p², to add to a loss (one sum node over all parameters)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha < math.inf:
        raise ValueError(f"l2 alpha must be a finite number >= 0, got {alpha!r}")
    if isinstance(params, Value) or not hasattr(params, "__iter__"):
        raise TypeError(f"l2 takes a list of Values such as model.parameters(), "
                        f"got {type(params).__name__}")
    ps = list(params)
    if not ps:
        raise ValueError("l2 got no parameters")
    for p in ps:
        if not isinstance(p, Value):
            raise TypeError(f"l2 takes Values (a model's parameters), got {type(p).__name__} {p!r}")
    return alpha * Value.sum([p * p for p in ps])


def _check_probabilities(ts: list[float], loss: str) -> None:
    for t in ts:
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"{loss}: targets are probabilities in [0, 1], got {t!r}")


LOSSES = {
    "half_squared_error": half_squared_error,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "cross_entropy": cross_entropy,
    "hinge": hinge,
}
