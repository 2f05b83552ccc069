"""The lecture's classic neurons and their own learning rules, before backpropagation.

- McCulloch–Pitts (1943): fixed weights and a threshold; no learning.
- Rosenblatt's perceptron (1958): w ← w + η(t − y)x, b ← b + η(t − y), outputs 0/1.
- Widrow–Hoff's Adaline (1960): the same rule on the *linear* output, w ← w + α(t − y)x, which
  is gradient descent on ½(t − y)²; ±1 targets, thresholded only to predict.

The perceptron and Adaline are Modules (their weights are Parameters, so they can be drawn,
saved and loaded); their rules update the weights directly, without the autograd engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from autodiff import Parameter
from autodiff.arguments import (check_bool, check_choice, check_count, check_real, check_reals,
                                check_table, describe, is_int, is_real, is_sequence)

from .layers import Neuron, _checked_nin
from .module import Module

MODES = ("online", "batch")


class McCullochPitts:
    """A McCulloch–Pitts neuron: 1 if Σ wᵢxᵢ > threshold (≥ when strict=False), else 0.

    >>> AND = McCullochPitts([1, 1], threshold=1.5)
    >>> [AND([a, b]) for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
    [0, 0, 0, 1]
    """

    def __init__(self, weights: Sequence[float], threshold: float, strict: bool = True):
        self.weights = check_reals(weights, "McCullochPitts() weights")
        self.threshold = check_real(threshold, "McCullochPitts() threshold")
        self.strict = check_bool(strict, "McCullochPitts() strict")

    def __call__(self, x: Sequence[float]) -> int:
        xs = check_reals(x, "McCullochPitts() input x", length=len(self.weights))
        total = sum(w * xi for w, xi in zip(self.weights, xs))
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

    def __post_init__(self) -> None:
        if not isinstance(self.rule, str):
            raise TypeError(f"FitReport() rule must be a str, got {describe(self.rule)}")
        check_bool(self.converged, "FitReport() converged")
        if not isinstance(self.errors, list) or not all(is_int(e) and e >= 0 for e in self.errors):
            raise TypeError(f"FitReport() errors must be a list of counts (ints >= 0), got "
                            f"{describe(self.errors)}")
        if not isinstance(self.mse, list) or not all(is_real(m) for m in self.mse):
            raise TypeError(f"FitReport() mse must be a list of numbers, got {describe(self.mse)}")

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.errors)

    def __str__(self) -> str:
        if self.converged:
            return f"{self.rule} converged after {self.epochs} epochs"
        if not self.errors:
            return f"{self.rule} ran no epochs"
        return (f"{self.rule} did not converge in {self.epochs} epochs "
                f"({self.errors[-1]} errors in the last)")


class _Linear(Module):
    """w and b as Parameters, and the net input Σ wᵢxᵢ + b in floats."""

    rule = ""
    targets: tuple[float, float] = (0.0, 1.0)   # the two classes the rule's targets take
    _config_fields = ("nin", "lr")

    def __init__(self, nin: int, lr: float):
        config = self._checked_config({"nin": nin, "lr": lr}, f"{type(self).__name__}() ")
        self.nin, self.lr = config["nin"], config["lr"]
        self.w = [Parameter(0.0) for _ in range(self.nin)]
        self.b = Parameter(0.0)

    @classmethod
    def _checked_config(cls, config: dict, prefix: str) -> dict[str, Any]:
        return {"nin": _checked_nin(config["nin"], prefix),
                "lr": check_real(config["lr"], f"{prefix}lr", low=0, low_open=True)}

    # w and b, named as a Neuron's
    _parameter_count = staticmethod(Neuron._parameter_count)
    _parameter_names = staticmethod(Neuron._parameter_names)

    def _who(self, method: str) -> str:
        return f"{type(self).__name__}.{method}()"

    def net(self, x: Sequence[float]) -> float:
        """Σ wᵢxᵢ + b, as a float."""
        return self._net(check_reals(x, f"{self._who('net')} x", length=self.nin))

    def _net(self, xs: Sequence[float]) -> float:
        return sum(w.data * xi for w, xi in zip(self.w, xs)) + self.b.data

    def forward(self, x: Sequence[float]) -> int:
        """The class of one sample."""
        return self._classify(check_reals(x, f"{type(self).__name__} input x", length=self.nin))

    def _classify(self, xs: Sequence[float]) -> int:
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """The class of each row of X."""
        rows = check_table(X, f"{self._who('predict')} X", width=self.nin).tolist()
        return np.array([self._classify(row) for row in rows], dtype=int)

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
        who = self._who("update")
        xs = check_reals(x, f"{who} x", length=self.nin)
        return self._step(xs, self._target(t, f"{who} t"))

    def _target(self, t, name: str) -> float:
        value = check_real(t, name)
        if value not in self.targets:
            low, high = self.targets
            raise ValueError(f"{name} must be {low:g} or {high:g} (the {self.rule}'s classes), got "
                             f"{describe(t)}")
        return value

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
        who = self._who("fit")
        xs = check_table(X, f"{who} X", width=self.nin).tolist()
        if not is_sequence(y):
            raise TypeError(f"{who} y must be a list of {len(xs)} targets (one per row of X), got "
                            f"{describe(y)}")
        if len(y) != len(xs):
            raise ValueError(f"{who} y must have {len(xs)} targets (one per row of X), got {len(y)}")
        ts = [self._target(t, f"{who} y[{i}]") for i, t in enumerate(y)]
        epochs = check_count(epochs, f"{who} {epochs_name}")
        mode = check_choice(mode, f"{who} mode", MODES)
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

    def _classify(self, xs: Sequence[float]) -> int:
        """The perceptron's output, 0 or 1."""
        return int(self._net(xs) > 0.0)

    def _rule_error(self, x: list[float], t: float) -> float:
        return t - self._classify(x)

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

    def _classify(self, xs: Sequence[float]) -> int:
        """The Adaline's class, +1 or −1."""
        return 1 if self._net(xs) > 0.0 else -1

    def _rule_error(self, x: list[float], t: float) -> float:
        return t - self._net(x)

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
            report.errors.append(sum(self._classify(x) != t for x, t in zip(xs, ts)))
        report.converged = report.errors[-1] == 0
        return report
