"""`python -m viz EXPR --at NAME=VALUE ...`: an expression's value, its gradients, derivations, a drawing and a stepper.

The expression is parsed with `ast` and built from an explicit whitelist of node kinds; nothing is
ever evaluated by Python. Every number becomes an autodiff Constant and every name a Value, so the
arithmetic is the engine's own (1/0 is inf, not a ZeroDivisionError). `pi` and `e` are constants
unless given with --at, which then makes them variables (a name you give is the one you mean, as a
local variable hides a builtin in Python). Names are compared after Python's NFKC normalisation
(`--at ｘ=1` gives the `ｘ` that Python reads as `x`).

Exit status: 0 when everything was printed and written; 2, with one line on stderr, for input that
is refused (before anything is computed or written); 1, with one line, when the work could not be
finished (Graphviz is missing, or a file could not be written; then no file is left behind).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import itertools
import keyword
import math
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from autodiff import OPS, Constant, Value, format_number, trace
from autodiff.arguments import describe

MAX_CHARS = 2000        # longer than any expression a person types
MAX_NODES = 1000        # AST nodes
MAX_DEPTH = 60          # nesting of the AST
MAX_EXPONENT = 1000     # a literal exponent beyond this only overflows or underflows

BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
FUNCTIONS = sorted(name for name, op in OPS.items() if op.arity == 1 and name != "neg")
CONSTANTS = {"pi": math.pi, "e": math.e}
ALIASES = {"ln": "log", "atan": "arctan", "sigma": "sigmoid"}   # names from other notations

# Options that take a value, and those that do not: anything else starting with "-" is the expression.
VALUED = ("--at", "--out", "--steps", "--max-bytes", "--explain", "--lr")
FLAGS = ("-h", "--help", "--color-grads", "--print-steps")
_OPTION_LIKE = re.compile(r"--[^\W\d]\w*(-\w+)*(=.*)?", re.S)
_NUMBER_THEN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*([^\W\d]\w*|\()")


class Rejected(ValueError):
    """The command line or the expression is not acceptable; the message says why."""


class Failed(RuntimeError):
    """The work could not be finished (nothing was left written); the message says why."""


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


def _did_you_mean(name: str, choices) -> str:
    """' (did you mean tanh?)' when `name` is a near miss of one of `choices`, else ''."""
    if name in ALIASES and ALIASES[name] in choices:
        return f" (did you mean {ALIASES[name]}?)"
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6) or \
        difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


class _Builder:
    """Builds the expression's graph from a checked AST, node kind by node kind.

    A name with no value is recorded and stood in for, so that one pass finds every missing name.
    """

    def __init__(self, variables: dict[str, Value], source: str):
        self.variables = variables
        self.source = source
        self.used: set[str] = set()
        self.missing: list[str] = []

    def segment(self, node: ast.AST) -> str:
        written = ast.get_source_segment(self.source, node) or "..."
        return written if len(written) <= 30 else written[:27] + "..."

    def build(self, node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            return Constant(_number(node, self.source))
        if isinstance(node, ast.Name):
            return self._name(node.id)
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
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
            raise Rejected(f"^ is not a power here (in Python it is exclusive or); use ** for powers: "
                           f"{self.segment(node.left)}**{self.segment(node.right)}")
        if isinstance(node, ast.BinOp):
            raise Rejected(f"operator {_node_name(node.op)} is not allowed; use + - * / **")
        if isinstance(node, ast.UnaryOp):
            raise Rejected(f"operator {_node_name(node.op)} is not allowed; the unary ones are - and +")
        if isinstance(node, ast.IfExp):
            raise Rejected("conditional expressions (a if b else c) are not supported: the expression is one "
                           "formula, differentiated as written; use relu, step or abs for a kink, or give "
                           "each branch as its own expression")
        if isinstance(node, ast.Attribute):
            raise Rejected("attribute access (a.b) is not allowed")
        if isinstance(node, ast.Lambda):
            raise Rejected("lambda is not allowed")
        raise Rejected(f"{_node_name(node)} is not allowed in an expression; use numbers, names, "
                       f"+ - * / **, parentheses and functions {', '.join(FUNCTIONS)}")

    def _name(self, name: str) -> Value:
        if name in self.variables:
            self.used.add(name)
            return self.variables[name]
        if name in CONSTANTS:
            return Constant(CONSTANTS[name])
        if name in FUNCTIONS:
            raise Rejected(f"{name} is a function: call it, as in {name}(x)")
        if name not in self.missing:
            self.missing.append(name)
        return Value(0.0)

    def _check_exponent(self, node: ast.AST) -> None:
        literal = node.operand if isinstance(node, ast.UnaryOp) else node
        if isinstance(literal, ast.Constant) and isinstance(literal.value, (int, float)) \
                and not isinstance(literal.value, bool) and abs(literal.value) > MAX_EXPONENT:
            raise Rejected(f"exponent {self.segment(node)} is larger than {MAX_EXPONENT} in size")

    def _call(self, node: ast.Call) -> Value:
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Constant) or callee in self.variables or callee in CONSTANTS:
            inside = ", ".join(self.segment(argument) for argument in node.args)
            raise Rejected(f"{self.segment(func)} is not a function; to multiply, write "
                           f"{self.segment(func)}*({inside})")
        if callee is None:
            raise Rejected("only plain function calls such as tanh(x) are allowed")
        if callee not in FUNCTIONS:
            raise Rejected(f"unknown function {callee!r}{_did_you_mean(callee, FUNCTIONS)}; "
                           f"allowed: {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise Rejected(f"{callee}() takes exactly one argument")
        argument = self.build(node.args[0])
        return abs(argument) if callee == "abs" else getattr(argument, callee)()


def _syntax_error(source: str, error: SyntaxError) -> Rejected:
    """What a SyntaxError means for an expression someone typed as mathematics."""
    juxtaposed = _NUMBER_THEN_NAME.search(source)
    if juxtaposed:
        number, following = juxtaposed.groups()
        shown = f"{number}*{following}" + ("...)" if following == "(" else "")
        return Rejected(f"not a valid expression: a number and what follows it need an operator; "
                        f"for a product write {shown}")
    return Rejected(f"not a valid expression: {error.msg} (column {error.offset})")


def parse(expr: str, values: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value of `expr` with each name bound to a labelled input; Rejected for anything not allowed.

    >>> out, xs = parse("tanh(x * w + b)", {"x": 1.0, "w": 0.5, "b": 0.0})
    >>> format_number(out.data)
    '0.462117157'
    """
    if not isinstance(expr, str):
        raise TypeError(f"parse() expr must be a str, got {describe(expr)}")
    if len(expr) > MAX_CHARS:
        raise Rejected(f"expression is {len(expr)} characters long; the limit is {MAX_CHARS}")
    if not expr.strip():
        raise Rejected("expression is empty")
    source = expr.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(source, error) from None
    except (ValueError, UnicodeError) as error:    # a NUL, a lone surrogate: not text Python reads
        raise Rejected(f"not a valid expression: {error}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise Rejected(f"expression has {count} parts; the limit is {MAX_NODES}")
    if _depth(tree) > MAX_DEPTH:
        raise Rejected(f"expression is nested more than {MAX_DEPTH} levels deep")
    # Python reads identifiers in NFKC form (ｘ is x); so are the names given
    named = {unicodedata.normalize("NFKC", name): value for name, value in values.items()}
    variables = {name: Value(value, label=name) for name, value in named.items()}
    builder = _Builder(variables, source)
    out = builder.build(tree.body)
    if builder.missing:
        names = builder.missing
        listed = ", ".join(f"{name!r}{_did_you_mean(name, [*variables, *CONSTANTS])}" for name in names)
        give = " ".join(f"--at {name}=VALUE" for name in names)
        raise Rejected(f"unknown name{'s' if len(names) > 1 else ''} {listed}: "
                       f"give {'their values' if len(names) > 1 else 'its value'} with {give}")
    if not builder.used:
        raise Rejected("expression uses no variable; use at least one name given with --at")
    return out, variables


def _assignment(text: str) -> tuple[str, float]:
    written, sep, number = text.partition("=")
    written = written.strip()
    if not sep or not written.isidentifier():
        raise Rejected(f"--at expects NAME=VALUE, got {text!r:.60}")
    name = unicodedata.normalize("NFKC", written)     # as Python reads the name in the expression
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


def _learning_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r:.40}") from None
    if not (math.isfinite(rate) and rate > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text:.40}")
    return rate


