"""The fully connected operations applied over the last axis of an N-D input.

``(batch, steps, features) @ W`` is one matrix product of the
``(batch * steps, features)`` view: the same weights at every step, as a Dense
layer after a recurrent one needs, and as a recurrent layer's input projection
of all steps at once.
"""

from __future__ import annotations

import numpy as np

from ..base import Array, ParamOperation
from ..errors import ShapeError

__all__ = ["SequenceWeightMultiply", "SequenceBiasAdd"]


def _rows(x: Array) -> Array:
    """``x`` as a 2-D ``(rows, last axis)`` view (a copy only if not contiguous)."""
    return x.reshape(-1, x.shape[-1])


class SequenceWeightMultiply(ParamOperation):
    """Multiply the last axis of the input by a weight matrix.

    Args:
        W: weights of shape ``(in_features, out_features)``.

    Shape:
        input_ ``(batch, ..., in_features)`` -> output ``(batch, ..., out_features)``.
    """

    def __init__(self, W: Array) -> None:
        if np.ndim(W) != 2:
            raise ShapeError(
                f"SequenceWeightMultiply: W must be a 2-D array (in_features, "
                f"out_features), received shape {np.shape(W)}"
            )
        super().__init__(W)

    def _output(self) -> Array:
        x = self.input_
        if x.ndim < 2 or x.shape[-1] != self.param.shape[0]:
            raise ShapeError(
                f"SequenceWeightMultiply: input must have shape (batch, ..., "
                f"{self.param.shape[0]}), received shape {x.shape}"
            )
        return (_rows(x) @ self.param).reshape(*x.shape[:-1], self.param.shape[1])

    def _input_grad(self, output_grad: Array) -> Array:
        return (_rows(output_grad) @ self.param.T).reshape(self.input_.shape)

    def _param_grad(self, output_grad: Array) -> Array:
        return _rows(self.input_).T @ _rows(output_grad)


class SequenceBiasAdd(ParamOperation):
    """Add a bias row over the last axis.

    Args:
        B: bias of shape ``(1, features)``.
        in_place: add into the input array and return it, saving an array as
            large as the input; only for an input that nobody else reads (a
            recurrent layer's fresh input projection).

    Shape:
        input_ ``(batch, ..., features)`` -> output of the same shape.
    """

    def __init__(self, B: Array, in_place: bool = False) -> None:
        if np.ndim(B) != 2 or np.shape(B)[0] != 1:
            raise ShapeError(
                f"SequenceBiasAdd: B must have shape (1, features), received shape "
                f"{np.shape(B)}"
            )
        super().__init__(B)
        self.in_place = in_place

    def _output(self) -> Array:
        if self.in_place:
            self.input_ += self.param[0]
            return self.input_
        return self.input_ + self.param[0]

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        # broadcast over every row of every step: the gradient sums over them
        return _rows(output_grad).sum(axis=0, keepdims=True)
