"""Losses, softmax and activations: gradients against autodiff.gradcheck and the lecture's closed
forms, stability at extreme logits, and the errors bad input gets."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autodiff import Value, gradcheck

# Each case: (loss name, a function of Values built from the loss, a point to check at).
CASES = {
    "half_squared_error": (lambda a, b: nn.half_squared_error([a, b], [0.01, 0.99]), (0.75, 0.77)),
    "mse": (lambda a, b, c: nn.mse([a, b, c], [1.0, -2.0, 0.5]), (0.3, -1.1, 2.0)),
    "binary_cross_entropy": (lambda a, b: nn.binary_cross_entropy([a, b], [1.0, 0.2]), (0.7, 0.4)),
    "binary_cross_entropy_with_logits":
        (lambda a, b: nn.binary_cross_entropy_with_logits([a, b], [1.0, 0.0]), (-1.3, 2.4)),
    "cross_entropy": (lambda a, b, c: nn.cross_entropy([a, b, c], 2), (0.5, -1.0, 2.0)),
    "hinge": (lambda a, b: nn.hinge([a, b], [1.0, -1.0]), (0.25, -0.4)),
}


@pytest.mark.parametrize("name", sorted(nn.LOSSES))
def test_every_loss_has_a_gradcheck_case(name):
    assert name in CASES, f"loss {name!r} has no case in CASES"


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_gradient_matches_gradcheck(name):
    f, point = CASES[name]
    assert gradcheck(f, point)


def test_l2_gradient_matches_gradcheck_and_is_two_alpha_p():
    assert gradcheck(lambda a, b: nn.l2([a, b], 0.01), (0.5, -3.0))
    w = Value(-3.0)
    nn.l2([w], 0.01).backward()
    assert w.grad == pytest.approx(2 * 0.01 * -3.0)


def test_cross_entropy_with_soft_targets_matches_gradcheck():
    assert gradcheck(lambda a, b, c: nn.cross_entropy([a, b, c], [0.2, 0.0, 0.8]), (1.0, 0.0, -2.0))


@settings(max_examples=40, deadline=None)
@given(st.floats(-30, 30), st.sampled_from([0.0, 1.0]))
def test_bce_with_logits_gradient_is_sigmoid_minus_target(x, t):
    v = Value(x)
    nn.binary_cross_entropy_with_logits(v, t).backward()
    assert v.grad == pytest.approx(1.0 / (1.0 + math.exp(-x)) - t, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=5), st.data())
def test_cross_entropy_gradient_is_softmax_minus_one_hot(logits, data):
    k = data.draw(st.integers(0, len(logits) - 1))
    zs = [Value(z) for z in logits]
    nn.cross_entropy(zs, k).backward()
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    probs = [e / sum(exps) for e in exps]
    for i, z in enumerate(zs):
        assert z.grad == pytest.approx(probs[i] - (i == k), abs=1e-12)


def test_half_squared_error_gradient_is_minus_t_minus_y():
    y = Value(0.75136507)
    nn.half_squared_error(y, 0.01).backward()
    assert y.grad == pytest.approx(-(0.01 - 0.75136507))


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_softmax_and_cross_entropy_stay_finite_at_extreme_logits(big):
    zs = [Value(big), Value(-big), Value(0.0)]
    probs = nn.softmax(zs)
    assert all(math.isfinite(p.data) for p in probs)
    assert sum(p.data for p in probs) == pytest.approx(1.0)
    logp = nn.log_softmax(zs)
    assert all(math.isfinite(lp.data) for lp in logp)
    for target in range(3):
        for z in zs:
            z.grad = 0.0
        loss = nn.cross_entropy(zs, target)
        loss.backward()
        assert math.isfinite(loss.data)
        assert all(math.isfinite(z.grad) for z in zs)
    assert nn.cross_entropy(zs, 1).data == pytest.approx(2000.0 if big > 0 else 0.0, abs=1e-12)


def test_bce_with_logits_is_finite_where_the_naive_form_overflows():
    for x, t in [(1000.0, 0.0), (-1000.0, 1.0), (1000.0, 1.0), (-1000.0, 0.0)]:
        v = Value(x)
        loss = nn.binary_cross_entropy_with_logits(v, t)
        loss.backward()
        assert math.isfinite(loss.data) and math.isfinite(v.grad)
        assert loss.data == pytest.approx(max(x, 0) - x * t)


def test_bce_clamps_probabilities_so_log_zero_never_happens():
    for p, t in [(0.0, 1.0), (1.0, 0.0)]:
        v = Value(p)
        loss = nn.binary_cross_entropy(v, t)
        loss.backward()
        assert math.isfinite(loss.data) and loss.data == pytest.approx(-math.log(1e-12), rel=1e-3)
        assert math.isfinite(v.grad) and v.grad != 0.0
    saturated = Value(800.0).sigmoid()   # exactly 1.0 in floats
    assert math.isfinite(nn.binary_cross_entropy(saturated, 0.0).data)


def test_softmax_sums_to_one_and_keeps_order():
    probs = [p.data for p in nn.softmax([1.0, 2.0, 3.0])]
    assert sum(probs) == pytest.approx(1.0)
    assert probs == sorted(probs)
    assert probs[2] / probs[1] == pytest.approx(math.e)


@pytest.mark.parametrize("loss", ["half_squared_error", "mse", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "hinge"])
def test_mismatched_lengths_name_both(loss):
    with pytest.raises(ValueError, match=rf"{loss}\(\) target must have 2 values \(one per prediction\), got 3"):
        nn.LOSSES[loss]([Value(0.5), Value(0.5)], [1.0, 1.0, 1.0])


def test_cross_entropy_errors_name_what_was_given():
    with pytest.raises(ValueError, match=r"an int from 0 to 2\) or a list of 3 probabilities, got int 3 for 3 logits"):
        nn.cross_entropy([0.0, 1.0, 2.0], 3)
    with pytest.raises(ValueError, match=r"cross_entropy\(\) target must have 3 values \(one per prediction\), got 2"):
        nn.cross_entropy([0.0, 1.0, 2.0], [0.5, 0.5])


def test_target_checks():
    with pytest.raises(ValueError, match="hinge\\(\\) target must be -1 or \\+1, got 0.0"):
        nn.hinge(Value(0.3), 0)
    with pytest.raises(ValueError, match="target\\[0\\] must be a probability in \\[0, 1\\], got 2.0"):
        nn.binary_cross_entropy(Value(0.3), 2)
    with pytest.raises(TypeError, match="mse\\(\\) target\\[0\\] must be a number, got a Value"):
        nn.mse(Value(0.3), Value(1.0))
    with pytest.raises(ValueError, match="l2\\(\\) alpha must be a finite number >= 0, got float -1.0"):
        nn.l2([Value(1.0)], -1.0)


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        nn.activation("swish")
    message = str(err.value)
    assert "'swish'" in message
    for name in ["identity", "linear", "step", "sigmoid", "logistic", "tanh", "arctan", "relu"]:
        assert name in message


@pytest.mark.parametrize(("name", "method"), [
    ("sigmoid", "sigmoid"), ("logistic", "sigmoid"), ("tanh", "tanh"), ("arctan", "arctan"),
    ("relu", "relu"), ("step", "step")])
def test_activation_names_map_to_value_methods(name, method):
    x = Value(0.37)
    y = nn.activation(name)(x)
    assert y.op == method and y.parents == (x,)


@pytest.mark.parametrize("name", ["identity", "linear"])
def test_identity_adds_no_node(name):
    x = Value(0.37)
    assert nn.activation(name)(x) is x


def test_l2_and_cross_entropy_argument_errors():
    with pytest.raises(ValueError, match="l2\\(\\) alpha must be a finite number >= 0, got float nan"):
        nn.l2([Value(1.0)], math.nan)
    with pytest.raises(ValueError, match="got float inf"):
        nn.l2([Value(1.0)], math.inf)
    with pytest.raises(TypeError, match="l2\\(\\) params must be a list of Values such as model.parameters\\(\\), got MLP"):
        nn.l2(nn.MLP(2, [1]), 0.1)
    for target in (1.0, True):
        with pytest.raises(TypeError, match="a class index \\(an int from 0 to 1\\) or a list of 2"):
            nn.cross_entropy([0.0, 1.0], target)