def _max_bytes(text: str) -> int:
    from .steps import MAX_BYTES_LIMIT
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, got {text!r:.40}") from None
    if not 1 <= number <= MAX_BYTES_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_BYTES_LIMIT:,}, got {text:.40}")
    return number


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Rejected(message)


def _parser() -> argparse.ArgumentParser:
    from .steps import DEFAULT_MAX_BYTES
    parser = _Parser(
        prog="python -m viz", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Evaluate an expression with autodiff, print its value and gradients, and draw it.",
        epilog=(f"functions: {', '.join(FUNCTIONS)}\n"
                "constants: pi and e (a name given with --at is a variable, even pi or e)\n"
                "write powers as x**2 (^ is not a power), products as 2*x; an expression may start\n"
                "with a minus sign ('-x*w'). Conditional expressions (a if b else c) are not supported.\n"
                "exit status: 0 done; 2 refused input (nothing written); 1 Graphviz missing or a write\n"
                "failed (nothing left written).\n\n"
                "example: python -m viz 'tanh(x*w + b)' --at x=0.5 --at w=-1 --at b=0.2 --out graph.svg\n"
                "         python -m viz 'sigmoid(w*x)' --at w=0.5 --at x=3 --explain w --steps s.html --lr 0.5"))
    parser.add_argument("expr", help="an expression over names, numbers, + - * / **, functions")
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                        help="the value of a name (repeat for each name)")
    parser.add_argument("--out", metavar="FILE", help="draw the graph to FILE (.svg, .png or .pdf)")
    parser.add_argument("--color-grads", action="store_true",
                        help="in the --out drawing, colour nodes and edges by gradient sign and size")
    parser.add_argument("--steps", metavar="FILE.html", help="write the backward-pass stepper page")
    parser.add_argument("--max-bytes", metavar="N", type=_max_bytes, default=DEFAULT_MAX_BYTES,
                        help=f"refuse a --steps page whose drawings would take more than N bytes of "
                             f"Graphviz input (default {DEFAULT_MAX_BYTES:,}: a page of about 37 MB for a "
                             f"network, more where many edges join the same two nodes)")
    parser.add_argument("--lr", metavar="RATE", type=_learning_rate,
                        help="end the --steps page with one frame per variable showing its gradient-descent "
                             "update x⁺ = x − α·∂f/∂x with α = RATE")
    parser.add_argument("--print-steps", action="store_true",
                        help="print each step of the backward pass as text")
    parser.add_argument("--explain", action="append", default=[], metavar="NAME",
                        help="print ∂f/∂NAME derived by the chain rule: each factor's name, formula and "
                             "number, as autodiff.explain gives it (NAME is a variable given with --at; "
                             "repeat for more; formulas need sympy)")
    return parser


