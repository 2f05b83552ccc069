"""Gradient descent, x ← x − α·dy/dx, and the lecture's question "What will be the impact of α?".

Follows the lecture's slides "x = x − α dy/dx", "Contour figure - gradient descent" and
"x₁ = x₁ − α ∇Y, x₂ = x₂ − α ∇Y". The engine's `grad` gives every derivative; on a quadratic the
iterates also have a closed form, x_k = x* + (1 − 2aα)^k (x₀ − x*) along each axis of curvature
2a, so each run is checked against it, and the step size's verdict (converges slowly, well,
oscillates, diverges) against |1 − 2aα| < 1.
"""

from __future__ import annotations

import sys

import numpy as np

from autodiff import Value, grad
from common import Checks, Pictures, parse_args, section

STEPS = 20
ALPHAS_1D = {"too small": 0.02, "good": 0.3, "too large": 0.9, "divergent": 1.05}
ALPHAS_2D = {"too small": 0.01, "good": 0.1, "too large": 0.23, "divergent": 0.26}
START_1D = 0.0
START_2D = (-4.0, 1.5)


def bowl_1d(x: Value) -> Value:
    """y = (x − 3)² + 1: minimum 1 at x = 3, curvature 2 (a = 1)."""
    return (x - 3) ** 2 + 1


def bowl_2d(x1: Value, x2: Value) -> Value:
    """y = x₁² + 4x₂²: a bowl four times steeper along x₂ (a = 1 and a = 4), minimum at (0, 0)."""
    return x1 ** 2 + 4 * x2 ** 2


def descend_1d(alpha: float, steps: int = STEPS) -> list[float]:
    """The iterates x₀, x₁, … of x ← x − α·dy/dx on bowl_1d."""
    dydx = grad(bowl_1d)
    xs = [START_1D]
    for _ in range(steps):
        xs.append(xs[-1] - alpha * dydx(xs[-1]))
    return xs


def descend_2d(alpha: float, steps: int = STEPS) -> list[tuple[float, float]]:
    """The iterates of (x₁, x₂) ← (x₁, x₂) − α∇Y on bowl_2d."""
    gradient = grad(bowl_2d, argnums=(0, 1))
    path = [START_2D]
    for _ in range(steps):
        x1, x2 = path[-1]
        g1, g2 = gradient(x1, x2)
        path.append((x1 - alpha * g1, x2 - alpha * g2))
    return path


def verdict(factors: list[float]) -> str:
    """How iterates multiplied by these factors per step behave."""
    worst = max(abs(f) for f in factors)
    if worst >= 1:
        return "diverges"
    if min(factors) < 0 and worst > 0.5:
        return "oscillates"
    return "converges slowly" if worst > 0.9 else "converges"


def observed(distances: list[float], signs: list[float]) -> str:
    """The same verdict read off a run: distances to the minimum, and signs of the steps."""
    if distances[-1] >= distances[0]:
        return "diverges"
    flips = any(a * b < 0 for a, b in zip(signs, signs[1:]))
    if flips and distances[2] > 0.25 * distances[0]:
        return "oscillates"
    return "converges slowly" if distances[-1] > 0.1 * distances[0] else "converges"


def draw_descent_1d(figure, runs_1d: dict[str, list[float]]) -> None:
    """The first 8 iterates of each α in ALPHAS_1D on the curve of bowl_1d."""
    ax = figure.add_subplot()
    grid = np.linspace(-1.5, 7.5, 200)
    ax.plot(grid, (grid - 3) ** 2 + 1, color="0.6", label="y = (x − 3)² + 1")
    for (name, alpha), colour in zip(ALPHAS_1D.items(), ["C0", "C2", "C1", "C3"]):
        xs = np.array(runs_1d[name][:8])
        keep = np.abs(xs - 3) < 5
        ax.plot(xs[keep], (xs[keep] - 3) ** 2 + 1, "o-", color=colour, ms=4, lw=1,
                label=f"α = {alpha} ({name})")
    ax.set(xlabel="x", ylabel="y", title="x ← x − α·dy/dx: the first 8 iterates", ylim=(0, 26))
    ax.legend(fontsize=8)


