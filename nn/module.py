"""`Module`: named parameters, gradients, state dicts, and saving to / loading from JSON.

A module's parameters are found by walking its attributes in the order they were set: a
Parameter is named by its attribute, a sub-module or a list of them adds a prefix, so an MLP's
parameters are named `layers.0.neurons.1.w.0`. Each Parameter carries its name as its `label`,
so drawings and error messages name it; the label is refreshed whenever a module is assigned as
an attribute of another, so the outermost module's names win.

A saved file is JSON:
    {"format": "backprop-lens/nn", "version": 1, "class": "MLP", "config": {...},
     "parameters": {"layers.0.neurons.0.w.0": 0.15, ...}}

A file is data, never code: `nn.load` builds only nn's own classes (`LOADABLE`), and checks the
whole file first (its fields, every config value against the class's limits, the number of
parameters the config implies against the number the file holds, every value), so a bad file
costs no more than reading it and gives one error naming the file and the field. A module of
your own is loaded by building it yourself and calling `model.load(path)`.
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

from autodiff import Parameter
from autodiff.arguments import check_path, check_real, describe, shown
from autodiff.atomic import write_atomic

FORMAT = "backprop-lens/nn"
VERSION = 1
FIELDS = ("format", "version", "class", "config", "parameters")
LOADABLE = ("Neuron", "Layer", "MLP", "Perceptron", "Adaline")

# The scalar engine holds each parameter as a Python object of about 200 bytes: beyond this a
# model is a typo or a hostile file, not something it could train.
MAX_PARAMETERS = 10_000_000
# Generous for the longest parameter names; a file larger than this is refused unread.
MAX_FILE_BYTES = 256 * MAX_PARAMETERS
# More digits than any number a model file needs (Python's own limit for int(str)).
_MAX_DIGITS = 4300
_MISSING = object()

# How deep the current thread is in nn's own constructors (see `building`): a Neuron built by a
# Layer built by an MLP is labelled once, by the MLP, instead of once per level.
_building = threading.local()


@contextmanager
def building():
    """Within nn's constructors: only the outermost one labels the parameters it assigns."""
    _building.depth = getattr(_building, "depth", 0) + 1
    try:
        yield
    finally:
        _building.depth -= 1


class Module:
    """Base class of everything with learnable parameters.

    Subclasses set Parameters, sub-modules, or lists of either as attributes, and define
    `forward`. `config()` returns the constructor arguments that rebuild the architecture (what
    `save` writes, and what `load` compares with a file's).

    nn's own modules that `nn.load` may build also define `_config_fields` (the config's keys),
    `_checked_config(config, prefix)` (each value checked, as the constructor checks it),
    `_parameter_count(config)` and `_parameter_names(config)` (what `named_parameters()` of the
    built model will say), so a file is checked whole before anything is built.
    """

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if getattr(_building, "depth", 0) <= 1:
            for prefix, param in _named(value, name):
                param.label = prefix

    # -- parameters -----------------------------------------------------------------------------
    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(name, parameter) pairs in a stable order: attributes in the order they were set.

        >>> from nn import Neuron
        >>> [name for name, _ in Neuron(2).named_parameters()]
        ['w.0', 'w.1', 'b']
        """
        return _named(self, "")

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

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from {name: number}; the names must match exactly.

        Nothing is assigned unless all of `state` is valid: missing, unexpected or non-numeric
        entries raise ValueError/TypeError and leave the module as it was. Linear in the number
        of parameters.
        """
        _assign(*self._validated_state(state, "load_state_dict() state"))

    def _validated_state(self, state, name: str) -> tuple[list[Parameter], list[float]]:
        """Every parameter and its new value from `state`, once all of `state` has been checked."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{name} must be a dict of parameter name -> number, got {describe(state)}")
        named = self.named_parameters()
        values = _matched([n for n, _ in named], state, f"{name} does not fit {type(self).__name__}")
        for i, number in enumerate(values):
            if type(number) is not float or not math.isfinite(number):
                values[i] = check_real(number, f"{name}[{named[i][0]!r}]")
        return [param for _, param in named], values

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and every parameter to `path` as JSON, atomically.

        `path` holds either the old file or the whole new one, never half of one (see
        `autodiff.atomic.write_atomic`: symlinks are written through, an existing file keeps its
        permissions, a directory or device is refused).
        """
        who = f"{type(self).__name__}.save()"
        path = check_path(path, f"{who} path")
        config = self.config()
        state = self.state_dict()
        for name, number in state.items():
            if not math.isfinite(number):
                raise ValueError(f"{who} cannot save parameter {name!r}: it is {number!r}, and a "
                                 f"saved model holds finite numbers only")
        document = {"format": FORMAT, "version": VERSION, "class": type(self).__name__,
                    "config": config, "parameters": state}
        try:
            text = json.dumps(document, indent=1, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{who} cannot store {type(self).__name__}'s config() {shown(config)} "
                            f"as JSON ({error})") from None
        write_atomic(path, text, f"{who} path")

    def load(self, path: str | os.PathLike) -> None:
        """Set this module's parameters from a file `save` wrote for the same architecture.

        A missing file, a file that is not JSON, another format or version, another architecture,
        or a wrong set of weights raises, and the module is left exactly as it was.
        """
        path = check_path(path, f"{type(self).__name__}.load() path")
        document = _read_document(path)
        values = _file_parameters(document, path)
        mine = (type(self).__name__, self.config())
        if document["class"] != mine[0] or not _same_json(document["config"], mine[1]):
            raise ValueError(f"{path!r} holds {_describe(document['class'], document['config'])}, "
                             f"but the model is {_describe(*mine)}")
        try:
            checked = self._validated_state(values, "parameters")
        except ValueError as error:
            raise ValueError(f"cannot load {path!r}: {error}") from None
        _assign(*checked)


