"""autodiff: a scalar reverse-mode autograd engine that records every op as a graph you can read.

>>> from autodiff import Value
>>> x = Value(3.0, label='x')
>>> y = x * x + 2 * x
>>> y.backward()
>>> y.data, x.grad
(15.0, 8.0)
"""

from .backward import topo_order
from .compile import Program
from .check import GradcheckError, gradcheck
from .derivation import Derivation, explain
from .functional import grad, gradients, hessian, jvp, value_and_grad
from .ops import OPS, Op
from .tracing import Graph, Step, Steps, Term, format_number, trace
from .value import AnomalyError, Constant, Parameter, Value, detect_anomaly, enable_grad, no_grad

__all__ = [
    "OPS", "AnomalyError", "Constant", "Graph", "Op", "Parameter", "Program", "Step", "Steps", "Term", "Value",
    "detect_anomaly", "enable_grad", "format_number", "no_grad", "topo_order", "trace",
    "GradcheckError", "grad", "gradcheck", "gradients", "hessian", "jvp", "value_and_grad",
    "Derivation", "explain",
]