def draw_contours(figure, runs_2d: dict[str, list[tuple[float, float]]]) -> None:
    """Each α in ALPHAS_2D's path over the contours of bowl_2d, one panel each."""
    grid1, grid2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-2.5, 2.5, 200))
    for k, ((name, alpha), colour) in enumerate(zip(ALPHAS_2D.items(), ["C0", "C2", "C1", "C3"])):
        ax = figure.add_subplot(2, 2, k + 1)
        ax.contour(grid1, grid2, grid1 ** 2 + 4 * grid2 ** 2, levels=12, cmap="Greys", linewidths=0.7)
        path = np.array(runs_2d[name])
        inside = np.all(np.abs(path) < [5, 2.5], axis=1)
        shown = path[:np.argmin(inside) if not inside.all() else len(path)]
        ax.plot(shown[:, 0], shown[:, 1], "o-", color=colour, ms=3, lw=1)
        ax.plot(0, 0, "k+", ms=10)
        ax.set(title=f"α = {alpha}: {name}", xlim=(-5, 5), ylim=(-2.5, 2.5))
        ax.set_aspect("equal")
    figure.suptitle("Gradient descent on y = x₁² + 4x₂²")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "gradient_descent", argv)
    checks, pictures = Checks(), Pictures(args)

    section("1-D: y = (x − 3)² + 1 from x₀ = 0, closed form x_k = 3 + (1 − 2α)^k (x₀ − 3)")
    runs_1d = {}
    for name, alpha in ALPHAS_1D.items():
        xs = descend_1d(alpha)
        runs_1d[name] = xs
        shown = ", ".join(f"{x:.4g}" for x in xs[:6])
        print(f"α = {alpha:<5} ({name}): x = {shown}, …, x_{STEPS} = {xs[-1]:.6g}")
    for name, alpha in ALPHAS_1D.items():
        xs, factor = runs_1d[name], 1 - 2 * alpha
        closed = 3 + factor ** STEPS * (START_1D - 3)
        checks.close(f"1-D α={alpha} x_{STEPS}", closed, xs[-1], tol=1e-12)
        steps = [b - a for a, b in zip(xs, xs[1:])]
        checks.same(f"1-D α={alpha} behaviour", verdict([factor]),
                    observed([abs(x - 3) for x in xs], steps), note=name)

    section("2-D: y = x₁² + 4x₂² from (−4, 1.5), ∇Y = ⟨dy/dx₁, dy/dx₂⟩ from the engine")
    runs_2d = {}
    for name, alpha in ALPHAS_2D.items():
        path = descend_2d(alpha)
        runs_2d[name] = path
        shown = ", ".join(f"({a:.3g}, {b:.3g})" for a, b in path[:4])
        print(f"α = {alpha:<5} ({name}): {shown}, …, step {STEPS}: "
              f"({path[-1][0]:.4g}, {path[-1][1]:.4g})")
    for name, alpha in ALPHAS_2D.items():
        path = runs_2d[name]
        factors = [1 - 2 * alpha, 1 - 8 * alpha]
        for axis, (factor, start) in enumerate(zip(factors, START_2D)):
            checks.close(f"2-D α={alpha} x{axis + 1}_{STEPS}", factor ** STEPS * start, path[-1][axis],
                         tol=1e-12)
        steps = [b[1] - a[1] for a, b in zip(path, path[1:])]
        checks.same(f"2-D α={alpha} behaviour", verdict(factors),
                    observed([float(np.hypot(*p)) for p in path], steps), note=name)

    pictures.plot("descent_1d.png", lambda figure: draw_descent_1d(figure, runs_1d))
    pictures.plot("contours.png", lambda figure: draw_contours(figure, runs_2d), figsize=(9, 5.5))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
