"""nn.fit: the quality bars (moons, Iris), one batch's loss and gradient, accuracy rules, progress
output, and the errors for bad shapes."""

import sys

import numpy as np
import pytest

import nn
from autodiff import Value
from nn.data import load_iris, make_moons, standardize


def accuracy(model, X, y, decide):
    return float(np.mean([decide(model(list(x))) == t for x, t in zip(X, y)]))


def test_mlp_16_16_1_with_sgd_separates_the_moons_completely():
    X, y = make_moons(100, noise=0.1)
    signs = 2 * y - 1
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    history = nn.fit(model, X, signs, loss="hinge",
                     optimizer=nn.SGD(model.parameters(), lr=0.1, momentum=0.9),
                     epochs=80, verbose=False)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, X, signs, lambda out: 1 if out.data > 0 else -1) == 1.0


def test_softmax_classifier_reaches_95_percent_on_all_of_iris():
    X, y = load_iris()
    Z = standardize(X)
    model = nn.MLP(4, [3], seed=0)  # one linear layer; cross_entropy applies the softmax
    history = nn.fit(model, Z, y, loss="cross_entropy", optimizer=nn.Adam(model.parameters(), lr=0.1),
                     epochs=50, batch_size=32, verbose=False)
    assert len(history) == 50
    assert accuracy(model, Z, y, lambda out: int(np.argmax([v.data for v in out]))) >= 0.95
    probs = nn.softmax(model(list(Z[0])))
    assert sum(p.data for p in probs) == pytest.approx(1.0)


def test_batch_loss_is_the_mean_loss_with_its_gradient():
    model = nn.MLP(2, [3, 1], seed=4)
    xs, ts = [[0.5, -1.0], [1.5, 2.0], [0.0, 0.3]], [1.0, -0.5, 0.25]
    value, outputs = nn.batch_loss(model, xs, ts, nn.mse)

    reference = nn.MLP(2, [3, 1], seed=4)
    mean = Value.sum([nn.mse(reference(x), t) for x, t in zip(xs, ts)]) / 3
    mean.backward()
    assert value == pytest.approx(mean.data, rel=1e-15)
    assert outputs == pytest.approx([reference(x).data for x in xs])
    for p, q in zip(model.parameters(), reference.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)
    nn.batch_loss(model, xs, ts, nn.mse)  # gradients are the batch's, not accumulated
    for p, q in zip(model.parameters(), reference.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)


def test_full_batch_fit_is_gradient_descent_on_the_mean_loss():
    X, y = [[0.5, -1.0], [1.5, 2.0]], [1.0, 0.0]
    model, manual = nn.MLP(2, [2, 1], seed=1), nn.MLP(2, [2, 1], seed=1)
    nn.fit(model, X, y, loss="mse", optimizer=nn.SGD(model.parameters(), lr=0.2), epochs=3,
           verbose=False)
    opt = nn.SGD(manual.parameters(), lr=0.2)
    for _ in range(3):
        manual.zero_grad()
        (Value.sum([nn.mse(manual(x), t) for x, t in zip(X, y)]) / 2).backward()
        opt.step()
    assert model.state_dict() == pytest.approx(manual.state_dict(), rel=1e-12)


@pytest.mark.parametrize(("loss", "outputs", "targets", "expected"), [
    ("cross_entropy", 3, [0, 2, 1], 1 / 3),              # argmax of the logits (1, 0, 0): class 0
    ("hinge", 1, [1, 1, -1], 2 / 3),                     # score 1 > 0: +1
    ("binary_cross_entropy_with_logits", 1, [1, 1, 0], 2 / 3),
    ("binary_cross_entropy", 1, [1, 0, 0], 1 / 3),        # probability 1 > 0.5: class 1
    ("mse", 1, [1, 0, 0], 1 / 3),                        # 0/1 targets: split at 0.5
    ("mse", 1, [1, -1, 1], 2 / 3),                       # ±1 targets: split at 0
    ("mse", 1, [0.3, 2.0, 0.0], None),                   # regression: no accuracy
])
def test_accuracy_follows_the_loss(loss, outputs, targets, expected):
    model = nn.MLP(1, [outputs], activation="identity")
    model.set_weights([[[1.0], [0.0], [0.0]][:outputs]])  # for x = 1 the outputs are (1, 0, 0)
    history = nn.fit(model, [[1.0]] * 3, targets, loss=loss,
                     optimizer=nn.SGD(model.parameters(), lr=1e-9), epochs=1, verbose=False)
    assert history.accuracy == [expected if expected is None else pytest.approx(expected)]


