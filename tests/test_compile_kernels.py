"""Each in-place kernel (autodiff.compile.kernels) against its row of the op table, bit for bit.

A kernel is only a faster way to evaluate its row into a buffer the program keeps: on every pair
of IEEE edge values its forward must give the row's `batched` result, and its backward the row's
`vjp` (or g × local), nan, inf and the sign of every zero included, also when it writes over its
own input (forward) or over g (a unary op's backward).
"""

import itertools
import math

import numpy as np
import pytest

from autodiff import OPS
from autodiff.compile.kernels import KERNELS

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 2.0, 1e-300, -1e300, 1e308, 5e-324,
         math.inf, -math.inf, math.nan]
EXPONENTS = [2.0, 0.5, -1.0, 0.0, 3.0, 1.0, -0.5]   # numpy shortcuts some of these


def identical(a: np.ndarray, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.broadcast_to(np.asarray(b, dtype=float), np.shape(a))
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def points(name: str) -> list[np.ndarray]:
    """Rows of inputs covering every combination of edge values (exponents for powers)."""
    arity = len(OPS[name].inputs)
    if name == "pow_const":
        grid = list(itertools.product(EDGES, EXPONENTS))
    elif name == "rpow_const":
        grid = list(itertools.product(EXPONENTS + [-2.0], EDGES))
    else:
        grid = list(itertools.product(EDGES, repeat=arity))
    return [np.array([p[j] for p in grid])[None, :] for j in range(arity)]


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_kernel_is_a_row_of_the_table(name):
    assert name in OPS


@pytest.mark.parametrize("name", sorted(n for n, k in KERNELS.items() if k.forward is not None))
def test_a_kernels_forward_is_its_rows_batched_bit_for_bit(name):
    kernel, op = KERNELS[name], OPS[name]
    ins = points(name)
    with np.errstate(all="ignore"):
        want = op.batched(*ins)
        out = np.empty_like(ins[0])
        kernel.forward(out, *ins)
        assert identical(out, want)
        over = ins[0].copy()
        kernel.forward(over, over, *ins[1:])   # in place, over its first input
        assert identical(over, want)


@pytest.mark.parametrize("name", sorted(n for n, k in KERNELS.items() if k.backward is not None))
def test_a_kernels_backward_is_its_rows_vjp_bit_for_bit(name):
    kernel, op = KERNELS[name], OPS[name]
    base = points(name)
    n = base[0].shape[1]
    with np.errstate(all="ignore"):
        for g_value in EDGES:
            g = np.full((1, n), g_value)
            ins = [x.copy() for x in base]
            y = op.batched(*ins)
            want = (op.vjp(g, y, *ins) if op.vjp is not None
                    else [g * d for d in op.local(y, *ins)])
            for j in range(len(ins)):
                out = np.empty_like(g)
                kernel.backward(j, out, g, y, ins, np.empty_like(g), np.empty(g.shape, bool))
                assert identical(out, want[j]), (name, j, g_value)
                if len(ins) == 1:
                    over = g.copy()
                    kernel.backward(j, over, over, y, ins, np.empty_like(g),
                                    np.empty(g.shape, bool))
                    assert identical(over, want[j]), (name, "over g", g_value)
            assert all(identical(a, b) for a, b in zip(ins, base))   # inputs left as they were


def test_relus_forward_with_its_second_pass_is_its_row(monkeypatch):
    """Where numpy's maximum keeps -0.0 on a tie, relu's second pass makes it the row's 0.0 (the
    module checks numpy once; the branch it takes here is the forward test's)."""
    import autodiff.compile.kernels as kernels
    monkeypatch.setattr(kernels, "ONE_PASS_RELU", False)
    x = np.array([EDGES * 9])
    out = np.empty_like(x)
    KERNELS["relu"].forward(out, x)
    assert identical(out, OPS["relu"].batched(x))


def test_relus_backward_reads_no_input_and_masks_even_infinite_gradients():
    kernel = KERNELS["relu"]
    assert not kernel.reads_inputs
    y = np.array([[0.0, 0.0, 2.0, np.nan]])
    g = np.array([[np.inf, np.nan, np.inf, 3.0]])
    out = np.empty_like(g)
    kernel.backward(0, out, g, y, [None], np.empty_like(g), np.empty(g.shape, bool))
    assert identical(out, [[0.0, 0.0, np.inf, 3.0]])
