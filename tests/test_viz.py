"""viz: drawings, rendering and the backward-step frames, checked on the lecture's worked example."""

import html
import re
import xml.etree.ElementTree as ET

import graphviz
import pytest

import viz
from autodiff import Constant, Parameter, Value, format_number, trace
from viz.dot import STYLES

LECTURE_PRINTED = {  # name -> the lecture's printed value (from the lecture's text, not from the code)
    "out_h1": "0.593269992", "out_h2": "0.596884378", "net_o1": "1.105905967", "out_o1": "0.75136507",
    "out_o2": "0.772928465", "E": "0.298371109",
}
LECTURE_GRADS = {"w5": "0.082167041", "w1": "0.000438568"}


def lecture_example():
    """The lecture's 2-2-2 network on one example; returns (E, {label: node})."""
    i1, i2 = Value(0.05, "i1"), Value(0.10, "i2")
    w = [Parameter(x, f"w{k}") for k, x in enumerate([.15, .20, .25, .30, .40, .45, .50, .55], start=1)]
    b1, b2 = Parameter(0.35, "b1"), Parameter(0.60, "b2")

    def neuron(wa, xa, wb, xb, b, name):
        net = Value.sum([wa * xa, wb * xb, b])
        net.label = f"net_{name}"
        out = net.sigmoid()
        out.label = f"out_{name}"
        return out

    out_h1 = neuron(w[0], i1, w[1], i2, b1, "h1")
    out_h2 = neuron(w[2], i1, w[3], i2, b1, "h2")
    out_o1 = neuron(w[4], out_h1, w[5], out_h2, b2, "o1")
    out_o2 = neuron(w[6], out_h1, w[7], out_h2, b2, "o2")
    E = 0.5 * (0.01 - out_o1) ** 2 + 0.5 * (0.99 - out_o2) ** 2
    E.label = "E"
    nodes = {n.label: n for n in trace(E).nodes if n.label}
    return E, nodes


def mlp_example(sizes=(3, 4, 4, 1)):
    """A tanh MLP labelled as nn labels its parameters, on one example, with a squared-error loss."""
    x = [Value(0.1 * (k + 1), f"x{k}") for k in range(sizes[0])]
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        outs = []
        for n in range(n_out):
            ws = [Parameter(((layer + 3 * n + 5 * i) % 7 - 3) / 5, f"layers.{layer}.neurons.{n}.w.{i}")
                  for i in range(n_in)]
            b = Parameter(0.1 * n - 0.05, f"layers.{layer}.neurons.{n}.b")
            outs.append(Value.sum([wi * xi for wi, xi in zip(ws, x)] + [b]).tanh())
        x = outs
    return (x[0] - 0.5) ** 2


@pytest.fixture
def lecture():
    E, nodes = lecture_example()
    E.backward()
    return E, nodes


def node_statements(source):
    """{node id: its attribute text} for the value nodes (v<k>) of a DOT source."""
    return dict(re.findall(r"^\s*(v\d+) \[(.*)\]$", source, flags=re.M))


def test_lecture_numbers_match_the_printed_ones(lecture):
    E, nodes = lecture
    for name, printed in {**LECTURE_PRINTED}.items():
        assert format_number(nodes[name].data) == printed
    for name, printed in LECTURE_GRADS.items():
        assert format_number(nodes[name].grad) == printed


def test_dot_has_every_value_and_gradient_at_the_printed_digits(lecture):
    E, nodes = lecture
    source = viz.draw(E).source
    for name, printed in LECTURE_PRINTED.items():
        assert f"<B>{name}</B></TD></TR><TR><TD>data {printed}</TD>" in source
    for name, printed in LECTURE_GRADS.items():
        assert re.search(rf"<B>{name}</B>.*grad {printed}<", source)
    graph = trace(E)
    for node in graph.nodes:
        if isinstance(node, Constant):
            continue
        assert (f"<B>{graph.name(node)}</B></TD></TR><TR><TD>data {format_number(node.data)}</TD></TR>"
                f"<TR><TD>grad {format_number(node.grad)}</TD>") in source


def test_kinds_of_leaves_are_styled_apart(lecture):
    E, nodes = lecture
    graph = trace(E)
    source = viz.draw(E, legend=False).source
    statements = node_statements(source)
    ids = {node: f"v{k}" for k, node in enumerate(graph.nodes)}
    looks = {}
    for node in graph.nodes:
        kind = viz.kind(node)
        attrs = statements[ids[node]]
        assert f'class={kind}' in attrs or f'class="{kind}' in attrs
        looks.setdefault(kind, set()).add(re.sub(r"label=<.*?> ", "", re.sub(r" width=\S+", "", attrs))
                                          .split("class=")[0])
    assert set(looks) == {"parameter", "input", "constant", "computed"}
    assert all(len(v) == 1 for v in looks.values()), "every node of one kind looks the same"
    assert len({STYLES[k]["style"] for k in looks}) == 4, "styles differ even without colour"
    assert len({STYLES[k]["fillcolor"] for k in looks}) == 4
    assert viz.kind(nodes["w5"]) == "parameter" and viz.kind(nodes["i1"]) == "input"


def legend_entries(source):
    """{legend entry: its attribute text}, in the order the DOT source gives them."""
    return dict(re.findall(r"^\s*legend_(\w+) \[(.*)\]$", source, flags=re.M))


