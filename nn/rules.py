"""The lecture's classic neurons and their own learning rules, before backpropagation.

- McCulloch–Pitts (1943): fixed weights and a threshold; no learning.
- Rosenblatt's perceptron (1958): w ← w + η(t − y)x, b ← b + η(t − y), outputs 0/1.
- Widrow–Hoff's Adaline (1960): the same rule on the *linear* output, w ← w + α(t − y)x, which
  is gradient descent on ½(t − y)²; ±1 targets, thresholded only to predict.

The perceptron and Adaline are Modules (their weights are Parameters, so they can be drawn,
saved and loaded); their rules update the weights directly, without the autograd engine.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from autodiff import Parameter

from .layers import _count, _real, _reals
from .module import Module

MODES = ("online", "batch")


def _rows_and_targets(X, y, nin: int, allowed: tuple[float, float], who: str):
    rows = [list(r) if hasattr(r, "__len__") and not isinstance(r, str) else r for r in X]
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise TypeError(f"{who}: X[{i}] must be a list of {nin} numbers, got {type(row).__name__}")
        if len(row) != nin:
            raise ValueError(f"{who}: X[{i}] has {len(row)} features, the model takes {nin}")
    ts = list(y)
    if len(rows) != len(ts):
        raise ValueError(f"{who}: X has {len(rows)} rows but y has {len(ts)} targets")
    if not rows:
        raise ValueError(f"{who}: got no samples")
    xs = [[_finite(v, f"X[{i}][{j}]", who) for j, v in enumerate(row)] for i, row in enumerate(rows)]
    return xs, [_target(t, allowed, who) for t in ts]


def _finite(x, what: str, who: str) -> float:
    # one nan or inf in the data would spread into every weight within an epoch
    value = _real(x, what)
    if not math.isfinite(value):
        raise ValueError(f"{who}: {what} must be finite, got {value!r}")
    return value


def _target(t, allowed: tuple[float, float], who: str) -> float:
    t = _real(t, "a target")
    if t not in allowed:
        raise ValueError(f"{who}: targets must be {allowed[0]:g} or {allowed[1]:g}, got {t!r}")
    return t


def _positive(x, name: str, who: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not x > 0:
        raise ValueError(f"{who} {name} must be a number > 0, got {x!r}")
    return float(x)


class McCullochPitts:
    """A McCulloch–Pitts neuron: 1 if Σ wᵢxᵢ > threshold (≥ when strict=False), else 0.

    >>> AND = McCullochPitts([1, 1], threshold=1.5)
    >>> [AND([a, b]) for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
    [0, 0, 0, 1]
    """

    def __init__(self, weights: Sequence[float], threshold: float, strict: bool = True):
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__") or len(weights) == 0:
            raise ValueError(f"McCullochPitts weights must be a non-empty list of numbers, got {weights!r}")
        self.weights = _reals(weights, len(weights), "McCullochPitts weights")
        self.threshold = _real(threshold, "McCullochPitts threshold")
        self.strict = bool(strict)

    def __call__(self, x: Sequence[float]) -> int:
        total = sum(w * xi for w, xi in zip(self.weights, _reals(x, len(self.weights), "input")))
        return int(total > self.threshold if self.strict else total >= self.threshold)

    def __repr__(self) -> str:
        return f"McCullochPitts({self.weights!r}, threshold={self.threshold!r}, strict={self.strict})"


@dataclass(slots=True)
class FitReport:
    """How a classic rule's training went: one entry per epoch run."""

    rule: str
    converged: bool
    errors: list[int] = field(default_factory=list)      # misclassified samples per epoch
    mse: list[float] = field(default_factory=list)       # Adaline: mean (t − y)² of the linear output

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.errors)

    def __str__(self) -> str:
        if self.converged:
            return f"{self.rule} converged after {self.epochs} epochs"
        return (f"{self.rule} did not converge in {self.epochs} epochs "
                f"({self.errors[-1]} errors in the last)")


