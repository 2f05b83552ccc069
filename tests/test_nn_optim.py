"""SGD and Adam against updates computed by hand from PyTorch's documented formulas."""

import math

import pytest

import nn
from autodiff import Value


def run(optimizer_factory, grads, start=1.0):
    """The parameter's value after one step per gradient in `grads`."""
    w = Value(start)
    opt = optimizer_factory([w])
    for g in grads:
        opt.zero_grad()
        w.grad = g
        opt.step()
    return w.data


def test_plain_sgd_is_p_minus_lr_g():
    assert run(lambda p: nn.SGD(p, lr=0.1), [0.5, 0.25]) == pytest.approx(1 - 0.05 - 0.025)


def test_sgd_momentum_starts_the_buffer_at_the_first_gradient():
    # step 1: buf = 0.5, w = 1 − 0.1·0.5 = 0.95; step 2: buf = 0.9·0.5 + 0.25 = 0.7, w = 0.88
    assert run(lambda p: nn.SGD(p, lr=0.1, momentum=0.9), [0.5]) == pytest.approx(0.95)
    assert run(lambda p: nn.SGD(p, lr=0.1, momentum=0.9), [0.5, 0.25]) == pytest.approx(0.88)


def test_sgd_weight_decay_adds_decay_times_p_to_the_gradient():
    # g1 = 0.5 + 0.1·1 = 0.6, buf = 0.6, w = 0.94; g2 = 0.25 + 0.1·0.94 = 0.344,
    # buf = 0.9·0.6 + 0.344 = 0.884, w = 0.94 − 0.0884 = 0.8516
    got = run(lambda p: nn.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1), [0.5, 0.25])
    assert got == pytest.approx(0.8516)


def test_sgd_dampening_scales_new_gradients_but_not_the_first():
    # buf = 0.5 (undamped), w = 0.95; buf = 0.9·0.5 + 0.5·0.25 = 0.575, w = 0.8925
    got = run(lambda p: nn.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), [0.5, 0.25])
    assert got == pytest.approx(0.8925)


def test_sgd_nesterov_looks_ahead():
    # step 1: buf = 0.5, g = 0.5 + 0.9·0.5 = 0.95, w = 0.905
    # step 2: buf = 0.7, g = 0.25 + 0.9·0.7 = 0.88, w = 0.817
    got = run(lambda p: nn.SGD(p, lr=0.1, momentum=0.9, nesterov=True), [0.5, 0.25])
    assert got == pytest.approx(0.817)


def test_adam_first_step_moves_each_parameter_by_lr_whatever_the_gradient_size():
    ws = [Value(1.0), Value(1.0), Value(1.0)]
    opt = nn.Adam(ws, lr=0.01)
    for w, g in zip(ws, [0.5, 5.0, -200.0]):
        w.grad = g
    opt.step()
    assert [w.data for w in ws] == pytest.approx([0.99, 0.99, 1.01], abs=1e-9)


def test_adam_two_steps_by_hand():
    # β = (0.9, 0.999); g = 0.5 then 0.25.
    # m₂ = 0.9·0.05 + 0.1·0.25 = 0.07; v₂ = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
    # step 2 moves by 0.1 · (0.07/0.19) / (√0.00031225/√0.001999 + 1e-8)
    first = 0.1 * 0.5 / (0.5 + 1e-8)
    second = 0.1 * (0.07 / 0.19) / (math.sqrt(0.00031225) / math.sqrt(0.001999) + 1e-8)
    got = run(lambda p: nn.Adam(p, lr=0.1), [0.5, 0.25])
    assert got == pytest.approx(1.0 - first - second, rel=1e-12)


def test_adam_weight_decay_is_added_to_the_gradient():
    # g = 0 + 0.5·1 = 0.5, so the first step is the same as for gradient 0.5
    assert run(lambda p: nn.Adam(p, lr=0.1, weight_decay=0.5), [0.0]) == \
        pytest.approx(run(lambda p: nn.Adam(p, lr=0.1), [0.5]))


def test_zero_grad_clears_every_parameter():
    ws = [Value(1.0), Value(2.0)]
    for w in ws:
        w.grad = 3.0
    nn.SGD(ws, lr=0.1).zero_grad()
    assert [w.grad for w in ws] == [0.0, 0.0]


def test_an_sgd_step_follows_backward_on_a_model():
    net = nn.MLP(3, [4, 1], seed=3)
    before = {n: p.data for n, p in net.named_parameters()}
    loss = nn.mse(net([1.0, -2.0, 0.5]), 0.3)
    loss.backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    nn.SGD(net.parameters(), lr=0.05).step()
    for name, p in net.named_parameters():
        assert p.data == before[name] - 0.05 * grads[name]


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda p: nn.SGD(p, lr=0.0), ValueError, r"SGD\(\) lr must be a finite number > 0, got float 0.0"),
    (lambda p: nn.SGD(p, lr=-1), ValueError, r"SGD\(\) lr must be a finite number > 0, got int -1"),
    (lambda p: nn.SGD(p, lr=0.1, momentum=1.0), ValueError,
     r"SGD\(\) momentum must be a finite number >= 0 and < 1, got float 1.0"),
    (lambda p: nn.SGD(p, lr=0.1, momentum=-0.1), ValueError, r"momentum must be a finite number >= 0 and < 1"),
    (lambda p: nn.SGD(p, lr=0.1, weight_decay=-1), ValueError, r"weight_decay must be a finite number >= 0"),
    (lambda p: nn.SGD(p, lr=0.1, nesterov=True), ValueError, r"nesterov needs momentum > 0"),
    (lambda p: nn.SGD(p, lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
     r"SGD\(\) nesterov must be True or False, got str 'yes'"),
    (lambda p: nn.Adam(p, lr=0), ValueError, r"Adam\(\) lr must be a finite number > 0"),
    (lambda p: nn.Adam(p, betas=(0.9, 1.0)), ValueError,
     r"Adam\(\) betas\[1\] must be a finite number >= 0 and < 1, got float 1.0"),
    (lambda p: nn.Adam(p, betas=0.9), TypeError, r"betas must be a pair"),
    (lambda p: nn.Adam(p, eps=-1e-8), ValueError, r"Adam\(\) eps must be a finite number >= 0"),
    (lambda p: nn.SGD(p, lr="fast"), TypeError, r"SGD\(\) lr must be a finite number > 0, got str 'fast'"),
    (lambda p: nn.SGD(p, lr=float("inf")), ValueError, r"SGD\(\) lr must be a finite number > 0, got float inf"),
])
def test_bad_hyperparameters_are_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


def test_bad_parameter_lists():
    w = Value(1.0)
    with pytest.raises(ValueError, match=r"SGD\(\) params must hold at least one Value, got none"):
        nn.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        nn.SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match=r"Adam\(\) params\[0\] must be a Value"):
        nn.Adam([1.0])
    with pytest.raises(ValueError, match="must be a leaf"):
        nn.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="model.parameters"):
        nn.SGD(nn.Neuron(2), lr=0.1)
