"""Random straight-line programs over a few inputs, for property-based tests of derivatives.

A program is a list of instructions (kind, (i, j, k)): apply the op `kind` to earlier nodes i, j, k
(unary ops read i, binary ops i and j, the n-ary sum all three), so nodes are shared and reused.
"""

from hypothesis import strategies as st

from autodiff import Value, topo_order
from autodiff.backward import local_partials

UNARY = ["tanh", "sigmoid", "arctan", "sin", "cos", "softplus", "log_sigmoid", "exp", "neg",
         "relu", "abs", "log", "sqrt", "step", "square", "cube", "two_to_the"]
BINARY = ["add", "sub", "mul", "div", "pow", "sum"]

# where an op is smooth, with a margin wide enough for a central difference of step 1e-5
SMOOTH_HERE = {
    "relu": lambda a: abs(a) > 1e-2, "abs": lambda a: abs(a) > 1e-2,
    "step": lambda a: abs(a) > 1e-2, "log": lambda a: a > 0.1, "sqrt": lambda a: a > 0.1,
    "div": lambda a, b: abs(b) > 0.1, "pow": lambda a, b: a > 0.1, "exp": lambda a: a < 4.0,
}


@st.composite
def programs(draw):
    """A random program over n inputs: each instruction applies an op to earlier nodes."""
    n_inputs = draw(st.integers(1, 3))
    program = []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(UNARY + BINARY))
        args = tuple(draw(st.integers(0, n_inputs + i - 1)) for _ in range(3))
        program.append((kind, args))
    return n_inputs, program


def run(program, xs):
    nodes = list(xs)
    for kind, (i, j, k) in program:
        a, b, c = nodes[i], nodes[j], nodes[k]
        if kind == "square":
            nodes.append(a ** 2)
        elif kind == "cube":
            nodes.append(a ** 3)
        elif kind == "two_to_the":
            nodes.append(2.0 ** a)
        elif kind == "neg":
            nodes.append(-a)
        elif kind == "abs":
            nodes.append(abs(a))
        elif kind in UNARY:
            nodes.append(getattr(a, kind)())
        elif kind == "sum":
            nodes.append(Value.sum([a, b, c]))
        elif kind == "add":
            nodes.append(a + b)
        elif kind == "sub":
            nodes.append(a - b)
        elif kind == "mul":
            nodes.append(a * b)
        elif kind == "div":
            nodes.append(a / b)
        else:
            nodes.append(a ** b)
    return nodes[-1]


def smooth_everywhere(out):
    """True when every node is moderate and every op is away from its kinks and poles."""
    for node in topo_order(out):
        if not abs(node.data) < 30.0:
            return False
        rule = SMOOTH_HERE.get(node.op)
        if rule is not None and not rule(*[p.data for p in node.parents]):
            return False
    return True


def size_of_terms(top, bottom, inside=None):
    """Σ over the paths from bottom to top (through the nodes `inside`, default all) of
    ∏ |local derivative|: the scale a derivative, a sum of such products, is compared on; never
    the derivative itself, which can cancel to 0."""
    reach = {bottom: 1.0}
    for node in topo_order(top):
        outside = inside is not None and node is not top and node not in inside
        if node is bottom or node._op is None or outside:
            continue
        if any(p in reach for p in node.parents):
            reach[node] = sum(abs(float(d)) * reach[p]
                              for p, d in zip(node.parents, local_partials(node)) if p in reach)
    return reach.get(top, 0.0)
