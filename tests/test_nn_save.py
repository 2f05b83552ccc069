"""Saving and loading models as JSON: round trips, and every bad file leaves the model as it was."""

import json
import os

import pytest

import nn
from deadline import deadline
from nn.module import FORMAT, VERSION

INPUTS = [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.0]]


def outputs(model):
    return [model(x).data for x in INPUTS]


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP(2, [4, 1], activation="relu", seed=5)
    path = tmp_path / "model.json"
    model.save(path)
    return model, path


def test_save_then_nn_load_gives_identical_outputs(saved):
    model, path = saved
    loaded = nn.load(path)
    assert type(loaded) is nn.MLP and loaded.config() == model.config()
    assert outputs(loaded) == outputs(model)
    assert loaded.state_dict() == model.state_dict()


def test_save_then_load_into_a_model_gives_identical_outputs(saved):
    model, path = saved
    other = nn.MLP(2, [4, 1], activation="relu", seed=99)
    other.load(str(path))
    assert outputs(other) == outputs(model)


def test_the_file_is_versioned_json(saved):
    _, path = saved
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT and document["version"] == VERSION
    assert document["class"] == "MLP"
    assert document["config"] == {"nin": 2, "sizes": [4, 1], "activation": "relu",
                                  "output_activation": "identity"}
    assert len(document["parameters"]) == 4 * 3 + 5


@pytest.mark.parametrize("model", [nn.Neuron(3, "sigmoid"), nn.Layer(2, 3), nn.Perceptron(2, lr=0.5),
                                   nn.Adaline(4)], ids=repr)
