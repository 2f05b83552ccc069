"""Neuron, Layer and MLP: the lecture's networks, built from Values.

What each returns: a Neuron returns one Value; a Layer always returns a list (one Value per
neuron), so layers compose without special cases; an MLP returns a bare Value when its last layer
has one neuron (the network is a scalar function, as in micrograd's demo), else a list.

Initialisation is seeded and reproducible: weights are uniform in ±gain·√(3/nin), so their
variance is gain²/nin, with the gain PyTorch uses for the activation (√2 for relu, 5/3 for tanh,
1 otherwise); biases start at 0.
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Any, Sequence

import numpy as np

from autodiff import Parameter, Value

from .activations import activation as _activation_fn
from .activations import canonical
from .module import Module

GAINS = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0}


def _rng(seed: int | random.Random) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or a random.Random, got {type(seed).__name__} {seed!r}")
    return random.Random(int(seed))


def _count(n, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def _real(x, what: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def _reals(values, n: int, what: str) -> list[float]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a list of {n} numbers, got {type(values).__name__}")
    if len(values) != n:
        raise ValueError(f"{what} must have {n} numbers, got {len(values)}")
    return [_real(v, f"{what}[{i}]") for i, v in enumerate(values)]


class Neuron(Module):
    """One neuron: activation(Σ wᵢxᵢ + b), where the sum is ONE node of the graph.

    >>> n = Neuron(2, activation='sigmoid')
    >>> n.set_weights([0.15, 0.20], 0.35)
    >>> round(n([0.05, 0.10]).data, 9)
    0.593269992
    """

    def __init__(self, nin: int, activation: str = "tanh", seed: int | random.Random = 0):
        self.nin = _count(nin, "Neuron nin")
        self.activation = canonical(activation)
        self._act = _activation_fn(self.activation)
        rng = _rng(seed)
        bound = GAINS.get(self.activation, 1.0) * math.sqrt(3.0 / self.nin)
        self.w = [Parameter(rng.uniform(-bound, bound)) for _ in range(self.nin)]
        self.b = Parameter(0.0)

    def forward(self, x: Sequence) -> Value:
        """activation(Σ wᵢxᵢ + b) for one input vector of numbers or Values."""
        xs = _inputs(x, self.nin, "Neuron")
        return self._act(Value.sum([w * xi for w, xi in zip(self.w, xs)] + [self.b]))

    def set_weights(self, weights: Sequence, bias: float | None = None) -> None:
        """Set w from nin numbers (and b, when given); checks everything before changing anything."""
        w = _reals(weights, self.nin, "weights")
        b = None if bias is None else _real(bias, "bias")
        for param, value in zip(self.w, w):
            param.data = value
        if b is not None:
            self.b.data = b

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}


class Layer(Module):
    """nout neurons reading the same nin inputs; calling it returns a list of nout Values."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh",
                 seed: int | random.Random = 0):
        self.nin = _count(nin, "Layer nin")
        self.nout = _count(nout, "Layer nout")
        self.activation = canonical(activation)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, self.activation, rng) for _ in range(self.nout)]

    def forward(self, x: Sequence) -> list[Value]:
        """Each neuron's output for one input vector, as a list (also when nout is 1)."""
        xs = _inputs(x, self.nin, "Layer")
        return [neuron(xs) for neuron in self.neurons]

    def set_weights(self, weights: Sequence, biases: float | Sequence | None = None) -> None:
        """Set each neuron's weights from nout rows of nin numbers; `biases` is one number for
        every neuron or a list of nout. Checks everything before changing anything."""
        rows = self._checked(weights, biases, "weights")
        for neuron, (w, b) in zip(self.neurons, rows):
            neuron.set_weights(w, b)

    def _checked(self, weights, biases, what: str) -> list[tuple[list[float], float | None]]:
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
            raise TypeError(f"{what} must be {self.nout} rows of {self.nin} numbers, "
                            f"got {type(weights).__name__}")
        if len(weights) != self.nout:
            raise ValueError(f"{what} must have {self.nout} rows (one per neuron), got {len(weights)}")
        rows = [_reals(row, self.nin, f"{what}[{i}]") for i, row in enumerate(weights)]
        if biases is None:
            bs: list[float | None] = [None] * self.nout
        elif isinstance(biases, numbers.Real) and not isinstance(biases, bool):
            bs = [float(biases)] * self.nout
        else:
            bs = _reals(biases, self.nout, f"biases of {what}")
        return list(zip(rows, bs))

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}


