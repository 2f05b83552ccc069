"""Neuron, Layer and MLP: the lecture's networks, built from Values.

What each returns: a Neuron returns one Value; a Layer always returns a list (one Value per
neuron), so layers compose without special cases; an MLP returns a bare Value when its last layer
has one neuron (the network is a scalar function, as in micrograd's demo), else a list. Each
takes one sample; a batch goes through `nn.fit`, a compiled program, or a loop.

Initialisation is seeded and reproducible: weights are uniform in ±gain·√(3/nin), so their
variance is gain²/nin, with the gain PyTorch uses for the activation (√2 for relu, 5/3 for tanh,
1 otherwise); biases start at 0. The seed defaults to 0, so two models built alike without a seed
have the same weights, and a script prints the same numbers on every run; pass `seed=` for other
weights. There is no global generator (PyTorch's `torch.manual_seed`): a model's weights never
depend on what was built before it, in this thread or another.
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

import numpy as np

from autodiff import Parameter, Value
from autodiff.arguments import check_count, check_real, check_reals, check_seed, describe, is_sequence

from .activations import activation as _activation_fn
from .activations import canonical
from .module import MAX_PARAMETERS, Module, building

GAINS = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0}


def _rng(seed: int | random.Random, name: str) -> random.Random:
    """The generator for a module's initial weights: a seed's own, or a shared random.Random."""
    if isinstance(seed, random.Random):
        return seed
    return random.Random(check_seed(seed, name))


def _size(count: int, limit_of: str, what: str) -> int:
    if count > MAX_PARAMETERS:
        raise ValueError(f"{what} make {count:,} parameters; nn builds at most {MAX_PARAMETERS:,} "
                         f"({limit_of})")
    return count


def _checked_nin(nin, prefix: str) -> int:
    """A neuron's number of inputs, checked: with its bias, within nn's limit on parameters."""
    nin = check_count(nin, f"{prefix}nin", MAX_PARAMETERS)
    _size(nin + 1, "a neuron has nin + 1", f"{prefix}nin={nin} and a bias")
    return nin


class Neuron(Module):
    """One neuron: activation(Σ wᵢxᵢ + b), where the sum is ONE node of the graph.

    nin inputs; activation by name (default tanh; see `nn.ACTIVATIONS`); seed (default 0, so
    two Neurons built without one are equal) an int or a random.Random to draw from.

    >>> n = Neuron(2, activation='sigmoid')
    >>> n.set_weights([0.15, 0.20], 0.35)
    >>> round(n([0.05, 0.10]).data, 9)
    0.593269992
    """

    _config_fields = ("nin", "activation")

    def __init__(self, nin: int, activation: str = "tanh", seed: int | random.Random = 0):
        config = self._checked_config({"nin": nin, "activation": activation}, "Neuron() ")
        rng = _rng(seed, "Neuron() seed")
        self.nin = config["nin"]
        self.activation = config["activation"]
        self._act = _activation_fn(self.activation)
        bound = GAINS.get(self.activation, 1.0) * math.sqrt(3.0 / self.nin)
        with building():
            self.w = [Parameter(rng.uniform(-bound, bound)) for _ in range(self.nin)]
            self.b = Parameter(0.0)

    @classmethod
    def _checked_config(cls, config: dict, prefix: str) -> dict[str, Any]:
        return {"nin": _checked_nin(config["nin"], prefix),
                "activation": canonical(config["activation"], f"{prefix}activation")}

    @staticmethod
    def _parameter_count(config: dict) -> int:
        return config["nin"] + 1

    @staticmethod
    def _parameter_names(config: dict) -> list[str]:
        return [f"w.{i}" for i in range(config["nin"])] + ["b"]

    def forward(self, x: Sequence) -> Value:
        """activation(Σ wᵢxᵢ + b) for one input vector of numbers or Values."""
        return self._forward(_inputs(x, self.nin, "Neuron"))

    def _forward(self, xs: list[Value]) -> Value:
        return self._act(Value.sum([w * xi for w, xi in zip(self.w, xs)] + [self.b]))

    def set_weights(self, weights: Sequence, bias: float | None = None) -> None:
        """Set w from nin numbers (and b, when given); checks everything before changing anything."""
        w = check_reals(weights, "Neuron.set_weights() weights", length=self.nin)
        b = None if bias is None else check_real(bias, "Neuron.set_weights() bias")
        self._assign(w, b)

    def _assign(self, w: list[float], b: float | None) -> None:
        for param, value in zip(self.w, w):
            param.data = value
        if b is not None:
            self.b.data = b

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}


class Layer(Module):
    """nout neurons reading the same nin inputs; calling it returns a list of nout Values.

    Activation and seed as for `Neuron` (default tanh and 0); the neurons draw their weights one
    after another from the seed's generator.
    """

    _config_fields = ("nin", "nout", "activation")

    def __init__(self, nin: int, nout: int, activation: str = "tanh",
                 seed: int | random.Random = 0):
        config = self._checked_config({"nin": nin, "nout": nout, "activation": activation}, "Layer() ")
        rng = _rng(seed, "Layer() seed")
        self.nin, self.nout, self.activation = config["nin"], config["nout"], config["activation"]
        with building():
            self.neurons = [Neuron(self.nin, self.activation, rng) for _ in range(self.nout)]

    @classmethod
    def _checked_config(cls, config: dict, prefix: str) -> dict[str, Any]:
        nin = check_count(config["nin"], f"{prefix}nin", MAX_PARAMETERS)
        nout = check_count(config["nout"], f"{prefix}nout", MAX_PARAMETERS)
        _size(nout * (nin + 1), "a layer has nout·(nin + 1)", f"{prefix}nin={nin} and nout={nout}")
        return {"nin": nin, "nout": nout,
                "activation": canonical(config["activation"], f"{prefix}activation")}

    @staticmethod
    def _parameter_count(config: dict) -> int:
        return config["nout"] * (config["nin"] + 1)

    @staticmethod
    def _parameter_names(config: dict) -> list[str]:
        neuron = Neuron._parameter_names(config)
        return [f"neurons.{j}.{name}" for j in range(config["nout"]) for name in neuron]

    def forward(self, x: Sequence) -> list[Value]:
        """Each neuron's output for one input vector, as a list (also when nout is 1)."""
        xs = _inputs(x, self.nin, "Layer")
        # checked once here, not once more by each neuron
        return [neuron._forward(xs) for neuron in self.neurons]

    def set_weights(self, weights: Sequence, biases: float | Sequence | None = None) -> None:
        """Set each neuron's weights from nout rows of nin numbers; `biases` is one number for
        every neuron or a list of nout. Checks everything before changing anything."""
        rows = self._checked(weights, biases, "Layer.set_weights() weights", "Layer.set_weights() biases")
        for neuron, (w, b) in zip(self.neurons, rows):
            neuron._assign(w, b)

    def _checked(self, weights, biases, wname: str, bname: str) -> list[tuple[list[float], float | None]]:
        if not is_sequence(weights):
            raise TypeError(f"{wname} must be {self.nout} rows of {self.nin} numbers, got {describe(weights)}")
        if len(weights) != self.nout:
            raise ValueError(f"{wname} must have {self.nout} rows (one per neuron), got {len(weights)}")
        rows = [check_reals(row, f"{wname}[{i}]", length=self.nin) for i, row in enumerate(weights)]
        if biases is None:
            bs: list[float | None] = [None] * self.nout
        elif is_sequence(biases):
            bs = check_reals(biases, bname, length=self.nout)
        else:
            bs = [check_real(biases, bname)] * self.nout
        return list(zip(rows, bs))

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}


