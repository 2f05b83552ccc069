"""gradcheck: passes on every op of the table, fails with its table on a wrong derivative."""

import inspect
import math
import xml.etree.ElementTree as ElementTree
from dataclasses import replace

import pytest

from autodiff import OPS, GradcheckError, Op, Value, gradcheck
from autodiff.ops import cos
from autodiff.value import _apply

# op name -> (how the public API builds it, points inside its smooth domain)
BUILDS = {
    "add": (lambda a, b: a + b, [(1.0, 2.0)]),
    "sub": (lambda a, b: a - b, [(1.0, 2.0)]),
    "mul": (lambda a, b: a * b, [(1.5, -2.0)]),
    "div": (lambda a, b: a / b, [(1.5, 2.0), (-3.0, 0.5)]),
    "neg": (lambda x: -x, [(-2.0,)]),
    "sum": (lambda a, b, c: Value.sum([a, b, c]), [(0.3, -0.4, 5.0)]),
    "pow": (lambda a, b: a ** b, [(1.5, 2.0), (0.7, 3.3)]),
    "pow_const": (lambda x: x ** 3.3, [(0.7,), (2.0,)]),
    "rpow_const": (lambda x: 2.0 ** x, [(-1.5,), (3.0,)]),
    "exp": (lambda x: x.exp(), [(-3.0,), (2.0,)]),
    "log": (lambda x: x.log(), [(0.1,), (2.5,)]),
    "sqrt": (lambda x: x.sqrt(), [(0.04,), (9.0,)]),
    "abs": (lambda x: abs(x), [(-2.5,), (0.3,)]),
    "tanh": (lambda x: x.tanh(), [(-3.0,), (0.7,)]),
    "sigmoid": (lambda x: x.sigmoid(), [(-6.0,), (0.3775,)]),
    "relu": (lambda x: x.relu(), [(-2.0,), (0.2,)]),
    "step": (lambda x: x.step(), [(-2.0,), (0.2,)]),
    "arctan": (lambda x: x.arctan(), [(-10.0,), (2.0,)]),
    "sin": (lambda x: x.sin(), [(-2.0,), (0.5,)]),
    "cos": (lambda x: x.cos(), [(-2.0,), (0.5,)]),
    "softplus": (lambda x: x.softplus(), [(-5.0,), (6.0,)]),
    "log_sigmoid": (lambda x: x.log_sigmoid(), [(-5.0,), (6.0,)]),
}

# sin with a derivative twice too large: the mistake gradcheck exists to catch
WRONG_SIN = replace(OPS["sin"], local=lambda y, x: (2.0 * cos(x),))


def wrong_sin(x):
    return _apply(WRONG_SIN, (x,))


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_case(name):
    assert name in BUILDS, f"op {name!r} has no gradcheck case in BUILDS"
    build, points = BUILDS[name]
    assert build(*map(Value, points[0])).op == name


@pytest.mark.parametrize(("name", "point"),
                         [(name, p) for name, (_, points) in BUILDS.items() for p in points])
def test_gradcheck_passes_on_every_op(name, point):
    assert gradcheck(BUILDS[name][0], point) is True


def test_gradcheck_passes_on_a_composite():
    f = lambda w, x, b: (w * x + b).sigmoid() * (x - w).tanh()
    assert gradcheck(f, (0.4, 0.593269992, 0.6))


def test_gradcheck_fails_with_a_table_naming_the_wrong_input():
    y = Value(2.0, label="y")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: wrong_sin(x) * y, (1.0, y))
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == ("gradcheck failed for 1 of 2 inputs at (1, 2) "
                        "with eps=1e-06, atol=1e-05, rtol=0.001:")
    assert lines[1].split() == ["input", "analytic", "numeric", "|error|", "allowed"]
    wrong, right = lines[2].split(), lines[3].split()
    assert wrong[0] == "args[0]" and wrong[-1] == "FAIL"
    assert float(wrong[1]) == pytest.approx(4 * math.cos(1.0), abs=1e-9)   # 2·cos(1)·y
    assert float(wrong[2]) == pytest.approx(2 * math.cos(1.0), abs=1e-9)
    assert float(wrong[3]) == pytest.approx(2 * math.cos(1.0), abs=1e-9)
    assert float(wrong[4]) == pytest.approx(1e-5 + 1e-3 * 2 * math.cos(1.0), abs=1e-9)
    assert right[0] == "y" and right[-1] == "ok"
    assert float(right[1]) == pytest.approx(math.sin(1.0), abs=1e-9)
    assert [row.ok for row in info.value.rows] == [False, True]


