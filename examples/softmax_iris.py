"""Softmax and cross-entropy on all three Iris species: accuracy, confusion matrix, and the gradient.

Follows the lecture's "Softmax function" slide: softmax turns a layer's outputs into class
probabilities, and under cross-entropy the gradient with respect to those outputs (the logits) is
softmax − one-hot, the same δ = y − t as a sigmoid under binary cross-entropy. One linear layer of
three units (on standardised features) is trained with Adam; the engine's gradient on one flower
is checked against softmax − one-hot.
"""

from __future__ import annotations

import sys

import numpy as np

import nn
from autodiff import Value
from common import Checks, Pictures, parse_args, section

EPOCHS, LR, BATCH = 50, 0.1, 32


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, "softmax_iris", argv)
    checks, pictures = Checks(), Pictures(args)
    X, y = nn.data.load_iris()
    Z = nn.data.standardize(X)
    species = nn.data.IRIS_SPECIES

    section("∂E/∂logits = softmax − one-hot, on flower 0 before training")
    model = nn.MLP(4, [3], seed=0)
    logits = [Value(v.data) for v in model(list(Z[0]))]
    loss = nn.cross_entropy(logits, int(y[0]))
    loss.backward()
    exps = np.exp([v.data for v in logits])
    probabilities = (exps / exps.sum()).tolist()
    closed = [p - (k == y[0]) for k, p in enumerate(probabilities)]
    print(f"logits {[round(v.data, 6) for v in logits]}, softmax {[round(p, 6) for p in probabilities]}, "
          f"class {y[0]} ({species[y[0]]})")
    for k, (c, v) in enumerate(zip(closed, logits)):
        checks.close(f"∂E/∂z{k}", c, v.grad, tol=1e-12, note=f"softmax − one-hot, {species[k]}")
    engine_probabilities = [p.data for p in nn.softmax(logits)]
    checks.small("nn.softmax − e^z / Σ e^z", max(abs(a - b) for a, b in zip(probabilities, engine_probabilities)),
                 1e-15, note="the slide's formula, in numpy")
    checks.close("E = −log softmax(z)[class]", -np.log(probabilities[y[0]]), loss.data, tol=1e-12,
                 note="nn.cross_entropy")

    section(f"{model} on all 150 flowers, cross-entropy, Adam lr {LR}, {EPOCHS} epochs, batches of {BATCH}")
    history = nn.fit(model, Z, y, loss="cross_entropy", optimizer=nn.Adam(model.parameters(), lr=LR),
                     epochs=EPOCHS, batch_size=BATCH, verbose=False)
    predicted = np.array([int(np.argmax([v.data for v in model(list(z))])) for z in Z])
    accuracy = float(np.mean(predicted == y))
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (y, predicted), 1)
    print(f"loss {history.loss[0]:.4f} → {history.loss[-1]:.4f}, accuracy {accuracy:.1%}")
    print(f"confusion matrix (rows: true species, columns: predicted)\n{'':>12}"
          + "".join(f"{s:>12}" for s in species))
    for name, row in zip(species, confusion):
        print(f"{name:>12}" + "".join(f"{n:>12}" for n in row))
    checks.same("accuracy at least 95%", True, accuracy >= 0.95, note=f"{accuracy:.1%}")
    checks.same("setosa never confused", [50, 0, 0], confusion[0].tolist(), note="it is linearly separable")

    def draw(figure):
        ax = figure.add_subplot(1, 2, 1)
        ax.imshow(confusion, cmap="Blues")
        for (i, j), n in np.ndenumerate(confusion):
            ax.text(j, i, str(n), ha="center", va="center", color="w" if n > 25 else "k")
        ax.set(xticks=range(3), yticks=range(3), xticklabels=species, yticklabels=species,
               xlabel="predicted", ylabel="true", title=f"Confusion matrix ({accuracy:.1%} right)")
        ax = figure.add_subplot(1, 2, 2)
        ax.plot(range(1, EPOCHS + 1), history.loss)
        ax.set(xlabel="epoch", ylabel="mean cross-entropy", title="Training loss")

    pictures.plot("confusion.png", draw, figsize=(10, 4.2))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
