"""The passes: rewrites of the program graph made before anything is scheduled.

Each pass is a function from a `ProgramGraph` to the rewritten graph, and notes what it changed in
`notes`, which the program's listing prints. A pass rewrites the graph it is given (copying a
graph of a million nodes at every pass would cost more than the passes): `lower` hands them a copy,
so the graph it is given is left as it was. In order:

1. `flatten_add_chains`: every +, − and Σ becomes one LINEAR node, and a chain of them whose inner
   results nothing else reads collapses into one, so `sum(w*x for ...)` and `Value.sum([...])`
   give the same program;
2. `lower_contractions`: a term p·x of a per-example LINEAR node, p the same for every example and
   x per example, becomes the coefficient p of the row x: a group of such nodes is then one matrix
   product W @ X, with W filled from the parameters at every run;
3. `hoist_batch_constants`: the terms of a per-example LINEAR node that are the same for every
   example (a bias, a penalty, a number) become one node computed once per run.

Each rewrite changes only the order in which numbers are added (a sum of terms is the same sum), so
results agree with the scalar engine's to rounding in those sums; `Graph.compile(exact=True)`
applies none of them.
"""

from __future__ import annotations

from .ir import LEAF, LINEAR, OP, Node, ProgramGraph, Term

SIGNS = {"add": (1.0, 1.0), "sub": (1.0, -1.0)}


def flatten_add_chains(graph: ProgramGraph) -> ProgramGraph:
    """Every +, − and Σ as one LINEAR node; chains whose inner links nothing else reads, as one.

    A subtraction is a term of sign −1, and so is a negation read only by a sum or by a product
    read only by a sum ((-a)·b is -(a·b) exactly). A link is folded into its reader only when both
    are per-example or both are uniform, so the once-per-run part stays apart. Each chain is
    expanded once, from the link nothing folds into (its root): the work is linear in its length.
    """
    uses = graph.uses()
    sums = {n for n in graph.nodes if n.kind == OP and n.op.name in ("add", "sub", "sum")}

    def signs(node: Node) -> tuple:
        return SIGNS.get(node.op.name, (1.0,) * len(node.args))

    def folds(node: Node, root: Node) -> bool:
        return uses[node] == 1 and node is not graph.output and node.uniform == root.uniform

    def is_op(node: Node, name: str) -> bool:
        return node.kind == OP and node.op.name == name

    absorbed: set[Node] = set()
    made = 0
    for root in reversed(graph.nodes):   # a reader comes before the links it may absorb
        if root not in sums or root in absorbed:
            continue
        terms: list[Term] = []
        from_zero = root.op.name == "sum"
        stack = list(reversed(list(zip(root.args, signs(root)))))
        while stack:
            node, sign = stack.pop()
            if node in sums and folds(node, root):
                absorbed.add(node)
                from_zero |= node.op.name == "sum"
                stack.extend(reversed([(a, sign * s) for a, s in zip(node.args, signs(node))]))
            elif is_op(node, "neg") and folds(node, root):
                absorbed.add(node)
                stack.append((node.args[0], -sign))
            else:
                if is_op(node, "mul") and folds(node, root):
                    for j, arg in enumerate(node.args):
                        # (-a)·b is -(a·b) bit for bit: the negation becomes the term's sign
                        if is_op(arg, "neg") and uses[arg] == 1:
                            node.args = node.args[:j] + (arg.args[0],) + node.args[j + 1:]
                            sign = -sign
                            absorbed.add(arg)
                terms.append(Term(node, None, sign))
        root.op, root.args = None, ()
        if terms:
            root.kind, root.terms, root.from_zero = LINEAR, tuple(terms), from_zero
            made += 1
        else:   # Σ of nothing: the number 0.0 (a sum over no rows has nothing to run on)
            root.kind, root.value = LEAF, 0.0
    graph.keep_reachable()
    if made:
        graph.notes.append(f"flatten_add_chains: {made + len(absorbed & sums):,} +, − and Σ "
                           f"→ {made:,} sums ({len(absorbed):,} links folded into their reader)")
    return graph


def lower_contractions(graph: ProgramGraph) -> ProgramGraph:
    """In a per-example sum, each term p·x (p uniform, x per example) becomes coefficient p of x.

    Only a product nothing else reads is folded: another reader would need it computed anyway.
    """
    uses = graph.uses()
    lowered = 0
    for node in graph.nodes:
        if node.kind != LINEAR or node.uniform:
            continue
        terms = []
        for t in node.terms:
            x = t.x
            if (t.coef is None and x.kind == OP and x.op.name == "mul" and uses[x] == 1
                    and x is not graph.output and x.args[0].uniform != x.args[1].uniform):
                coef, row = x.args if x.args[0].uniform else x.args[::-1]
                terms.append(Term(row, coef, t.sign))
                lowered += 1
            else:
                terms.append(t)
        node.terms = tuple(terms)
    graph.keep_reachable()
    if lowered:
        graph.notes.append(f"lower_contractions: {lowered:,} products p·x → coefficients in W")
    return graph


def hoist_batch_constants(graph: ProgramGraph) -> ProgramGraph:
    """The uniform terms of a per-example sum become one uniform sum, computed once per run.

    A single uniform term of sign +1 (a bias) is already that node and stays as it is.
    """
    nodes: list[Node] = []
    hoisted = 0
    for node in graph.nodes:
        if node.kind == LINEAR and not node.uniform:
            constant = [t for t in node.terms if t.x.uniform]
            if constant and not (len(constant) == 1 and constant[0].sign > 0):
                once = Node(LINEAR, True, terms=tuple(constant), from_zero=node.from_zero)
                nodes.append(once)
                node.terms = tuple(t for t in node.terms if not t.x.uniform) + (
                    Term(once, None, 1.0),)
                hoisted += 1
        nodes.append(node)
    graph.nodes = nodes
    if hoisted:
        graph.notes.append(f"hoist_batch_constants: the uniform terms of {hoisted:,} sums → "
                           f"one number each, computed once per run")
    return graph


PASSES = (flatten_add_chains, lower_contractions, hoist_batch_constants)


def lower(graph: ProgramGraph) -> ProgramGraph:
    """A copy of the graph after every pass, in order; the graph given is left as it was."""
    graph = graph.copy()
    for rewrite in PASSES:
        graph = rewrite(graph)
    return graph
