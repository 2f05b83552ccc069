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

import math
import numbers
from typing import Iterable

from autodiff import Value


def _parameters(params: Iterable[Value], who: str) -> list[Value]:
    if not hasattr(params, "__iter__"):
        raise TypeError(f"{who} takes an iterable of Values such as model.parameters(), "
                        f"got {type(params).__name__}")
    ps = list(params)
    if not ps:
        raise ValueError(f"{who} got an empty parameter list")
    seen: set[int] = set()
    for p in ps:
        if not isinstance(p, Value):
            raise TypeError(f"{who} takes Values (a model's parameters), got {type(p).__name__} {p!r}")
        if not p.is_leaf:
            raise ValueError(f"{who} can only update leaves; {p!r} was computed by an op")
        if id(p) in seen:
            raise ValueError(f"{who} got the parameter {p.label or p!r} twice; it would be "
                             f"updated twice per step")
        seen.add(id(p))
    return ps


def _number(x, name: str, who: str, low: float, high: float = math.inf,
            low_open: bool = False, high_open: bool = True) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or x != x:
        raise ValueError(f"{who} {name} must be a number, got {x!r}")
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{who} {name} must be in {left}{low:g}, {high:g}{right}, got {x!r}")
    return float(x)


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
        if nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(f"SGD nesterov needs momentum > 0 and dampening 0, got momentum="
                             f"{momentum!r}, dampening={dampening!r}")
        self.nesterov = bool(nesterov)
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
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_number(betas[0], "beta1", "Adam", 0.0, 1.0),
                      _number(betas[1], "beta2", "Adam", 0.0, 1.0))
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