def test_a_notebook_shows_the_failure_as_an_escaped_html_table_of_the_same_cells():
    hostile = '<td>a & "b"</td>'
    y = Value(2.0, label=hostile)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: wrong_sin(x) * y, (1.0, y))
    page = info.value._repr_html_()
    root = ElementTree.fromstring(page)     # well-formed, or this raises
    assert root.tag == "div" and root.get("class") == "backprop-lens-gradcheck"
    assert root.find("p").text == str(info.value).splitlines()[0]
    header = [th.text or "" for th in root.find("table/thead/tr")]
    rows = [[td.text or "" for td in tr] for tr in root.find("table/tbody")]
    assert header == ["input", "analytic", "numeric", "|error|", "allowed", ""]
    # the text table's cells, one HTML cell each, the hostile label as text and never as markup
    text_rows = [line.split() for line in str(info.value).splitlines()[2:]]
    assert [rows[0]] == [text_rows[0]]
    assert rows[1][0] == hostile and rows[1][1:] == text_rows[1][-5:]
    assert [row[-1] for row in rows] == ["FAIL", "ok"]
    assert len(root.findall(".//td")) == 12 and hostile not in page


def test_a_wrong_partial_of_a_binary_op_is_caught_on_that_input_alone():
    wrong_mul = replace(OPS["mul"], local=lambda y, a, b: (b, b))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: _apply(wrong_mul, (a, b)), (3.0, 5.0))
    assert [row.ok for row in info.value.rows] == [True, False]
    assert info.value.rows[1].analytic == 5.0
    assert info.value.rows[1].numeric == pytest.approx(3.0)


def double(local) -> Op:
    """An op row for 2x with the given derivative rule, kept out of the op table."""
    return replace(OPS["neg"], name="double", symbol="2×", notation="2*x", formulas=("2",),
                   forward=lambda x: 2 * x, batched=lambda x: 2 * x, local=local)


def test_the_pass_rule_is_pytorchs():
    assert {name: p.default for name, p in inspect.signature(gradcheck).parameters.items()
            if p.default is not p.empty} == {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    # f(x) = 2x, numeric slope 2: allowed error is atol + rtol·2 = 0.00201
    for offset, passes in ((0.0020, True), (0.0021, False)):
        off = double(lambda y, x, offset=offset: (2.0 + offset,))
        if passes:
            assert gradcheck(lambda x: _apply(off, (x,)), 0.7)
        else:
            with pytest.raises(GradcheckError):
                gradcheck(lambda x: _apply(off, (x,)), 0.7)
    loose = double(lambda y, x: (2.5,))
    assert gradcheck(lambda x: _apply(loose, (x,)), 0.7, atol=0.6, rtol=0.0)


def test_a_nan_gradient_never_passes():
    nan_rule = double(lambda y, x: (math.nan,))
    with pytest.raises(GradcheckError, match="nan"):
        gradcheck(lambda x: _apply(nan_rule, (x,)), 1.0)


def test_gradcheck_leaves_the_grads_of_given_values_alone():
    x = Value(0.5, label="x")
    x.grad = 7.0
    assert gradcheck(lambda t: t.tanh(), (x,))
    assert x.grad == 7.0 and x.is_leaf


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: gradcheck(3, (1.0,)), TypeError, "gradcheck() f must be a function, got int 3"),
    (lambda: gradcheck(lambda x: x, "1.0"), TypeError,
     "args must be a number or a tuple or list of numbers, got str '1.0'"),
    (lambda: gradcheck(lambda x: x, (None,)), TypeError,
     "gradcheck() args[0] must be a real number or a Value"),
    (lambda: gradcheck(lambda x: x, (1.0,), eps=0.0), ValueError,
     "gradcheck() eps must be a finite number > 0, got float 0.0"),
    (lambda: gradcheck(lambda x: x, (1.0,), atol=-1.0), ValueError,
     "gradcheck() atol must be a finite number >= 0, got float -1.0"),
    (lambda: gradcheck(lambda x: x, (1.0,), rtol="0.1"), TypeError,
     "gradcheck() rtol must be a finite number >= 0, got str '0.1'"),
    (lambda: gradcheck(lambda x: x, (1.0,), eps=math.inf), ValueError,
     "gradcheck() eps must be a finite number > 0, got float inf"),
    (lambda: gradcheck(lambda x: [x], (1.0,)), TypeError, "needs f to return a scalar"),
])
def test_gradcheck_rejects_bad_arguments(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
