"""no_grad, enable_grad and detect_anomaly: what ops record, and the errors anomaly mode raises."""

import asyncio
import math
import threading

import pytest

from autodiff import (AnomalyError, Value, detect_anomaly, enable_grad, grad, gradients, jvp,
                      no_grad)
from autodiff import value as value_module


def every_kind_of_op(x, y):
    """One node from each way an op is made: operators, reflected operators, methods and Σ."""
    return [x + y, x - y, x * y, x / y, x ** y, x ** 2, 2 ** x, 3 - x, -x, abs(x),
            x.tanh(), x.exp(), x.relu(), Value.sum([x, y, 1.0])]


# -- no_grad ------------------------------------------------------------------------------------

def test_no_grad_records_nothing_but_still_computes():
    x, y = Value(1.5, label="x"), Value(2.0, label="y")
    recorded = every_kind_of_op(x, y)
    with no_grad():
        frozen = every_kind_of_op(x, y)
    for made, plain in zip(frozen, recorded):
        assert made.is_leaf and made.parents == () and made.op == ""
        assert made.data == plain.data
    frozen[2].backward()
    assert x.grad == 0.0 and y.grad == 0.0


def test_no_grad_as_a_decorator():
    @no_grad()
    def square(v):
        return v * v
    x = Value(3.0)
    out = square(x)
    assert out.is_leaf and out.data == 9.0
    assert not (x * x).is_leaf     # recording is back once the function returns


def test_a_recursive_decorated_function_restores_recording_on_the_way_out():
    @no_grad()
    def countdown(n):
        return countdown(n - 1) if n else Value(2.0) * 3
    assert countdown(3).is_leaf
    assert not (Value(2.0) * 3).is_leaf
    mode = detect_anomaly()
    with mode:
        with mode:
            pass
        assert value_module.anomaly_enabled()
    assert not value_module.anomaly_enabled()


def test_enable_grad_inside_no_grad_and_nesting_restores_each_level():
    x = Value(2.0)
    with no_grad():
        with enable_grad():
            inner = x * x
        outer = x * x
        with no_grad():
            doubly = x * x
        after_nested = x * x
    assert not inner.is_leaf and inner.parents == (x, x)
    assert outer.is_leaf and doubly.is_leaf and after_nested.is_leaf
    assert not (x * x).is_leaf


def test_no_grad_restores_recording_after_an_exception():
    x = Value(2.0)
    with pytest.raises(TypeError):
        with no_grad():
            x * "two"
    assert not (x * x).is_leaf


def test_a_no_grad_result_is_a_constant_to_gradients():
    x = Value(2.0)
    with no_grad():
        frozen = x * x
    assert gradients(frozen * x, [x]) == (4.0,)


# -- detect_anomaly -----------------------------------------------------------------------------

def test_anomaly_names_log_and_the_label_x():
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            Value(0.0, label="x").log()
    message = str(info.value)
    assert message.startswith("log ")
    assert "-inf" in message and "x=0.0" in message
    assert isinstance(info.value, ArithmeticError)


def test_without_anomaly_mode_the_ieee_result_stands():
    assert Value(0.0, label="x").log().data == -math.inf


@pytest.mark.parametrize(("make", "op", "shown"), [
    (lambda x: x / 0, "div", "inf"),
    (lambda x: (x - 5).sqrt(), "sqrt", "nan"),
    (lambda x: (x * 1000).exp(), "exp", "inf"),
    (lambda x: (x - 5) ** 0.5, "pow_const", "nan"),
])
def test_anomaly_in_the_forward_pass_names_the_op_and_its_inputs(make, op, shown):
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            make(Value(3.0, label="a"))
    assert str(info.value).startswith(f"{op} gave {shown} in the forward pass from ")


def test_anomaly_in_the_backward_pass_names_the_node_and_its_input():
    x = Value(0.0, label="x")
    root = x.sqrt()            # √0 = 0 is fine; its derivative 1/(2√0) is not
    root.label = "root"
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            root.backward()
    message = str(info.value)
    assert message.startswith("sqrt (node 'root') has local derivative inf with respect to its "
                              "input 'x' in the backward pass")
    assert "inputs: x=0.0" in message


def test_anomaly_mode_reaches_gradients_and_jvp():
    with detect_anomaly():
        x = Value(0.0, label="x")
        with pytest.raises(AnomalyError, match="sqrt"):
            gradients(x.sqrt(), [x])
        with pytest.raises(AnomalyError, match="sqrt"):
            jvp(lambda t: t.sqrt(), (0.0,), (1.0,))
        with pytest.raises(AnomalyError, match="div"):
            grad(grad(lambda t: t.sqrt()))(0.0)


def test_anomaly_mode_as_a_decorator_and_restored_after_it_raises():
    @detect_anomaly()
    def reciprocal(v):
        return 1 / v
    with pytest.raises(AnomalyError, match="div"):
        reciprocal(Value(0.0))
    assert (1 / Value(0.0)).data == math.inf
    assert not value_module.anomaly_enabled()


