"""Small data sets for the lecture's models: logic gates, Fisher's Iris, and seeded 2-D toys.

Every function returns numpy arrays: X of shape (n, features), float; y of shape (n,), int
class labels (or ±1 for the bipolar gates).
"""

from __future__ import annotations

import csv
import io
import numbers
from importlib import resources
from typing import Sequence

import numpy as np

from ..layers import _count

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


def gate(name: str, encoding: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input logic gate: X (4, 2) and y (4,).

    encoding 'binary' uses 0/1 for inputs and outputs; 'bipolar' uses −1/+1 (Widrow–Hoff's).

    >>> X, y = gate('XOR')
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    key = name.upper() if isinstance(name, str) else name
    if key not in GATES:
        raise ValueError(f"unknown gate {name!r}; choose one of {', '.join(GATES)}")
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array(GATES[key], dtype=int)
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
    features = _choose(features, IRIS_FEATURES, "feature")
    text = resources.files(__name__).joinpath("iris.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    kept = [row for row in rows if row["species"] in species]
    X = np.array([[float(row[f]) for f in features] for row in kept])
    y = np.array([species.index(row["species"]) for row in kept], dtype=int)
    return X, y


def _choose(chosen, known: tuple[str, ...], what: str) -> list[str]:
    if chosen is None:
        return list(known)
    if isinstance(chosen, str):
        chosen = [chosen]
    chosen = list(chosen)
    unknown = [c for c in chosen if c not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown iris {what} {unknown or chosen!r}; choose from {', '.join(known)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"iris {what} listed twice in {chosen!r}")
    return chosen


def _noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return float(noise)


def make_moons(n: int = 100, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 above, class 1 below), shuffled, with Gaussian noise.

    >>> X, y = make_moons(100, noise=0.1)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
    n, noise = _count(n, "n"), _noise(noise)
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n - n_upper)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n - n_upper, dtype=int)])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def make_circles(n: int = 100, noise: float = 0.0, factor: float = 0.5,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle (class 0) around a smaller one of radius `factor` (class 1), shuffled."""
    n, noise = _count(n, "n"), _noise(noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n - n_outer, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer, dtype=int), np.ones(n - n_outer, dtype=int)])
    return _shuffled(X + noise * rng.standard_normal(X.shape), y, rng)


def make_blobs(n: int = 100, centers=3, std: float = 1.0, n_features: int = 2,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around `centers` (a count, placed at random in [−10, 10]², or a list of
    points); class k is blob k, sizes as equal as possible, shuffled."""
    n = _count(n, "n")
    if isinstance(std, bool) or not isinstance(std, numbers.Real) or not std > 0:
        raise ValueError(f"std must be a number > 0, got {std!r}")
    rng = np.random.default_rng(seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = _count(centers, "centers")
        points = rng.uniform(-10.0, 10.0, size=(k, _count(n_features, "n_features")))
    else:
        points = np.asarray(centers, dtype=float)
        if points.ndim != 2 or len(points) == 0:
            raise ValueError(f"centers must be a count or a list of points, got shape {points.shape}")
    k = len(points)
    if n < k:
        raise ValueError(f"n ({n}) must be at least the number of centers ({k})")
    counts = [n // k + (i < n % k) for i in range(k)]
    y = np.repeat(np.arange(k), counts)
    X = points[y] + std * rng.standard_normal((n, points.shape[1]))
    return _shuffled(X, y, rng)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
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
    X = _matrix(X, "X")
    ref = X if like is None else _matrix(like, "like")
    if ref.shape[1] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} columns but like has {ref.shape[1]}")
    mean = ref.mean(axis=0)
    std = ref.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)


def train_test_split(X, y, test_size: float = 0.25, seed: int = 0):
    """Shuffle and split into X_train, X_test, y_train, y_test (test_size: a fraction or a count)."""
    X = _matrix(X, "X")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} entries")
    n = len(y)
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool) and 0 < test_size < 1:
        n_test = int(round(test_size * n))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size {test_size!r} leaves {n_test} of {n} samples for testing; "
                         f"both parts need at least one")
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def _matrix(X, what: str) -> np.ndarray:
    try:
        A = np.asarray(X, dtype=float)
    except ValueError:
        raise ValueError(f"{what} must be a table of numbers with rows of equal length") from None
    if A.ndim != 2 or A.shape[0] == 0:
        raise ValueError(f"{what} must be a non-empty 2-D table (n, features), got shape {A.shape}")
    return A
