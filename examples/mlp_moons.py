"""nn.MLP(2, [16, 16, 1]) separating two interleaving half moons: a decision boundary and a loss curve.

Follows the lecture's "ANN with multiple layers" and "Backpropagation algorithm": hidden ReLU
layers bend the decision boundary where one neuron can only draw a line. The loss is the
max-margin hinge loss max(0, 1 − t·y) with t = ±1, trained by SGD with momentum through
`nn.fit(..., compiled=True)`: the loss of one example is traced once and replayed on the whole batch
in a few numpy calls. Before training, the compiled gradient (`Graph.compile`) is checked against
the scalar engine's (`nn.batch_loss`). The same workload is the training benchmark's.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from autodiff import Value, trace
from common import Checks, Pictures, parse_args, section

SAMPLES, NOISE, EPOCHS, LR, MOMENTUM = 100, 0.1, 80, 0.1, 0.9


def compiled_loss(model: nn.MLP):
    """The hinge loss of one example (x₁, x₂, t), traced and compiled for batches of rows [x₁, x₂, t]."""
    x1, x2, t = Value(0.0, label="x1"), Value(0.0, label="x2"), Value(1.0, label="t")
    loss = (1 - t * model([x1, x2])).relu()
    return trace(loss).compile(inputs=[x1, x2, t])


def compiled_output(model: nn.MLP):
    """The model's output, compiled for batches of rows [x₁, x₂] (to colour the plane)."""
    x1, x2 = Value(0.0, label="x1"), Value(0.0, label="x2")
    return trace(model([x1, x2])).compile(inputs=[x1, x2])


def accuracy(model: nn.MLP, X: np.ndarray, signs: np.ndarray) -> float:
    """The fraction of points whose output has the sign of their target (±1)."""
    return float(np.mean(np.where(compiled_output(model)(X) > 0, 1, -1) == signs))


def draw_moons(figure, model: nn.MLP, X: np.ndarray, y: np.ndarray, losses: list[float]) -> None:
    """The decision boundary over the plane with the points (y in 0/1), and the loss per epoch."""
    grid1, grid2 = np.meshgrid(np.linspace(-1.6, 2.6, 160), np.linspace(-1.1, 1.6, 120))
    plane = compiled_output(model)(np.column_stack([grid1.ravel(), grid2.ravel()])).reshape(grid1.shape)
    ax = figure.add_subplot(1, 2, 1)
    ax.contourf(grid1, grid2, plane > 0, levels=[-0.5, 0.5, 1.5], colors=["#dbe9f6", "#fde2e2"])
    ax.contour(grid1, grid2, plane, levels=[0.0], colors="k", linewidths=1)
    for value, colour in ((0, "C0"), (1, "C3")):
        ax.scatter(X[y == value, 0], X[y == value, 1], s=18, c=colour, edgecolors="k", linewidths=0.4,
                   label=f"moon {value}")
    right = accuracy(model, X, 2 * y - 1)
    ax.set(title=f"Decision boundary ({right:.0%} of training points right)", xlabel="x₁", ylabel="x₂")
    ax.set_aspect("equal")
    ax.legend(fontsize=8)
    ax = figure.add_subplot(1, 2, 2)
    ax.plot(range(1, len(losses) + 1), losses)
    ax.set(title="Training loss", xlabel="epoch (full batch, SGD with momentum)", ylabel="mean hinge loss")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "mlp_moons", argv)
    checks, pictures = Checks(), Pictures(args)

    X, y = nn.data.make_moons(SAMPLES, noise=NOISE)
    signs = 2 * y - 1
    batch = np.column_stack([X, signs])
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    optimizer = nn.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    program = compiled_loss(model)
    section(f"{model}: {len(model.parameters())} parameters; moons n={SAMPLES}, noise {NOISE}")
    print(f"the loss of one example compiles to {program.node_count} nodes in {program.group_count} "
          f"numpy groups")

    scalar_loss, _ = nn.batch_loss(model, X.tolist(), signs.tolist(), nn.hinge)
    scalar_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    compiled = program.backward(batch)
    gap = max(abs(p.grad - g) for p, g in zip(model.parameters(), scalar_grads))
    checks.close("mean hinge loss, compiled vs scalar", scalar_loss, compiled, tol=1e-12)
    checks.small("∂loss/∂parameters, compiled − scalar", gap, 1e-12, note=f"{len(scalar_grads)} parameters")

    history = nn.fit(model, X, signs, loss="hinge", optimizer=optimizer, epochs=EPOCHS,
                     verbose=False, compiled=True)
    losses = history.loss
    for epoch in [*range(0, EPOCHS, 10), EPOCHS - 1]:
        print(f"epoch {epoch + 1:>3}: mean hinge loss {losses[epoch]:.6f}")
    outputs = compiled_output(model)(X)
    right = accuracy(model, X, signs)
    scalar_outputs = np.array([model(list(x)).data for x in X])
    print(f"training accuracy {right:.0%}")
    checks.same("loss fell", True, losses[-1] < losses[0], note=f"{losses[0]:.4f} → {losses[-1]:.4f}")
    checks.same("training accuracy", "100%", f"{right:.0%}", note="the moons are separated completely")
    checks.small("outputs, compiled − scalar", float(np.max(np.abs(outputs - scalar_outputs))), 1e-12)

    pictures.plot("moons.png", lambda figure: draw_moons(figure, model, X, y, losses), figsize=(11, 4.5))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
