"""Every public call site of nn, every argument, a range of bad values: each is refused at once with
a TypeError or ValueError whose message names the argument.

ROWS is the table: one row per (call site, argument), with a call that passes a bad value for
that argument and good values for the rest. BAD is the range tried on every row, less the values
a row declares valid (None where None means a default, a negative threshold, ...). The last tests
fail when a public callable of `nn` or `nn.data`, or one of its arguments, has no row.
"""

from __future__ import annotations

import inspect
import random
import re
from dataclasses import dataclass
from typing import Any, Callable

import pytest

import nn
import nn.data
from autodiff import Value
from deadline import deadline

BAD = {
    "None": None,
    "str": "x3",
    "nan": float("nan"),
    "inf": float("inf"),
    "bool": True,
    "10**400": 10**400,
    "10**5000": 10**5000,      # too long for Python to repr
    "negative": -1,
    "object": object(),
    "empty list": [],
}

X2 = [[0.0, 1.0], [1.0, 0.0]]
Y2 = [1, 0]
X4, Y4 = X2 * 2, Y2 * 2


@dataclass(frozen=True)
class Row:
    site: str                              # how the call site is known: "Layer()", "MLP.set_weights()"
    argument: str                          # the parameter the bad value goes to
    call: Callable[[Any], Any]             # call(bad) makes the call, every other argument good
    valid: frozenset[str] = frozenset()    # keys of BAD that are good values for this argument
    extra: tuple = ()                      # more bad values, particular to this argument


def row(site: str, argument: str, call: Callable[[Any], Any], valid: str = "", extra: tuple = ()) -> Row:
    return Row(site, argument, call, frozenset(valid.split(",")) - {""}, extra)


def mlp():
    return nn.MLP(2, [2, 1])


def params():
    return mlp().parameters()


def perceptron():
    return nn.Perceptron(2)


def adaline():
    return nn.Adaline(2)


def fit(**bad):
    arguments = {"model": mlp(), "X": X2, "y": Y2, "verbose": False, "epochs": 1, **bad}
    return nn.fit(**arguments)


def batch_loss(**bad):
    arguments = {"model": mlp(), "xs": X2, "ts": Y2, "loss": nn.mse, **bad}
    return nn.batch_loss(**arguments)


LOSS_ROWS = []
for _name in ("half_squared_error", "mse", "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge"):
    _loss = getattr(nn, _name)
    LOSS_ROWS += [
        # a prediction is a number as the engine has them: nan, inf and -1 are predictions
        row(f"{_name}()", "pred", lambda v, f=_loss: f(v, 1.0), valid="nan,inf,negative"),
        row(f"{_name}()", "target", lambda v, f=_loss: f(Value(0.5), v),
            valid="negative" if _name in ("half_squared_error", "mse", "hinge") else "",
            extra=() if _name in ("half_squared_error", "mse") else (2.5,)),
    ]

