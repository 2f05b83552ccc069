"""nn.data: gate truth tables, Fisher's Iris shipped in the package, seeded toy data sets,
standardize and train_test_split."""

import operator
from importlib import resources

import numpy as np
import pytest

from nn.data import (IRIS_FEATURES, IRIS_SPECIES, gate, load_iris, make_blobs, make_circles,
                     make_moons, standardize, train_test_split)

LOGIC = {"AND": operator.and_, "OR": operator.or_, "XOR": operator.xor,
         "NAND": lambda a, b: 1 - (a & b), "NOR": lambda a, b: 1 - (a | b)}


@pytest.mark.parametrize("name", sorted(LOGIC))
def test_gate_truth_tables(name):
    X, y = gate(name)
    assert X.shape == (4, 2) and y.shape == (4,)
    assert y.tolist() == [LOGIC[name](int(a), int(b)) for a, b in X]
    Xb, yb = gate(name.lower(), encoding="bipolar")
    assert (Xb == 2 * X - 1).all() and (yb == 2 * y - 1).all()


def test_gate_errors_name_the_choices():
    with pytest.raises(ValueError, match="unknown gate 'XNOR'; choose one of AND, OR, NAND, NOR, XOR"):
        gate("XNOR")
    with pytest.raises(ValueError, match="unknown encoding 'signed'; choose one of binary, bipolar"):
        gate("AND", encoding="signed")


def test_iris_is_fishers_150_flowers_with_the_uci_corrections():
    X, y = load_iris()
    assert X.shape == (150, 4)
    assert np.bincount(y).tolist() == [50, 50, 50]
    # published column means of the corrected data set
    assert X.mean(axis=0) == pytest.approx([5.843333, 3.057333, 3.758, 1.199333], abs=1e-6)
    assert X[34].tolist() == [4.9, 3.1, 1.5, 0.2]   # sample 35, corrected
    assert X[37].tolist() == [4.9, 3.6, 1.4, 0.1]   # sample 38, corrected
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and X[-1].tolist() == [5.9, 3.0, 5.1, 1.8]


def test_iris_ships_inside_the_package():
    assert resources.files("nn.data").joinpath("iris.csv").is_file()


def test_iris_subsets_of_species_and_features():
    X, y = load_iris(species=["virginica", "setosa"], features=["petal_width", "sepal_length"])
    full, labels = load_iris()
    assert X.shape == (100, 2)
    assert np.bincount(y).tolist() == [50, 50]
    assert X[y == 0].tolist() == full[labels == 2][:, [3, 0]].tolist()  # virginica first, as asked
    assert X[y == 1].tolist() == full[labels == 0][:, [3, 0]].tolist()
    assert IRIS_FEATURES[2] == "petal_length" and IRIS_SPECIES == ("setosa", "versicolor", "virginica")