def test_legend_names_the_kinds_present(lecture):
    source = viz.draw(lecture[0]).source
    for text in ("parameter (learned)", "input", "constant", "computed value"):
        assert f"label=\"{text}\"" in source or f"label={text}" in source
    entries = legend_entries(source)
    assert list(entries) == ["parameter", "input", "constant", "computed", "op"]
    chain = re.findall(r"^\s*legend_(\w+) -> legend_(\w+) \[style=invis\]$", source, flags=re.M)
    assert chain == list(zip(entries, list(entries)[1:])), "entries held in order by invisible edges"
    x = Value(1.0, "x")
    assert list(legend_entries(viz.draw(x * x).source)) == ["input", "computed", "op"]
    assert "legend" not in viz.draw(x * x, legend=False).source


def test_legend_explains_gradient_colours_and_the_steppers_marks(lecture):
    coloured = legend_entries(viz.draw(lecture[0], color_grads=True).source)
    assert list(coloured)[-2:] == ["positive", "negative"]
    assert 'label="grad > 0"' in coloured["positive"] and 'label="grad < 0"' in coloured["negative"]
    for which in ("parameter", "input", "computed"):    # in this mode a fill means a gradient, not a kind
        assert 'fillcolor="#ffffff"' in coloured[which]
    plain = legend_entries(viz.draw(lecture[0]).source)
    assert "positive" not in plain and "highlight" not in plain
    for frame in viz.backward_frames(lecture[0])[:2]:
        entries = legend_entries(frame.source)
        assert list(entries)[-2:] == ["highlight", "touched"]
        assert "this step's node" in entries["highlight"] and "gradient just updated" in entries["touched"]


def test_op_nodes_carry_the_op_table_symbols(lecture):
    E, _ = lecture
    graph = trace(E)
    statements = dict(re.findall(r"^\s*(v\d+op) \[(.*)\]$", viz.draw(E).source, flags=re.M))
    ops = [node for node in graph.nodes if node._op is not None]
    assert len(statements) == len(ops)
    for k, node in enumerate(graph.nodes):
        if node._op is not None:
            assert re.search(rf'label="?{re.escape(node._op.symbol)}"?( |$)', statements[f"v{k}op"])
    assert {node._op.symbol for node in ops} == {"+", "×", "Σ", "σ", "−", "^"}


def test_same_graph_same_drawing():
    first, second = lecture_example()[0], lecture_example()[0]
    assert viz.draw(first).source == viz.draw(second).source


def test_small_gradients_are_never_shown_as_zero():
    x = Value(1.0, "x")
    y = x * 1e-5
    y.label = "y"
    y.backward()
    assert "grad 0.00001<" in viz.draw(y).source
    four = viz.draw(y, number_format=4).source
    assert "grad 1e-05<" in four and "grad 0<" not in four and "grad 0.0000" not in four


def test_number_format_option(lecture):
    E, nodes = lecture
    assert "data 0.2984<" in viz.draw(E, number_format=4).source
    assert "data 2.98e-01<" in viz.draw(E, number_format=lambda v: f"{v:.2e}").source
    with pytest.raises(ValueError, match="draw\\(\\) number_format as decimals must be an int from 0 to 17"):
        viz.draw(E, number_format=40)
    with pytest.raises(TypeError, match="number_format"):
        viz.draw(E, number_format="4")


def test_layout_options_and_errors(lecture):
    E, _ = lecture
    assert "rankdir=LR" in viz.draw(E).source
    assert "rankdir=TB" in viz.draw(E, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir must be one of 'LR', 'TB', 'RL', 'BT', got 'sideways'"):
        viz.draw(E, rankdir="sideways")
    with pytest.raises(TypeError, match="draw\\(\\) output must be an autodiff Value or Graph, got float 0.5"):
        viz.draw(0.5)
    with pytest.raises(ValueError, match="max_nodes must be an int from 1 to"):
        viz.draw(E, max_nodes=0)
    with pytest.raises(TypeError, match="rankdir must be one of 'LR', 'TB', 'RL', 'BT', got int 1"):
        viz.draw(E, rankdir=1)
    with pytest.raises(TypeError, match="color_grads must be True or False, got str 'no'"):
        viz.draw(E, color_grads="no")
    with pytest.raises(TypeError, match="legend must be True or False, got NoneType None"):
        viz.backward_frames(E, legend=None)


def test_colour_by_gradient_sign(lecture):
    E, nodes = lecture
    graph = trace(E)
    statements = node_statements(viz.draw(E, color_grads=True).source)
    ids = {node: f"v{k}" for k, node in enumerate(graph.nodes)}

    def fill(name):
        return re.search(r'fillcolor="(#\w+)"', statements[ids[nodes[name]]])[1]

    def rgb(colour):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))

    positive, negative = rgb(fill("w5")), rgb(fill("w7"))      # ∂E/∂w5 > 0, ∂E/∂w7 < 0
    assert positive[2] > positive[0] and negative[0] > negative[2]
    strong, weak = rgb(fill("out_o1")), rgb(fill("w1"))        # |0.74| against |0.0004|
    assert sum(strong) < sum(weak) < 3 * 255


def test_dead_relu_is_marked():
    x = Value(-2.0, "x")
    alive, dead = (x * -1).relu(), x.relu()
    out = alive + dead
    out.backward()
    source = viz.draw(out).source
    assert source.count(">no grad<") == 1 and "dead-relu" in source


