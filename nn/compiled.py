"""`fit(..., compiled=True)`: a sample's loss traced once and replayed on whole batches.

The loss of one sample is traced with the features as inputs and the target folded in as a
constant, so there is one `autodiff.Program` per distinct target (two for ±1 labels): the loss
may then use its target any way it likes, even as an index (cross_entropy's class). Programs are
lowered (`Graph.compile`'s default): each layer's neuron sums are one matrix product, so a loss
and its gradients agree with the scalar engine's to 1e-12 relative to the terms summed.

Python that reads data inside the model or the loss is frozen at trace time (see
`autodiff.compile`). Two of nn's losses do: `binary_cross_entropy` clamps its probabilities with
a branch, so it is refused (its logits variant has no branch); `cross_entropy` shifts the logits
by their maximum, which replays as the traced example's maximum. That shift only matters where
exp overflows or every term underflows, so a batch whose replayed loss or gradient is not finite
is computed again by the scalar engine, which shifts by each example's own maximum.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from autodiff import Value, trace

from .losses import binary_cross_entropy
from .module import Module

MAX_TARGETS = 64  # one program per distinct target: regression targets would need one each


def _key(target) -> tuple:
    return tuple(target) if isinstance(target, list) else (target,)


class CompiledLoss:
    """batch_loss through Programs: (mean loss, outputs as floats) with gradients in `.grad`.

    `scalar(rows, targets)` is the scalar engine's batch_loss, for the batches replay cannot do.
    """

    def __init__(self, model: Module, loss: Callable, width: int, targets: list,
                 scalar: Callable[[list, list], tuple[float, list]]):
        if loss is binary_cross_entropy:
            raise ValueError("compiled=True cannot replay binary_cross_entropy: its clamp is a "
                             "Python branch frozen at trace time; use "
                             "binary_cross_entropy_with_logits on a model without the output "
                             "sigmoid, or compiled=False")
        distinct = {_key(t): t for t in targets}
        if len(distinct) > MAX_TARGETS:
            raise ValueError(f"compiled=True traces one program per distinct target; got "
                             f"{len(distinct)} distinct targets, at most {MAX_TARGETS} are allowed "
                             f"(train regression targets with compiled=False)")
        self.params = model.parameters()   # walked once: a batch only reads and zeroes them
        self.scalar = scalar
        features = [Value(0.0, label=f"x{i}") for i in range(width)]
        outputs = model(features)
        self.several = isinstance(outputs, list)
        self.outputs = [self._compile(y, features)
                        for y in (outputs if self.several else [outputs])]
        self.losses = {key: self._compile(loss(model(features), t), features)
                       for key, t in distinct.items()}

    @staticmethod
    def _compile(output: Value, features: list[Value]):
        graph = trace(output)
        nodes = set(graph.nodes)
        used = [i for i, x in enumerate(features) if x in nodes]
        return graph.compile([features[i] for i in used]), used

    def __call__(self, rows: np.ndarray, targets: list) -> tuple[float, list]:
        params = self.params
        for p in params:
            p.grad = 0.0
        groups: dict[tuple, list[int]] = {}
        for i, t in enumerate(targets):
            groups.setdefault(_key(t), []).append(i)
        total = 0.0
        for key, where in groups.items():
            program, used = self.losses[key]
            total += program.backward(rows[np.ix_(where, used)], reduction="sum")
        size = len(rows)
        for p in params:
            p.grad /= size
        if not (np.isfinite(total) and all(np.isfinite(p.grad) for p in params)):
            return self.scalar(rows.tolist(), targets)
        columns = [program(rows[:, used]).tolist() for program, used in self.outputs]
        outputs = [list(values) for values in zip(*columns)] if self.several else columns[0]
        return total / size, outputs