ROWS: list[Row] = [
    # -- modules
    row("Neuron()", "nin", lambda v: nn.Neuron(v), extra=(0, 2.5, 10**7)),
    row("Neuron()", "activation", lambda v: nn.Neuron(2, v), extra=("swish",)),
    row("Neuron()", "seed", lambda v: nn.Neuron(2, seed=v), extra=(2.5, 2**64)),
    row("Neuron.forward()", "x", lambda v: nn.Neuron(2).forward(v), extra=([1.0, "a"], [[1.0, 2.0]])),
    row("Neuron.set_weights()", "weights", lambda v: nn.Neuron(2).set_weights(v), extra=([1.0, "a"],)),
    row("Neuron.set_weights()", "bias", lambda v: nn.Neuron(2).set_weights([1.0, 2.0], v),
        valid="None,negative"),
    row("Layer()", "nin", lambda v: nn.Layer(v, 2), extra=(0,)),
    row("Layer()", "nout", lambda v: nn.Layer(2, v), extra=(0, 10**7)),
    row("Layer()", "activation", lambda v: nn.Layer(2, 2, v)),
    row("Layer()", "seed", lambda v: nn.Layer(2, 2, seed=v)),
    row("Layer.forward()", "x", lambda v: nn.Layer(2, 2).forward(v)),
    row("Layer.set_weights()", "weights", lambda v: nn.Layer(2, 2).set_weights(v), extra=([[1.0, 2.0]],)),
    row("Layer.set_weights()", "biases", lambda v: nn.Layer(2, 2).set_weights([[1, 2], [3, 4]], v),
        valid="None,negative", extra=([1.0, 2.0, 3.0],)),
    row("MLP()", "nin", lambda v: nn.MLP(v, [1])),
    row("MLP()", "sizes", lambda v: nn.MLP(2, v), extra=([0], [2, None], [10**6, 10**6])),
    row("MLP()", "activation", lambda v: nn.MLP(2, [1], v)),
    row("MLP()", "output_activation", lambda v: nn.MLP(2, [1], output_activation=v)),
    row("MLP()", "seed", lambda v: nn.MLP(2, [1], seed=v)),
    row("MLP.forward()", "x", lambda v: mlp().forward(v)),
    row("MLP.set_weights()", "weights", lambda v: mlp().set_weights(v)),
    row("MLP.set_weights()", "biases", lambda v: mlp().set_weights([[[1, 2], [3, 4]], [[5, 6]]], v),
        valid="None"),
    row("Module.__call__()", "x", lambda v: mlp()(v)),
    row("Module.load_state_dict()", "state", lambda v: mlp().load_state_dict(v),
        extra=({"layers.0.neurons.0.w.0": 1.0},)),
    # a str names a file: an existing one is fine to write, a missing one is FileNotFoundError
    row("Module.save()", "path", lambda v: mlp().save(v), valid="str", extra=("",)),
    row("Module.load()", "path", lambda v: mlp().load(v), valid="str", extra=("",)),
    row("load()", "path", lambda v: nn.load(v), valid="str", extra=("",)),
    # -- activations, losses
    row("activation()", "name", lambda v: nn.activation(v)),
    row("softmax()", "values", lambda v: nn.softmax(v), extra=([1.0, "a"],)),
    row("log_softmax()", "values", lambda v: nn.log_softmax(v)),
    *LOSS_ROWS,
    row("binary_cross_entropy()", "eps", lambda v: nn.binary_cross_entropy(Value(0.5), 1.0, v), extra=(0.5, 0)),
    row("cross_entropy()", "logits", lambda v: nn.cross_entropy(v, 0)),
    row("cross_entropy()", "target", lambda v: nn.cross_entropy([0.0, 1.0], v), extra=(2, [0.5, 0.6, 0.0])),
    row("l2()", "params", lambda v: nn.l2(v, 0.1), extra=([1.0],)),
    row("l2()", "alpha", lambda v: nn.l2(params(), v)),
    # -- optimizers
    row("Optimizer()", "params", lambda v: nn.Optimizer(v)),
    row("SGD()", "params", lambda v: nn.SGD(v, lr=0.1), extra=([Value(1.0) * 2],)),
    row("SGD()", "lr", lambda v: nn.SGD(params(), lr=v), extra=(0,)),
    row("SGD()", "momentum", lambda v: nn.SGD(params(), lr=0.1, momentum=v), extra=(1.0,)),
    row("SGD()", "dampening", lambda v: nn.SGD(params(), lr=0.1, dampening=v), extra=(1.5,)),
    row("SGD()", "weight_decay", lambda v: nn.SGD(params(), lr=0.1, weight_decay=v)),
    row("SGD()", "nesterov", lambda v: nn.SGD(params(), lr=0.1, momentum=0.9, nesterov=v), valid="bool",
        extra=("False", 1)),
    row("Adam()", "params", lambda v: nn.Adam(v)),
    row("Adam()", "lr", lambda v: nn.Adam(params(), lr=v)),
    row("Adam()", "betas", lambda v: nn.Adam(params(), betas=v), extra=((0.9,), (0.9, 1.0), (0.9, "a"))),
    row("Adam()", "eps", lambda v: nn.Adam(params(), eps=v)),
    row("Adam()", "weight_decay", lambda v: nn.Adam(params(), weight_decay=v)),
    # -- training
    row("fit()", "model", lambda v: fit(model=v), extra=(lambda x: x,)),
    row("fit()", "X", lambda v: fit(X=v), extra=([[0.0, 1.0], [1.0]], [[0.0, "a"], [1.0, 0.0]])),
    row("fit()", "y", lambda v: fit(y=v), extra=([1], [1, "a"], [1, None])),
    row("fit()", "loss", lambda v: fit(loss=v), extra=("l1",)),
    row("fit()", "optimizer", lambda v: fit(optimizer=v), valid="None",
        extra=(Value(1.0), "adam", nn.SGD([Value(1.0)], lr=0.1))),
    row("fit()", "epochs", lambda v: fit(epochs=v), extra=(0, 2.0)),
    row("fit()", "batch_size", lambda v: fit(batch_size=v), valid="None", extra=(0,)),
    row("fit()", "shuffle", lambda v: fit(shuffle=v), valid="bool", extra=("False", 0)),
    row("fit()", "seed", lambda v: fit(seed=v), extra=(2.5,)),
    row("fit()", "verbose", lambda v: fit(verbose=v), valid="bool", extra=("False", 1)),
    row("fit()", "compiled", lambda v: fit(compiled=v), valid="bool", extra=("yes",)),
    row("batch_loss()", "model", lambda v: batch_loss(model=v)),
    row("batch_loss()", "xs", lambda v: batch_loss(xs=v)),
    row("batch_loss()", "ts", lambda v: batch_loss(ts=v), extra=([1],)),
    row("batch_loss()", "loss", lambda v: batch_loss(loss=v)),
    row("History()", "loss", lambda v: nn.History(loss=v), valid="empty list", extra=(["a"],)),
    row("History()", "accuracy", lambda v: nn.History(accuracy=v), valid="empty list", extra=([0.5],)),
    # -- the classic rules
    row("McCullochPitts()", "weights", lambda v: nn.McCullochPitts(v, 1.0)),
    row("McCullochPitts()", "threshold", lambda v: nn.McCullochPitts([1, 1], v), valid="negative"),
    row("McCullochPitts()", "strict", lambda v: nn.McCullochPitts([1, 1], 1.0, v), valid="bool",
        extra=("False", 0)),
    row("McCullochPitts.__call__()", "x", lambda v: nn.McCullochPitts([1, 1], 1.0)(v), extra=([1, 0, 1],)),
    row("Perceptron()", "nin", lambda v: nn.Perceptron(v)),
    row("Perceptron()", "lr", lambda v: nn.Perceptron(2, lr=v), extra=(0,)),
    row("Perceptron.fit()", "X", lambda v: perceptron().fit(v, [0, 1])),
    row("Perceptron.fit()", "y", lambda v: perceptron().fit(X2, v), extra=([0, 2], [0, 0.5])),
    row("Perceptron.fit()", "max_epochs", lambda v: perceptron().fit(X2, [0, 1], max_epochs=v)),
    row("Perceptron.fit()", "mode", lambda v: perceptron().fit(X2, [0, 1], mode=v), extra=("stochastic",)),
    row("Adaline()", "nin", lambda v: nn.Adaline(v)),
    row("Adaline()", "lr", lambda v: nn.Adaline(2, lr=v)),
    row("Adaline.fit()", "X", lambda v: adaline().fit(v, [-1, 1])),
    row("Adaline.fit()", "y", lambda v: adaline().fit(X2, v), extra=([0, 1],)),
    row("Adaline.fit()", "epochs", lambda v: adaline().fit(X2, [-1, 1], epochs=v)),
    row("Adaline.fit()", "mode", lambda v: adaline().fit(X2, [-1, 1], mode=v)),
    *[r for model, name in ((perceptron, "perceptron"), (adaline, "Adaline")) for r in (
        row("_Linear.net()", "x", lambda v, m=model: m().net(v)),
        row("_Linear.forward()", "x", lambda v, m=model: m().forward(v)),
        row("_Linear.predict()", "X", lambda v, m=model: m().predict(v), extra=([[1.0, 2.0, 3.0]],)),
        row("_Linear.update()", "x", lambda v, m=model: m().update(v, 1)),
        # -1 is one of Adaline's two classes, not one of the perceptron's
        row("_Linear.update()", "t", lambda v, m=model: m().update([1.0, 0.0], v),
            valid="negative" if name == "Adaline" else "", extra=(0.5,)),
    )],
    row("FitReport()", "rule", lambda v: nn.FitReport(v, True), valid="str"),
    row("FitReport()", "converged", lambda v: nn.FitReport("r", v), valid="bool", extra=(1, "yes")),
    row("FitReport()", "errors", lambda v: nn.FitReport("r", True, errors=v), valid="empty list", extra=([-1],)),
    row("FitReport()", "mse", lambda v: nn.FitReport("r", True, mse=v), valid="empty list", extra=(["a"],)),
    # -- data
    row("gate()", "name", lambda v: nn.data.gate(v), extra=("XNOR",)),
    row("gate()", "encoding", lambda v: nn.data.gate("AND", v), extra=("signed",)),
    row("load_iris()", "species", lambda v: nn.data.load_iris(species=v), valid="None",
        extra=(["setosa", "setosa"], [1])),
    row("load_iris()", "features", lambda v: nn.data.load_iris(features=v), valid="None"),
    *[r for make in (nn.data.make_moons, nn.data.make_circles) for r in (
        row(f"{make.__name__}()", "n", lambda v, f=make: f(v), extra=(0, (1, -1), (1, 2, 3))),
        row(f"{make.__name__}()", "n_samples", lambda v, f=make: f(n_samples=v)),
        row(f"{make.__name__}()", "noise", lambda v, f=make: f(noise=v)),
        row(f"{make.__name__}()", "seed", lambda v, f=make: f(seed=v)),
        row(f"{make.__name__}()", "random_state", lambda v, f=make: f(random_state=v)),
        row(f"{make.__name__}()", "shuffle", lambda v, f=make: f(shuffle=v), valid="bool"),
    )],
    row("make_circles()", "factor", lambda v: nn.data.make_circles(factor=v), extra=(0, 1, 1.5)),
    row("make_blobs()", "n", lambda v: nn.data.make_blobs(v), extra=(0,)),
    row("make_blobs()", "n_samples", lambda v: nn.data.make_blobs(n_samples=v)),
    row("make_blobs()", "centers", lambda v: nn.data.make_blobs(centers=v), extra=(0, [[0.0, "a"]])),
    row("make_blobs()", "std", lambda v: nn.data.make_blobs(std=v), extra=([1.0],)),
    row("make_blobs()", "cluster_std", lambda v: nn.data.make_blobs(cluster_std=v)),
    row("make_blobs()", "n_features", lambda v: nn.data.make_blobs(n_features=v), extra=(0,)),
    row("make_blobs()", "seed", lambda v: nn.data.make_blobs(seed=v)),
    row("make_blobs()", "random_state", lambda v: nn.data.make_blobs(random_state=v)),
    row("make_blobs()", "shuffle", lambda v: nn.data.make_blobs(shuffle=v), valid="bool"),
    row("standardize()", "X", lambda v: nn.data.standardize(v), extra=([[1.0, 2.0], [3.0]],)),
    row("standardize()", "like", lambda v: nn.data.standardize(X2, like=v), valid="None",
        extra=([[1.0, 2.0, 3.0]],)),
    row("train_test_split()", "X", lambda v: nn.data.train_test_split(v, Y4)),
    row("train_test_split()", "y", lambda v: nn.data.train_test_split(X4, v), extra=([1, 2, 3],)),
    row("train_test_split()", "test_size", lambda v: nn.data.train_test_split(X4, Y4, test_size=v),
        extra=(0, 4, 1.0, 0.0)),
    row("train_test_split()", "seed", lambda v: nn.data.train_test_split(X4, Y4, seed=v)),
    row("train_test_split()", "random_state", lambda v: nn.data.train_test_split(X4, Y4, random_state=v)),
]