def test_mlp_nodes_are_clustered_by_layer_and_neuron():
    loss = mlp_example()
    graph = trace(loss)
    owner = viz.neurons(graph)
    for node in graph.nodes:
        if isinstance(node, Parameter):
            layer, neuron = map(int, re.match(r"layers\.(\d+)\.neurons\.(\d+)\.", node.label).groups())
            assert owner[node] == (layer, neuron)
    per_neuron = {}
    for node, key in owner.items():
        per_neuron.setdefault(key, []).append(node.op or "param")
    for key, ops in per_neuron.items():  # a neuron holds its products, its Σ and its tanh, nothing more
        n_in = 3 if key[0] == 0 else 4
        assert sorted(ops) == sorted(["param"] * (n_in + 1) + ["mul"] * n_in + ["sum", "tanh"])
    assert loss not in owner and all(not n.label.startswith("x") for n in owner)
    source = viz.draw(loss).source
    assert source.count("subgraph cluster_layer") == 3 + 9
    assert 'label="layer 1 / neuron 2"' in source


def test_truncated_drawing_says_so():
    x = Value(0.5, "x")
    y = x
    for _ in range(300):
        y = (y * 1.0001).tanh()
    source = viz.draw(y, max_nodes=100).source
    shown = len(node_statements(source))
    assert shown == 100
    total = len(trace(y).nodes)
    assert f"truncated: {total - 100:,} of {total:,} nodes not drawn" in source
    assert "truncated" not in viz.draw(y).source


# --- rendering -------------------------------------------------------------------------------