def test_every_built_in_module_round_trips(tmp_path, model):
    for i, p in enumerate(model.parameters()):
        p.data = 0.1 * i - 0.3
    model.save(tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    assert repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()


def damage(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


BAD_FILES = {
    "missing file": (lambda path: path.unlink(), FileNotFoundError, "no saved model at"),
    "not JSON": (lambda path: path.write_text("{ this is not json"), ValueError, "not valid JSON"),
    "not text": (lambda path: path.write_bytes(b"\xff\xfe\x00garbage"), ValueError, "not UTF-8"),
    "empty": (lambda path: path.write_text(""), ValueError, "not valid JSON"),
    "another format": (lambda p: damage(p, lambda d: d.update(format="pickle")), ValueError,
                       "is not a saved model"),
    "another version": (lambda p: damage(p, lambda d: d.update(version=99)), ValueError,
                        "format version 99; this nn reads version 1"),
    "another architecture": (lambda p: damage(p, lambda d: d["config"].update(sizes=[5, 1])),
                             ValueError, r"holds MLP\(.*sizes=\[5, 1\].*but the model is MLP\(.*sizes=\[4, 1\]"),
    "another activation": (lambda p: damage(p, lambda d: d["config"].update(activation="tanh")),
                           ValueError, "activation='tanh'"),
    "a weight too few": (lambda p: damage(p, lambda d: d["parameters"].pop("layers.1.neurons.0.w.3")),
                         ValueError, r"it has 17 parameters, the state has 16; missing 'layers.1.neurons.0.w.3'"),
    "a weight too many": (lambda p: damage(p, lambda d: d["parameters"].update({"layers.2.b": 1.0})),
                          ValueError, "unexpected 'layers.2.b'"),
    "a weight not a number": (lambda p: damage(p, lambda d: d["parameters"].update(
        {"layers.1.neurons.0.b": "0.5"})), ValueError,
        r"parameters\['layers.1.neurons.0.b'\] must be a finite number, got str '0.5'"),
    "a weight that is true": (lambda p: damage(p, lambda d: d["parameters"].update(
        {"layers.1.neurons.0.b": True})), ValueError, "must be a finite number, got bool True"),
    "parameters not a dict": (lambda p: damage(p, lambda d: d.update(parameters=[1, 2])),
                              ValueError, "'parameters' should be a dict"),
}


# A valid file of another architecture: bad to load into this model, fine for nn.load.
MISMATCHES_ONLY = {"another activation"}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_a_clear_error_and_leaves_the_model_intact(saved, case):
    model, path = saved
    other = nn.MLP(2, [4, 1], activation="relu", seed=42)
    before = other.state_dict()
    spoil, error, message = BAD_FILES[case]
    spoil(path)
    with pytest.raises(error, match=message):
        other.load(path)
    assert other.state_dict() == before
    if case not in MISMATCHES_ONLY:
        with pytest.raises(error):
            nn.load(path)


def test_a_file_whose_weights_do_not_fit_is_rejected_by_nn_load(saved):
    _, path = saved
    damage(path, lambda d: d["parameters"].update({"layers.0.b": d["parameters"].pop("layers.0.neurons.0.b")}))
    with pytest.raises(ValueError, match="missing 'layers.0.neurons.0.b', unexpected 'layers.0.b'"):
        nn.load(path)
    damage(path, lambda d: d["parameters"].pop("layers.0.b"))
    with pytest.raises(ValueError, match=r"with 17 parameters, but 'parameters' holds 16"):
        nn.load(path)
    damage(path, lambda d: d.update({"class": "Transformer"}))
    with pytest.raises(ValueError, match="its class 'Transformer' is not one of nn's"):
        nn.load(path)


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(saved):
    model, path = saved
    old = path.read_text()
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="cannot save parameter 'layers.0.neurons.0.w.0': it is nan"):
        model.save(path)
    assert path.read_text() == old
    assert os.listdir(path.parent) == ["model.json"]


def test_save_replaces_the_file_atomically(saved, monkeypatch):
    model, path = saved
    old = path.read_text()
    calls = []
    real_replace = os.replace

    def replace(src, dst):
        calls.append((src, dst))
        assert os.path.dirname(src) == os.path.dirname(os.path.abspath(dst))
        assert path.read_text() == old  # the old file is whole until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    model.parameters()[0].data = 0.125
    model.save(path)
    assert len(calls) == 1 and os.fspath(calls[0][1]) == os.fspath(path)
    assert json.loads(path.read_text())["parameters"]["layers.0.neurons.0.w.0"] == 0.125


def test_saving_a_module_without_config_says_why(tmp_path):
    class Bare(nn.Module):
        def __init__(self):
            self.w = nn.Neuron(1)

    with pytest.raises(NotImplementedError, match="Bare does not define config"):
        Bare().save(tmp_path / "bare.json")
    assert not (tmp_path / "bare.json").exists()


def test_a_saved_file_gets_the_usual_permissions(saved):
    _, path = saved
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_a_directory_is_not_a_model_file(tmp_path):
    model = nn.MLP(2, [1])
    with pytest.raises(IsADirectoryError, match="Is a directory; give a file name inside it"):
        model.save(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a directory, not a saved model"):
        nn.load(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_user_class_named_like_a_built_in_does_not_hijack_nn_load(saved):
    model, path = saved

    class MLP(nn.Module):  # noqa: F811 - the clash is the point
        def __init__(self):
            self.w = nn.Neuron(1)

        def config(self):
            return {}

    loaded = nn.load(path)
    assert type(loaded) is nn.MLP and outputs(loaded) == outputs(model)
    assert MLP().state_dict()  # the user's class still works as a module


# -- loading is linear in the number of parameters ----------------------------------------------

class CountedName(str):
    """A parameter name that counts how often it is hashed: every set or dict it enters, or is
    looked up in, hashes it once, so a load that rebuilt a set of the names per key hashes n²."""

    hashes = 0

    def __hash__(self):
        CountedName.hashes += 1
        return str.__hash__(self)


@pytest.fixture
def counted_names(monkeypatch):
    original = nn.Module.named_parameters
    monkeypatch.setattr(nn.Module, "named_parameters",
                        lambda self: [(CountedName(n), p) for n, p in original(self)])
    CountedName.hashes = 0
    return CountedName


def test_load_state_dict_hashes_each_name_a_bounded_number_of_times(counted_names):
    model = nn.MLP(2, [400, 1])
    state = {str(name): 0.5 for name, _ in model.named_parameters()}
    counted_names.hashes = 0
    model.load_state_dict(state)
    assert all(p.data == 0.5 for p in model.parameters())
    assert counted_names.hashes <= 3 * len(state)


def test_nn_load_hashes_each_name_a_bounded_number_of_times(tmp_path, counted_names):
    nn.MLP(2, [400, 1], seed=3).save(tmp_path / "m.json")
    counted_names.hashes = 0
    loaded = nn.load(tmp_path / "m.json")
    assert counted_names.hashes <= 3 * len(loaded.parameters())


def test_an_error_in_a_large_state_names_a_few_and_counts_the_rest():
    model = nn.MLP(2, [50, 1])
    state = model.state_dict()
    extra = {f"extra.{i}": 0.0 for i in range(40)}
    with pytest.raises(ValueError, match=r"unexpected 'extra.0', 'extra.1', 'extra.2' and 37 more"):
        model.load_state_dict({**state, **extra})


# -- a file is checked whole before anything is built -------------------------------------------

def write(path, document) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def mlp_file(**changes):
    document = {"format": FORMAT, "version": VERSION, "class": "MLP",
                "config": {"nin": 2, "sizes": [1], "activation": "tanh", "output_activation": "identity"},
                "parameters": {"layers.0.neurons.0.w.0": 0.5, "layers.0.neurons.0.w.1": -0.5,
                               "layers.0.neurons.0.b": 0.0}}
    for key, value in changes.items():
        if key in document["config"]:
            document["config"][key] = value
        else:
            document[key] = value
    return document


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Every nn class's constructor fails the test if a file that should be refused reaches it."""
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} was built from a file that should be refused")

    for cls in (nn.Neuron, nn.Layer, nn.MLP, nn.Perceptron, nn.Adaline):
        monkeypatch.setattr(cls, "__init__", refuse)


def test_the_issue_150_byte_file_is_refused_before_a_model_is_built(tmp_path, nothing_is_built):
    text = ('{"format":"backprop-lens/nn","version":1,"class":"MLP","config":{"nin":100000000,'
            '"sizes":[1],"activation":"tanh","output_activation":"identity"},"parameters":{}}')
    assert len(text) < 170  # about the size of the issue's file
    path = write(tmp_path / "big.json", text)
    with pytest.raises(ValueError, match=r"big.json.*config.nin must be an int from 1 to 10,000,000, "
                                         r"got int 100000000"):
        nn.load(path)


def test_a_config_whose_parameter_count_the_file_does_not_hold_is_refused_unbuilt(tmp_path, nothing_is_built):
    path = write(tmp_path / "m.json", mlp_file(nin=5_000_000))
    with pytest.raises(ValueError, match=r"m.json.*with 5,000,001 parameters, but 'parameters' holds 3"):
        nn.load(path)
    path = write(tmp_path / "m.json", mlp_file(sizes=[10_000, 10_000, 10_000]))
    with pytest.raises(ValueError, match=r"config.sizes \(with nin=2\) make 200,050,000 parameters; "
                                         r"nn builds at most 10,000,000"):
        nn.load(path)


DEEP = "[" * 100_000 + "]" * 100_000

BAD_DOCUMENTS = {  # name -> (the file, what the error says after the file's name)
    "version true": (mlp_file(version=True), r"'version' must be the int 1, got bool True"),
    "version 1.0": (mlp_file(version=1.0), r"'version' must be the int 1, got float 1.0"),
    "nin a float": (mlp_file(nin=2.0), r"config.nin must be an int from 1 to 10,000,000, got float 2.0"),
    "nin true": (mlp_file(nin=True), r"config.nin must be an int .*, got bool True"),
    "nin beyond a float": (mlp_file(nin=10**400), r"config.nin must be an int .*, got int 1000000000"),
    "sizes not a list": (mlp_file(sizes=3), r"config.sizes must be a non-empty list of layer sizes"),
    "a size a list": (mlp_file(sizes=[[1]]), r"config.sizes\[0\] must be an int"),
    "unknown activation": (mlp_file(activation="swish"), r"config.activation must be one of .*'swish'"),
    "an extra config field": (dict(mlp_file(), config={**mlp_file()["config"], "seed": 3}),
                              r"config of a MLP has the fields nin, sizes, activation, output_activation; "
                              r"missing none, unexpected 'seed'"),
    "a missing config field": (dict(mlp_file(), config={"nin": 2, "sizes": [1]}),
                               r"missing 'activation', 'output_activation', unexpected none"),
    "an extra top-level field": (mlp_file(code="import os"), r"unexpected field 'code'"),
    "a weight beyond a float": (
        '{"format": "backprop-lens/nn", "version": 1, "class": "MLP", "config": {"nin": 2, "sizes": [1], '
        '"activation": "tanh", "output_activation": "identity"}, "parameters": {"layers.0.neurons.0.w.0": 1'
        + "0" * 400 + ', "layers.0.neurons.0.w.1": 0.5, "layers.0.neurons.0.b": 0.0}}',
        r"parameters\['layers.0.neurons.0.w.0'\] must be a finite number, got an int too large for a float"),
    "a weight of 1e400": (
        json.dumps(mlp_file()).replace('"layers.0.neurons.0.b": 0.0', '"layers.0.neurons.0.b": 1e400'),
        r"parameters\['layers.0.neurons.0.b'\] must be a finite number, got float inf"),
    "a weight NaN": (json.dumps(mlp_file()).replace('"layers.0.neurons.0.b": 0.0', '"layers.0.neurons.0.b": NaN'),
                     r"parameters\['layers.0.neurons.0.b'\] must be a finite number, got float nan"),
    "an integer of 5000 digits": (json.dumps(mlp_file()).replace('"nin": 2', '"nin": 1' + "0" * 5000),
                                  r"an integer of 5,001 digits"),
    "a key twice": (json.dumps(mlp_file())[:-2] + ', "layers.0.neurons.0.b": 1.0}}',
                    r"the key 'layers.0.neurons.0.b' appears twice"),
    "deeply nested JSON": (json.dumps(mlp_file()).replace('"sizes": [1]', f'"sizes": {DEEP}'),
                           r"nested too deeply"),
    "a parameter named wrongly": (dict(mlp_file(), parameters={"w.0": 0.5, "w.1": 0.5, "b": 0.0}),
                                  r"missing 'layers.0.neurons.0.w.0', .*unexpected 'w.0'"),
    "a user's class": (dict(mlp_file(), **{"class": "Evil"}),
                       r"its class 'Evil' is not one of nn's \(Neuron, Layer, MLP, Perceptron, Adaline\)"),
    "a Perceptron with lr 1e400": (
        '{"format": "backprop-lens/nn", "version": 1, "class": "Perceptron", "config": {"nin": 1, "lr": 1e400},'
        ' "parameters": {"w.0": 0.0, "b": 0.0}}', r"config.lr must be a finite number > 0, got float inf"),
    "an Adaline with lr -1": (
        '{"format": "backprop-lens/nn", "version": 1, "class": "Adaline", "config": {"nin": 1, "lr": -1},'
        ' "parameters": {"w.0": 0.0, "b": 0.0}}', r"config.lr must be a finite number > 0, got int -1"),
}


class Evil(nn.Module):
    """A registered user class: nn.load must never call it with arguments from a file."""

    calls = 0

    def __init__(self, **kwargs):
        Evil.calls += 1
        self.w = nn.Neuron(1)

    def config(self):
        return {}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_bad_file_is_one_value_error_naming_the_file_and_the_field(tmp_path, case, nothing_is_built):
    document, message = BAD_DOCUMENTS[case]
    path = write(tmp_path / "model.json", document)
    Evil.calls = 0
    with pytest.raises(ValueError, match=message) as error:
        nn.load(path)
    assert repr(path) in str(error.value)
    assert error.value.__cause__ is None
    assert error.value.__context__ is None or error.value.__suppress_context__
    assert Evil.calls == 0


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_bad_file_leaves_a_model_it_is_loaded_into_as_it_was(tmp_path, case):
    document, _ = BAD_DOCUMENTS[case]
    path = write(tmp_path / "model.json", document)
    model = nn.MLP(2, [1])
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load(path)
    assert model.state_dict() == before


def test_a_model_loads_only_a_config_that_is_the_same_json(tmp_path):
    model = nn.MLP(2, [1])
    for change in ({"nin": 2.0}, {"sizes": [True]}):
        path = write(tmp_path / "m.json", mlp_file(**change))
        with pytest.raises(ValueError, match=r"holds MLP\(.*but the model is MLP\(nin=2, sizes=\[1\]"):
            model.load(path)
    model.load(write(tmp_path / "m.json", mlp_file()))
    assert [p.data for p in model.parameters()] == [0.5, -0.5, 0.0]


def test_a_user_module_is_loaded_by_building_it_and_calling_load(tmp_path):
    class Pair(nn.Module):
        def __init__(self, width=2):
            self.width = width
            self.left, self.right = nn.Neuron(width), nn.Neuron(width, seed=1)

        def config(self):
            return {"width": self.width}

    Pair().save(tmp_path / "pair.json")
    with pytest.raises(ValueError, match=r"its class 'Pair' is not one of nn's .*build it and call its "
                                         r"\.load\("):
        nn.load(tmp_path / "pair.json")
    fresh = Pair()
    for p in fresh.parameters():
        p.data = 0.0
    fresh.load(tmp_path / "pair.json")
    assert fresh.state_dict() == Pair().state_dict()
    with pytest.raises(ValueError, match=r"holds Pair\(width=2\), but the model is Pair\(width=3\)"):
        Pair(3).load(tmp_path / "pair.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_loading_a_fifo_or_a_device_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (fifo, os.devnull):
        with deadline(5), pytest.raises(ValueError, match="is not a regular file"):
            nn.load(path)
        with deadline(5), pytest.raises(ValueError, match="is not a regular file"):
            nn.Neuron(1).load(path)


def test_load_paths_are_checked(tmp_path):
    with pytest.raises(TypeError, match=r"nn.load\(\) path must be a path .*got NoneType None"):
        nn.load(None)
    with pytest.raises(ValueError, match=r"nn.load\(\) path must be a path, got an empty string"):
        nn.load("")
    with pytest.raises(TypeError, match=r"MLP.load\(\) path must be a path"):
        nn.MLP(2, [1]).load(3)
    with pytest.raises(TypeError, match=r"MLP.save\(\) path must be a path"):
        nn.MLP(2, [1]).save(None)


def test_every_class_nn_loads_builds_exactly_what_its_config_counts():
    from nn.module import _loadable

    for model in (nn.Neuron(3), nn.Layer(2, 4), nn.MLP(3, [5, 4, 2]), nn.Perceptron(6), nn.Adaline(2)):
        cls = _loadable()[type(model).__name__]
        assert cls._parameter_count(model.config()) == len(model.parameters())
        assert cls._parameter_names(model.config()) == [name for name, _ in model.named_parameters()]
        assert cls._checked_config(model.config(), "") == model.config()
        assert cls._config_fields == tuple(model.config())
