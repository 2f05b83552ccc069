"""`fit`: the training loop, epoch by epoch and batch by batch, with a history of loss and accuracy.

One batch is `batch_loss`: forward every sample, average the losses, one backward pass. The loop
around it only shuffles, steps the optimizer and keeps score.
"""

from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from autodiff import Value, no_grad

from .compiled import CompiledLoss
from .layers import _count
from .losses import (LOSSES, binary_cross_entropy, binary_cross_entropy_with_logits,
                     cross_entropy, hinge)
from .module import Module
from .optim import SGD


@dataclass(slots=True)
class History:
    """Per-epoch mean training loss and accuracy (None when the targets are not classes)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)

    def __str__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        return f"History({len(self)} epochs: {_summary(self.loss[-1], self.accuracy[-1])})"


def batch_loss(model: Module, xs: Sequence[list], ts: Sequence, loss: Callable) -> tuple[float, list]:
    """The mean loss of one batch, with its gradient left in every parameter's `.grad`.

    Zeroes the model's gradients, runs the model on each input, averages loss(output, target)
    into one node and backpropagates once. Returns (mean loss, the outputs as floats).
    """
    model.zero_grad()
    outputs = [model(x) for x in xs]
    total = Value.sum([loss(y, t) for y, t in zip(outputs, ts)]) / len(xs)
    total.backward()
    return total.data, [_floats(y) for y in outputs]


def fit(model: Module, X, y, loss: str | Callable = "mse", optimizer=None, epochs: int = 100,
        batch_size: int | None = None, shuffle: bool = True, seed: int = 0,
        verbose: bool = True, compiled: bool = False) -> History:
    """Train `model` on (X, y) and return the history of loss and accuracy per epoch.

    loss: a name from `nn.LOSSES` or a function loss(output, target) -> Value, applied to each
    sample and averaged over a batch. optimizer: default `SGD(model.parameters(), lr=0.1)`.
    batch_size: None for the whole set at once. Samples are reshuffled each epoch (seeded) when
    batches are smaller than the set. Progress shows as a tqdm bar when tqdm is installed, else
    as a line every tenth of the run; `verbose=False` is quiet. compiled: trace one sample's loss
    once and replay it on each batch with numpy (`nn.compiled`); same results, much faster.

    Accuracy follows the loss: argmax for cross_entropy, the sign of the logit for hinge and
    BCE with logits, 0.5 for BCE; for other losses, 0/1 targets are split at 0.5, ±1 targets at 0,
    one-hot targets by argmax, and any other targets have no accuracy (None).

    >>> import nn
    >>> X, y = nn.data.gate('OR')
    >>> model = nn.MLP(2, [1])
    >>> history = nn.fit(model, X, y, loss='binary_cross_entropy_with_logits',
    ...                  optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=50, verbose=False)
    >>> history.accuracy[-1], history.loss[-1] < history.loss[0]
    (1.0, True)
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit() trains an nn.Module, got {type(model).__name__}")
    loss_fn = _loss(loss)
    rows, targets = _dataset(X, y, getattr(model, "nin", None))
    epochs = _count(epochs, "epochs")
    size = len(rows) if batch_size is None else _count(batch_size, "batch_size")
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1)
    elif not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step() method (nn.SGD, nn.Adam), "
                        f"got {type(optimizer).__name__}")
    with no_grad():
        probe = model(rows[0])
        if not (isinstance(probe, Value) or isinstance(probe, list)
                and all(isinstance(v, Value) for v in probe)):
            raise TypeError(f"fit() trains a model whose output is a Value or a list of Values; "
                            f"{type(model).__name__} returns {type(probe).__name__} {probe!r} "
                            f"(train a Perceptron or Adaline with its own .fit())")
        for t in targets:
            loss_fn(probe, t)  # a target the loss rejects fails here, before any weight moves
    correct = _decider(loss_fn, targets)
    if not isinstance(compiled, bool):
        raise TypeError(f"compiled must be True or False, got {compiled!r}")
    replay = None
    if compiled:
        replay = CompiledLoss(model, loss_fn, len(rows[0]), targets,
                              lambda xs, ts: batch_loss(model, xs, ts, loss_fn))
    table = np.array(rows) if compiled else None
    order = list(range(len(rows)))
    rng = random.Random(seed)
    history = History()
    progress = _Progress(epochs, verbose)
    for epoch in range(epochs):
        if shuffle and size < len(rows):
            rng.shuffle(order)
        total, hits = 0.0, 0
        for start in range(0, len(rows), size):
            batch = order[start:start + size]
            if replay is None:
                value, outputs = batch_loss(model, [rows[i] for i in batch],
                                            [targets[i] for i in batch], loss_fn)
            else:
                value, outputs = replay(table[batch], [targets[i] for i in batch])
            optimizer.step()
            total += value * len(batch)
            if correct is not None:
                hits += sum(correct(out, targets[i]) for out, i in zip(outputs, batch))
        history.loss.append(total / len(rows))
        history.accuracy.append(hits / len(rows) if correct is not None else None)
        progress.update(epoch, history)
    return history


