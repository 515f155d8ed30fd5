"""Reshaping operations."""

from __future__ import annotations

import numpy as np

from ..base import Array, Operation
from .buffers import _element_strides

__all__ = ["FlattenOp"]


class FlattenOp(Operation):
    """Flatten every sample into a row (the book's ``Flatten`` operation).

    Shape:
        input_ ``(batch, *)`` -> output ``(batch, prod(*))``.

    The output is a view when the input is C-contiguous, else a copy (images
    in batch-last memory, :func:`lincoln.ops.windows.batch_last`). The input
    gradient is laid out in memory as the input was, so that the operations
    before it work on arrays of one memory order.
    """

    def _output(self) -> Array:
        return self.input_.reshape(self.input_.shape[0], -1)

    def _input_grad(self, output_grad: Array) -> Array:
        grad = output_grad.reshape(self.input_.shape)
        if _element_strides(grad) == _element_strides(self.input_):
            return grad
        like_input = np.empty_like(self.input_, dtype=grad.dtype)
        np.copyto(like_input, grad)
        return like_input