class _Linear(Module):
    """w and b as Parameters, and the net input Σ wᵢxᵢ + b in floats."""

    rule = ""
    targets: tuple[float, float] = (0.0, 1.0)   # the two classes the rule's targets take

    def __init__(self, nin: int, lr: float):
        self.nin = _count(nin, f"{type(self).__name__} nin")
        self.lr = _positive(lr, "lr", type(self).__name__)
        self.w = [Parameter(0.0) for _ in range(self.nin)]
        self.b = Parameter(0.0)

    def net(self, x: Sequence[float]) -> float:
        """Σ wᵢxᵢ + b, as a float."""
        xs = _reals(x, self.nin, "input")
        return sum(w.data * xi for w, xi in zip(self.w, xs)) + self.b.data

    def predict(self, X) -> np.ndarray:
        """The class of each row of X."""
        return np.array([self(row) for row in X], dtype=int)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "lr": self.lr}

    def _apply(self, dw: list[float], db: float) -> None:
        for w, d in zip(self.w, dw):
            w.data += d
        self.b.data += db

    def _rule_error(self, x: list[float], t: float) -> float:
        """t minus the output the rule learns from; subclasses define it."""
        raise NotImplementedError

    def update(self, x: Sequence[float], t: float) -> float:
        """One online step of the rule on the sample (x, t); returns the error it corrected."""
        who = f"{type(self).__name__}.update"
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
            raise TypeError(f"{who}: x must be a list of {self.nin} numbers, got {type(x).__name__}")
        if len(x) != self.nin:
            raise ValueError(f"{who}: x has {len(x)} features, the model takes {self.nin}")
        xs = [_finite(v, f"x[{j}]", who) for j, v in enumerate(x)]
        return self._step(xs, _target(t, self.targets, who))

    def _step(self, x: list[float], t: float) -> float:
        error = self._rule_error(x, t)
        self._apply([self.lr * error * xi for xi in x], self.lr * error)
        return error

    def _batch_step(self, xs: list[list[float]], residuals: list[float]) -> None:
        """The batch rule: w ← w + η·(1/m)Σ(t − y)x and b ← b + η·(1/m)Σ(t − y)."""
        m = len(xs)
        dw = [self.lr * sum(r * x[j] for r, x in zip(residuals, xs)) / m for j in range(self.nin)]
        self._apply(dw, self.lr * sum(residuals) / m)

    def _prepared(self, X, y, epochs, epochs_name: str, mode: str):
        who = f"{type(self).__name__}.fit"
        xs, ts = _rows_and_targets(X, y, self.nin, self.targets, who)
        epochs = _count(epochs, epochs_name)
        if mode not in MODES:
            raise ValueError(f"{who} mode must be one of {', '.join(MODES)}, got {mode!r}")
        return xs, ts, epochs


class Perceptron(_Linear):
    """Rosenblatt's perceptron: output 1 if Σ wᵢxᵢ + b > 0 else 0; weights start at 0.

    `update(x, t)` is one online step, w ← w + η(t − y)x, b ← b + η(t − y), with targets 0 or 1;
    it returns the error t − y.

    >>> from nn.data import gate
    >>> X, y = gate('AND')
    >>> p = Perceptron(2, lr=0.1)
    >>> p.fit(X, y).converged, p.predict(X).tolist()
    (True, [0, 0, 0, 1])
    """

    rule = "perceptron"
    targets = (0.0, 1.0)

    def __init__(self, nin: int, lr: float = 1.0):
        super().__init__(nin, lr)

    def forward(self, x: Sequence[float]) -> int:
        """The perceptron's output, 0 or 1."""
        return int(self.net(x) > 0.0)

    def _rule_error(self, x: list[float], t: float) -> float:
        return t - self(x)

    def fit(self, X, y, max_epochs: int = 100, mode: str = "online") -> FitReport:
        """Train until an epoch makes no error (converged) or max_epochs have run (not converged).

        online: update after each sample. batch: w ← w + η·(1/m)Σ(t − y)x once per epoch.
        """
        xs, ts, max_epochs = self._prepared(X, y, max_epochs, "max_epochs", mode)
        report = FitReport(self.rule, converged=False)
        for _ in range(max_epochs):
            if mode == "online":
                errors = sum(self._step(x, t) != 0.0 for x, t in zip(xs, ts))
            else:
                residuals = [self._rule_error(x, t) for x, t in zip(xs, ts)]
                errors = sum(r != 0.0 for r in residuals)
                self._batch_step(xs, residuals)
            report.errors.append(int(errors))
            if errors == 0:
                report.converged = True
                break
        return report


class Adaline(_Linear):
    """Widrow–Hoff's adaptive linear element: trains on the linear output, predicts its sign.

    Targets are ±1; the output is +1 if Σ wᵢxᵢ + b > 0 else −1. `update(x, t)` is one step on
    the linear output y = Σ wᵢxᵢ + b, w ← w + α(t − y)x; it returns t − y.
    """

    rule = "Adaline"
    targets = (-1.0, 1.0)

    def __init__(self, nin: int, lr: float = 0.01):
        super().__init__(nin, lr)

    def forward(self, x: Sequence[float]) -> int:
        """The Adaline's class, +1 or −1."""
        return 1 if self.net(x) > 0.0 else -1

    def _rule_error(self, x: list[float], t: float) -> float:
        return t - self.net(x)

    def fit(self, X, y, epochs: int = 50, mode: str = "online") -> FitReport:
        """Run `epochs` epochs of the rule (online: per sample; batch: the mean update).

        The report has, per epoch, the mean squared error of the linear output while the epoch
        ran and the number of samples misclassified after it; `converged` says whether the last
        epoch left every sample classified right.
        """
        xs, ts, epochs = self._prepared(X, y, epochs, "epochs", mode)
        report = FitReport(self.rule, converged=False)
        for _ in range(epochs):
            if mode == "online":
                residuals = [self._step(x, t) for x, t in zip(xs, ts)]
            else:
                residuals = [self._rule_error(x, t) for x, t in zip(xs, ts)]
                self._batch_step(xs, residuals)
            report.mse.append(sum(r * r for r in residuals) / len(residuals))
            report.errors.append(sum(self(x) != t for x, t in zip(xs, ts)))
        report.converged = report.errors[-1] == 0
        return report