def test_one_hot_targets_are_scored_by_argmax():
    model = nn.MLP(1, [3], activation="identity")
    model.set_weights([[[0.0], [1.0], [0.0]]])
    history = nn.fit(model, [[1.0], [1.0]], [[0, 1, 0], [1, 0, 0]], loss="half_squared_error",
                     optimizer=nn.SGD(model.parameters(), lr=1e-9), epochs=1, verbose=False)
    assert history.accuracy == [0.5]


def test_quiet_fit_prints_nothing(capsys):
    model = nn.MLP(2, [2, 1])
    nn.fit(model, [[0.0, 1.0]], [1.0], epochs=3, verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_is_a_tqdm_bar_when_tqdm_is_installed(capsys):
    pytest.importorskip("tqdm")
    model = nn.MLP(2, [2, 1])
    nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], epochs=5)
    err = capsys.readouterr().err
    assert "fit" in err and "5/5" in err and "loss" in err


def test_progress_without_tqdm_is_a_line_every_tenth(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model = nn.MLP(2, [2, 1])
    nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], epochs=20)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("epoch 2/20: loss ") and "accuracy" in lines[0]
    assert lines[-1].startswith("epoch 20/20: loss ")


def test_fit_shape_errors_name_both_sizes():
    model = nn.MLP(2, [1])
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"fit\(\) X\[2\] must be a list of 2 finite numbers, got 3"):
        nn.fit(model, [[1, 2], [3, 4], [5, 6, 7]], [0, 1, 0], verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) y must have 3 targets \(one per row of X\), got 2"):
        nn.fit(model, [[1, 2], [3, 4], [5, 6]], [0, 1], verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) X has 3 values per row, the model takes 2"):
        nn.fit(model, [[1, 2, 3]], [0], verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) X must be a table .*, got no rows"):
        nn.fit(model, [], [], verbose=False)
    assert model.state_dict() == before


def test_fit_argument_errors_come_before_any_update():
    model = nn.MLP(2, [3])
    before = model.state_dict()
    X = [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(ValueError, match=r"fit\(\) loss must be one of .*; got unknown loss 'l1'"):
        nn.fit(model, X, [0, 1], loss="l1", verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) epochs must be an int from 1 to [\d,]+, got int 0"):
        nn.fit(model, X, [0, 1], epochs=0, verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) batch_size must be an int from 1 to [\d,]+, got int -2"):
        nn.fit(model, X, [0, 1], batch_size=-2, verbose=False)
    with pytest.raises(TypeError, match=r"fit\(\) optimizer must be an nn.Optimizer"):
        nn.fit(model, X, [0, 1], optimizer="adam", verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) y\[1\] does not suit the loss: .* got int 3 for 3 logits"):
        nn.fit(model, X, [0, 3], loss="cross_entropy", verbose=False)  # the last target is bad
    with pytest.raises(TypeError, match="fit\\(\\) model must be an nn.Module"):
        nn.fit(lambda x: x, X, [0, 1], verbose=False)
    assert model.state_dict() == before


def test_mini_batches_are_reshuffled_with_the_seed():
    X, y = make_moons(20, noise=0.1, seed=5)
    runs = []
    for seed in (1, 1, 2):
        model = nn.MLP(2, [4, 1], seed=0)
        nn.fit(model, X, 2 * y - 1, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=0.05),
               epochs=2, batch_size=4, seed=seed, verbose=False)
        runs.append(model.state_dict())
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_fit_rejects_nan_and_inf_before_any_update():
    model = nn.MLP(2, [1])
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"fit\(\) X\[1\]\[0\] must be a finite number, got float nan"):
        nn.fit(model, [[0.0, 1.0], [float("nan"), 0.0]], [0, 1], verbose=False)
    with pytest.raises(ValueError, match=r"fit\(\) y\[0\] must be a finite number, got float inf"):
        nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [float("inf"), 1.0], verbose=False)
    with pytest.raises(TypeError, match=r"fit\(\) y\[1\] must be a number or a list of numbers, got str"):
        nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, "1"], verbose=False)
    with pytest.raises(TypeError, match=r"fit\(\) y must be a list of targets \(one per row of X\), got int 5"):
        nn.fit(model, [[0.0, 1.0]], 5, verbose=False)
    assert model.state_dict() == before


