"""Reshaping operations."""

from __future__ import annotations

from ..base import Array, Operation

__all__ = ["FlattenOp"]


class FlattenOp(Operation):
    """Flatten every sample into a row (the book's ``Flatten`` operation).

    Shape:
        input_ ``(batch, *)`` -> output ``(batch, prod(*))``.
    """

    def _output(self) -> Array:
        return self.input_.reshape(self.input_.shape[0], -1)

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad.reshape(self.input_.shape)