class MLP(Module):
    """A multilayer perceptron: layers of the given sizes, the last with `output_activation`.

    The lecture's worked example (sigmoid everywhere) is two lines:
    >>> net = MLP(2, [2, 2], activation='sigmoid', output_activation='sigmoid')
    >>> net.set_weights([[[.15, .20], [.25, .30]], [[.40, .45], [.50, .55]]], biases=[.35, .60])
    >>> [round(y.data, 8) for y in net([0.05, 0.10])]
    [0.75136507, 0.77292847]
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "tanh",
                 output_activation: str = "identity", seed: int | random.Random = 0):
        self.nin = _count(nin, "MLP nin")
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) == 0:
            raise ValueError(f"MLP sizes must be a non-empty list of layer sizes, got {sizes!r}")
        self.sizes = [_count(s, f"MLP sizes[{i}]") for i, s in enumerate(sizes)]
        self.activation = canonical(activation)
        self.output_activation = canonical(output_activation)
        rng = _rng(seed)
        widths = [self.nin, *self.sizes]
        kinds = [self.activation] * (len(self.sizes) - 1) + [self.output_activation]
        self.layers = [Layer(widths[i], widths[i + 1], kinds[i], rng) for i in range(len(kinds))]

    @property
    def nout(self) -> int:
        """The number of outputs (the last layer's size)."""
        return self.sizes[-1]

    def forward(self, x: Sequence) -> Value | list[Value]:
        """The network's output for one input vector: a Value if nout is 1, else a list."""
        out = _inputs(x, self.nin, "MLP")
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def set_weights(self, weights: Sequence, biases: Sequence | None = None) -> None:
        """Set all weights from one list per layer (rows of numbers per neuron); `biases` has one
        entry per layer, a number shared by the layer's neurons or a list. Checks everything
        before changing anything."""
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
            raise TypeError(f"weights must be a list with one entry per layer, got {type(weights).__name__}")
        if len(weights) != len(self.layers):
            raise ValueError(f"weights must have {len(self.layers)} entries (one per layer), "
                             f"got {len(weights)}")
        if biases is None:
            biases = [None] * len(self.layers)
        elif isinstance(biases, (str, bytes)) or not hasattr(biases, "__len__"):
            raise TypeError(f"biases must be a list with one entry per layer, got {type(biases).__name__}")
        elif len(biases) != len(self.layers):
            raise ValueError(f"biases must have {len(self.layers)} entries (one per layer), "
                             f"got {len(biases)}")
        checked = [layer._checked(w, b, f"weights[{i}]")
                   for i, (layer, w, b) in enumerate(zip(self.layers, weights, biases))]
        for layer, rows in zip(self.layers, checked):
            for neuron, (w, b) in zip(layer.neurons, rows):
                neuron.set_weights(w, b)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "sizes": list(self.sizes), "activation": self.activation,
                "output_activation": self.output_activation}


def _inputs(x, n: int, who: str) -> list:
    if isinstance(x, (Value, numbers.Real, str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{who} takes a list of {n} numbers or Values, got {type(x).__name__} {x!r}")
    if len(x) != n:
        raise ValueError(f"{who} expects {n} inputs, got {len(x)}")
    # A number becomes one input leaf here, not a new constant in every neuron that reads it, so a
    # drawing of the network shows each input once and its gradient ∂out/∂xᵢ is there to read.
    return [xi if isinstance(xi, Value) else Value(xi, label=f"x{i}") for i, xi in enumerate(x, 1)]
