"""Modules: parameter names and labels, what each module returns, seeded initialisation, setting
weights from lists, and the errors for bad shapes."""

import math
import random
import statistics

import numpy as np
import pytest

import nn
from autodiff import Parameter, Value


def test_named_parameters_are_stable_readable_and_carried_as_labels():
    net = nn.MLP(2, [3, 1])
    names = [name for name, _ in net.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == (2 + 1) * 3 + (3 + 1) * 1
    assert all(p.label == name for name, p in net.named_parameters())
    assert all(isinstance(p, Parameter) for p in net.parameters())
    assert names == [name for name, _ in nn.MLP(2, [3, 1], seed=9).named_parameters()]


def test_standalone_and_nested_modules_label_from_their_own_root():
    neuron = nn.Neuron(2)
    assert [p.label for p in neuron.parameters()] == ["w.0", "w.1", "b"]
    layer = nn.Layer(2, 2)
    assert layer.neurons[1].b.label == "neurons.1.b"


def test_a_custom_module_names_its_sub_modules():
    class Two(nn.Module):
        def __init__(self):
            self.encoder = nn.Layer(2, 2)
            self.scale = Parameter(1.0)

        def forward(self, x):
            return [self.scale * v for v in self.encoder(x)]

    model = Two()
    assert model.encoder.neurons[0].w[1].label == "encoder.neurons.0.w.1"
    assert model.named_parameters()[-1] == ("scale", model.scale)
    assert repr(model) == "Two(7 parameters)"


def test_neuron_pre_activation_is_one_sum_node():
    n = nn.Neuron(3, activation="relu")
    y = n([1.0, 2.0, 3.0])
    assert y.op == "relu"
    (total,) = y.parents
    assert total.op == "sum" and len(total.parents) == 4
    assert total.parents[-1] is n.b
    assert [t.parents[0] for t in total.parents[:3]] == n.w


def test_neuron_takes_numbers_values_and_numpy_rows():
    n = nn.Neuron(2, activation="identity")
    n.set_weights([2.0, -1.0], 0.5)
    assert n([1, 3]).data == pytest.approx(2 - 3 + 0.5)
    assert n(np.array([1.0, 3.0])).data == pytest.approx(-0.5)
    x = Value(1.0)
    out = n([x, 3.0])
    out.backward()
    assert x.grad == 2.0


def test_what_each_module_returns():
    assert isinstance(nn.Neuron(2)([0.1, 0.2]), Value)
    one = nn.Layer(2, 1)([0.1, 0.2])
    assert isinstance(one, list) and len(one) == 1
    assert isinstance(nn.MLP(2, [3, 1])([0.1, 0.2]), Value)
    many = nn.MLP(2, [3, 2])([0.1, 0.2])
    assert isinstance(many, list) and len(many) == 2


def test_output_activation_applies_to_the_last_layer_only():
    net = nn.MLP(2, [3, 2], activation="relu", output_activation="sigmoid")
    assert [layer.activation for layer in net.layers] == ["relu", "sigmoid"]
    assert all(y.op == "sigmoid" for y in net([0.3, -0.2]))
    assert nn.MLP(2, [3, 1], activation="tanh")([0.3, -0.2]).op == "sum"  # identity: the Σ node


def test_initialisation_is_seeded_and_reproducible():
    a = nn.MLP(4, [8, 3], seed=7).state_dict()
    assert a == nn.MLP(4, [8, 3], seed=7).state_dict()
    assert a == nn.MLP(4, [8, 3], seed=random.Random(7)).state_dict()
    assert a != nn.MLP(4, [8, 3], seed=8).state_dict()
    assert nn.MLP(2, [2]).state_dict() == nn.MLP(2, [2]).state_dict()  # the default seed is fixed


@pytest.mark.parametrize(("activation", "gain"), [("relu", math.sqrt(2)), ("tanh", 5 / 3),
                                                  ("sigmoid", 1.0), ("identity", 1.0)])
def test_initial_weight_scale_suits_the_activation(activation, gain):
    nin = 50
    layer = nn.Layer(nin, 200, activation=activation, seed=1)
    weights = [w.data for neuron in layer.neurons for w in neuron.w]
    bound = gain * math.sqrt(3 / nin)
    assert max(abs(w) for w in weights) <= bound
    assert statistics.pvariance(weights) == pytest.approx(gain ** 2 / nin, rel=0.05)
    assert all(neuron.b.data == 0.0 for neuron in layer.neurons)


def test_set_weights_checks_everything_before_changing_anything():
    net = nn.MLP(2, [2, 1], seed=3)
    before = net.state_dict()
    with pytest.raises(ValueError, match=r"MLP.set_weights\(\) weights\[1\]\[0\] must be a list of 2 finite numbers, got 3"):
        net.set_weights([[[1, 2], [3, 4]], [[5, 6, 7]]])
    with pytest.raises(ValueError, match="weights must have 2 entries \\(one per layer\\), got 1"):
        net.set_weights([[[1, 2], [3, 4]]])
    with pytest.raises(ValueError, match=r"biases must have 2 entries"):
        net.set_weights([[[1, 2], [3, 4]], [[5, 6]]], biases=[0.1])
    with pytest.raises(TypeError, match=r"weights\[0\]\[1\]\[1\] must be a finite number, got str"):
        net.set_weights([[[1, 2], [3, "4"]], [[5, 6]]])
    with pytest.raises(ValueError, match=r"biases\[1\] must be a finite number, got float nan"):
        net.set_weights([[[1, 2], [3, 4]], [[5, 6]]], biases=[0.0, math.nan])
    with pytest.raises(ValueError, match=r"Neuron.set_weights\(\) bias must be a finite number, got float inf"):
        nn.Neuron(2).set_weights([1, 2], math.inf)
    with pytest.raises(TypeError, match=r"Neuron.set_weights\(\) weights must be a list of 2 finite numbers, got NoneType None"):
        nn.Neuron(2).set_weights(None)
    assert net.state_dict() == before


def test_set_weights_with_per_neuron_biases():
    layer = nn.Layer(1, 2, activation="identity")
    layer.set_weights([[1.0], [2.0]], [0.5, -0.5])
    assert [y.data for y in layer([3.0])] == [3.5, 5.5]


def test_bad_architectures_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"MLP\(\) nin must be an int from 1 to 10,000,000, got int 0"):
        nn.MLP(0, [2])
    with pytest.raises(ValueError, match=r"MLP\(\) sizes\[1\] must be an int from 1 to 10,000,000, got int -1"):
        nn.MLP(2, [3, -1])
    with pytest.raises(ValueError, match=r"MLP\(\) sizes must be a non-empty list of layer sizes"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match=r"Neuron\(\) activation must be one of .*; got unknown activation 'softsign'"):
        nn.Neuron(2, activation="softsign")
    with pytest.raises(TypeError, match=r"Neuron\(\) seed must be an int from 0 to"):
        nn.Neuron(2, seed=1.5)
    with pytest.raises(ValueError, match=r"MLP input x must have 2 values \(the model's nin\), got 3"):
        nn.MLP(2, [1])([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Neuron input x must be a list of 1 numbers or Values, got float 0.5"):
        nn.Neuron(1)(0.5)


def test_zero_grad_and_repr():
    net = nn.MLP(2, [2, 1], activation="relu")
    net([1.0, 1.0]).backward()
    assert any(p.grad != 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())
    assert repr(net) == "MLP(nin=2, sizes=[2, 1], activation='relu', output_activation='identity')"
    assert repr(nn.Neuron(3, "logistic")) == "Neuron(nin=3, activation='sigmoid')"


def test_state_dict_round_trip_and_its_errors_leave_the_model_intact():
    a, b = nn.MLP(2, [3, 1], seed=1), nn.MLP(2, [3, 1], seed=2)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    before = b.state_dict()
    broken = dict(before, **{"layers.0.neurons.0.w.0": "x"})
    with pytest.raises(TypeError, match=r"load_state_dict\(\) state\['layers.0.neurons.0.w.0'\] must be a finite number, got str 'x'"):
        b.load_state_dict(broken)
    short = dict(before)
    short.pop("layers.1.neurons.0.b")
    short["extra"] = 1.0
    with pytest.raises(ValueError, match="missing 'layers.1.neurons.0.b', unexpected 'extra'"):
        b.load_state_dict(short)
    with pytest.raises(ValueError, match="must be a finite number, got float nan"):
        b.load_state_dict(dict(before, **{"layers.1.neurons.0.b": math.nan}))
    assert b.state_dict() == before


@pytest.mark.parametrize("module", ["nn", "nn.activations", "nn.data", "nn.layers", "nn.losses",
                                    "nn.module", "nn.optim", "nn.rules", "nn.train"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_layer_sizes_may_be_a_numpy_array():
    net = nn.MLP(2, np.array([3, 1]))
    assert net.config()["sizes"] == [3, 1] and all(type(s) is int for s in net.sizes)
    assert net.state_dict() == nn.MLP(2, [3, 1]).state_dict()


# -- habits from micrograd and PyTorch ----------------------------------------------------------

@pytest.mark.parametrize("model", [nn.MLP(2, [3, 1]), nn.Layer(2, 3), nn.Neuron(2)], ids=repr)
@pytest.mark.parametrize("batch", [np.zeros((100, 2)), np.zeros((2, 2)), [[0.0, 1.0], [1.0, 0.0]]],
                         ids=["ndarray (100, 2)", "ndarray (2, 2)", "list of rows"])
def test_a_batch_given_to_a_module_says_where_batches_go(model, batch):
    with pytest.raises(TypeError) as error:
        model(batch)
    message = str(error.value)
    assert "input x is one sample" in message and "a batch" in message
    assert "nn.fit(model, X, y)" in message and ".compile(" in message and "for row in X" in message
    assert "Value()" not in message


def test_the_batch_message_shows_the_shape():
    with pytest.raises(TypeError, match=r"got a 2-D array of shape \(100, 2\), a batch"):
        nn.MLP(2, [1])(np.zeros((100, 2)))


def test_the_replay_the_batch_message_suggests_works():
    from autodiff import Value, trace

    model = nn.MLP(2, [3, 1], seed=4)
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    xs = [Value(0.0), Value(0.0)]
    replayed = trace(model(xs)).compile(xs)(X)
    assert list(replayed) == pytest.approx([model(row).data for row in X.tolist()])


def test_two_models_built_without_a_seed_have_the_same_weights():
    for build in (lambda **kw: nn.MLP(3, [4, 2], **kw), lambda **kw: nn.Layer(3, 4, **kw),
                  lambda **kw: nn.Neuron(3, **kw)):
        first, second = build(), build()
        assert first.state_dict() == second.state_dict() == build(seed=0).state_dict()
        assert build(seed=1).state_dict() != first.state_dict()
        assert all(p is not q for p, q in zip(first.parameters(), second.parameters()))


def test_weights_do_not_depend_on_what_was_built_before():
    alone = nn.MLP(2, [3, 1]).state_dict()
    nn.MLP(5, [7, 7, 7])
    random.seed(123)
    np.random.seed(123)
    assert nn.MLP(2, [3, 1]).state_dict() == alone


def test_the_constructors_say_the_defaults_a_micrograd_user_needs():
    doc = nn.MLP.__doc__
    assert "hidden layers use tanh" in doc and "output layer is linear ('identity')" in doc
    assert "micrograd's MLP uses relu" in doc and "activation='relu'" in doc
    assert "seed" in doc and "same weights" in doc
    assert "same weights" in nn.layers.__doc__ and "no global generator" in nn.layers.__doc__


def test_a_model_of_too_many_parameters_is_refused_before_any_is_made(monkeypatch):
    made = []
    monkeypatch.setattr(nn.layers, "Parameter", lambda *args: made.append(1))
    with pytest.raises(ValueError, match=r"Layer\(\) nin=2 and nout=10000000 make 30,000,000 parameters; "
                                         r"nn builds at most 10,000,000"):
        nn.Layer(2, 10**7)
    with pytest.raises(ValueError, match=r"Layer\(\) nout must be an int from 1 to 10,000,000, got int 1000"):
        nn.Layer(2, 10**400)
    with pytest.raises(ValueError, match=r"MLP\(\) sizes \(with nin=3\) make 20,021,000 parameters"):
        nn.MLP(3, [4000, 5000])
    assert made == []


def test_parameters_are_labelled_once_by_the_outermost_module():
    class Outer(nn.Module):
        def __init__(self):
            self.body = nn.MLP(2, [2, 1])

    outer = Outer()
    assert [p.label for p in outer.parameters()] == [name for name, _ in outer.named_parameters()]
    assert outer.body.layers[1].neurons[0].b.label == "body.layers.1.neurons.0.b"
    standalone = nn.Layer(2, 2)
    assert standalone.neurons[1].w[0].label == "neurons.1.w.0"


def test_a_module_that_holds_itself_is_walked_once():
    class Loop(nn.Module):
        def __init__(self):
            self.w = nn.Neuron(1)
            self.again = self
            self.cycle = []
            self.cycle.append(self.cycle)

    assert [name for name, _ in Loop().named_parameters()] == ["w.w.0", "w.b"]


def test_a_shared_parameter_is_listed_once_under_its_first_name():
    class Tied(nn.Module):
        def __init__(self):
            self.a = nn.Neuron(1)
            self.b = nn.Neuron(1)
            self.b.w = self.a.w

    assert [name for name, _ in Tied().named_parameters()] == ["a.w.0", "a.b", "b.b"]