def test_iris_bad_choices():
    with pytest.raises(ValueError, match="unknown iris species \\['rose'\\]"):
        load_iris(species=["setosa", "rose"])
    with pytest.raises(ValueError, match="unknown iris feature"):
        load_iris(features=["petal_area"])
    with pytest.raises(ValueError, match="listed twice"):
        load_iris(species=["setosa", "setosa"])


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(101)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    upper, lower = X[y == 0], X[y == 1]
    assert np.hypot(upper[:, 0], upper[:, 1]) == pytest.approx(1.0)
    assert (upper[:, 1] >= -1e-12).all()
    assert np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5) == pytest.approx(1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_generators_are_seeded():
    for make in (make_moons, make_circles, make_blobs):
        a, b, c = make(60, seed=3), make(60, seed=3), make(60, seed=4)
        assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
        assert not (a[0] == c[0]).all()


def test_moons_noise_is_gaussian_with_the_given_scale():
    clean, y0 = make_moons(2000, seed=1)
    noisy, y1 = make_moons(2000, noise=0.1, seed=1)
    # same seed, same shuffle: the difference is the noise alone
    assert (y0 == y1).all()
    assert np.std(noisy - clean) == pytest.approx(0.1, rel=0.05)


def test_circles_have_the_two_radii():
    X, y = make_circles(80, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 0] == pytest.approx(1.0) and radius[y == 1] == pytest.approx(0.3)


def test_blobs_gather_around_their_centers():
    centers = [[0.0, 0.0], [10.0, -5.0], [-6.0, 8.0]]
    X, y = make_blobs(301, centers=centers, std=0.5, seed=2)
    assert np.bincount(y).tolist() == [101, 100, 100]
    for k, c in enumerate(centers):
        assert X[y == k].mean(axis=0) == pytest.approx(c, abs=0.15)
    X3, y3 = make_blobs(30, centers=4, n_features=3)
    assert X3.shape == (30, 3) and set(y3.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("make", [make_moons, make_circles, make_blobs])
@pytest.mark.parametrize(("n", "error"), [(0, ValueError), (-5, ValueError), (2.5, TypeError)])
def test_generators_reject_bad_sizes(make, n, error):
    with pytest.raises(error, match=rf"{make.__name__}\(\) n must be an int from 1 to [\d,]+, got \w+ {n}"):
        make(n)


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="make_moons\\(\\) noise must be a finite number >= 0, got float -0.1"):
        make_moons(10, noise=-0.1)
    with pytest.raises(ValueError, match="make_circles\\(\\) factor must be a finite number > 0 and < 1, got float 1.5"):
        make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match="make_blobs\\(\\) centers must be an int from 1 to 2, got int 3"):
        make_blobs(2, centers=3)


def test_standardize_gives_zero_mean_unit_variance():
    X, _ = load_iris()
    Z = standardize(X)
    assert Z.mean(axis=0) == pytest.approx(np.zeros(4), abs=1e-12)
    assert Z.std(axis=0) == pytest.approx(np.ones(4))
    assert X.mean() > 1  # the input is not changed in place


def test_standardize_like_uses_the_reference_statistics():
    train = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    Z = standardize([[2.0, 3.0]], like=train)
    sd = np.std([0.0, 2.0, 4.0])
    assert Z.tolist() == [[0.0, 2.0]]  # the constant column is centred only
    assert standardize([[4.0, 1.0]], like=train)[0, 0] == pytest.approx(2.0 / sd)
    with pytest.raises(ValueError, match="standardize\\(\\) like has 2 values per row, X has 1"):
        standardize([[1.0]], like=train)
    with pytest.raises(ValueError, match=r"standardize\(\) X\[1\] must be a list of 2 finite numbers, got 1"):
        standardize([[1.0, 2.0], [3.0]])


def test_train_test_split_partitions_the_data():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=1)
    assert len(y_test) == 5 and len(y_train) == 15
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(20))
    assert (X_train[:, 0] == 2 * y_train).all() and (X_test[:, 0] == 2 * y_test).all()
    again = train_test_split(X, y, test_size=0.25, seed=1)
    assert (again[3] == y_test).all()
    assert len(train_test_split(X, y, test_size=3)[1]) == 3


def test_train_test_split_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="y must have 10 entries \\(one per row of X\\), got 9"):
        train_test_split(X, y[:9])
    with pytest.raises(ValueError, match="test_size must be a finite number > 0 and < 1, got float 1.5"):
        train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="test_size must be an int from 1 to 9, got int 10"):
        train_test_split(X, y, test_size=10)
    with pytest.raises(ValueError, match="test_size 0.01 leaves 0 of 10 samples for testing"):
        train_test_split(X, y, test_size=0.01)


# -- scikit-learn's spelling --------------------------------------------------------------------

