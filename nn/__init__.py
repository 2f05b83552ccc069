"""nn: neural-network modules, losses, optimizers and the lecture's classic learning rules, on autodiff.

>>> import nn
>>> net = nn.MLP(2, [2, 2], activation='sigmoid', output_activation='sigmoid')
>>> net.set_weights([[[.15, .20], [.25, .30]], [[.40, .45], [.50, .55]]], biases=[.35, .60])
>>> round(nn.half_squared_error(net([0.05, 0.10]), [0.01, 0.99]).data, 9)
0.298371109
"""

from . import data
from .activations import ACTIVATIONS, ALIASES, activation, log_softmax, softmax
from .layers import MLP, Layer, Neuron
from .losses import (LOSSES, binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     half_squared_error, hinge, l2, mse)
from .module import Module, load
from .optim import SGD, Adam, Optimizer
from .rules import Adaline, FitReport, McCullochPitts, Perceptron
from .train import History, batch_loss, fit

__all__ = [
    "ACTIVATIONS", "ALIASES", "LOSSES", "MLP", "Adaline", "Adam", "FitReport", "History", "Layer",
    "McCullochPitts", "Module", "Neuron", "Optimizer", "Perceptron", "SGD", "activation",
    "batch_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "data", "fit", "half_squared_error", "hinge", "l2", "load", "log_softmax", "mse", "softmax",
]