def load(path: str | os.PathLike) -> Module:
    """Build the model a file `save` wrote: its class, its architecture and its weights.

    Only nn's own classes are built (Neuron, Layer, MLP, Perceptron, Adaline). The whole file is
    checked before anything is built; any fault is one ValueError naming the file and the field.

    >>> import os, tempfile, nn
    >>> path = os.path.join(tempfile.mkdtemp(), 'net.json')
    >>> nn.MLP(2, [3, 1], seed=1).save(path)
    >>> nn.load(path)
    MLP(nin=2, sizes=[3, 1], activation='tanh', output_activation='identity')
    """
    path = check_path(path, "nn.load() path")
    document = _read_document(path)
    classes = _loadable()
    cls = classes.get(document["class"])
    if cls is None:
        raise ValueError(f"cannot load {path!r}: its class {shown(document['class'])} is not one of "
                         f"nn's ({', '.join(LOADABLE)}); nn.load builds only those. To load a "
                         f"module of your own, build it and call its .load({path!r})")
    config = _file_config(cls, document["config"], path)
    values = _file_parameters(document, path)
    count = cls._parameter_count(config)
    if count != len(values):
        raise ValueError(f"cannot load {path!r}: its config describes {_describe(cls.__name__, config)} "
                         f"with {count:,} parameters, but 'parameters' holds {len(values):,}")
    try:
        ordered = _matched(cls._parameter_names(config), values, f"'parameters' does not fit {cls.__name__}")
    except ValueError as error:
        raise ValueError(f"cannot load {path!r}: {error}") from None
    # Only now, with every field, name and number checked, is anything built.
    model = cls(**config)
    _assign(model.parameters(), ordered)
    return model


def _matched(names: list[str], state: Mapping, what: str) -> list:
    """The values of `state` in the order of `names`, if its keys are exactly those names.

    One lookup per name: when every name is found and the counts agree, `state` can hold nothing
    else, so unexpected keys are only searched for on the way to the error.
    """
    get = state.get
    values = [get(name, _MISSING) for name in names]
    if len(state) != len(names) or any(v is _MISSING for v in values):
        known = set(names)
        missing = [n for n, v in zip(names, values) if v is _MISSING]
        unexpected = [n for n in state if n not in known]
        raise ValueError(f"{what}: it has {len(names)} parameters, the state has {len(state)}; "
                         f"missing {_few(missing)}, unexpected {_few(unexpected)}")
    return values


def _assign(params: list[Parameter], values: list[float]) -> None:
    for param, value in zip(params, values, strict=True):
        param.data = value


def _loadable() -> dict[str, type[Module]]:
    from .layers import MLP, Layer, Neuron
    from .rules import Adaline, Perceptron

    classes = (Neuron, Layer, MLP, Perceptron, Adaline)
    return {cls.__name__: cls for cls in classes}


def _named(value, prefix: str) -> list[tuple[str, Parameter]]:
    """The parameters held by `value` (a Parameter, a Module, or a list or tuple of them), each
    once, named under `prefix`, depth first in attribute order.

    One loop over a stack, not a recursion through every level: a model of a million parameters
    is named in one pass, and a module that holds itself ends the walk there.
    """
    found: list[tuple[str, Parameter]] = []
    seen: set[int] = set()
    stack = [(prefix, value)]
    while stack:
        name, value = stack.pop()
        if id(value) in seen:
            continue
        if isinstance(value, Parameter):
            seen.add(id(value))
            found.append((name, value))
        elif isinstance(value, (Module, list, tuple)):
            seen.add(id(value))
            dot = f"{name}." if name else ""
            if isinstance(value, Module):
                if type(value).named_parameters is not Module.named_parameters:
                    children = [(dot + n, p) for n, p in value.named_parameters()]
                else:
                    children = [(dot + attr, v) for attr, v in vars(value).items()]
            elif all(type(v) is Parameter for v in value):
                # a neuron's weights, the bulk of a model: named here, in order, without the stack
                for i, v in enumerate(value):
                    if id(v) not in seen:
                        seen.add(id(v))
                        found.append((f"{dot}{i}", v))
                continue
            else:
                children = [(f"{dot}{i}", v) for i, v in enumerate(value)]
            stack.extend(reversed(children))
    return found


