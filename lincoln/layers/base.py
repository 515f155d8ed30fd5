"""The :class:`Layer` base: a list of operations that builds itself on its first input.

A layer holds ``operations`` and, for the optimizer, ``params`` and
``param_grads`` (the arrays of its :class:`~lincoln.base.ParamOperation` s, by
reference). It is built lazily: the first ``forward`` calls
``_setup_layer(input_)``, which sees the input's shape and creates the
parameters and operations. A subclass writes only ``_setup_layer``, exactly as
in the book.

Its other state is read from its operations' declarations
(:meth:`~lincoln.base.Operation.buffers`, :meth:`~lincoln.base.Operation.generators`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation, ParamOperation
from ..errors import (
    ConfigError,
    ShapeError,
    check_positive_int,
    shape_error,
)

__all__ = ["Layer"]


class Layer:
    """A "layer" of neurons: a sequence of operations built on the first input.

    Args:
        neurons: the number of outputs per sample (the layer's width); None for
            layers whose width follows from their input (pooling, Flatten,
            BatchNorm), which set it when they are built.

    Attributes:
        operations: the operations, applied in order.
        params: the parameter arrays of those operations (shared, not copies).
        param_grads: their gradients after ``backward``.
        first: True until the layer is built; set it back to True to rebuild.
        seed: seed of the layer's random generator (a network sets it).
        dtype: floating type of the parameters (a network sets it).
        needs_input_grad: False skips the gradient with respect to the input
            (a network sets it on its first layer).
    """

    #: True for layers whose width follows from their input (they take no
    #: ``neurons`` and set it when built).
    width_from_input = False

    def __init__(self, neurons: int | None = None) -> None:
        if not (neurons is None and self.width_from_input):
            neurons = check_positive_int(type(self).__name__, "neurons", neurons)
        # None only until a layer whose width follows from its input is built
        self.neurons: int = neurons  # type: ignore[assignment]
        self.first = True
        self.params: list[Array] = []
        self.param_grads: list[Array] = []
        self.operations: list[Operation] = []
        self.seed: int | None = None
        self.dtype: np.dtype[Any] = np.dtype(np.float64)
        self.input_: Array | None = None
        self.output: Array | None = None
        self.input_grad: Array | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.needs_input_grad = True

    def _setup_layer(self, input_: Array) -> None:
        """Create ``self.params`` and ``self.operations`` for this input."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _setup_layer(self, input_)"
        )

    def follow(self, previous: Layer | None) -> None:
        """Told by a new network that this layer comes right after ``previous``
        (None for its first layer); the base does nothing (see MaxPool2D)."""

    def rng(self) -> np.random.Generator:
        """A generator seeded from ``self.seed`` (fresh each call, so a rebuild
        draws the same initial weights)."""
        return np.random.default_rng(self.seed)

    def build(self, input_: Array) -> None:
        """Build the layer for inputs shaped like ``input_`` (done by ``forward``)."""
        self._setup_layer(input_)
        for op in self.operations:
            # parameters live in the layer's dtype; the op keeps the cast array
            if isinstance(op, ParamOperation) and op.param.dtype != self.dtype:
                op.param = np.ascontiguousarray(op.param, dtype=self.dtype)
        self.params = [op.param for op in self._param_ops()]
        if self.operations:
            self.operations[0].needs_input_grad = self.needs_input_grad
        self.input_shape = tuple(input_.shape[1:])
        if self.neurons is None:
            self.neurons = int(np.prod(self.output_shape(self.input_shape)))
        self.first = False

    def _param_ops(self) -> list[ParamOperation]:
        return [op for op in self.operations if isinstance(op, ParamOperation)]

    def forward(self, input_: Array, inference: bool = False) -> Array:
        """Pass ``input_`` through every operation (building the layer first).

        Raises:
            ShapeError: the input's shape differs from the one the layer was built
                for, or an operation lost the batch size.
        """
        if self.first:
            self.build(input_)
        elif tuple(input_.shape[1:]) != self.input_shape:
            raise ShapeError(
                f"{type(self).__name__}: built for inputs of shape (batch, "
                f"{', '.join(map(str, self.input_shape or ()))}), received shape "
                f"{input_.shape} (a layer takes the shape of its first input; set "
                f"layer.first = True to rebuild it with new weights)"
            )
        self.input_ = output = input_
        for op in self.operations:
            output = op.forward(output, inference)
            if np.shape(output)[:1] != input_.shape[:1]:
                raise ShapeError(
                    f"{type(self).__name__}: {type(op).__name__}._output must keep "
                    f"the batch size; input shape {np.shape(op.input_)}, output "
                    f"shape {np.shape(output)}"
                )
        self.output = output
        return output

    def backward(self, output_grad: Array) -> Array:
        """Backpropagate through the operations in reverse; return dL/d(input).

        Raises:
            ShapeError: ``output_grad`` does not match the layer's output.
        """
        if self.output is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if getattr(output_grad, "shape", None) != self.output.shape:
            raise shape_error(self, "output_grad", self.output.shape, output_grad)
        grad = output_grad
        for op in reversed(self.operations):
            grad = op.backward(grad)
        self.input_grad = grad
        self.param_grads = [op.param_grad for op in self._param_ops()]
        return grad

    # -- declared state -------------------------------------------------------

    def buffers(self) -> dict[str, Array]:
        """Non-trainable state saved with the model (e.g. batch-norm running
        statistics), by name: its operations' buffers, the arrays themselves."""
        return {name: b for op in self.operations for name, b in op.buffers().items()}

    def generators(self) -> dict[str, np.random.Generator]:
        """Random generators of its operations, as ``"operations.{k}.{name}"``."""
        return {
            f"operations.{k}.{name}": gen
            for k, op in enumerate(self.operations)
            for name, gen in op.generators().items()
        }

    # -- description ----------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer."""
        return {"neurons": self.neurons}

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape."""
        if self.neurons is None:
            raise NotImplementedError(f"{type(self).__name__} must define output_shape")
        return (self.neurons,)

    def __repr__(self) -> str:
        try:
            config = self.get_config()
        except ConfigError:  # e.g. a user's own, unregistered activation
            config = {
                k: v
                for k, v in vars(self).items()
                if k in ("neurons", "activation", "weight_init")
            }
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"