def test_fit_refuses_a_model_whose_output_is_not_a_value():
    perceptron = nn.Perceptron(2)
    with pytest.raises(TypeError, match="Perceptron returns int 0 .*its own .fit"):
        nn.fit(perceptron, [[0.0, 1.0]], [1], verbose=False)


def test_cross_entropy_class_labels_must_be_ints():
    model = nn.MLP(2, [3])
    with pytest.raises(TypeError, match=r"fit\(\) y\[0\] does not suit the loss: .*class index \(an int from 0 to 2\) .* got float 0.0"):
        nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], np.array([0.0, 1.0]), loss="cross_entropy",
               verbose=False)


def test_fit_compiled_matches_the_scalar_engine_where_the_traced_shift_overflows():
    # logits of ±1000 overflow exp with the shift traced at x = 0, so replay hands those batches
    # to the scalar engine, whose log-softmax shifts by each example's own maximum
    X, y = [[100.0, 0.0], [0.0, 100.0], [0.1, 0.2]], [1, 0, 1]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [2], activation="identity")
        model.set_weights([[[10.0, 0.0], [0.0, 10.0]]])
        history = nn.fit(model, X, y, loss="cross_entropy", optimizer=nn.SGD(model.parameters(), lr=1e-3),
                         epochs=3, batch_size=2, verbose=False, compiled=compiled)
        runs.append((history, model.state_dict()))
    (scalar, scalar_state), (replayed, replayed_state) = runs
    assert all(np.isfinite(scalar.loss)) and scalar.loss[0] > 300
    assert replayed.loss == pytest.approx(scalar.loss, rel=1e-12)
    assert replayed.accuracy == scalar.accuracy
    assert replayed_state == pytest.approx(scalar_state, rel=1e-12)


def test_fit_compiled_refuses_the_clamped_bce_before_any_update():
    model = nn.MLP(2, [1], output_activation="sigmoid")
    before = model.state_dict()
    with pytest.raises(ValueError, match="cannot replay binary_cross_entropy.*_with_logits"):
        nn.fit(model, [[0.0, 1.0]], [1], loss="binary_cross_entropy", verbose=False, compiled=True)
    assert model.state_dict() == before


# -- History in a notebook ------------------------------------------------------------------------

def parsed(html_text: str):
    """The HTML as an element tree: fails unless it is well-formed."""
    import xml.etree.ElementTree as ET

    return ET.fromstring(html_text)


def test_history_shows_as_a_well_formed_table_of_its_epochs():
    history = nn.History(loss=[0.75, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0])
    table = parsed(history._repr_html_())
    assert table.tag == "table"
    assert [th.text for th in table.iter("th")] == ["epoch", "loss", "accuracy"]
    rows = [[td.text for td in tr.iter("td")] for tr in table.find("tbody")]
    assert rows == [["1", "0.75", "50.0%"], ["2", "0.5", "75.0%"], ["3", "0.25", "100.0%"]]
    assert table.find("caption").text == str(history)


def test_a_history_without_accuracy_has_no_accuracy_column_and_long_ones_show_both_ends():
    history = nn.History(loss=[1.0 / (k + 1) for k in range(100)], accuracy=[None] * 100)
    table = parsed(history._repr_html_())
    assert [th.text for th in table.iter("th")] == ["epoch", "loss"]
    rows = [[td.text for td in tr.iter("td")] for tr in table.find("tbody")]
    assert len(rows) == nn.train.HTML_ROWS + 1 and rows[10] == ["…", "…"]
    assert rows[0][0] == "1" and rows[-1][0] == "100"
    assert parsed(nn.History()._repr_html_()).find("caption").text == "History(no epochs)"


def test_a_trained_history_shows_as_html():
    model = nn.MLP(2, [1])
    history = nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], epochs=3, verbose=False)
    rows = list(parsed(history._repr_html_()).find("tbody"))
    assert len(rows) == 3


