"""The lecture's classic neurons and their own learning rules, before backpropagation.

- McCulloch–Pitts (1943): fixed weights and a threshold; no learning.
- Rosenblatt's perceptron (1958): w ← w + η(t − y)x, b ← b + η(t − y), outputs 0/1.
- Widrow–Hoff's Adaline (1960): the same rule on the *linear* output, w ← w + α(t − y)x, which
  is gradient descent on ½(t − y)²; ±1 targets, thresholded only to predict.

The perceptron and Adaline are Modules (their weights are Parameters, so they can be drawn,
saved and loaded); their rules update the weights directly, without the autograd engine.
"""

from __future__ import annotations

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
    xs = [[_real(v, f"X[{i}]") for v in row] for i, row in enumerate(rows)]
    out = []
    for t in ts:
        t = _real(t, "a target")
        if t not in allowed:
            raise ValueError(f"{who}: targets must be {allowed[0]:g} or {allowed[1]:g}, got {t!r}")
        out.append(t)
    return xs, out


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
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__") or not weights:
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


class Perceptron(_Linear):
    """Rosenblatt's perceptron: output 1 if Σ wᵢxᵢ + b > 0 else 0; weights start at 0.

    >>> from nn.data import gate
    >>> X, y = gate('AND')
    >>> p = Perceptron(2, lr=0.1)
    >>> p.fit(X, y).converged, p.predict(X).tolist()
    (True, [0, 0, 0, 1])
    """

    rule = "perceptron"

    def __init__(self, nin: int, lr: float = 1.0):
        super().__init__(nin, lr)

    def forward(self, x: Sequence[float]) -> int:
        """The perceptron's output, 0 or 1."""
        return int(self.net(x) > 0.0)

    def update(self, x: Sequence[float], t: float) -> float:
        """One online step, w ← w + η(t − y)x, b ← b + η(t − y); returns the error t − y."""
        error = _real(t, "target") - self(x)
        self._apply([self.lr * error * xi for xi in x], self.lr * error)
        return error

    def fit(self, X, y, max_epochs: int = 100, mode: str = "online") -> FitReport:
        """Train until an epoch makes no error (converged) or max_epochs have run (not converged).

        online: update after each sample. batch: w ← w + η·(1/m)Σ(t − y)x once per epoch.
        """
        xs, ts = _rows_and_targets(X, y, self.nin, (0.0, 1.0), "Perceptron.fit")
        max_epochs = _count(max_epochs, "max_epochs")
        if mode not in MODES:
            raise ValueError(f"Perceptron.fit mode must be one of {', '.join(MODES)}, got {mode!r}")
        report = FitReport(self.rule, converged=False)
        for _ in range(max_epochs):
            if mode == "online":
                errors = sum(self.update(x, t) != 0.0 for x, t in zip(xs, ts))
            else:
                residuals = [t - self(x) for x, t in zip(xs, ts)]
                errors = sum(r != 0.0 for r in residuals)
                self._batch_step(xs, residuals)
            report.errors.append(int(errors))
            if errors == 0:
                report.converged = True
                break
        return report

    def _batch_step(self, xs, residuals) -> None:
        m = len(xs)
        dw = [self.lr * sum(r * x[j] for r, x in zip(residuals, xs)) / m for j in range(self.nin)]
        self._apply(dw, self.lr * sum(residuals) / m)


class Adaline(_Linear):
    """Widrow–Hoff's adaptive linear element: trains on the linear output, predicts its sign.

    Targets are ±1; the output is +1 if Σ wᵢxᵢ + b > 0 else −1.
    """

    rule = "Adaline"

    def __init__(self, nin: int, lr: float = 0.01):
        super().__init__(nin, lr)

    def forward(self, x: Sequence[float]) -> int:
        """The Adaline's class, +1 or −1."""
        return 1 if self.net(x) > 0.0 else -1

    def update(self, x: Sequence[float], t: float) -> float:
        """One Widrow–Hoff step on the linear output y: w ← w + α(t − y)x; returns t − y."""
        error = _real(t, "target") - self.net(x)
        self._apply([self.lr * error * xi for xi in x], self.lr * error)
        return error

    def fit(self, X, y, epochs: int = 50, mode: str = "online") -> FitReport:
        """Run `epochs` epochs of the rule (online: per sample; batch: the mean update).

        The report has, per epoch, the mean squared error of the linear output while the epoch
        ran and the number of samples misclassified after it; `converged` says whether the last
        epoch left every sample classified right.
        """
        xs, ts = _rows_and_targets(X, y, self.nin, (-1.0, 1.0), "Adaline.fit")
        epochs = _count(epochs, "epochs")
        if mode not in MODES:
            raise ValueError(f"Adaline.fit mode must be one of {', '.join(MODES)}, got {mode!r}")
        report = FitReport(self.rule, converged=False)
        for _ in range(epochs):
            if mode == "online":
                residuals = [self.update(x, t) for x, t in zip(xs, ts)]
            else:
                residuals = [t - self.net(x) for x, t in zip(xs, ts)]
                m = len(xs)
                dw = [self.lr * sum(r * x[j] for r, x in zip(residuals, xs)) / m
                      for j in range(self.nin)]
                self._apply(dw, self.lr * sum(residuals) / m)
            report.mse.append(sum(r * r for r in residuals) / len(residuals))
            report.errors.append(sum(self(x) != t for x, t in zip(xs, ts)))
        report.converged = report.errors[-1] == 0
        return report
