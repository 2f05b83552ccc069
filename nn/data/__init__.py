"""Small data sets for the lecture's models: logic gates, Fisher's Iris, and seeded 2-D toys.

Every function returns numpy arrays: X of shape (n, features), float; y of shape (n,), int
class labels (or ±1 for the bipolar gates).

The toy generators also take scikit-learn's keywords (`n_samples=`, `random_state=`,
`cluster_std=`), so code written for `sklearn.datasets` runs unchanged; giving both spellings of
one argument is an error. Their points are drawn by this module's own seeded generator, so they
are not scikit-learn's points, and `random_state` must be an int: every data set here repeats.
"""

from __future__ import annotations

import csv
import functools
import inspect
import io
from importlib import resources
from typing import Callable, Sequence

import numpy as np

from autodiff.arguments import (check_bool, check_count, check_int, check_real, check_reals, check_seed,
                                check_table, describe, is_real, is_sequence)

__all__ = ["ENCODINGS", "GATES", "IRIS_FEATURES", "IRIS_SPECIES", "gate", "load_iris", "make_blobs",
           "make_circles", "make_moons", "standardize", "train_test_split"]

GATES = {  # name -> outputs for the inputs (0,0), (0,1), (1,0), (1,1)
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
}
ENCODINGS = ("binary", "bipolar")

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_SPECIES = ("setosa", "versicolor", "virginica")

# A generated X holds at most this many numbers (80 MB): more is a typo, not a toy data set.
MAX_VALUES = 10_000_000


def _scikit_names(**aliases: str) -> Callable:
    """Let a function also take scikit-learn's keyword for an argument (n_samples= for n=).

    The function gets an extra keyword `_names` mapping our argument names to the spellings the
    caller used, so its errors name what the caller wrote.
    """
    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        ours = {p.name: p for p in signature.parameters.values() if p.name != "_names"}

        @functools.wraps(function)
        def call(*args, **kwargs):
            spelled = {ours_name: theirs for theirs, ours_name in aliases.items() if theirs in kwargs}
            if spelled:
                rest = {k: v for k, v in kwargs.items() if k not in aliases}
                given = signature.bind_partial(*args, **rest).arguments
                for ours_name, theirs in spelled.items():
                    if ours_name in given:
                        raise TypeError(f"{function.__name__}() got both {ours_name}= and {theirs}= "
                                        f"(scikit-learn's name for {ours_name}); give one of them")
                    kwargs[ours_name] = kwargs.pop(theirs)
            return function(*args, _names=spelled, **kwargs)

        extra = [inspect.Parameter(theirs, inspect.Parameter.KEYWORD_ONLY, default=ours[name].default)
                 for theirs, name in aliases.items()]
        call.__signature__ = signature.replace(parameters=[*ours.values(), *extra])
        return call
    return decorate


def _namer(function: str, names: dict | None) -> Callable[[str], str]:
    """'make_moons() n_samples': an argument as the caller spelled it, for error messages."""
    names = names or {}
    return lambda name: f"{function}() {names.get(name, name)}"