def test_anomaly_mode_checks_even_where_nothing_is_recorded():
    with detect_anomaly(), no_grad():
        with pytest.raises(AnomalyError, match="log"):
            Value(-1.0).log()
        assert Value(4.0).sqrt().is_leaf


def test_anomaly_mode_leaves_finite_graphs_alone():
    x, y = Value(1.5, label="x"), Value(2.0, label="y")
    with detect_anomaly():
        nodes = every_kind_of_op(x, y)
        for node in nodes:
            node.backward()
    assert all(not n.is_leaf for n in nodes)
    assert math.isfinite(x.grad) and math.isfinite(y.grad)


# -- modes are per thread and per asyncio task ----------------------------------------------------

def in_thread(target):
    """Start target in a thread; the caller joins it."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def overlapping_no_grad_blocks():
    """Two threads whose no_grad blocks overlap: A enters, B enters, A leaves, B leaves."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with no_grad():
            a_in.set()
            b_in.wait()
        a_out.set()

    def b():
        a_in.wait()
        with no_grad():
            b_in.set()
            a_out.wait()

    for thread in [in_thread(a), in_thread(b)]:
        thread.join()


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on_1000_times():
    for _ in range(1000):
        overlapping_no_grad_blocks()
        x = Value(2.0)
        (x * x).backward()
        assert x.grad == 4.0


def test_a_thread_in_no_grad_never_stops_another_thread_recording():
    entered, done = threading.Event(), threading.Event()

    def frozen():
        with no_grad():
            entered.set()
            done.wait()

    thread = in_thread(frozen)
    entered.wait()
    try:
        made = every_kind_of_op(Value(3.0), Value(2.0))
        assert all(not node.is_leaf for node in made)
    finally:
        done.set()
        thread.join()


def test_a_thread_in_detect_anomaly_never_makes_another_threads_log_raise():
    entered, done = threading.Event(), threading.Event()
    seen = []

    def checking():
        with detect_anomaly():
            entered.set()
            done.wait()
            try:
                Value(0.0).log()
            except AnomalyError:
                seen.append("raised")

    thread = in_thread(checking)
    entered.wait()
    try:
        assert Value(0.0).log().data == -math.inf
        assert not value_module.anomaly_enabled()
    finally:
        done.set()
        thread.join()
    assert seen == ["raised"]      # while the thread that asked for it still checks


def test_graphs_built_while_another_thread_loops_in_no_grad_all_record():
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            with no_grad():
                Value(1.0) * 2

    thread = in_thread(loop)
    try:
        leaves = 0
        for _ in range(20_000):
            x = Value(1.5)
            leaves += (x * x).is_leaf
    finally:
        stop.set()
        thread.join()
    assert leaves == 0


def test_one_decorated_function_running_in_many_threads_restores_each_threads_mode():
    start = threading.Barrier(4)

    @no_grad()
    def frozen(depth):
        if depth:
            return frozen(depth - 1)
        start.wait()
        return Value(2.0) * 3

    results = []

    def run():
        out = frozen(3)
        results.append((out.is_leaf, (Value(2.0) * 3).is_leaf))

    for thread in [in_thread(run) for _ in range(4)]:
        thread.join()
    assert results == [(True, False)] * 4
    assert not (Value(2.0) * 3).is_leaf


def test_a_new_thread_starts_recording_even_when_started_inside_no_grad():
    made = []
    with no_grad():
        in_thread(lambda: made.append(Value(2.0) * 3)).join()
    assert not made[0].is_leaf


def test_asyncio_tasks_keep_their_own_modes_across_awaits():
    async def frozen(entered, resume):
        with no_grad():
            entered.set()
            await resume.wait()
            return Value(2.0) * 3

    async def recording(entered, resume):
        await entered.wait()
        out = Value(2.0) * 3
        resume.set()
        return out

    async def main():
        entered, resume = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(frozen(entered, resume), recording(entered, resume))

    frozen_out, recorded = asyncio.run(main())
    assert frozen_out.is_leaf and not recorded.is_leaf


def test_a_task_created_inside_no_grad_keeps_it_after_the_block_ends():
    async def later(ready):
        await ready.wait()
        return Value(2.0) * 3

    async def main():
        ready = asyncio.Event()
        with no_grad():
            task = asyncio.create_task(later(ready))
        ready.set()                  # the creating block has ended; the task's copy has not
        return await task, Value(2.0) * 3

    before = set(value_module._active)
    in_task, outside = asyncio.run(main())
    assert in_task.is_leaf and not outside.is_leaf
    assert value_module._active <= before   # no mode's state outlives the task that held it


def test_an_anomaly_error_kept_with_its_traceback_leaves_ops_on_the_fast_path():
    before = set(value_module._active)
    with pytest.raises(AnomalyError) as info:
        with detect_anomaly():
            Value(0.0).log()
    assert info.traceback and value_module._active <= before


def test_exiting_a_mode_never_entered_in_this_thread_is_an_error():
    with pytest.raises(RuntimeError, match=r"no_grad\(\) exited in a thread or task it was not "
                                           r"entered in"):
        no_grad().__exit__(None, None, None)