def test_history_plot_draws_loss_and_accuracy():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    figure = nn.History(loss=[0.75, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0]).plot()
    assert isinstance(figure, Figure)
    loss_axes, accuracy_axes = figure.axes
    assert list(loss_axes.lines[0].get_ydata()) == [0.75, 0.5, 0.25]
    assert list(accuracy_axes.lines[0].get_ydata()) == [0.5, 0.75, 1.0]
    only_loss = nn.History(loss=[2.0, 1.0], accuracy=[None, None]).plot()
    assert len(only_loss.axes) == 1 and list(only_loss.axes[0].lines[0].get_xdata()) == [1, 2]
    with pytest.raises(ValueError, match="the history has no epochs"):
        nn.History().plot()


def test_history_plot_shows_as_a_picture_in_a_notebook():
    """A notebook shows what a cell returns through IPython's formatters; a Figure made without
    pyplot gave them no picture, only the text '<Figure size 450x320 with 1 Axes>'."""
    pytest.importorskip("matplotlib")
    formatters = pytest.importorskip("IPython.core.formatters")
    figure = nn.History(loss=[0.75, 0.5], accuracy=[0.5, 1.0]).plot()
    png = formatters.PNGFormatter()(figure)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_plot_without_matplotlib_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"History.plot\(\) needs matplotlib, an optional extra: "
                                          r"pip install matplotlib"):
        nn.History(loss=[1.0], accuracy=[None]).plot()


def test_history_records_are_checked():
    with pytest.raises(TypeError, match=r"History\(\) loss must be a list of numbers"):
        nn.History(loss=None)
    with pytest.raises(ValueError, match=r"History\(\) accuracy must have one entry per epoch"):
        nn.History(loss=[1.0], accuracy=[])
    assert nn.History(loss=[float("nan")], accuracy=[None]).loss  # a diverged run is still a history


# -- arguments that used to be accepted silently --------------------------------------------------

def test_fit_refuses_an_optimizer_that_trains_nothing():
    from autodiff import Value

    model = nn.MLP(2, [1])
    X, y = [[0.0, 1.0], [1.0, 0.0]], [1, 0]
    with pytest.raises(TypeError, match=r"fit\(\) optimizer must be an nn.Optimizer .*got Value"):
        nn.fit(model, X, y, optimizer=Value(1.0), verbose=False)
    other = nn.MLP(2, [1])
    with pytest.raises(ValueError, match=r"fit\(\) optimizer updates none of the model's parameters"):
        nn.fit(model, X, y, optimizer=nn.SGD(other.parameters(), lr=0.1), verbose=False)
    first_layer = nn.SGD(model.layers[0].neurons[0].w, lr=0.1)  # some of them: fine-tuning
    nn.fit(model, X, y, optimizer=first_layer, epochs=2, verbose=False)


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"epochs": 10**400}, ValueError, r"fit\(\) epochs must be an int from 1 to 1,000,000,000"),
    ({"seed": None}, TypeError, r"fit\(\) seed must be an int from 0 to 2\*\*64 - 1, got None"),
    ({"shuffle": "no"}, TypeError, r"fit\(\) shuffle must be True or False, got str 'no'"),
    ({"verbose": 0}, TypeError, r"fit\(\) verbose must be True or False, got int 0"),
    ({"compiled": None}, TypeError, r"fit\(\) compiled must be True or False"),
    ({"batch_size": 2.0}, TypeError, r"fit\(\) batch_size must be an int"),
])
def test_fit_arguments_are_checked_before_any_update(arguments, error, message):
    model = nn.MLP(2, [1])
    before = model.state_dict()
    with pytest.raises(error, match=message):
        nn.fit(model, [[0.0, 1.0], [1.0, 0.0]], [1, 0], **arguments)
    assert model.state_dict() == before


def test_fit_none_says_which_argument():
    with pytest.raises(TypeError, match=r"fit\(\) model must be an nn.Module .*got NoneType None"):
        nn.fit(None, [[0.0]], [0])
    with pytest.raises(TypeError, match=r"fit\(\) X must be a table"):
        nn.fit(nn.MLP(1, [1]), None, [0])
    with pytest.raises(TypeError, match=r"fit\(\) y must be a list of targets"):
        nn.fit(nn.MLP(1, [1]), [[0.0]], None)
