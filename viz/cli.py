"""`python -m viz EXPR --at NAME=VALUE ...`: an expression's value, its gradients, a drawing and a stepper.

The expression is parsed with `ast` and built from an explicit whitelist of node kinds; nothing is
ever evaluated by Python. Every number becomes an autodiff Constant and every name a Value, so the
arithmetic is the engine's own (1/0 is inf, not a ZeroDivisionError). Any rejection is one line on
stderr and exit status 2, before anything is computed or written.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import sys
from pathlib import Path

from autodiff import OPS, Constant, Value, format_number, trace

MAX_CHARS = 2000        # longer than any expression a person types
MAX_NODES = 1000        # AST nodes
MAX_DEPTH = 60          # nesting of the AST
MAX_EXPONENT = 1000     # a literal exponent beyond this only overflows or underflows

BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
FUNCTIONS = sorted(name for name, op in OPS.items() if op.arity == 1 and name != "neg")


class Rejected(ValueError):
    """The command line or the expression is not acceptable; the message says why."""


def _node_name(node: ast.AST) -> str:
    return type(node).__name__


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _number(node: ast.Constant, source: str) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Rejected(f"only numbers may appear as literals, got {value!r:.40}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        # Python has already turned 1e999 into inf; quote what was typed
        written = ast.get_source_segment(source, node) or str(value)
        shown = written if len(written) <= 24 else written[:20] + "..."
        raise Rejected(f"number {shown} is too large (the largest float is about 1.8e308)")
    return number


class _Builder:
    """Builds the expression's graph from a checked AST, node kind by node kind."""

    def __init__(self, variables: dict[str, Value], source: str):
        self.variables = variables
        self.source = source
        self.used: set[str] = set()

    def build(self, node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            return Constant(_number(node, self.source))
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise Rejected(f"{node.id} is a function: call it, as in {node.id}(x)")
            if node.id not in self.variables:
                raise Rejected(f"unknown name {node.id!r}: give its value with --at {node.id}=VALUE")
            self.used.add(node.id)
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            if isinstance(node.operand, ast.Constant):
                number = _number(node.operand, self.source)
                return Constant(-number if isinstance(node.op, ast.USub) else number)
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            if isinstance(node.op, ast.Pow):
                self._check_exponent(node.right)
            left, right = self.build(node.left), self.build(node.right)
            return {ast.Add: left.__add__, ast.Sub: left.__sub__, ast.Mult: left.__mul__,
                    ast.Div: left.__truediv__, ast.Pow: left.__pow__}[type(node.op)](right)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.BinOp):
            raise Rejected(f"operator {_node_name(node.op)} is not allowed; use + - * / **")
        if isinstance(node, ast.UnaryOp):
            raise Rejected(f"operator {_node_name(node.op)} is not allowed; the unary ones are - and +")
        if isinstance(node, ast.Attribute):
            raise Rejected("attribute access (a.b) is not allowed")
        if isinstance(node, ast.Lambda):
            raise Rejected("lambda is not allowed")
        raise Rejected(f"{_node_name(node)} is not allowed in an expression; use numbers, names, "
                       f"+ - * / **, parentheses and functions {', '.join(FUNCTIONS)}")

    def _check_exponent(self, node: ast.AST) -> None:
        literal = node.operand if isinstance(node, ast.UnaryOp) else node
        if isinstance(literal, ast.Constant) and isinstance(literal.value, (int, float)) \
                and not isinstance(literal.value, bool) and abs(literal.value) > MAX_EXPONENT:
            raise Rejected(f"exponent {literal.value!r:.30} is larger than {MAX_EXPONENT} in size")

    def _call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name):
            raise Rejected("only plain function calls such as tanh(x) are allowed")
        name = node.func.id
        if name not in FUNCTIONS:
            raise Rejected(f"unknown function {name!r}; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise Rejected(f"{name}() takes exactly one argument")
        argument = self.build(node.args[0])
        return abs(argument) if name == "abs" else getattr(argument, name)()


def parse(expr: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value of `expr` with each name bound to a labelled input; Rejected for anything not allowed.

    >>> out, xs = parse("tanh(x * w + b)", {"x": 1.0, "w": 0.5, "b": 0.0})
    >>> format_number(out.data)
    '0.462117157'
    """
    if len(expr) > MAX_CHARS:
        raise Rejected(f"expression is {len(expr)} characters long; the limit is {MAX_CHARS}")
    if not expr.strip():
        raise Rejected("expression is empty")
    source = expr.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise Rejected(f"not a valid expression: {error.msg} (column {error.offset})") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise Rejected(f"expression has {count} parts; the limit is {MAX_NODES}")
    if _depth(tree) > MAX_DEPTH:
        raise Rejected(f"expression is nested more than {MAX_DEPTH} levels deep")
    variables = {name: Value(value, label=name) for name, value in values.items()}
    builder = _Builder(variables, source)
    out = builder.build(tree.body)
    if not builder.used:
        raise Rejected("expression uses no variable; use at least one name given with --at")
    return out, variables


def _assignment(text: str) -> tuple[str, float]:
    name, sep, number = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise Rejected(f"--at expects NAME=VALUE, got {text!r:.60}")
    if keyword.iskeyword(name):
        raise Rejected(f"--at name {name!r} is a Python keyword; choose another")
    if name in FUNCTIONS:
        raise Rejected(f"--at name {name!r} is a function name; choose another")
    try:
        value = float(number)
    except ValueError:
        raise Rejected(f"--at {name}: {number.strip()!r:.40} is not a number") from None
    if not math.isfinite(value):
        raise Rejected(f"--at {name}: value must be finite, got {number.strip()!r}")
    return name, value


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Rejected(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m viz", description=(
        "Evaluate an expression with autodiff, print its value and gradients, and draw it."),
        epilog=f"functions: {', '.join(FUNCTIONS)}. Example: "
               "python -m viz 'tanh(x*w + b)' --at x=0.5 --at w=-1 --at b=0.2 --out graph.svg")
    parser.add_argument("expr", help="an expression over names, numbers, + - * / **, functions")
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                        help="the value of a name (repeat for each name)")
    parser.add_argument("--out", metavar="FILE", help="draw the graph to FILE (.svg, .png or .pdf)")
    parser.add_argument("--steps", metavar="FILE.html", help="write the backward-pass stepper page")
    return parser


def _checked_output(path: str, allowed: tuple[str, ...], option: str) -> Path:
    from .files import output_format, writable_path
    try:
        output_format(path, allowed)
        return writable_path(path)
    except ValueError as error:
        raise Rejected(f"{option}: {error}") from None


def run(argv: list[str]) -> int:
    """Run the command line on argv; Rejected for bad input (before anything is computed or written)."""
    args = _parser().parse_args(argv)
    values: dict[str, float] = {}
    for text in args.at:
        name, value = _assignment(text)
        if name in values:
            raise Rejected(f"--at {name} is given twice")
        values[name] = value
    out_path = _checked_output(args.out, ("svg", "png", "pdf"), "--out") if args.out else None
    steps_path = _checked_output(args.steps, ("html", "htm"), "--steps") if args.steps else None
    if out_path and steps_path and out_path.resolve() == steps_path.resolve():
        raise Rejected("--out and --steps name the same file")
    out, variables = parse(args.expr, values)
    if steps_path:
        from .page import check_step_count
        try:
            check_step_count(trace(out))
        except ValueError as error:
            raise Rejected(f"--steps: {error}") from None
    out.label = next(name for name in ("f", "out", "result", "_f") if name not in variables)
    out.backward()
    print(f"{out.label} = {format_number(out.data)}")
    graph = trace(out)
    used = set(graph.nodes)
    for name, variable in variables.items():
        note = "" if variable in used else "   (not in the expression)"
        print(f"∂{out.label}/∂{name} = {format_number(variable.grad)}{note}")
    from .files import render
    from .page import save_stepper
    if out_path:
        print(f"wrote {render(out, out_path)}")
    if steps_path:
        print(f"wrote {save_stepper(out, steps_path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The entry point of `python -m viz`: exit status 0, or 2 with one line on stderr."""
    from .files import DotNotFoundError
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except Rejected as error:
        print(f"python -m viz: error: {error}", file=sys.stderr)
        return 2
    except (DotNotFoundError, ValueError) as error:
        print(f"python -m viz: error: {error}", file=sys.stderr)
        return 1