def _loss(loss) -> Callable:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
                             f"or pass a function loss(output, target) -> Value")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a function, got {type(loss).__name__} {loss!r}")
    return loss


def _dataset(X, y, nin: int | None) -> tuple[list[list[float]], list]:
    rows = [_row(r, i) for i, r in enumerate(X)]
    if not rows:
        raise ValueError("fit() got no samples: X is empty")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"rows of X differ in length: X[0] has {width} values, "
                             f"X[{i}] has {len(row)}")
    if nin is not None and width != nin:
        raise ValueError(f"X has {width} features per row, the model takes {nin}")
    if isinstance(y, (str, bytes)) or not hasattr(y, "__iter__"):
        raise ValueError(f"y must be a list of targets, one per row of X, got {type(y).__name__} {y!r}")
    targets = [_target(t, i) for i, t in enumerate(y)]
    if len(targets) != len(rows):
        raise ValueError(f"X has {len(rows)} rows but y has {len(targets)} targets")
    return rows, targets


def _row(r, i: int) -> list[float]:
    if isinstance(r, (str, bytes)) or not hasattr(r, "__len__"):
        raise ValueError(f"X[{i}] must be a row of numbers, got {type(r).__name__} {r!r}")
    try:
        row = [float(v) for v in r]
    except (TypeError, ValueError):
        raise ValueError(f"X[{i}] must hold numbers, got {list(r)!r}") from None
    return _finite(row, f"X[{i}]")


def _target(t, i: int):
    if isinstance(t, (numbers.Integral, np.bool_)) and not isinstance(t, bool):
        return int(t)
    if isinstance(t, numbers.Real):
        return _finite([float(t)], f"y[{i}]")[0]
    values = None
    if hasattr(t, "__len__") and not isinstance(t, (str, bytes)):
        try:
            values = [float(v) for v in t]
        except (TypeError, ValueError):
            pass
    if values is None:
        raise ValueError(f"y[{i}] must be a number or a list of numbers, got "
                         f"{type(t).__name__} {t!r}")
    return _finite(values, f"y[{i}]")


def _finite(values: list[float], what: str) -> list[float]:
    # one nan or inf in the data would spread into every weight within a batch
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{what} must hold finite numbers, got {bad[0]!r}")
    return values


def _floats(y):
    return [v.data for v in y] if isinstance(y, list) else y.data


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _as_list(x) -> list:
    return x if isinstance(x, list) else [x]


def _decider(loss: Callable, targets: list) -> Callable | None:
    """A function (output, target) -> whether the output classifies the sample right, or None."""
    if loss is cross_entropy:
        return lambda out, t: _argmax(out) == (t if isinstance(t, int) else _argmax(t))
    if loss in (hinge, binary_cross_entropy_with_logits):
        cut_out, cut_t = 0.0, (0.0 if loss is hinge else 0.5)
    elif loss is binary_cross_entropy:
        cut_out, cut_t = 0.5, 0.5
    else:
        numbers_seen = {v for t in targets for v in _as_list(t)}
        one_hot = all(isinstance(t, list) and len(t) > 1 and sorted(t)[-2:] == [0.0, 1.0]
                      and sum(t) == 1.0 for t in targets)
        if one_hot:
            return lambda out, t: _argmax(_as_list(out)) == _argmax(t)
        if numbers_seen <= {0, 1}:
            cut_out, cut_t = 0.5, 0.5
        elif numbers_seen <= {-1, 1}:
            cut_out, cut_t = 0.0, 0.0
        else:
            return None
    return lambda out, t: all((o > cut_out) == (v > cut_t)
                              for o, v in zip(_as_list(out), _as_list(t)))


def _summary(loss: float, accuracy: float | None) -> str:
    text = f"loss {loss:.6f}"
    return text if accuracy is None else f"{text}, accuracy {accuracy:.1%}"


class _Progress:
    """Shows training progress: a tqdm bar when tqdm is installed, else a line every tenth."""

    def __init__(self, epochs: int, verbose: bool):
        self.epochs, self.verbose, self.bar = epochs, verbose, None
        if verbose:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=epochs, desc="fit", unit="epoch")

    def update(self, epoch: int, history: History) -> None:
        if not self.verbose:
            return
        summary = _summary(history.loss[-1], history.accuracy[-1])
        if self.bar is not None:
            self.bar.set_postfix_str(summary, refresh=False)
            self.bar.update(1)
            if epoch + 1 == self.epochs:
                self.bar.close()
            return
        every = max(1, self.epochs // 10)
        if (epoch + 1) % every == 0 or epoch + 1 == self.epochs:
            print(f"epoch {epoch + 1}/{self.epochs}: {summary}", flush=True)
