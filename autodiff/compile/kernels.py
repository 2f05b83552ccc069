"""In-place numpy code for the hottest rows of the op table, so a run writes into its own buffers.

The op table's `batched`, `local` and `vjp` return fresh arrays. That is right for a reference, but
at a batch of 10,000 every fresh array of a layer's size is a new mapping of memory, which costs
more than the arithmetic in it. A kernel computes the same numbers with `out=` into buffers the
program keeps. It is only a faster way to evaluate its row: the tests check every kernel against
its row, bit for bit, on IEEE edge values (tests/test_compile_kernels.py). An op without a
kernel runs its row, and its results are copied into the buffers.

`forward(out, *inputs)` writes the op's value; `out` may be the first input's own buffer.
`backward(j, out, g, y, inputs, tmp, mask)` writes the contribution g·∂y/∂input_j (or the row's vjp)
into `out`, which may be `g` itself for a unary op; `tmp` (floats) and `mask` (bools) are scratch
arrays of g's shape. `reads_inputs` False says the backward reads only y and g, so the inputs need
not be kept for it (and relu may overwrite its input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True, slots=True)
class Kernel:
    """How to evaluate one row in place (see the module docstring)."""

    forward: Callable[..., None]
    backward: Callable[..., None] | None = None
    reads_inputs: bool = True
    temporaries: tuple[str, ...] = ()   # which of `tmp` and `mask` its backward writes


def _ufunc(function) -> Callable[..., None]:
    def forward(out, *inputs):
        function(*inputs, out=out)
    return forward


def _maximum_makes_zero_positive() -> bool:
    """Whether np.maximum(x, 0.0) turns -0.0 into 0.0 and keeps nan, as relu's row does.

    numpy documents a tie as either zero (`where(x1 >= x2, x1, x2)` would keep -0.0), and its
    vector and scalar loops need not agree: checked once here, over lengths and offsets that reach
    both, into a new array and in place."""
    for n in (1, 2, 3, 5, 8, 17, 31, 64, 129, 1000):
        for offset in (0, 1):
            x = np.full(n + offset, -0.0)[offset:]
            x[::3] = np.nan
            for out in (None, x.copy()):
                y = np.maximum(x if out is None else out, 0.0, out=out)
                if np.signbit(y[1::3]).any() or np.signbit(y[2::3]).any() or \
                        not np.isnan(y[::3]).all():
                    return False
    return True


ONE_PASS_RELU = _maximum_makes_zero_positive()


def _relu_forward(out, x):
    np.maximum(x, 0.0, out=out)
    if not ONE_PASS_RELU:
        np.add(out, 0.0, out=out)  # max(-0.0, 0.0) may be -0.0 here; the row gives 0.0


def _relu_backward(j, out, g, y, inputs, tmp, mask):
    # g where y > 0 or y is nan, exactly 0.0 where y <= 0, even for an infinite or nan g. A masked
    # copy says just that but is eight times slower on a mask open half the time, and a product
    # with the mask makes 0·inf a nan and -0.0 of a negative g: so the bits of g are kept or
    # cleared whole, with an AND against all ones or all zeros.
    np.less_equal(y, 0.0, out=mask)
    np.logical_not(mask, out=mask)
    keep = tmp.view(np.uint64)
    np.multiply(mask, _ALL_ONES, out=keep)
    np.bitwise_and(g.view(np.uint64), keep, out=out.view(np.uint64))


_ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _tanh_backward(j, out, g, y, inputs, tmp, mask):
    np.multiply(y, y, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.multiply(g, tmp, out=out)


def _sigmoid_backward(j, out, g, y, inputs, tmp, mask):
    np.subtract(1.0, y, out=tmp)
    np.multiply(y, tmp, out=tmp)
    np.multiply(g, tmp, out=out)


def _exp_backward(j, out, g, y, inputs, tmp, mask):
    np.multiply(g, y, out=out)


def _mul_backward(j, out, g, y, inputs, tmp, mask):
    np.multiply(g, inputs[1 - j], out=out)


KERNELS: dict[str, Kernel] = {
    name: Kernel(_ufunc(function)) for name, function in {
        "add": np.add, "sub": np.subtract, "div": np.true_divide, "neg": np.negative,
        "log": np.log, "sqrt": np.sqrt, "abs": np.absolute, "arctan": np.arctan,
        "sin": np.sin, "cos": np.cos, "pow": np.power, "pow_const": np.power,
        "rpow_const": np.power}.items()}
KERNELS.update({
    "mul": Kernel(_ufunc(np.multiply), _mul_backward),
    "exp": Kernel(_ufunc(np.exp), _exp_backward, reads_inputs=False),
    "tanh": Kernel(_ufunc(np.tanh), _tanh_backward, reads_inputs=False, temporaries=("tmp",)),
    "relu": Kernel(_relu_forward, _relu_backward, reads_inputs=False,
                   temporaries=("tmp", "mask")),
})
# sigmoid's forward picks between two formulas per element; its backward reads y alone
KERNELS["sigmoid"] = Kernel(None, _sigmoid_backward, reads_inputs=False, temporaries=("tmp",))
