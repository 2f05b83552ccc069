"""Saving and loading models as JSON: round trips, and every bad file leaves the model as it was."""

import json
import os

import pytest

import nn
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
    with pytest.raises(IsADirectoryError, match="it is a directory; give a file name inside it"):
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