class MLP(Module):
    """A multilayer perceptron: layers of the given sizes, the last with `output_activation`.

    By default the hidden layers use tanh and the output layer is linear ('identity'), so the
    network is tanh(…) layers followed by an affine map. micrograd's MLP uses relu in its hidden
    layers and a linear output: to port its demo, pass activation='relu'. The weights are drawn
    from `seed` (default 0): two MLPs built alike without a seed have the same weights.

    The lecture's worked example (sigmoid everywhere) is two lines:
    >>> net = MLP(2, [2, 2], activation='sigmoid', output_activation='sigmoid')
    >>> net.set_weights([[[.15, .20], [.25, .30]], [[.40, .45], [.50, .55]]], biases=[.35, .60])
    >>> [round(y.data, 8) for y in net([0.05, 0.10])]
    [0.75136507, 0.77292847]
    """

    _config_fields = ("nin", "sizes", "activation", "output_activation")

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "tanh",
                 output_activation: str = "identity", seed: int | random.Random = 0):
        config = self._checked_config({"nin": nin, "sizes": sizes, "activation": activation,
                                       "output_activation": output_activation}, "MLP() ")
        rng = _rng(seed, "MLP() seed")
        self.nin, self.sizes = config["nin"], config["sizes"]
        self.activation, self.output_activation = config["activation"], config["output_activation"]
        widths = [self.nin, *self.sizes]
        kinds = [self.activation] * (len(self.sizes) - 1) + [self.output_activation]
        with building():
            self.layers = [Layer(widths[i], widths[i + 1], kinds[i], rng) for i in range(len(kinds))]

    @classmethod
    def _checked_config(cls, config: dict, prefix: str) -> dict[str, Any]:
        nin = check_count(config["nin"], f"{prefix}nin", MAX_PARAMETERS)
        sizes = config["sizes"]
        wanted = "a non-empty list of layer sizes (ints >= 1)"
        if not is_sequence(sizes) or isinstance(sizes, np.ndarray) and sizes.ndim != 1:
            raise TypeError(f"{prefix}sizes must be {wanted}, got {describe(sizes)}")
        if not 0 < len(sizes) <= MAX_PARAMETERS // 2:
            raise ValueError(f"{prefix}sizes must be {wanted}, got {len(sizes):,} sizes")
        sizes = [check_count(s, f"{prefix}sizes[{i}]", MAX_PARAMETERS) for i, s in enumerate(sizes)]
        widths = [nin, *sizes]
        _size(sum(widths[i + 1] * (widths[i] + 1) for i in range(len(sizes))),
              "each layer has nout·(nin + 1)", f"{prefix}sizes (with nin={nin})")
        return {"nin": nin, "sizes": sizes,
                "activation": canonical(config["activation"], f"{prefix}activation"),
                "output_activation": canonical(config["output_activation"], f"{prefix}output_activation")}

    @staticmethod
    def _parameter_count(config: dict) -> int:
        widths = [config["nin"], *config["sizes"]]
        return sum(widths[i + 1] * (widths[i] + 1) for i in range(len(widths) - 1))

    @staticmethod
    def _parameter_names(config: dict) -> list[str]:
        widths = [config["nin"], *config["sizes"]]
        return [f"layers.{i}.{name}" for i in range(len(widths) - 1)
                for name in Layer._parameter_names({"nin": widths[i], "nout": widths[i + 1]})]

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
        wname, bname = "MLP.set_weights() weights", "MLP.set_weights() biases"
        layers = len(self.layers)
        if not is_sequence(weights):
            raise TypeError(f"{wname} must be a list with one entry per layer ({layers}), got "
                            f"{describe(weights)}")
        if len(weights) != layers:
            raise ValueError(f"{wname} must have {layers} entries (one per layer), got {len(weights)}")
        if biases is None:
            biases = [None] * layers
        elif not is_sequence(biases):
            raise TypeError(f"{bname} must be a list with one entry per layer ({layers}), got "
                            f"{describe(biases)}")
        elif len(biases) != layers:
            raise ValueError(f"{bname} must have {layers} entries (one per layer), got {len(biases)}")
        checked = [layer._checked(w, b, f"{wname}[{i}]", f"{bname}[{i}]")
                   for i, (layer, w, b) in enumerate(zip(self.layers, weights, biases))]
        for layer, rows in zip(self.layers, checked):
            for neuron, (w, b) in zip(layer.neurons, rows):
                neuron._assign(w, b)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "sizes": list(self.sizes), "activation": self.activation,
                "output_activation": self.output_activation}