@pytest.mark.parametrize(("make", "ours", "theirs"), [
    (make_moons, {"n": 40, "noise": 0.2, "seed": 3}, {"n_samples": 40, "noise": 0.2, "random_state": 3}),
    (make_circles, {"n": 40, "noise": 0.1, "factor": 0.4, "seed": 3},
     {"n_samples": 40, "noise": 0.1, "factor": 0.4, "random_state": 3}),
    (make_blobs, {"n": 40, "centers": 4, "std": 0.7, "n_features": 3, "seed": 3},
     {"n_samples": 40, "centers": 4, "cluster_std": 0.7, "n_features": 3, "random_state": 3}),
])
def test_generators_take_scikit_learns_keywords(make, ours, theirs):
    X, y = make(**ours)
    X2, y2 = make(**theirs)
    assert X.tolist() == X2.tolist() and y.tolist() == y2.tolist()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: make_moons(50, n_samples=50), r"make_moons\(\) got both n= and n_samples="),
    (lambda: make_moons(n=50, n_samples=50), r"make_moons\(\) got both n= and n_samples="),
    (lambda: make_circles(seed=1, random_state=1), r"make_circles\(\) got both seed= and random_state="),
    (lambda: make_blobs(10, 3, 1.0, std=2.0), r"got multiple values for argument 'std'"),
    (lambda: make_blobs(std=1.0, cluster_std=1.0), r"make_blobs\(\) got both std= and cluster_std="),
    (lambda: train_test_split([[0.0], [1.0]], [0, 1], 0.5, 2, random_state=2),
     r"train_test_split\(\) got both seed= and random_state="),
])
def test_both_spellings_of_one_argument_are_an_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_errors_name_the_argument_as_the_caller_spelled_it():
    with pytest.raises(ValueError, match=r"make_moons\(\) n_samples must be an int from 1"):
        make_moons(n_samples=0)
    with pytest.raises(TypeError, match=r"make_moons\(\) random_state must be an int from 0 to 2\*\*64 - 1, "
                                        r"got None; every run here is seeded"):
        make_moons(random_state=None)
    with pytest.raises(ValueError, match=r"make_blobs\(\) cluster_std must be a finite number >= 0, got float inf"):
        make_blobs(cluster_std=float("inf"))
    with pytest.raises(ValueError, match=r"make_moons\(\) noise must be a finite number >= 0, got float inf"):
        make_moons(noise=float("inf"))


def test_the_signatures_show_both_spellings():
    import inspect

    assert str(inspect.signature(make_moons)) == (
        "(n: 'int | tuple[int, int]' = 100, noise: 'float' = 0.0, seed: 'int' = 0, *, "
        "shuffle: 'bool' = True, n_samples=100, random_state=0) -> 'tuple[np.ndarray, np.ndarray]'")
    assert "cluster_std=1.0" in str(inspect.signature(make_blobs))


def test_counts_may_be_a_pair_and_shuffling_may_be_off():
    X, y = make_moons((3, 5), shuffle=False)
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 1, 1] and X.shape == (8, 2)
    X, y = make_circles(n_samples=(4, 2), random_state=1)
    assert sorted(y.tolist()) == [0, 0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match=r"make_moons\(\) n must add up to a count from 1"):
        make_moons((0, 0))


def test_blobs_take_one_spread_per_center():
    X, y = make_blobs(3000, centers=[[0.0, 0.0], [50.0, 50.0]], cluster_std=[0.1, 3.0], seed=1)
    assert X[y == 0].std(axis=0) == pytest.approx([0.1, 0.1], rel=0.1)
    assert X[y == 1].std(axis=0) == pytest.approx([3.0, 3.0], rel=0.1)
    with pytest.raises(ValueError, match=r"make_blobs\(\) std must be a list of 2 finite numbers, got 3"):
        make_blobs(10, centers=[[0.0, 0.0], [1.0, 1.0]], std=[1.0, 1.0, 1.0])


def test_default_generators_are_unchanged_by_the_new_keywords():
    # the same draws in the same order as before the scikit-learn keywords: a fixed sample
    X, y = make_moons(4, noise=0.1, seed=0)
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, np.pi, 2)
    clean = np.concatenate([np.stack([np.cos(t), np.sin(t)], 1), np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)])
    noisy = clean + 0.1 * rng.standard_normal(clean.shape)
    order = rng.permutation(4)
    assert X.tolist() == noisy[order].tolist() and y.tolist() == np.array([0, 0, 1, 1])[order].tolist()


def test_data_sizes_are_bounded_before_anything_is_allocated():
    with pytest.raises(ValueError, match=r"make_moons\(\) n must be an int from 1 to 5,000,000, got int 10"):
        make_moons(10**400)
    with pytest.raises(ValueError, match=r"make_blobs\(\) n_features must be an int from 1 to 1,000"):
        make_blobs(10_000, n_features=10**6)