def test_render_svg_png_pdf(lecture, tmp_path):
    E, _ = lecture
    svg = viz.render(E, tmp_path / "e.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "0.082167041" in svg.read_text(encoding="utf-8")
    png = viz.render(E, tmp_path / "e.PNG", rankdir="TB")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 300 < width < 20000 and 300 < height < 20000
    assert viz.render(E, tmp_path / "e.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.PNG", "e.pdf", "e.svg"]


def test_render_rejects_unknown_extension_before_writing(lecture, tmp_path):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf"):
        viz.render(lecture[0], tmp_path / "e.gif")
    with pytest.raises(ValueError, match="does not exist"):
        viz.render(lecture[0], tmp_path / "missing" / "e.svg")
    with pytest.raises(TypeError, match="render\\(\\) path must be a path \\(a str or os.PathLike\\), got int 5"):
        viz.render(lecture[0], 5)
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_loop_or_a_dangling_symlink_is_refused_before_drawing(lecture, tmp_path, monkeypatch):
    def no_drawing(*args, **kwargs):
        raise AssertionError("dot ran before the path was checked")

    monkeypatch.setattr("viz.files.run_dot", no_drawing)
    (tmp_path / "a.svg").symlink_to("b.svg")
    (tmp_path / "b.svg").symlink_to("a.svg")
    (tmp_path / "dangling.svg").symlink_to(tmp_path / "gone" / "target.svg")
    with pytest.raises(ValueError, match=r"render\(\) path: cannot write '.*a.svg': its symlinks form a loop"):
        viz.render(lecture[0], tmp_path / "a.svg")
    with pytest.raises(ValueError, match=rf"folder '{re.escape(str(tmp_path / 'gone'))}' does not exist"):
        viz.render(lecture[0], tmp_path / "dangling.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "b.svg", "dangling.svg"]


def test_save_frames_into_a_symlink_loop_is_refused_before_drawing(lecture, tmp_path, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the frames were drawn before the folder was checked")

    monkeypatch.setattr("viz.steps.sweep", no_work)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    for folder in (tmp_path / "a", tmp_path / "a" / "frames"):
        with pytest.raises(ValueError, match=r"save_frames\(\) folder: cannot write into .*: the symlinks of "
                                             r".* form a loop"):
            viz.save_frames(lecture[0], folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_missing_dot_says_how_to_install_and_leaves_the_dot_file(lecture, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    target = tmp_path / "graph.svg"
    with pytest.raises(viz.DotNotFoundError) as caught:
        viz.render(lecture[0], target)
    message = str(caught.value)
    for needed in ("`dot`", "apt-get install graphviz", "brew install graphviz",
                   "conda install -c conda-forge graphviz", str(tmp_path / "graph.dot")):
        assert needed in message
    assert not target.exists()
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == viz.draw(lecture[0]).source


def test_render_a_frame_digraph(lecture, tmp_path):
    frame = viz.backward_frames(lecture[0])[0]
    assert isinstance(frame, graphviz.Digraph)
    path = viz.render(frame, tmp_path / "frame.svg")
    assert "∂E/∂E = 1" in path.read_text(encoding="utf-8")


# --- frames ----------------------------------------------------------------------------------

def test_one_frame_per_step_with_the_steps_arithmetic():
    E, nodes = lecture_example()
    graph = trace(E)
    steps = graph.backward()
    grads_before = {n: n.grad for n in trace(E).nodes}
    frames = viz.backward_frames(E)
    assert {n: n.grad for n in trace(E).nodes} == grads_before, "drawing frames changes no gradient"
    assert len(frames) == len(steps)
    for frame, step in zip(frames, steps):
        lines = frame.graph_attr["label"].split("\\l")
        assert lines[-1] == "" and "\\l".join(lines[:-1]) == str(step).replace("\n", "\\l")
        assert viz.caption(graph, step) == str(step)
        assert lines[0] == step.head()
        for term in step.terms:
            if not isinstance(term.parent, Constant):
                assert f"    {term.derivative()}   {term.update()}" in lines
    w5_frame = next(f for f, s in zip(frames, steps) if any(t.parent is nodes["w5"] for t in s.terms))
    assert ("∂(w5·out_h1)/∂w5 = out_h1 = 0.593269992   ∂E/∂w5 += 0.138498562 × 0.593269992 = 0.082167041"
            in w5_frame.graph_attr["label"])


def test_captions_write_each_local_derivative_with_its_formula_as_issue_11_asks():
    """The learner's complaint: `∂E/∂net_o1 += 0.74136507 × 0.186815602` did not say that 0.186815602 is
    out_o1(1 − out_o1); and a node named by its expression reads as one symbol after ∂."""
    E, _ = lecture_example()
    labels = "\n".join(frame.graph_attr["label"] for frame in viz.backward_frames(E))
    assert ("out_o1 = σ(net_o1): ∂E/∂out_o1 = 0.74136507\\l    ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.186815602"
            "   ∂E/∂net_o1 += 0.74136507 × 0.186815602 = 0.138498562\\l") in labels
    assert "∂E/∂((0.01 − out_o1)²) += 1 × 0.5 = 0.5" in labels
    assert "∂((0.01 − out_o1)²)/∂(0.01 − out_o1) = 2(0.01 − out_o1) = -1.482730139" in labels
    assert "∂E/∂0.5(" not in labels and "∂E/∂(0.01 − out_o1)²" not in labels


def test_caption_takes_a_number_format():
    E, _ = lecture_example()
    graph = trace(E)
    step = next(s for s in graph.backward() if s.node_name == "out_o1")
    assert viz.caption(graph, step, 3).split("\n") == [
        "out_o1 = σ(net_o1): ∂E/∂out_o1 = 0.741",
        "    ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.187   ∂E/∂net_o1 += 0.741 × 0.187 = 0.138"]


def test_frames_highlight_the_step_and_fill_gradients_as_they_arrive():
    E, nodes = lecture_example()
    graph = trace(E)
    steps = graph.backward()
    ids = {node: f"v{k}" for k, node in enumerate(graph.nodes)}
    frames = viz.backward_frames(E)
    for frame, step in zip(frames, steps):
        statements = node_statements(frame.source)
        highlighted = [i for i, attrs in statements.items() if "highlight" in attrs]
        assert highlighted == [ids[step.node]]
    first = node_statements(frames[0].source)
    assert "grad 1<" in first[ids[E]]
    assert re.search(r"grad</TD>", first[ids[nodes["w1"]]]), "w1 is not reached in the first step"
    last = node_statements(frames[-1].source)
    for node in graph.nodes:
        if not isinstance(node, Constant):
            assert f"grad {format_number(node.grad)}<" in last[ids[node]]


def test_frames_keep_one_layout(lecture, tmp_path):
    E, _ = lecture
    frames = viz.backward_frames(E)
    boxes = []
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        svg = graphviz.pipe("dot", "svg", frame.source.replace(frame.graph_attr["label"], "").encode())
        boxes.append(re.findall(r'<polygon fill="[^"]*" stroke="[^"]*" (?:stroke-width="[^"]*" )?points="([^"]*)"',
                                svg.decode()))
    assert boxes[0] == boxes[1] == boxes[2]


def test_save_frames_writes_numbered_files(lecture, tmp_path):
    paths = viz.save_frames(lecture[0], tmp_path / "frames", format="svg")
    assert [p.name for p in paths] == [f"step_{k:03d}.svg" for k in range(1, len(trace(lecture[0]).backward()) + 1)]
    for path in paths:
        ET.parse(path)
    with pytest.raises(ValueError, match="format must be one of svg, png, pdf, got 'gif'"):
        viz.save_frames(lecture[0], tmp_path / "other", format="gif")
    assert not (tmp_path / "other").exists()


def test_save_frames_without_dot_leaves_the_sources(lecture, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(viz.DotNotFoundError, match="apt-get install graphviz"):
        viz.save_frames(lecture[0], tmp_path)
    assert len(list(tmp_path.glob("step_*.dot"))) == len(viz.backward_frames(lecture[0]))
    assert not list(tmp_path.glob("*.svg"))


def test_an_nn_model_reads_as_layers():
    from nn import MLP
    net = MLP(2, [3, 1], activation="tanh")
    loss = (net([0.5, -1.2]) - 1.0) ** 2
    owner = viz.neurons(trace(loss))
    named = dict(net.named_parameters())
    assert set(named) == {p.label for p in owner if isinstance(p, Parameter)}
    assert sorted(set(owner.values())) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    source = viz.draw(loss).source
    assert 'label="layer 0 / neuron 2"' in source and 'label="layer 1"' in source


def test_stepper_refuses_before_writing(lecture, tmp_path):
    with pytest.raises(ValueError, match=r"\.html, \.htm"):
        viz.save_stepper(lecture[0], tmp_path / "steps.svg")
    from viz.steps import estimate, megabytes
    graph = trace(lecture[0])
    frames = sum(1 for node in graph.nodes if not node.is_leaf) + 1
    boxes = sum(1 for node in graph.nodes if not isinstance(node, Constant))
    size = estimate(graph, format_number, 2000, final=True)
    assert 0.2e6 < size.bytes < 1e6, "the lecture's 24 frames take about 0.4 MB"
    with pytest.raises(ValueError, match=f"draws {frames} frames of {boxes} nodes each, about "
                                         f"{megabytes(size.bytes)} of Graphviz input, more than the limit of "
                                         f"0.1 MB; draw it once without steps"):
        viz.save_stepper(lecture[0], tmp_path / "steps.html", max_bytes=100_000)
    with pytest.raises(TypeError, match="save_stepper\\(\\) max_bytes must be an int from 1 to .*, got str '400'"):
        viz.save_stepper(lecture[0], tmp_path / "steps.html", max_bytes="400")
    assert list(tmp_path.iterdir()) == []


# --- a limit on what stepping through a graph may draw (issue 10, item 5) --------------------------

def tanh_chain(links):
    """x → tanh → tanh → … : `links` steps, each frame drawing every one of the links + 1 nodes."""
    y = Value(0.5, "x")
    for _ in range(links):
        y = y.tanh()
    return y


def wide_sum():
    """One Σ of 160 terms, 100 of them the same input: few nodes, many edges."""
    x = Value(1.0, "x")
    return Value.sum([x * k for k in range(1, 60)] + [x] * 100)


def chain_of_products(label, links=20):
    """x * x * … * x with x labelled `label`: every step's caption names it."""
    x = Value(1.0, label)
    y = x
    for _ in range(links):
        y = y * x
    return y


@pytest.mark.parametrize(("name", "build", "max_nodes"), [
    ("lecture", lambda: lecture_example()[0], 2000),
    ("tanh chain", lambda: tanh_chain(60), 2000),
    ("tanh chain drawn truncated", lambda: tanh_chain(150), 40),
    ("clustered MLP", mlp_example, 2000),
    ("wide sum", wide_sum, 2000),
    ("long labels", lambda: chain_of_products("x" * 3000), 2000),
    ("hostile labels", lambda: chain_of_products("a\x00<b>&#1;\\G\ud800\u202e"), 2000),
    # each written longer in DOT than on screen: &amp;, a doubled backslash, an escaped quote
    ("labels of escaped characters", lambda: chain_of_products("&\\\"" * 1000), 2000),
])
def test_the_size_estimate_follows_the_frames_actually_drawn(name, build, max_nodes):
    from viz.steps import estimate, frames
    output = build()
    graph = trace(output)
    for final in (False, True):
        size = estimate(graph, format_number, max_nodes, final)
        drawn = frames(output, caller="test", max_nodes=max_nodes, final=final, max_bytes=10**9)
        assert size.frames == len(drawn)
        assert size.nodes == min(max_nodes, sum(1 for node in graph.nodes if not isinstance(node, Constant)))
        actual = sum(len(frame.digraph.source.encode()) for frame in drawn)
        assert 0.8 < size.bytes / actual < 1.25, (name, size.bytes, actual)


STEPPING = {   # how each function that steps through a graph is called, writing into a folder
    "backward_frames": lambda out, folder, **options: viz.backward_frames(out, **options),
    "save_frames": lambda out, folder, **options: viz.save_frames(out, folder / "frames", **options),
    "save_stepper": lambda out, folder, **options: viz.save_stepper(out, folder / "steps.html", **options),
}


@pytest.mark.parametrize("function", sorted(STEPPING))
def test_a_1000_link_chain_is_refused_before_any_work(function, tmp_path, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the backward pass was stepped through before the size was checked")

    from viz.steps import estimate, megabytes
    monkeypatch.setattr("viz.steps.sweep", no_work)
    chain = tanh_chain(1000)
    final = function == "save_stepper"
    size = estimate(trace(chain), format_number, 2000, final)
    assert size.bytes > 300e6, "a thousand frames of a thousand nodes: hundreds of megabytes"
    with pytest.raises(ValueError) as refused:
        STEPPING[function](chain, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{function}(): stepping through this graph draws {1000 + final:,} frames of 1,001 "
                              f"nodes each, about {megabytes(size.bytes)} of Graphviz input, more than the limit "
                              f"of 10 MB; ")
    for advice in ("draw it once without steps (viz.draw or viz.render)", "a smaller graph", "max_bytes="):
        assert advice in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("function", sorted(STEPPING))
def test_max_bytes_raises_or_lowers_the_limit(function, lecture, tmp_path):
    E, _ = lecture
    with pytest.raises(ValueError, match="more than the limit of 0.1 MB"):
        STEPPING[function](E, tmp_path, max_bytes=100_000)
    assert list(tmp_path.iterdir()) == []
    STEPPING[function](E, tmp_path, max_bytes=1_000_000)


def test_the_limit_is_the_estimate_and_the_default_draws_a_100_step_chain():
    from viz.steps import DEFAULT_MAX_BYTES, estimate
    chain = tanh_chain(100)
    size = estimate(trace(chain), format_number, 2000, final=False)
    assert 1e6 < size.bytes < DEFAULT_MAX_BYTES, "about 5 MB"
    with pytest.raises(ValueError, match="draws 100 frames of 101 nodes each"):
        viz.backward_frames(chain, max_bytes=size.bytes - 1)
    assert len(viz.backward_frames(chain, max_bytes=size.bytes)) == 100
    assert len(viz.backward_frames(chain)) == 100


@pytest.mark.parametrize("module", ["viz", "viz.cli", "viz.dot", "viz.files", "viz.page", "viz.steps", "viz.text"])
def test_docstring_examples_run(module):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


# --- labels that are not plain text (issue 10, item 9) -----------------------------------------------

HOSTILE = {
    "NUL": "a\x00b",
    "bell": "c\x07d",
    "terminal escape": "e\x1b[31mf",
    "DEL and C1 controls": "g\x7fh\x85i\x9bj",
    "newline, tab, carriage return": "k\nl\tm\rn",
    "lone high surrogate": "\ud800o",
    "lone low surrogate": "p\udc00",
    "right-to-left override": "q\u202er",
    "line separator": "s\u2028t",
    "noncharacters": "u\ufffev\uffff",
    "markup": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "character references": "&#0;&#1;&amp;",
    "DOT escapes": "\\G\\N\\l\\E",
    "trailing backslash": "w\\",
    "quotes and braces": "y\" } z { [label=1] '",
    "emoji and accents": "é😀ß",
}
SHOWN = {   # what a reader sees: every character that is not plain text written as an escape
    "NUL": "a\\x00b", "bell": "c\\x07d", "terminal escape": "e\\x1b[31mf",
    "DEL and C1 controls": "g\\x7fh\\x85i\\x9bj", "newline, tab, carriage return": "k\\nl\\tm\\rn",
    "lone high surrogate": "\\ud800o", "lone low surrogate": "p\\udc00", "right-to-left override": "q\\u202er",
    "line separator": "s\\u2028t", "noncharacters": "u\\ufffev\\uffff",
}


def hostile_graph(label):
    """x (labelled `label`) times w, squared, after backward: (x, loss)."""
    x, w = Value(1.5, label=label), Value(-2.0, label="w")
    y = (x * w) ** 2
    y.label = "E" + label
    y.backward()
    return x, y


def svg_texts(path):
    """Every piece of text a rendered SVG shows, as the reader sees it."""
    return [element.text or "" for element in ET.parse(path).getroot().iter() if element.tag.endswith("text")]


def test_every_hostile_label_has_its_expected_view():
    from viz.text import visible
    for name, label in HOSTILE.items():
        assert visible(label) == SHOWN.get(name, label), name


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_labels_are_drawn_shown_and_stepped_through(name, tmp_path):
    from html.parser import HTMLParser

    from autodiff.notation import partial
    from viz.text import visible

    label, shown = HOSTILE[name], SHOWN.get(name, HOSTILE[name])
    x, E = hostile_graph(label)
    svg = viz.render(E, tmp_path / "graph.svg")
    assert shown in svg_texts(svg) and "E" + shown in svg_texts(svg)
    assert viz.render(E, tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"

    frames = viz.backward_frames(E)
    step_of_x = 1      # (x·w)², then x·w, whose step passes a gradient to x
    caption_svg = viz.render(frames[step_of_x], tmp_path / "frame.svg")
    update = visible(partial("E" + label, label)) + " += -6 × -2 = 12"
    assert any(update in text for text in svg_texts(caption_svg)), \
        "the caption shows the label literally (no \\G, \\N, \\l or &#…; read by Graphviz)"

    paths = viz.save_frames(E, tmp_path / "frames")
    assert len(paths) == len(frames)
    for path in paths:
        ET.parse(path)

    page = viz.save_stepper(E, tmp_path / "steps.html").read_bytes().decode("utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("<script>") == 1

    class Captions(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            if tag == "section":
                self.found.append(dict(attrs)["data-caption"])

    reader = Captions()
    reader.found = []
    reader.feed(page)
    assert update in reader.found[step_of_x]
    assert reader.found[step_of_x].count("\n") == 2, "the step and its two terms; a newline in a label starts no line"
    assert f"<title>Backward pass of E{html.escape(shown)}</title>" in page


def test_number_format_text_is_escaped_and_must_be_text(lecture, tmp_path):
    E, _ = lecture
    svg = viz.render(E, tmp_path / "g.svg", number_format=lambda value: "\x00<b>")
    assert "data \\x00<b>" in svg_texts(svg)
    with pytest.raises(TypeError, match=r"draw\(\) number_format must return a str, returned float 0.5"):
        viz.draw(E, number_format=lambda value: 0.5)


def test_text_that_looks_like_markup_is_never_read_as_a_graphviz_html_label(tmp_path):
    """A DOT string written <…> would be an HTML-like label: an edge label made of a number format's
    text (and a name) is shown as written, not read as markup (nor refused by dot)."""
    x = Value(2.0, "<x")
    y = x * x + x
    y.label = "<y"
    y.backward()
    svg = viz.render(y, tmp_path / "g.svg", edge_labels=True, number_format=lambda value: "<TABLE>")
    assert "<TABLE>" in svg_texts(svg) and "<x" in svg_texts(svg)
    svg = viz.render(y, tmp_path / "h.svg", edge_labels=True, number_format=lambda value: f"{value:g}>")
    assert "= 2>" in svg_texts(svg)


# --- issue 11: the paths to a node, local derivatives on the edges, parameter updates --------------------

def edge_statements(source):
    """[(tail id, head id, attribute text)] of the edges of a DOT source, legend left out."""
    return re.findall(r"^\s*(v\d+(?:op)?) -> (v\d+(?:op)?)(?: \[(.*)\])?$", source, flags=re.M)


def marked(source):
    """(ids of Values on the paths, ids off them) in a DOT source."""
    statements = node_statements(source)
    on = {i for i, attrs in statements.items() if re.search(r'class="[^"]*\bon-path\b', attrs)}
    off = {i for i, attrs in statements.items() if re.search(r'class="[^"]*\boff-path\b', attrs)}
    return on, off


def test_highlight_marks_every_path_from_the_output_to_a_node(lecture):
    from autodiff import explain
    from viz.dot import OFF_PATH, ON_PATH

    E, nodes = lecture
    graph = trace(E)
    ids = {node: f"v{k}" for k, node in enumerate(graph.nodes)}
    for name in ("w5", "w1", "out_h1", "E"):
        derivation = explain(E, nodes[name]) if name != "E" else None
        expected = {ids[n] for n in derivation.nodes} if derivation else {ids[E]}
        source = viz.draw(E, highlight=nodes[name]).source
        on, off = marked(source)
        assert on == expected, name
        assert on | off == set(node_statements(source)), "every box is either on the paths or off them"
        statements = node_statements(source)
        for i in on:
            assert f'color="{ON_PATH["color"]}"' in statements[i]
        for i in off:
            assert f'fontcolor="{OFF_PATH["fontcolor"]}"' in statements[i], "greyed, but its text is readable"
        on_edges = {(tail, head) for tail, head, attrs in edge_statements(source) if 'class="on-path"' in attrs}
        wanted = {(ids[p], ids[n] + "op") for p, n in derivation.edges} if derivation else set()
        wanted |= {(head, head[:-2]) for _, head in wanted}     # each op's own edge to its Value
        assert on_edges == wanted, name
        if derivation:
            assert viz.draw(E, highlight=derivation).source == source.replace(
                f"on the paths from E to {name}", f"on the paths of ∂E/∂{name}")
        entries = legend_entries(source)
        assert f'label="on the paths from E to {name}"' in entries["on_path"]
        assert 'label="off those paths"' in entries["off_path"]
    assert "on-path" not in viz.draw(E).source


def test_highlight_marks_the_paths_of_a_derivation_and_shows_in_svg(lecture, tmp_path):
    from autodiff import explain

    E, nodes = lecture
    derivation = explain(E, nodes["w1"])
    assert derivation.paths == 2
    svg = viz.render(E, tmp_path / "paths.svg", highlight=derivation)
    groups = [g.get("class") for g in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}g")]
    assert sum(1 for c in groups if c and c.startswith("node") and "on-path" in c) == 2 * len(derivation.nodes) - 1, \
        "every Value on the paths and the op of each but w1"
    assert "on the paths of ∂E/∂w1" in svg_texts(svg)


def test_frames_and_the_stepper_mark_the_paths_in_every_frame(lecture, tmp_path):
    E, nodes = lecture
    graph = trace(E)
    steps = graph.backward()
    frames = viz.backward_frames(E, highlight=nodes["w5"])
    on_drawn = marked(viz.draw(E, highlight=nodes["w5"]).source)[0]
    for frame, step in zip(frames, steps):
        assert marked(frame.source)[0] == on_drawn
        statements = node_statements(frame.source)
        assert [i for i, attrs in statements.items() if " highlight" in attrs] == [f"v{graph.nodes.index(step.node)}"]
    page = viz.save_stepper(E, tmp_path / "s.html", highlight=nodes["w5"]).read_text(encoding="utf-8")
    assert 'class="node parameter on&#45;path' in page and "on the paths from E to w5" in page
    written = viz.save_frames(E, tmp_path / "frames", highlight=nodes["w5"], edge_labels=True)
    assert len(written) == len(steps)
    svg = written[0].read_text(encoding="utf-8")
    assert 'class="node parameter on&#45;path' in svg and "out_o1(1 − out_o1)" in svg


def test_edge_labels_give_each_local_derivative_with_its_formula_when_short(lecture):
    from viz.dot import EDGE_FORMULA_LIMIT

    E, nodes = lecture
    graph = trace(E)
    ids = {node: f"v{k}" for k, node in enumerate(graph.nodes)}
    edges = {(tail, head): attrs for tail, head, attrs in edge_statements(viz.draw(E, edge_labels=True).source)}
    terms = {(term.parent, step.node): term for step in graph.backward() for term in step.terms}
    for (parent, node), term in terms.items():
        attrs = edges[ids[parent], ids[node] + "op"]
        if isinstance(parent, Constant):
            assert "label=" not in attrs, "no gradient is meant for a number written in the expression"
            continue
        label = re.search(r'label=("[^"]*"|\S+)', attrs)[1].strip('"')
        shown = term.formula != term.formula_numbers and len(term.formula) <= EDGE_FORMULA_LIMIT
        assert label == (f"{term.formula}\\n= {format_number(term.local)}" if shown else format_number(term.local))
    assert edges[ids[nodes["net_o1"]], ids[nodes["out_o1"]] + "op"].startswith(
        'label="out_o1(1 − out_o1)\\n= 0.186815602"')
    product = next(n for n in graph.nodes if nodes["w5"] in n.parents)
    assert edges[ids[nodes["w5"]], ids[product] + "op"].startswith('label="out_h1\\n= 0.593269992"')
    assert 'label="edge: ∂node/∂input (formula, value)"' in legend_entries(viz.draw(E, edge_labels=True).source)[
        "edge_label"]
    assert "label=" not in "".join(attrs for _, _, attrs in edge_statements(viz.draw(E).source))


def test_a_long_formula_is_left_off_its_edge():
    x = Value(0.3, "x")
    y = x.sigmoid()
    y.label = "y"
    (attrs,) = [a for tail, head, a in edge_statements(viz.draw(y, edge_labels=True).source) if head.endswith("op")]
    assert attrs.startswith('label="y(1 − y)\\n= 0.244458312"')
    y.label = "a_rather_long_output_name"
    (attrs,) = [a for tail, head, a in edge_statements(viz.draw(y, edge_labels=True).source) if head.endswith("op")]
    assert attrs.startswith("label=0.244458312 "), "a_rather_long_output_name(1 − …) is too long: the number alone"


LECTURE_UPDATES = {  # the lecture's w⁺ = w − η·∂E/∂w with η = 0.5, as it prints them
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121"}


def test_a_learning_rate_ends_the_stepper_with_each_parameters_update():
    from viz.steps import frames

    E, nodes = lecture_example()
    drawn = frames(E, caller="test", final=True, lr=0.5)
    steps = trace(E).backward()
    assert [f.kind for f in drawn] == ["step"] * len(steps) + ["final"] + ["update"] * 10
    updates = drawn[len(steps) + 1:]
    assert [f.node_name for f in updates] == ["b1", "b2"] + [f"w{k}" for k in range(1, 9)]
    for frame in updates:
        name = frame.node_name
        w = nodes[name]
        new = w.data - 0.5 * w.grad
        assert frame.caption == (f"{name}⁺ = {name} − α·∂E/∂{name} = {format_number(w.data)} − 0.5 × "
                                 f"{format_number(w.grad)} = {format_number(new)}")
        if name in LECTURE_UPDATES:     # to the digits the lecture prints
            printed = LECTURE_UPDATES[name]
            assert f"{new:.{len(printed) - 2}f}" == printed
    assert updates[-4].caption == "w5⁺ = w5 − α·∂E/∂w5 = 0.4 − 0.5 × 0.082167041 = 0.35891648"
    w5 = node_statements(updates[-4].digraph.source)[f"v{trace(E).nodes.index(nodes['w5'])}"]
    assert "data 0.4 → 0.35891648" in w5 and " highlight" in w5
    assert "this parameter's update" in legend_entries(updates[-4].digraph.source)["highlight"]
    assert [f.kind for f in frames(E, caller="test", final=True)][-1] == "final"


def test_without_parameters_every_variable_is_updated():
    from viz.steps import frames

    x, w = Value(2.0, "x"), Value(-1.0, "w")
    out = (x * w).tanh()
    out.backward()
    updates = [f for f in frames(out, caller="test", lr=0.1) if f.kind == "update"]
    assert [f.node_name for f in updates] == ["w", "x"]
    assert updates[0].caption == (f"w⁺ = w − α·∂tanh(x·w)/∂w = -1 − 0.1 × {format_number(w.grad)} = "
                                  f"{format_number(-1 - 0.1 * w.grad)}")


def test_each_step_says_which_gradients_it_completes():
    from viz.steps import frames

    E, _ = lecture_example()
    steps = trace(E).backward()
    drawn = frames(E, caller="test", final=True)
    last = {"E": 1}
    for k, step in enumerate(steps, start=1):
        for term in step.terms:
            if not isinstance(term.parent, Constant):
                last[term.parent_name] = k
    completed = {name: k for k, frame in enumerate(drawn, start=1) for name in frame.completes}
    assert completed == last
    at = {step.node_name: k for k, step in enumerate(steps, start=1)}
    assert completed["w5"] == at["w5·out_h1"] and completed["w1"] == at["w1·i1"]
    assert completed["out_h1"] == max(at["w5·out_h1"], at["w7·out_h1"])


ESTIMATED_OPTIONS = {
    "plain": {},
    "paths": {"highlight": "first labelled leaf"},
    "edge labels": {"edge_labels": True},
    "updates": {"lr": 0.5},
    "all": {"highlight": "first labelled leaf", "edge_labels": True, "lr": 0.1},
}


def labelled_sigmoids(links=30, width=400):
    """x → σ → σ → …, each node labelled with a long name, which each formula y(1 − y) repeats."""
    y = Value(0.3, "x")
    for k in range(links):
        y = y.sigmoid()
        y.label = f"{'s' * width}{k}"
    return y


def powers_and_quotients(rounds=12):
    """Unlabelled nodes named by their expressions or n<k>, in formulas of powers, quotients and exps."""
    x, w = Value(0.7, "x"), Value(1.3, "w")
    y = x
    for _ in range(rounds):
        y = (y ** 3) / (w + y) - y.exp() * w
    return y


@pytest.mark.parametrize("options", sorted(ESTIMATED_OPTIONS))
@pytest.mark.parametrize(("name", "build"), [
    ("lecture", lambda: lecture_example()[0]),
    ("clustered MLP", mlp_example),
    ("wide sum", wide_sum),
    ("hostile labels", lambda: chain_of_products("a\x00<b>&#1;\\G\ud800\u202e")),
    ("labelled sigmoids", labelled_sigmoids),
])
def test_the_size_estimate_follows_the_frames_drawn_with_every_option(name, build, options):
    from viz.dot import paths_of
    from viz.steps import estimate, frames, updated

    output = build()
    graph = trace(output)
    chosen = dict(ESTIMATED_OPTIONS[options])
    if "highlight" in chosen:
        chosen["highlight"] = next(n for n in graph.nodes if n._op is None and n.label)
    size = estimate(graph, format_number, 2000, True, paths=paths_of(graph, chosen.get("highlight"), "test"),
                    edge_labels=chosen.get("edge_labels", False), updates=updated(graph) if "lr" in chosen else ())
    drawn = frames(output, caller="test", final=True, max_bytes=10**9, **chosen)
    assert size.frames == len(drawn)
    actual = sum(len(frame.digraph.source.encode()) for frame in drawn)
    assert 0.8 < size.bytes / actual < 1.25, (name, options, size.bytes, actual)


@pytest.mark.parametrize(("name", "build"), [
    ("lecture", lambda: lecture_example()[0]),
    ("wide sum", wide_sum),
    ("long labels", lambda: chain_of_products("x" * 3000)),
    ("labelled sigmoids", labelled_sigmoids),
    ("powers and quotients", powers_and_quotients),
    ("tanh chain", lambda: tanh_chain(60)),
])
@pytest.mark.parametrize("lr", [None, 0.5])
def test_the_caption_estimate_follows_the_captions_with_their_formulas(name, build, lr):
    """The captions alone (each formula measured from the op table's, not printed) within 15 %."""
    from viz.steps import caption_bytes, frames, updated

    output = build()
    graph = trace(output)
    estimated = caption_bytes(graph, format_number, updated(graph) if lr else ())
    actual = sum(len(frame.caption.encode()) for frame in frames(output, caller="test", final=True, lr=lr,
                                                                 max_bytes=10**10))
    assert 0.85 < estimated / actual < 1.15, (name, estimated, actual)