def _few(names: list) -> str:
    if not names:
        return "none"
    listed = ", ".join(shown(n) for n in names[:3])
    return listed + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")


def _describe(cls, config: dict) -> str:
    """MLP(nin=2, sizes=[3, 1], ...): a class and its config as a call, cut to a readable size."""
    args = [f"{str(key)[:40]}={shown(value)}" for key, value in list(config.items())[:8]]
    if len(config) > 8:
        args.append(f"... {len(config) - 8:,} more")
    return f"{str(cls)[:40]}({', '.join(args)})"


# -- reading a file ---------------------------------------------------------------------------------
def _read_document(path: str) -> dict:
    """The JSON object in the file at `path`, with its five fields checked for kind."""
    text = _read_text(path)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_int)
    except RecursionError:
        raise ValueError(f"cannot load {path!r}: its JSON is nested too deeply for a saved model "
                         f"(which is three levels deep)") from None
    except ValueError as error:
        raise ValueError(f"{path!r} is not a saved model: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a saved model: it has no \"format\": {FORMAT!r}")
    version = document.get("version")
    if type(version) is not int:
        raise ValueError(f"cannot load {path!r}: 'version' must be the int {VERSION}, got "
                         f"{describe(version)}")
    if version != VERSION:
        raise ValueError(f"{path!r} is format version {shown(version)}; this nn reads version {VERSION}")
    unexpected = [key for key in document if key not in FIELDS]
    if unexpected:
        raise ValueError(f"cannot load {path!r}: unexpected field {_few(unexpected)}; a saved "
                         f"model has {', '.join(FIELDS)}")
    for key, kind in (("class", str), ("config", dict), ("parameters", dict)):
        if not isinstance(document.get(key), kind):
            raise ValueError(f"{path!r} is damaged: {key!r} should be a {kind.__name__}, got "
                             f"{type(document.get(key)).__name__}")
    return document


def _read_text(path: str) -> str:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        # non-blocking, so a FIFO at the path is refused below instead of waiting for a writer
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"no saved model at {path!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path!r} is a directory, not a saved model") from None
    except OSError as error:
        raise type(error)(f"cannot load {path!r}: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"{path!r} is a directory, not a saved model")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"cannot load {path!r}: it is not a regular file (a device, FIFO or "
                             f"socket), so it is not a saved model")
        if info.st_size > MAX_FILE_BYTES:
            raise ValueError(f"cannot load {path!r}: it has {info.st_size:,} bytes, more than a "
                             f"model of {MAX_PARAMETERS:,} parameters needs ({MAX_FILE_BYTES:,})")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 22):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ValueError(f"cannot load {path!r}: it grew past {MAX_FILE_BYTES:,} bytes "
                                 f"while it was read")
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path!r} is not a saved model: it is not UTF-8 text") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {shown(twice)} appears twice in one object")
    return document


def _int(digits: str) -> int:
    if len(digits) > _MAX_DIGITS:
        raise ValueError(f"it holds an integer of {len(digits):,} digits, far too large for any "
                         f"field of a saved model")
    return int(digits)


def _file_config(cls: type[Module], config: dict, path: str) -> dict:
    """A file's config for one of nn's classes, every field checked as its constructor would."""
    fields = cls._config_fields
    missing = [key for key in fields if key not in config]
    unexpected = [key for key in config if key not in fields]
    if missing or unexpected:
        raise ValueError(f"cannot load {path!r}: config of a {cls.__name__} has the fields "
                         f"{', '.join(fields)}; missing {_few(missing)}, unexpected {_few(unexpected)}")
    try:
        return cls._checked_config(config, "config.")
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot load {path!r}: {error}") from None


def _file_parameters(document: dict, path: str) -> dict[str, float]:
    """The file's parameters, {name: float}, once each value is known to be a finite number."""
    values = document["parameters"]
    if len(values) > MAX_PARAMETERS:
        raise ValueError(f"cannot load {path!r}: 'parameters' holds {len(values):,} values, more "
                         f"than the {MAX_PARAMETERS:,} nn allows")
    for name, number in values.items():
        if type(number) is not float or not math.isfinite(number):
            try:
                values[name] = check_real(number, f"parameters[{shown(name)}]")
            except (TypeError, ValueError) as error:
                raise ValueError(f"cannot load {path!r}: {error}") from None
    return values


def _same_json(a, b) -> bool:
    """Whether two configs are the same JSON: 2 is not 2.0 and True is not 1; a tuple is a list.

    Walked with a stack, so a deeply nested config from a file cannot exhaust the recursion limit.
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if _json_kind(x) != _json_kind(y):
            return False
        if isinstance(x, dict):
            if set(x) != set(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, (list, tuple)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif x != y:
            return False
    return True


def _json_kind(value) -> str:
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "dict"),
                       ((list, tuple), "list")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__