# Call sites with arguments that need no row, and why.
EXEMPT = {
    ("Module.forward()", "x"): "abstract: each module's own forward has rows",
}


CASES = [pytest.param(r, value, id=f"{r.site} {r.argument}={label}")
         for r in ROWS
         for label, value in [*((k, v) for k, v in BAD.items() if k not in r.valid),
                              *((repr(v)[:40], v) for v in r.extra)]]


@pytest.mark.parametrize(("case", "value"), CASES)
def test_a_bad_argument_is_refused_with_its_name(case, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a call that wrongly accepted a path writes here, nowhere else
    with deadline(10), pytest.raises((TypeError, ValueError)) as error:
        case.call(value)
    message = str(error.value)
    assert re.search(rf"\b{re.escape(case.argument)}\b", message), (
        f"{case.site} with {case.argument}={value!r:.40}: the message does not name "
        f"{case.argument!r}: {message}")
    assert "Traceback" not in message and len(message) < 1000


def test_every_row_calls_its_site_with_good_values():
    """A row whose call fails even with a good value would pass the table without testing it."""
    good = {("Module.save()", "path"): "model.json", ("Module.load()", "path"): None,
            ("load()", "path"): None}
    for r in ROWS:
        if (r.site, r.argument) in good:
            continue
        value = _good_value(r)
        try:
            with deadline(10):
                r.call(value)
        except (TypeError, ValueError) as error:
            pytest.fail(f"{r.site} {r.argument}={value!r}: a good value is refused: {error}")


GOOD_BY_SITE = {  # (site, argument) -> a good value, where the argument's usual one does not suit
    ("gate()", "name"): "AND",
    ("cross_entropy()", "target"): 1,
    ("Neuron.set_weights()", "weights"): [1.0, 2.0],
    ("Layer.set_weights()", "weights"): [[1, 2], [3, 4]],
    ("MLP.set_weights()", "weights"): [[[1, 2], [3, 4]], [[5, 6]]],
    ("McCullochPitts()", "weights"): [1.0, 1.0],
    ("Perceptron.fit()", "y"): [0, 1],
    ("Adaline.fit()", "y"): [-1, 1],
    ("train_test_split()", "X"): X4,
    ("train_test_split()", "y"): Y4,
}
GOOD = {  # argument -> a good value
    "nin": 2, "nout": 2, "n": 20, "n_samples": 20, "n_features": 2, "epochs": 1, "max_epochs": 1,
    "seed": 1, "random_state": 1, "lr": 0.1, "eps": 0.1, "alpha": 0.1, "noise": 0.1, "std": 0.5,
    "cluster_std": 0.5, "factor": 0.5, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.1,
    "test_size": 0.5, "activation": "relu", "output_activation": "relu", "mode": "batch", "name": "tanh",
    "encoding": "bipolar", "loss": "mse", "betas": (0.8, 0.9), "sizes": [2, 1], "centers": 2, "X": X2,
    "like": X2, "values": [1.0, 2.0], "logits": [1.0, 2.0], "threshold": 0.5, "xs": X2, "ts": Y2,
    "pred": 0.5, "target": 1.0, "x": [1.0, 0.0], "y": Y2, "t": 1,
}


def _good_value(r: Row):
    """A value that suits the row's argument, to show the row's call is otherwise good."""
    if r.valid:
        return BAD[sorted(r.valid)[0]]
    if (r.site, r.argument) in GOOD_BY_SITE:
        return GOOD_BY_SITE[r.site, r.argument]
    fresh = {"model": mlp, "state": lambda: mlp().state_dict(), "params": params}
    return fresh[r.argument]() if r.argument in fresh else GOOD[r.argument]


def public_call_sites() -> dict[str, Callable]:
    """'fit()': fit, 'MLP()': MLP.__init__, 'Module.save()': Module.save, ... for every public
    callable of nn and nn.data, and every public method of their classes (by the class that
    defines it)."""
    sites: dict[str, Callable] = {}
    for module in (nn, nn.data):
        names = getattr(module, "__all__", None) or [
            n for n, o in vars(module).items() if not n.startswith("_") and getattr(o, "__module__", "") == module.__name__]
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                sites[f"{name}()"] = obj
            elif inspect.isclass(obj):
                sites[f"{name}()"] = obj
                for cls in obj.__mro__:
                    if cls is object or not cls.__module__.startswith("nn"):
                        continue
                    for attr, member in vars(cls).items():
                        public = not attr.startswith("_") or attr == "__call__"
                        if public and inspect.isfunction(member):
                            sites[f"{cls.__name__}.{attr}()"] = member
    return sites


def arguments_of(site: str, obj: Callable) -> list[str]:
    signature = inspect.signature(obj)
    return [p.name for p in signature.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


SITES = public_call_sites()


@pytest.mark.parametrize("site", sorted(SITES))
def test_every_argument_of_every_public_call_site_has_a_row(site):
    covered = {r.argument for r in ROWS if r.site == site} | {a for s, a in EXEMPT if s == site}
    missing = [a for a in arguments_of(site, SITES[site]) if a not in covered]
    assert not missing, f"{site}: no row in ROWS for {', '.join(missing)}"


def test_every_row_names_a_real_call_site_and_argument():
    for r in ROWS:
        assert r.site in SITES, f"{r.site} is not a public call site of nn"
        assert r.argument in arguments_of(r.site, SITES[r.site]), f"{r.site} has no argument {r.argument}"


def test_layers_share_a_generator_given_as_seed():
    rng = random.Random(5)
    layer = nn.Layer(2, 2, seed=rng)
    assert layer.state_dict() == nn.Layer(2, 2, seed=5).state_dict()