def _expression_last(argv: list[str]) -> list[str]:
    """argv with an expression that starts with '-' (as in '-x*w') moved behind '--', where argparse reads
    it as the expression instead of an unknown option, and each option that takes a value joined to it
    (--out=-g.svg). A word shaped like --name must be an option."""
    kept, expression, k = [], [], 0
    while k < len(argv):
        word = argv[k]
        if word == "--":
            kept.extend(argv[k:])
            break
        if word in VALUED:
            # joined, so argparse takes the value even when it starts with - (--out -g.svg)
            kept.append(f"{word}={argv[k + 1]}" if k + 1 < len(argv) else word)
            k += 2
            continue
        if _OPTION_LIKE.fullmatch(word) and word.partition("=")[0] not in VALUED + FLAGS:
            raise Rejected(f"unknown option {word.partition('=')[0]!r:.40}; the options are "
                           f"{', '.join(VALUED + FLAGS[1:])} (an expression that starts with -- goes "
                           f"after --, as in: python -m viz --at x=1 -- '--x')")
        if word.startswith("-") and word not in FLAGS and not _OPTION_LIKE.fullmatch(word) and not expression:
            expression.append(word)
        else:
            kept.append(word)
        k += 1
    return kept + ["--"] + expression if expression else kept


def _checked_output(path: str, allowed: tuple[str, ...], option: str) -> Path:
    from .files import output_format, writable_path
    try:
        output_format(path, allowed, option)
        return writable_path(path, option)
    except ValueError as error:
        raise Rejected(str(error)) from None


def _explained(names: list[str], variables: dict[str, Value], used: set[Value]) -> list[Value]:
    """The variables --explain names, in the order given; Rejected for a name that is not a variable of the
    expression (every such name at once, with the names that are)."""
    known = [name for name, variable in variables.items() if variable in used]
    chosen, wrong = [], []
    for written in names:
        name = unicodedata.normalize("NFKC", written.strip())
        if name in known:
            if variables[name] not in chosen:
                chosen.append(variables[name])
        elif name not in wrong:
            wrong.append(name)
    if wrong:
        listed = ", ".join(f"{name!r}{_did_you_mean(name, known)}" for name in wrong)
        unused = [name for name in wrong if name in variables]
        why = (f"; {', '.join(unused)} {'is' if len(unused) == 1 else 'are'} given with --at but not used in the "
               f"expression (the derivative is 0)") if unused else ""
        raise Rejected(f"--explain {listed}: not a variable of the expression{why}; the variables are "
                       f"{', '.join(known)}")
    return chosen


