"""Optimizers with PyTorch's update formulas (torch.optim.SGD and torch.optim.Adam).

SGD, for each parameter p with gradient g:
    g ← g + weight_decay · p
    if momentum: buf ← g on the first step, else buf ← momentum · buf + (1 − dampening) · g
                 g ← g + momentum · buf if nesterov, else buf
    p ← p − lr · g
Adam, at step t:
    g ← g + weight_decay · p
    m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
    p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)
"""

from __future__ import annotations

import itertools
import math
from typing import Iterable

from autodiff import Value
from autodiff.arguments import check_bool, check_real, describe, is_sequence

from .module import MAX_PARAMETERS


def _parameters(params: Iterable[Value], who: str) -> list[Value]:
    name = f"{who}() params"
    if isinstance(params, (str, bytes, dict, Value)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{name} must be an iterable of Values such as model.parameters(), "
                        f"got {describe(params)}")
    ps = list(itertools.islice(params, MAX_PARAMETERS + 1))
    if not ps:
        raise ValueError(f"{name} must hold at least one Value, got none")
    if len(ps) > MAX_PARAMETERS:
        raise ValueError(f"{name} holds more than {MAX_PARAMETERS:,} Values, more than nn allows")
    seen: set[int] = set()
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{name}[{i}] must be a Value (a model's parameter), got {describe(p)}")
        if not p.is_leaf:
            raise ValueError(f"{name}[{i}] must be a leaf; {p!r} was computed by an op")
        if id(p) in seen:
            raise ValueError(f"{name} holds the parameter {p.label or p!r} twice; it would be "
                             f"updated twice per step")
        seen.add(id(p))
    return ps


def _number(x, name: str, who: str, low: float, high: float | None = None,
            low_open: bool = False, high_open: bool = True) -> float:
    """A hyper-parameter: a finite number in the interval the formulas allow."""
    return check_real(x, f"{who}() {name}", low=low, high=high, low_open=low_open,
                      high_open=high_open and high is not None)


class Optimizer:
    """The shared part: the parameter list and `zero_grad()`."""

    def __init__(self, params: Iterable[Value]):
        self.params = _parameters(params, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 before the next backward pass."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (torch.optim.SGD's formulas).

    >>> w = Value(1.0); w.grad = 0.5
    >>> SGD([w], lr=0.1).step(); w.data
    0.95
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        self.lr = _number(lr, "lr", "SGD", 0.0, low_open=True)
        self.momentum = _number(momentum, "momentum", "SGD", 0.0, 1.0)
        self.dampening = _number(dampening, "dampening", "SGD", 0.0, 1.0, high_open=False)
        self.weight_decay = _number(weight_decay, "weight_decay", "SGD", 0.0)
        self.nesterov = check_bool(nesterov, "SGD() nesterov")
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(f"SGD() nesterov needs momentum > 0 and dampening 0, got momentum="
                             f"{momentum!r}, dampening={dampening!r}")
        super().__init__(params)
        self.buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """p ← p − lr · (the gradient, with weight decay and momentum applied)."""
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = self.buffers[i]
                buf = g if buf is None else self.momentum * buf + (1.0 - self.dampening) * g
                self.buffers[i] = buf
                g = g + self.momentum * buf if self.nesterov else buf
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam with bias correction (torch.optim.Adam's formulas; weight decay added to the gradient)."""

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.lr = _number(lr, "lr", "Adam", 0.0, low_open=True)
        if not is_sequence(betas):
            raise TypeError(f"Adam() betas must be a pair (beta1, beta2), got {describe(betas)}")
        if len(betas) != 2:
            raise ValueError(f"Adam() betas must be a pair (beta1, beta2), got {len(betas)} numbers")
        self.betas = (_number(betas[0], "betas[0]", "Adam", 0.0, 1.0),
                      _number(betas[1], "betas[1]", "Adam", 0.0, 1.0))
        self.eps = _number(eps, "eps", "Adam", 0.0)
        self.weight_decay = _number(weight_decay, "weight_decay", "Adam", 0.0)
        super().__init__(params)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter."""
        beta1, beta2 = self.betas
        self.t += 1
        correction1 = 1.0 - beta1 ** self.t
        root_correction2 = math.sqrt(1.0 - beta2 ** self.t)
        step_size = self.lr / correction1
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g
            denom = math.sqrt(self.v[i]) / root_correction2 + self.eps
            p.data -= step_size * self.m[i] / denom
