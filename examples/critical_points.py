"""Minima, maxima and saddles: where gradient descent can stop, told apart by second derivatives.

Follows the lecture's gradient-descent slides ("Approximate minimization"): descent stops wherever
∇Y = 0, which is a minimum only if the surface curves up in every direction. The engine's
`grad` finds ∇Y and its `hessian` (the backward pass differentiated again) gives the matrix of
second derivatives; the signs of its eigenvalues classify the point. Each gradient and Hessian is
checked against the closed form.
"""

from __future__ import annotations

import sys

import numpy as np

from autodiff import grad, hessian
from common import Checks, Pictures, parse_args, section

# name -> (f, closed-form gradient, closed-form Hessian, points with what the lecture-style
# analysis says each one is)
CASES = {
    "x² + y²": (lambda x, y: x * x + y * y,
                lambda x, y: (2 * x, 2 * y),
                lambda x, y: [[2, 0], [0, 2]],
                [((0.0, 0.0), "minimum")]),
    "−x² − y²": (lambda x, y: -x * x - y * y,
                 lambda x, y: (-2 * x, -2 * y),
                 lambda x, y: [[-2, 0], [0, -2]],
                 [((0.0, 0.0), "maximum")]),
    "x² − y²": (lambda x, y: x * x - y * y,
                lambda x, y: (2 * x, -2 * y),
                lambda x, y: [[2, 0], [0, -2]],
                [((0.0, 0.0), "saddle")]),
    "x³ + y³ − 3xy": (lambda x, y: x ** 3 + y ** 3 - 3 * x * y,
                      lambda x, y: (3 * x * x - 3 * y, 3 * y * y - 3 * x),
                      lambda x, y: [[6 * x, -3], [-3, 6 * y]],
                      [((0.0, 0.0), "saddle"), ((1.0, 1.0), "minimum")]),
}


def classify(H: np.ndarray) -> str:
    """What a critical point is, from the eigenvalues of its Hessian."""
    eigenvalues = np.linalg.eigvalsh(H)
    if np.all(eigenvalues > 0):
        return "minimum"
    if np.all(eigenvalues < 0):
        return "maximum"
    if np.any(eigenvalues > 0) and np.any(eigenvalues < 0):
        return "saddle"
    return "undecided (a zero eigenvalue)"


def matrix(rows) -> str:
    """A 2×2 matrix on one line."""
    return "[" + "; ".join(" ".join(f"{v:g}" for v in row) for row in rows) + "]"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "critical_points", argv)
    checks, pictures = Checks(), Pictures(args)

    for name, (f, df, d2f, points) in CASES.items():
        section(f"f(x, y) = {name}")
        gradient, second = grad(f, argnums=(0, 1)), hessian(f)
        for (x, y), kind in points:
            g, H = gradient(x, y), second(x, y)
            eigenvalues = np.linalg.eigvalsh(H)
            print(f"at ({x:g}, {y:g}): ∇f = ({g[0]:g}, {g[1]:g}), Hessian {matrix(H)}, "
                  f"eigenvalues {', '.join(f'{e:g}' for e in eigenvalues)}")
            where = f"({x:g}, {y:g})"
            expected = tuple(float(v) + 0.0 for v in df(x, y))   # + 0.0 prints −0 as 0
            checks.row(f"{name} ∇f{where}", str(expected), str(tuple(g)), tuple(g) == expected)
            checks.row(f"{name} Hessian{where}", matrix(d2f(x, y)), matrix(H),
                       np.array_equal(H, np.array(d2f(x, y), dtype=float)))
            checks.same(f"{name} at {where}", kind, classify(H))

    def draw(figure):
        grid = np.linspace(-1.6, 1.9, 200)
        X, Y = np.meshgrid(grid, grid)
        for k, (name, (f, _, _, points)) in enumerate(CASES.items()):
            ax = figure.add_subplot(2, 2, k + 1)
            ax.contour(X, Y, f(X, Y), levels=20, cmap="viridis", linewidths=0.8)
            for (x, y), kind in points:
                ax.plot(x, y, {"minimum": "bo", "maximum": "r^", "saddle": "kx"}[kind], ms=8)
                ax.annotate(kind, (x, y), textcoords="offset points", xytext=(6, 6))
            ax.set_title(f"f = {name}")
            ax.set_aspect("equal")
        figure.suptitle("Critical points classified by the engine's Hessian")

    pictures.plot("critical_points.png", draw, figsize=(8, 8))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
