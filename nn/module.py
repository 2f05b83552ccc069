"""`Module`: named parameters, gradients, state dicts, and saving to / loading from JSON.

A module's parameters are found by walking its attributes in the order they were set: a
Parameter is named by its attribute, a sub-module or a list of them adds a prefix, so an MLP's
parameters are named `layers.0.neurons.1.w.0`. Each Parameter carries its name as its `label`,
so drawings and error messages name it; the label is refreshed whenever a module is assigned as
an attribute of another, so the outermost module's names win.

A saved file is JSON:
    {"format": "backprop-lens/nn", "version": 1, "class": "MLP", "config": {...},
     "parameters": {"layers.0.neurons.0.w.0": 0.15, ...}}
Loading validates the whole file before it assigns a single number.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from typing import Any, Iterator

import numpy as np

from autodiff import Parameter

FORMAT = "backprop-lens/nn"
VERSION = 1

_CLASSES: dict[str, type[Module]] = {}


class Module:
    """Base class of everything with learnable parameters.

    Subclasses set Parameters, sub-modules, or lists of either as attributes, and define
    `forward`. `config()` returns the constructor arguments that rebuild the architecture (what
    `save` writes and `nn.load` calls the class with).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a file names its class by __name__ alone: nn's own classes keep their names, so a
        # user's class that is also called MLP cannot make nn.load build the wrong thing
        known = _CLASSES.get(cls.__name__)
        if not cls.__name__.startswith("_") and not (known and _is_nn_class(known)):
            _CLASSES[cls.__name__] = cls

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        for prefix, param in _named(value, name):
            param.label = prefix

    # -- parameters -----------------------------------------------------------------------------
    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(name, parameter) pairs in a stable order: attributes in the order they were set.

        >>> from nn import Neuron
        >>> [name for name, _ in Neuron(2).named_parameters()]
        ['w.0', 'w.1', 'b']
        """
        found: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for attr, value in vars(self).items():
            for name, param in _named(value, attr):
                if id(param) not in seen:
                    seen.add(id(param))
                    found.append((name, param))
        return found

    def parameters(self) -> list[Parameter]:
        """Every learnable Value of the module, in the order of `named_parameters()`."""
        return [param for _, param in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (leaves accumulate across backward passes)."""
        for param in self.parameters():
            param.grad = 0.0

    def forward(self, x):
        """What calling the module computes; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, x):
        return self.forward(x)

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define config(), so it cannot "
                                  f"be saved or compared with a saved file")

    def __repr__(self) -> str:
        try:
            args = self.config()
        except NotImplementedError:
            return f"{type(self).__name__}({len(self.parameters())} parameters)"
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in args.items())})"

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter, as plain floats (a copy)."""
        return {name: param.data for name, param in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Set every parameter from {name: number}; the names must match exactly.

        Nothing is assigned unless all of `state` is valid: missing, unexpected or non-numeric
        entries raise ValueError/TypeError and leave the module as it was.
        """
        values = self._validated_state(state)
        for name, param in self.named_parameters():
            param.data = values[name]

    def _validated_state(self, state) -> dict[str, float]:
        if not isinstance(state, dict):
            raise TypeError(f"a state dict is a dict of name -> number, got {type(state).__name__}")
        names = [name for name, _ in self.named_parameters()]
        missing = [n for n in names if n not in state]
        unexpected = [n for n in state if n not in set(names)]
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__} has {len(names)} parameters, the state has {len(state)}; "
                f"missing {_few(missing)}, unexpected {_few(unexpected)}")
        values = {}
        for name in names:
            number = state[name]
            if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
                raise TypeError(f"parameter {name!r} must be a number, got "
                                f"{type(number).__name__} {number!r}")
            if not math.isfinite(number):
                raise ValueError(f"parameter {name!r} must be finite, got {number!r}")
            values[name] = float(number)
        return values

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and every parameter to `path` as JSON, atomically.

        The file is written next to `path` under a temporary name and then renamed over it, so
        `path` holds either the old file or the whole new one, never half of one.
        """
        document = {"format": FORMAT, "version": VERSION, "class": type(self).__name__,
                    "config": self.config(), "parameters": self.state_dict()}
        try:
            text = json.dumps(document, indent=1, allow_nan=False)
        except ValueError as error:
            raise ValueError(f"cannot save {type(self).__name__}: a parameter is nan or inf "
                             f"({error})") from None
        _write_atomically(os.fspath(path), text)

    def load(self, path: str | os.PathLike) -> None:
        """Set this module's parameters from a file `save` wrote for the same architecture.

        A missing file, a file that is not JSON, another format or version, another architecture,
        or a wrong set of weights raises, and the module is left exactly as it was.
        """
        document = _read_document(path)
        mine = (type(self).__name__, self.config())
        theirs = (document["class"], document["config"])
        if mine != theirs:
            raise ValueError(f"{os.fspath(path)!r} holds {_describe(*theirs)}, but the model is "
                             f"{_describe(*mine)}")
        self.load_state_dict(document["parameters"])


def load(path: str | os.PathLike) -> Module:
    """Build the model a file `save` wrote: its class, its architecture and its weights.

    >>> import os, tempfile, nn
    >>> path = os.path.join(tempfile.mkdtemp(), 'net.json')
    >>> nn.MLP(2, [3, 1], seed=1).save(path)
    >>> nn.load(path)
    MLP(nin=2, sizes=[3, 1], activation='tanh', output_activation='identity')
    """
    document = _read_document(path)
    cls = _CLASSES.get(document["class"])
    if cls is None:
        raise ValueError(f"{os.fspath(path)!r} holds a {document['class']!r}, which is not a "
                         f"module class nn knows ({', '.join(sorted(_CLASSES))})")
    try:
        model = cls(**document["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{os.fspath(path)!r} has a config {cls.__name__} rejects: {error}") from None
    model.load_state_dict(document["parameters"])
    return model


def _is_nn_class(cls: type) -> bool:
    return cls.__module__ == "nn" or cls.__module__.startswith("nn.")


def _named(value, prefix: str) -> Iterator[tuple[str, Parameter]]:
    """The parameters held by one attribute value, with their names under `prefix`."""
    if isinstance(value, Parameter):
        yield prefix, value
    elif isinstance(value, Module):
        for name, param in value.named_parameters():
            yield f"{prefix}.{name}", param
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named(item, f"{prefix}.{i}")


def _few(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _describe(cls: str, config) -> str:
    if not isinstance(config, dict):
        return cls
    return f"{cls}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def _read_document(path) -> dict:
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no saved model at {path!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path!r} is a directory, not a saved model") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path!r} is not a saved model: it is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path!r} is not a saved model: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a saved model: it has no \"format\": {FORMAT!r}")
    if document.get("version") != VERSION:
        raise ValueError(f"{path!r} is format version {document.get('version')!r}; this nn reads "
                         f"version {VERSION}")
    for key, kind in (("class", str), ("config", dict), ("parameters", dict)):
        if not isinstance(document.get(key), kind):
            raise ValueError(f"{path!r} is damaged: {key!r} should be a {kind.__name__}, got "
                             f"{type(document.get(key)).__name__}")
    return document


def _write_atomically(path: str, text: str) -> None:
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {path!r}: it is a directory; give a file name "
                                f"such as {os.path.join(path, 'model.json')!r}")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        # mkstemp makes the file private (0600); a saved model gets the mode open() would give
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
