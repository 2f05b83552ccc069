"""`fit`: the training loop, epoch by epoch and batch by batch, with a history of loss and accuracy.

One batch is `batch_loss`: forward every sample, average the losses, one backward pass. The loop
around it only shuffles, steps the optimizer and keeps score.
"""

from __future__ import annotations

import html
import io
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from autodiff import Parameter, Value, no_grad
from autodiff.arguments import (check_bool, check_callable, check_count, check_instance, check_real,
                                check_reals, check_seed, check_table, describe, is_int, is_real,
                                is_sequence)

from .compiled import CompiledLoss
from .losses import (LOSSES, binary_cross_entropy, binary_cross_entropy_with_logits,
                     cross_entropy, hinge)
from .module import Module
from .optim import SGD, Optimizer

# A notebook shows this many epochs of a History, the first and last halves of longer ones.
HTML_ROWS = 20


@dataclass(slots=True)
class History:
    """Per-epoch mean training loss and accuracy (None when the targets are not classes).

    In Jupyter it shows as a table of its epochs; `plot()` draws loss (and accuracy) per epoch.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        # nan is allowed: a run that diverged has a nan loss, and its history says so
        if not isinstance(self.loss, list) or not all(is_real(v) for v in self.loss):
            raise TypeError(f"History() loss must be a list of numbers, got {describe(self.loss)}")
        if not isinstance(self.accuracy, list) or not all(
                a is None or is_real(a) and 0 <= a <= 1 for a in self.accuracy):
            raise TypeError(f"History() accuracy must be a list of fractions in [0, 1] or None, got "
                            f"{describe(self.accuracy)}")
        if len(self.accuracy) != len(self.loss):
            raise ValueError(f"History() accuracy must have one entry per epoch of loss "
                             f"({len(self.loss)}), got {len(self.accuracy)}")

    def __len__(self) -> int:
        return len(self.loss)

    def __str__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        return f"History({len(self)} epochs: {_summary(self.loss[-1], self.accuracy[-1])})"

    def _has_accuracy(self) -> bool:
        return any(a is not None for a in self.accuracy)

    def _repr_html_(self) -> str:
        """The epochs as an HTML table (Jupyter's rich display); long runs show both ends."""
        columns = ["epoch", "loss"] + (["accuracy"] if self._has_accuracy() else [])
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        epochs = list(range(len(self)))
        if len(epochs) > HTML_ROWS:
            half = HTML_ROWS // 2
            epochs = epochs[:half] + [None] + epochs[-half:]
        rows = []
        for epoch in epochs:
            if epoch is None:
                cells = ["…"] * len(columns)
            else:
                cells = [str(epoch + 1), f"{self.loss[epoch]:.6g}"]
                if len(columns) == 3:
                    accuracy = self.accuracy[epoch]
                    cells.append("" if accuracy is None else f"{accuracy:.1%}")
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        caption = html.escape(str(self))
        return (f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def plot(self):
        """A matplotlib Figure of the loss per epoch and, when there is one, the accuracy.

        matplotlib is an optional extra (pip install matplotlib); in Jupyter the Figure shows
        itself, in a script call `.savefig(path)`.
        """
        try:
            figure_class = _figure_class()
        except ImportError:
            raise ImportError("History.plot() needs matplotlib, an optional extra: "
                              "pip install matplotlib (or pip install 'backprop-lens[extras]')") from None
        if not self.loss:
            raise ValueError("History.plot() has nothing to draw: the history has no epochs")
        panels = 2 if self._has_accuracy() else 1
        figure = figure_class(figsize=(4.5 * panels, 3.2), layout="constrained")
        axes = figure.subplots(1, panels, squeeze=False)[0]
        epochs = list(range(1, len(self) + 1))
        axes[0].plot(epochs, self.loss, color="tab:blue")
        axes[0].set(title="training loss", xlabel="epoch", ylabel="mean loss")
        if panels == 2:
            kept = [(e, a) for e, a in zip(epochs, self.accuracy) if a is not None]
            axes[1].plot([e for e, _ in kept], [a for _, a in kept], color="tab:green")
            axes[1].set(title="training accuracy", xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02))
        return figure


def _figure_class() -> type:
    """A matplotlib Figure that shows itself as a picture in a notebook.

    Made without pyplot (so no global figure is left open), a Figure has no canvas a notebook
    draws: it would show as '<Figure size …>'. This one gives IPython's display protocol a PNG.
    """
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return PlotFigure


def batch_loss(model: Module, xs: Sequence[list], ts: Sequence, loss: str | Callable) -> tuple[float, list]:
    """The mean loss of one batch, with its gradient left in every parameter's `.grad`.

    Zeroes the model's gradients, runs the model on each input, averages loss(output, target)
    into one node and backpropagates once. Returns (mean loss, the outputs as floats).
    """
    check_instance(model, "batch_loss() model", Module, "an nn.Module")
    loss = _loss(loss, "batch_loss() loss")
    for name, values in (("xs", xs), ("ts", ts)):
        if not is_sequence(values):
            raise TypeError(f"batch_loss() {name} must be a list (one entry per sample), got "
                            f"{describe(values)}")
        if len(values) == 0:
            raise ValueError(f"batch_loss() {name} must hold at least one sample, got an empty list")
    if len(xs) != len(ts):
        raise ValueError(f"batch_loss() xs has {len(xs)} samples but ts has {len(ts)} targets")
    return _batch_loss(model.parameters(), model, xs, ts, loss)


def _batch_loss(params: list[Parameter], model: Module, xs, ts, loss: Callable) -> tuple[float, list]:
    # the model's parameters as fit lists them once: walking the model for them on every batch
    # took a third of a one-sample step
    for param in params:
        param.grad = 0.0
    outputs = [model(x) for x in xs]
    total = Value.sum([loss(y, t) for y, t in zip(outputs, ts)]) / len(xs)
    total.backward()
    return total.data, [_floats(y) for y in outputs]


def fit(model: Module, X, y, loss: str | Callable = "mse", optimizer: Optimizer | None = None,
        epochs: int = 100, batch_size: int | None = None, shuffle: bool = True, seed: int = 0,
        verbose: bool = True, compiled: bool = False) -> History:
    """Train `model` on (X, y) and return the history of loss and accuracy per epoch.

    loss: a name from `nn.LOSSES` or a function loss(output, target) -> Value, applied to each
    sample and averaged over a batch. optimizer: an nn.Optimizer over (some of) the model's
    parameters; default `SGD(model.parameters(), lr=0.1)`. batch_size: None for the whole set at
    once. Samples are reshuffled each epoch (from `seed`) when batches are smaller than the set.
    Progress shows as a tqdm bar when tqdm is installed, else as a line every tenth of the run;
    `verbose=False` is quiet. compiled: trace one sample's loss once and replay it on each batch
    with numpy (`nn.compiled`); same results, much faster.

    Accuracy follows the loss: argmax for cross_entropy, the sign of the logit for hinge and
    BCE with logits, 0.5 for BCE; for other losses, 0/1 targets are split at 0.5, ±1 targets at 0,
    one-hot targets by argmax, and any other targets have no accuracy (None).

    Every argument is checked before any weight moves.

    >>> import nn
    >>> X, y = nn.data.gate('OR')
    >>> model = nn.MLP(2, [1])
    >>> history = nn.fit(model, X, y, loss='binary_cross_entropy_with_logits',
    ...                  optimizer=nn.SGD(model.parameters(), lr=0.5), epochs=50, verbose=False)
    >>> history.accuracy[-1], history.loss[-1] < history.loss[0]
    (1.0, True)
    """
    check_instance(model, "fit() model", Module, "an nn.Module (such as nn.MLP)")
    loss_fn = _loss(loss, "fit() loss")
    table = check_table(X, "fit() X", width=getattr(model, "nin", None), what="the model takes")
    rows = table.tolist()
    targets = _targets(y, len(rows))
    epochs = check_count(epochs, "fit() epochs")
    size = len(rows) if batch_size is None else check_count(batch_size, "fit() batch_size")
    shuffle = check_bool(shuffle, "fit() shuffle")
    seed = check_seed(seed, "fit() seed")
    verbose = check_bool(verbose, "fit() verbose")
    compiled = check_bool(compiled, "fit() compiled")
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    else:
        _check_optimizer(optimizer, params)
    with no_grad():
        probe = model(rows[0])
        if not (isinstance(probe, Value) or isinstance(probe, list)
                and all(isinstance(v, Value) for v in probe)):
            raise TypeError(f"fit() model must return a Value or a list of Values; "
                            f"{type(model).__name__} returns {describe(probe)} "
                            f"(train a Perceptron or Adaline with its own .fit())")
        for i, t in enumerate(targets):
            try:
                loss_fn(probe, t)  # a target the loss rejects fails here, before any weight moves
            except (TypeError, ValueError) as error:
                kind = TypeError if isinstance(error, TypeError) else ValueError
                raise kind(f"fit() y[{i}] does not suit the loss: {error}") from None
    correct = _decider(loss_fn, targets)
    replay = None
    if compiled:
        replay = CompiledLoss(model, loss_fn, len(rows[0]), targets,
                              lambda xs, ts: _batch_loss(params, model, xs, ts, loss_fn))
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
                value, outputs = _batch_loss(params, model, [rows[i] for i in batch],
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


def _check_optimizer(optimizer, params: list[Parameter]) -> None:
    check_instance(optimizer, "fit() optimizer", Optimizer,
                   "an nn.Optimizer over the model's parameters, such as nn.SGD(model.parameters(), "
                   "lr=0.1), or None")
    mine = {id(p) for p in params}
    if not any(id(p) in mine for p in optimizer.params):
        raise ValueError(f"fit() optimizer updates none of the model's parameters, so training "
                         f"would change nothing; build it from model.parameters()")


def _loss(loss, name: str) -> Callable:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{name} must be one of {', '.join(LOSSES)} or a function "
                             f"loss(output, target) -> Value; got unknown loss {loss!r}")
        return LOSSES[loss]
    return check_callable(loss, name, f"a name ({', '.join(LOSSES)}) or a function "
                                      f"loss(output, target) -> Value")


def _targets(y, count: int) -> list:
    """fit's targets, one per row of X: class indices (ints), numbers, or lists of numbers."""
    if not is_sequence(y):
        raise TypeError(f"fit() y must be a list of targets (one per row of X), got {describe(y)}")
    if len(y) != count:
        raise ValueError(f"fit() y must have {count} targets (one per row of X), got {len(y)}")
    return [_target(t, f"fit() y[{i}]") for i, t in enumerate(y)]


def _target(t, name: str):
    if is_int(t):
        return int(t)
    if is_real(t):
        return check_real(t, name)
    if is_sequence(t):
        return check_reals(t, name)
    raise TypeError(f"{name} must be a number or a list of numbers, got {describe(t)}")


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
