"""Element-wise activation functions, each an :class:`~lincoln.base.Operation`.

Every activation computes its gradient from what it cached in ``forward``:
Sigmoid and Tanh from their output, ReLU and LeakyReLU from their input.
``get_activation`` turns a name such as ``"relu"`` (used in config files and
saved models) into a fresh instance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation
from ..errors import check_real
from ..registry import ACTIVATIONS
from .buffers import Recycler

__all__ = [
    "Linear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ACTIVATIONS",
    "get_activation",
    "activation_name",
]


@ACTIVATIONS.register("linear")
class Linear(Operation):
    """The identity: ``f(x) = x``.

    Shape:
        input_ ``(batch, *)`` -> output of the same shape.
    """

    def _output(self) -> Array:
        return self.input_

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad


@ACTIVATIONS.register("sigmoid")
class Sigmoid(Operation):
    """The logistic function ``1 / (1 + exp(-x))``, element-wise.

    Computed as ``0.5 * (1 + tanh(x / 2))``, which is the same function but never
    overflows, so large ``|x|`` gives 0 or 1 without a NumPy warning.

    Shape:
        input_ ``(batch, *)`` -> output of the same shape.
    """

    def _output(self) -> Array:
        out = np.multiply(self.input_, 0.5)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        # d sigmoid(x)/dx = s(x) (1 - s(x)), from the cached output
        grad = 1.0 - self.output
        grad *= self.output
        grad *= output_grad
        return grad


@ACTIVATIONS.register("tanh")
class Tanh(Operation):
    """Hyperbolic tangent, element-wise.

    Shape:
        input_ ``(batch, *)`` -> output of the same shape.
    """

    def _output(self) -> Array:
        return np.tanh(self.input_)

    def _input_grad(self, output_grad: Array) -> Array:
        # d tanh(x)/dx = 1 - tanh(x)^2, computed from the cached output
        grad = self.output * self.output
        np.subtract(1.0, grad, out=grad)
        grad *= output_grad
        return grad


@ACTIVATIONS.register("relu")
class ReLU(Operation):
    """Rectified linear unit ``max(x, 0)``, element-wise.

    The gradient passes where the *input* is positive. (The book's published
    library masked with ``output >= 0``, which is always true, so its ReLU
    passed every gradient through.)

    Its output and gradient arrays are reused from one training step to the
    next (see :mod:`lincoln.ops.buffers`).

    Shape:
        input_ ``(batch, *)`` -> output of the same shape.
    """

    def __init__(self) -> None:
        super().__init__()
        self._buffers = Recycler()

    def _output(self) -> Array:
        x = self.input_
        if np.ndim(x) == 0:  # a scalar
            return np.maximum(x, 0)
        # against an array of zeros, not the scalar 0: NumPy 2.4 (on AVX2) runs
        # maximum's vector loop for two arrays only; against a scalar it takes
        # a branching loop, up to 3x slower on inputs of mixed signs. Training
        # keeps its zeros; prediction, whose batches may be large, does not.
        zeros = np.zeros_like(x) if self.inference else self._buffers.zeros_like(x)
        return np.maximum(x, zeros, out=self._buffers.take_like("output", x))

    def _input_grad(self, output_grad: Array) -> Array:
        g, x = output_grad, self.input_
        if np.ndim(x) == 0 or np.shape(g) != x.shape:
            return g * (x > 0)
        grad = self._buffers.take_like("grad", x, np.result_type(g, x))
        np.greater(x, 0, out=grad)  # 1 where the input is positive, else 0
        np.multiply(grad, g, out=grad)
        self._buffers.give_back("grad", grad)  # for the next backward
        self._buffers.give_back("output", self.output)  # this step is done
        return grad


@ACTIVATIONS.register("leaky_relu")
class LeakyReLU(Operation):
    """``x`` where ``x > 0``, ``alpha * x`` elsewhere.

    Args:
        alpha: slope for negative inputs, in ``[0, 1)``.

    Raises:
        ConfigError: ``alpha`` is not a number in ``[0, 1)``.
    """

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_real(
            "LeakyReLU",
            "alpha",
            alpha,
            low=0,
            high=1,
            high_open=True,
            requirement="must be in [0, 1)",
        )

    def _output(self) -> Array:
        return np.where(self.input_ > 0, self.input_, self.alpha * self.input_)

    def _input_grad(self, output_grad: Array) -> Array:
        return np.where(self.input_ > 0, output_grad, self.alpha * output_grad)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


def activation_name(op: Operation) -> str:
    """The registry name of an activation instance, e.g. ``"relu"``.

    Raises:
        ConfigError: the activation's class is not registered.
    """
    return ACTIVATIONS.name_of(op)


def get_activation(spec: str | dict[str, Any] | Operation | type | None) -> Operation:
    """A fresh activation from a name, a ``{"type": name, **kwargs}`` dict or a
    class; an instance is returned as it is and ``None`` gives :class:`Linear`.

    Raises:
        ConfigError: unknown name (naming the valid choices), or arguments the
            activation does not take, or out of range.
    """
    return Linear() if spec is None else ACTIVATIONS.create(spec, base=Operation)