def _output_name(variables: dict[str, Value]) -> str:
    """What the output is called: f, or if a variable has that name out, result, f_1, f_2, ..."""
    names = itertools.chain(("f", "out", "result"), (f"f_{k}" for k in itertools.count(1)))
    return next(name for name in names if name not in variables)


def _check_argv(argv: Any, name: str) -> list[str]:
    if not isinstance(argv, (list, tuple)) or not all(isinstance(word, str) for word in argv):
        raise TypeError(f"{name} must be a list of str (the words of a command line), got {describe(argv)}")
    return list(argv)


def run(argv: list[str]) -> int:
    """Run the command line on argv; Rejected for bad input (before anything is computed or written),
    Failed when the work cannot be finished (with nothing left written)."""
    from autodiff import explain

    from .dot import DEFAULT_MAX_NODES, drawing
    from .files import DotNotFoundError, run_dot, write_all
    from .page import build
    from .steps import TooLarge, check_size, updated
    from .text import visible

    args = _parser().parse_args(_expression_last(_check_argv(argv, "run() argv")))
    values: dict[str, float] = {}
    for text in args.at:
        name, value = _assignment(text)
        if name in values:
            raise Rejected(f"--at {name} is given twice")
        values[name] = value
    out_path = _checked_output(args.out, ("svg", "png", "pdf"), "--out") if args.out is not None else None
    steps_path = _checked_output(args.steps, ("html", "htm"), "--steps") if args.steps is not None else None
    if out_path and steps_path and out_path.resolve() == steps_path.resolve():
        raise Rejected("--out and --steps name the same file")
    if args.color_grads and not out_path:
        raise Rejected("--color-grads colours the --out drawing; give --out FILE as well")
    if args.lr is not None and not steps_path:
        raise Rejected("--lr adds the update frames of the --steps page; give --steps FILE.html as well")
    out, variables = parse(args.expr, values)
    if out not in variables.values():   # an expression that is one variable keeps that variable's name
        out.label = _output_name(variables)
    graph = trace(out)
    explained = _explained(args.explain, variables, set(graph.nodes))
    if steps_path:
        try:
            check_size(graph, format_number, DEFAULT_MAX_NODES, True, args.max_bytes, "--steps",
                       "drop --steps (the gradients and the --out drawing need no steps), use a smaller "
                       "expression, or raise the limit with --max-bytes N",
                       updates=updated(graph) if args.lr is not None else ())
        except TooLarge as error:
            raise Rejected(str(error)) from None
    steps = graph.backward()
    files = []
    try:
        if out_path:
            picture = drawing(graph, "--out", color_grads=args.color_grads)
            files.append((out_path, run_dot(picture.source, out_path.suffix.lower().lstrip("."))))
        if steps_path:
            files.append((steps_path, build(graph, "--steps", max_bytes=args.max_bytes, lr=args.lr).page))
        write_all(files)
    except DotNotFoundError as error:
        raise Failed(str(error)) from None
    except OSError as error:
        raise Failed(f"could not write {visible(str(error.filename))!r}: {error.strerror or error}; "
                     f"nothing was left written") from None
    except ValueError as error:     # the path became a folder or a device after it was checked
        raise Failed(f"{error}; nothing was left written") from None
    print(f"{out.label} = {format_number(out.data)}")
    if args.print_steps:
        print("backward pass, one step per node from the output back:")
        for step in steps:
            print(step)
    used = set(graph.nodes)
    for name, variable in variables.items():
        note = "" if variable in used else "   (not in the expression)"
        print(f"∂{out.label}/∂{name} = {format_number(variable.grad)}{note}")
    for variable in explained:
        print()
        for line in str(explain(out, variable)).split("\n"):
            print(visible(line))
    for path, _ in files:
        print(f"wrote {visible(str(path))}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The entry point of `python -m viz`: exit status 0; 2 (refused input) or 1 (could not finish) with
    one line on stderr."""
    from .text import visible

    words = sys.argv[1:] if argv is None else _check_argv(argv, "main() argv")
    try:
        return run(words)
    except Rejected as error:
        print(f"python -m viz: error: {visible(str(error))}", file=sys.stderr)
        return 2
    except Failed as error:
        print(f"python -m viz: error: {visible(str(error))}", file=sys.stderr)
        return 1