def gate(name: str, encoding: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input logic gate: X (4, 2) and y (4,).

    encoding 'binary' uses 0/1 for inputs and outputs; 'bipolar' uses −1/+1 (Widrow–Hoff's).

    >>> X, y = gate('XOR')
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    if not isinstance(name, str):
        raise TypeError(f"gate() name must be a gate's name ({', '.join(GATES)}), got {describe(name)}")
    if name.upper() not in GATES:
        raise ValueError(f"gate() name: unknown gate {name!r}; choose one of {', '.join(GATES)}")
    if not isinstance(encoding, str):
        raise TypeError(f"gate() encoding must be one of {', '.join(ENCODINGS)}, got {describe(encoding)}")
    if encoding not in ENCODINGS:
        raise ValueError(f"gate() encoding: unknown encoding {encoding!r}; choose one of "
                         f"{', '.join(ENCODINGS)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array(GATES[name.upper()], dtype=int)
    if encoding == "bipolar":
        return 2.0 * X - 1.0, 2 * y - 1
    return X, y


def load_iris(species: Sequence[str] | None = None,
              features: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fisher's Iris data: 150 flowers, 50 of each species, four measurements in cm.

    From R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of
    Eugenics 7 (1936), 179–188, with the two corrections of the UCI copy (samples 35 and 38).
    The copy ships inside the package, so loading needs no network.

    `species` keeps only those species, labelled 0, 1, ... in the order given (default all
    three: setosa 0, versicolor 1, virginica 2). `features` keeps those columns, in that order,
    from sepal_length, sepal_width, petal_length, petal_width.

    >>> X, y = load_iris(species=['setosa', 'versicolor'], features=['sepal_length', 'petal_length'])
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    species = _choose(species, IRIS_SPECIES, "species")
    features = _choose(features, IRIS_FEATURES, "features")
    text = resources.files(__name__).joinpath("iris.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    kept = [row for row in rows if row["species"] in species]
    X = np.array([[float(row[f]) for f in features] for row in kept])
    y = np.array([species.index(row["species"]) for row in kept], dtype=int)
    return X, y


def _choose(chosen, known: tuple[str, ...], what: str) -> list[str]:
    name = f"load_iris() {what}"
    if chosen is None:
        return list(known)
    if isinstance(chosen, str):
        chosen = [chosen]
    if not is_sequence(chosen):
        raise TypeError(f"{name} must be a list of names from {', '.join(known)}, got {describe(chosen)}")
    for i, c in enumerate(chosen):
        if not isinstance(c, str):
            raise TypeError(f"{name}[{i}] must be one of {', '.join(known)}, got {describe(c)}")
    unknown = [c for c in chosen if c not in known]
    if unknown or len(chosen) == 0:
        raise ValueError(f"{name}: unknown iris {what} {unknown or list(chosen)!r}; choose from "
                         f"{', '.join(known)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"{name}: iris {what} listed twice in {list(chosen)!r}")
    return list(chosen)


def _two_counts(n, name: str, per_sample: int) -> tuple[int, int]:
    """n samples split in two halves (the first gets n // 2), or a pair of counts as given."""
    high = MAX_VALUES // per_sample
    if is_sequence(n) and not isinstance(n, np.ndarray):
        if len(n) != 2:
            raise ValueError(f"{name} must be a count or a pair of counts, got {len(n)} counts")
        first, second = (check_int(k, f"{name}[{i}]", low=0, high=high) for i, k in enumerate(n))
        if not 1 <= first + second <= high:
            raise ValueError(f"{name} must add up to a count from 1 to {high:,}, got {first + second:,}")
        return first, second
    n = check_count(n, name, high)
    return n // 2, n - n // 2


@_scikit_names(n_samples="n", random_state="seed")
def make_moons(n: int | tuple[int, int] = 100, noise: float = 0.0, seed: int = 0, *,
               shuffle: bool = True, _names: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 above, class 1 below), with Gaussian noise.

    n is a count (split as evenly as possible, the upper half circle gets n // 2) or a pair
    (upper, lower); the rows are shuffled unless shuffle=False. As scikit-learn spells it:
    make_moons(n_samples=100, noise=0.1, random_state=0).

    >>> X, y = make_moons(100, noise=0.1)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
    arg = _namer("make_moons", _names)
    n_upper, n_lower = _two_counts(n, arg("n"), 2)
    noise = check_real(noise, arg("noise"), low=0)
    rng = np.random.default_rng(check_seed(seed, arg("seed")))
    shuffle = check_bool(shuffle, arg("shuffle"))
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng, shuffle)


@_scikit_names(n_samples="n", random_state="seed")
def make_circles(n: int | tuple[int, int] = 100, noise: float = 0.0, factor: float = 0.5,
                 seed: int = 0, *, shuffle: bool = True,
                 _names: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle (class 0) around a smaller one of radius `factor` (class 1).

    n is a count (the outer circle gets n // 2) or a pair (outer, inner); shuffled unless
    shuffle=False. As scikit-learn spells it: make_circles(n_samples=100, noise=0.05,
    random_state=0), but note that scikit-learn's factor defaults to 0.8, this one to 0.5.
    """
    arg = _namer("make_circles", _names)
    n_outer, n_inner = _two_counts(n, arg("n"), 2)
    noise = check_real(noise, arg("noise"), low=0)
    factor = check_real(factor, arg("factor"), low=0, high=1, low_open=True, high_open=True)
    rng = np.random.default_rng(check_seed(seed, arg("seed")))
    shuffle = check_bool(shuffle, arg("shuffle"))
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer, dtype=int), np.ones(n_inner, dtype=int)])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng, shuffle)


@_scikit_names(n_samples="n", cluster_std="std", random_state="seed")
def make_blobs(n: int = 100, centers: int | Sequence = 3, std: float | Sequence[float] = 1.0,
               n_features: int = 2, seed: int = 0, *, shuffle: bool = True,
               _names: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: class k is drawn around centre k with standard deviation std (or std[k]).

    `centers` is a count, the centres then drawn uniformly from [−10, 10]^n_features, or a list
    of points (n_features is then theirs). Sizes are as equal as possible; shuffled unless
    shuffle=False. As scikit-learn spells it: make_blobs(n_samples=100, centers=3,
    cluster_std=1.0, n_features=2, random_state=0), but by keyword: scikit-learn's second
    positional argument is n_features, this one's is centers.
    """
    arg = _namer("make_blobs", _names)
    n = check_count(n, arg("n"), MAX_VALUES)
    rng = np.random.default_rng(check_seed(seed, arg("seed")))
    shuffle = check_bool(shuffle, arg("shuffle"))
    if is_real(centers):
        k = check_count(centers, arg("centers"), n)
        width = check_count(n_features, arg("n_features"), MAX_VALUES // n)
    else:
        points = check_table(centers, arg("centers"))
        k, width = points.shape
        if k > n:
            raise ValueError(f"{arg('centers')} has {k} points, more than the {n} samples "
                             f"({arg('n')}) to draw around them")
        check_count(width, f"the width of {arg('centers')}", MAX_VALUES // n)
        check_count(n_features, arg("n_features"), MAX_VALUES)
    if is_sequence(std):
        spread = np.array(check_reals(std, arg("std"), length=k))
        if (spread < 0).any():
            raise ValueError(f"{arg('std')} must hold numbers >= 0, got {spread.min()!r}")
    else:
        spread = np.full(k, check_real(std, arg("std"), low=0))
    if is_real(centers):
        points = rng.uniform(-10.0, 10.0, size=(k, width))
    counts = [n // k + (i < n % k) for i in range(k)]
    y = np.repeat(np.arange(k), counts)
    X = points[y] + spread[y, None] * rng.standard_normal((n, width))
    return _shuffled(X, y, rng, shuffle)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, shuffle: bool):
    if not shuffle:
        return X, y
    order = rng.permutation(len(y))
    return X[order], y[order]


def standardize(X, like=None) -> np.ndarray:
    """Each column shifted to mean 0 and scaled to standard deviation 1 (a new array).

    With `like` (e.g. the training set), use its means and deviations, so test data gets the
    same transformation. A constant column is only centred. The lecture notes that training
    converges faster when every input averages to about zero.

    >>> standardize([[1.0, 5.0], [3.0, 5.0]]).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    X = check_table(X, "standardize() X")
    ref = X if like is None else check_table(like, "standardize() like", width=X.shape[1], what="X has")
    mean = ref.mean(axis=0)
    std = ref.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)


@_scikit_names(random_state="seed")
def train_test_split(X, y, test_size: float | int = 0.25, seed: int = 0, *, _names: dict | None = None):
    """Shuffle and split into X_train, X_test, y_train, y_test.

    test_size is a fraction in (0, 1) or a count of samples; scikit-learn's random_state= is
    accepted for seed.

    >>> X_train, X_test, y_train, y_test = train_test_split([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])
    >>> len(X_train), len(X_test)
    (3, 1)
    """
    arg = _namer("train_test_split", _names)
    X = check_table(X, arg("X"))
    n = len(X)
    if not is_sequence(y):
        raise TypeError(f"{arg('y')} must be a list of {n} labels (one per row of X), got {describe(y)}")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{arg('y')} must have {n} entries (one per row of X), got {y.size}")
    if n < 2:
        raise ValueError(f"{arg('X')} has {n} row; splitting needs at least 2")
    if is_real(test_size) and not isinstance(test_size, (float, np.floating)):
        n_test = check_int(test_size, arg("test_size"), low=1, high=n - 1)
    else:
        fraction = check_real(test_size, arg("test_size"), low=0, high=1, low_open=True, high_open=True)
        n_test = int(round(fraction * n))
        if not 0 < n_test < n:
            raise ValueError(f"{arg('test_size')} {fraction!r} leaves {n_test} of {n} samples for "
                             f"testing; both parts need at least one")
    order = np.random.default_rng(check_seed(seed, arg("seed"))).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
