"""Every public call site of viz × bad values: a TypeError or ValueError that names the argument, and nothing written.

A row is (function, argument) -> (a call taking the bad value and a folder to write into, the names of
the bad values that are in fact allowed there). A callable of `viz.__all__` without a row fails the
coverage test, so a new public function cannot skip its checks.
"""

import math

import pytest

import viz
from autodiff import Value, trace
from viz import cli

BAD = {
    "None": None,
    "str": "x",
    "nan": math.nan,
    "inf": math.inf,
    "bool": True,
    "huge int": 10**400,
    "vast int": 10**5000,      # too long for Python to repr
    "object": object(),
    "empty str": "",
}


def example():
    """(output, its graph, the first step of its backward pass) of a small expression, after backward."""
    x, w = Value(0.5, "x"), Value(-2.0, "w")
    out = (x * w + 1).tanh()
    out.label = "out"
    graph = trace(out)
    steps = graph.backward()
    return out, graph, steps[0]


OUT, GRAPH, STEP = example()
DRAW_OPTIONS = {"rankdir": set(), "number_format": set(), "color_grads": {"bool"}, "clusters": {"bool"},
                "legend": {"bool"}, "max_nodes": set(), "highlight": {"None"}, "edge_labels": {"bool"}}
FRAME_OPTIONS = {name: allowed for name, allowed in DRAW_OPTIONS.items() if name != "color_grads"}
FRAME_OPTIONS["max_bytes"] = set()
STEPPER_OPTIONS = {**FRAME_OPTIONS, "lr": {"None"}}

ROWS = {}
for option, allowed in DRAW_OPTIONS.items():
    ROWS["draw", option] = (lambda bad, folder, o=option: viz.draw(OUT, **{o: bad}), allowed)
    ROWS["render", option] = (lambda bad, folder, o=option: viz.render(OUT, folder / "g.svg", **{o: bad}), allowed)
for option, allowed in FRAME_OPTIONS.items():
    ROWS["backward_frames", option] = (lambda bad, folder, o=option: viz.backward_frames(OUT, **{o: bad}), allowed)
    ROWS["save_frames", option] = (lambda bad, folder, o=option: viz.save_frames(OUT, folder / "f", **{o: bad}),
                                   allowed)
for option, allowed in STEPPER_OPTIONS.items():
    ROWS["save_stepper", option] = (lambda bad, folder, o=option: viz.save_stepper(OUT, folder / "s.html",
                                                                                   **{o: bad}), allowed)
    ROWS["stepper", option] = (lambda bad, folder, o=option: viz.stepper(OUT, **{o: bad}), allowed)
ROWS.update({
    ("draw", "output"): (lambda bad, folder: viz.draw(bad), set()),
    ("render", "output"): (lambda bad, folder: viz.render(bad, folder / "g.svg"), set()),
    ("render", "path"): (lambda bad, folder: viz.render(OUT, bad), set()),
    ("backward_frames", "output"): (lambda bad, folder: viz.backward_frames(bad), set()),
    ("save_frames", "output"): (lambda bad, folder: viz.save_frames(bad, folder / "f"), set()),
    # a str is a folder name; it would be created in the current folder
    ("save_frames", "folder"): (lambda bad, folder: viz.save_frames(OUT, bad), {"str"}),
    ("save_frames", "format"): (lambda bad, folder: viz.save_frames(OUT, folder / "f", format=bad), set()),
    ("save_stepper", "output"): (lambda bad, folder: viz.save_stepper(bad, folder / "s.html"), set()),
    ("save_stepper", "path"): (lambda bad, folder: viz.save_stepper(OUT, bad), set()),
    ("stepper", "output"): (lambda bad, folder: viz.stepper(bad), set()),
    ("Stepper.save", "path"): (lambda bad, folder: viz.stepper(OUT).save(bad), set()),
    ("caption", "graph"): (lambda bad, folder: viz.caption(bad, STEP), set()),
    ("caption", "step"): (lambda bad, folder: viz.caption(GRAPH, bad), set()),
    ("caption", "fmt"): (lambda bad, folder: viz.caption(GRAPH, STEP, bad), set()),
    ("kind", "node"): (lambda bad, folder: viz.kind(bad), set()),
    ("neurons", "graph"): (lambda bad, folder: viz.neurons(bad), set()),
    # main(None) reads sys.argv, as a console entry point does
    ("main", "argv"): (lambda bad, folder: cli.main(bad), {"None"}),
    ("run", "argv"): (lambda bad, folder: cli.run(bad), set()),
})
EXCEPTIONS = {"DotNotFoundError"}    # raised by viz, not called by its users