def _inputs(x, n: int, who: str) -> list[Value]:
    """One sample's n inputs as Values; a batch, or anything else, is a clear error."""
    if type(x) is list and len(x) == n and all(isinstance(xi, Value) for xi in x):
        return x  # a layer's outputs going into the next layer: nothing to check or convert
    name = f"{who} input x"
    batch = _batch(x)
    if batch:
        raise TypeError(
            f"{name} is one sample, a list of {n} numbers or Values; got {batch}, a batch. Train on "
            f"a batch with nn.fit(model, X, y); for outputs, loop: [model(row) for row in X]; for "
            f"speed, trace one sample and replay it on the batch: "
            f"autodiff.trace(model(xs)).compile(xs)(X)")
    if not is_sequence(x):
        raise TypeError(f"{name} must be a list of {n} numbers or Values, got {describe(x)}")
    if len(x) != n:
        raise ValueError(f"{name} must have {n} values (the model's nin), got {len(x)}")
    # A number becomes one input leaf here, not a new constant in every neuron that reads it, so a
    # drawing of the network shows each input once and its gradient ∂out/∂xᵢ is there to read.
    return [xi if isinstance(xi, Value)
            else Value(xi if type(xi) is float else check_real(xi, f"{name}[{i - 1}]", finite=False),
                       label=f"x{i}")
            for i, xi in enumerate(x, 1)]


def _batch(x) -> str:
    """How a batch of samples given where one sample belongs looks, or '' if x is not one."""
    if isinstance(x, np.ndarray):
        return f"a {x.ndim}-D array of shape {x.shape}" if x.ndim >= 2 else ""
    if is_sequence(x) and len(x) > 0 and is_sequence(x[0]):
        return f"a list of {len(x)} rows"
    return ""
