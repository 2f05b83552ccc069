"""Losses on Values, for one sample: a prediction (a Value or a list of them) and its target.

Each returns one Value to call `.backward()` on. Over a sample with several outputs,
`half_squared_error` sums (the lecture's E_total = Σ ½(t − y)²); the others average, as
PyTorch's default reduction does. `nn.fit` averages these sample losses over a batch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from autodiff import Value
from autodiff.arguments import check_real, describe, is_int, is_real, is_sequence

from .activations import log_softmax


def _listed(x, name: str) -> list:
    """A Value, a number or a non-empty list of them, as a list."""
    if isinstance(x, (Value, np.bool_, bool)) or is_real(x):
        return [x]
    if not is_sequence(x) or isinstance(x, np.ndarray) and x.ndim != 1:
        shown = f"an array of shape {x.shape}" if isinstance(x, np.ndarray) else describe(x)
        raise TypeError(f"{name} must be a Value, a number or a list of them, got {shown}")
    if len(x) == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty list")
    return list(x)


def _predictions(pred, name: str) -> list[Value]:
    """A loss's predictions as Values: a number becomes a leaf (nan and inf pass, as in the engine)."""
    return [y if isinstance(y, Value) else Value(check_real(y, f"{name}[{i}]", finite=False))
            for i, y in enumerate(_listed(pred, name))]


def _targets(target, loss: str, count: int) -> list[float]:
    """A loss's targets: finite numbers, as many as there are predictions."""
    name = f"{loss}() target"
    ts = _listed(target, name)
    if len(ts) != count:
        raise ValueError(f"{name} must have {count} values (one per prediction), got {len(ts)}")
    for i, t in enumerate(ts):
        if isinstance(t, Value):
            raise TypeError(f"{name}[{i}] must be a number, got a Value ({t!r}); pass its .data")
    return [check_real(t, f"{name}[{i}]") for i, t in enumerate(ts)]


def _pairs(pred, target, loss: str) -> tuple[list[Value], list[float]]:
    ys = _predictions(pred, f"{loss}() pred")
    return ys, _targets(target, loss, len(ys))


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
    eps = check_real(eps, "binary_cross_entropy() eps", low=0, high=0.5, low_open=True, high_open=True)
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
    if not is_sequence(logits):
        raise TypeError(f"cross_entropy() logits must be a list of Values or numbers (one per "
                        f"class), got {describe(logits)}")
    zs = _predictions(logits, "cross_entropy() logits")
    logp = log_softmax(zs)
    wanted = f"a class index (an int from 0 to {len(zs) - 1}) or a list of {len(zs)} probabilities"
    if is_int(target):
        if not 0 <= target < len(zs):
            raise ValueError(f"cross_entropy() target must be {wanted}, got {describe(target)} "
                             f"for {len(zs)} logits")
        return -logp[int(target)]
    if not is_sequence(target):
        raise TypeError(f"cross_entropy() target must be {wanted}, got {describe(target)}")
    probs = _targets(target, "cross_entropy", len(zs))
    _check_probabilities(probs, "cross_entropy")
    return -Value.sum([q * lp for q, lp in zip(probs, logp) if q != 0.0] or [0.0])


def hinge(pred, target) -> Value:
    """The max-margin loss max(0, 1 − t·y) for targets t of ±1, averaged over the outputs."""
    ys, ts = _pairs(pred, target, "hinge")
    bad = [t for t in ts if t not in (-1.0, 1.0)]
    if bad:
        raise ValueError(f"hinge() target must be -1 or +1, got {bad[0]!r}")
    return Value.sum([(1.0 - t * y).relu() for y, t in zip(ys, ts)]) / len(ys)


def l2(params: Sequence[Value], alpha: float) -> Value:
    """The weight penalty alpha · Σ p², to add to a loss (one sum node over all parameters)."""
    alpha = check_real(alpha, "l2() alpha", low=0)
    if not is_sequence(params):
        raise TypeError(f"l2() params must be a list of Values such as model.parameters(), "
                        f"got {describe(params)}")
    if len(params) == 0:
        raise ValueError("l2() params must hold at least one Value, got an empty list")
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"l2() params[{i}] must be a Value (a model's parameter), got {describe(p)}")
    return alpha * Value.sum([p * p for p in params])


def _check_probabilities(ts: list[float], loss: str) -> None:
    for i, t in enumerate(ts):
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"{loss}() target[{i}] must be a probability in [0, 1], got {t!r}")


LOSSES = {
    "half_squared_error": half_squared_error,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "cross_entropy": cross_entropy,
    "hinge": hinge,
}