CASES = [(function, argument, value) for (function, argument), (_, allowed) in sorted(ROWS.items())
         for value in BAD if value not in allowed]


@pytest.mark.parametrize(("function", "argument", "value"), CASES)
def test_bad_argument_is_refused_by_name_and_writes_nothing(function, argument, value, tmp_path):
    call, _ = ROWS[function, argument]
    with pytest.raises((TypeError, ValueError)) as refused:
        call(BAD[value], tmp_path)
    message = str(refused.value)
    assert f"{function}() {argument}" in message, message
    assert list(tmp_path.iterdir()) == []


CLASSES = {"Stepper": ["save"]}     # made by viz.stepper(); their public methods take arguments


def test_every_public_callable_has_a_row():
    covered = {function for function, _ in ROWS}
    public = {name for name in viz.__all__ if callable(getattr(viz, name))}
    assert public - EXCEPTIONS - set(CLASSES) - covered == set(), "give each public function its rows in ROWS"
    assert all(issubclass(getattr(viz, name), Exception) for name in EXCEPTIONS)
    for name, methods in CLASSES.items():
        assert sorted(m for m in dir(getattr(viz, name)) if not m.startswith("_")
                      and callable(getattr(getattr(viz, name), m))) == methods
        assert {f"{name}.{method}" for method in methods} <= covered
    assert {"main", "run"} <= covered


def test_highlight_must_be_a_node_of_the_drawn_graph(tmp_path):
    from autodiff import explain

    stranger = Value(1.0, "stranger")
    with pytest.raises(ValueError, match=r"draw\(\) highlight 'stranger' \(.*\) is not in the graph of output out: "
                                         r"no path leads from the output to it"):
        viz.draw(OUT, highlight=stranger)
    other = Value(2.0, "a") * Value(3.0, "b")
    with pytest.raises(ValueError, match=r"save_stepper\(\) highlight is a derivation of ∂\(a·b\)/∂a over another "
                                         r"graph: its nodes are not all in the graph of output out"):
        viz.save_stepper(OUT, tmp_path / "s.html", highlight=explain(other, other.parents[0]))
    assert list(tmp_path.iterdir()) == []


def test_lr_is_a_positive_finite_number(tmp_path):
    for bad in (0, -0.5, math.inf):
        with pytest.raises(ValueError, match=r"stepper\(\) lr must be a finite number > 0, got"):
            viz.stepper(OUT, lr=bad)
    assert list(tmp_path.iterdir()) == []


def test_unknown_options_are_named(tmp_path):
    with pytest.raises(TypeError, match="render\\(\\) got unknown options 'colour'"):
        viz.render(OUT, tmp_path / "g.svg", colour=True)
    with pytest.raises(TypeError, match="save_frames\\(\\) got unknown options 'final'"):
        viz.save_frames(OUT, tmp_path / "frames", final=True)
    with pytest.raises(TypeError, match="save_frames\\(\\) got unknown options 'lr'"):
        viz.save_frames(OUT, tmp_path / "frames", lr=0.5)
    assert list(tmp_path.iterdir()) == []


def test_a_caption_of_another_graphs_step_is_refused():
    _, other_graph, _ = example()
    with pytest.raises(ValueError, match="caption\\(\\) step is a step of another graph"):
        viz.caption(other_graph, STEP)
