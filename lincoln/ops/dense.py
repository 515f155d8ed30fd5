"""The two parameter operations of a fully connected layer: ``X @ W`` and ``+ B``."""

from __future__ import annotations

import numpy as np

from ..base import Array, ParamOperation
from ..errors import ShapeError

__all__ = ["WeightMultiply", "BiasAdd"]


class WeightMultiply(ParamOperation):
    """Multiply the input by a weight matrix.

    Args:
        W: weights of shape ``(in_features, out_features)``.

    Shape:
        input_ ``(batch, in_features)`` -> output ``(batch, out_features)``.
    """

    def __init__(self, W: Array) -> None:
        if np.ndim(W) != 2:
            raise ShapeError(
                f"WeightMultiply: W must be a 2-D array (in_features, out_features), "
                f"received shape {np.shape(W)}"
            )
        super().__init__(W)

    def _output(self) -> Array:
        if self.input_.ndim != 2 or self.input_.shape[1] != self.param.shape[0]:
            raise ShapeError(
                f"WeightMultiply: input must have shape "
                f"(batch, {self.param.shape[0]}), received shape {self.input_.shape}"
            )
        return self.input_ @ self.param

    def _input_grad(self, output_grad: Array) -> Array:
        if self.input_.flags.f_contiguous and not self.input_.flags.c_contiguous:
            # laid out as the input (e.g. flattened batch-last images): (W G^T)^T
            return (self.param @ output_grad.T).T
        return output_grad @ self.param.T

    def _param_grad(self, output_grad: Array) -> Array:
        return self.input_.T @ output_grad


class BiasAdd(ParamOperation):
    """Add a bias row to every sample.

    Args:
        B: bias of shape ``(1, features)``.

    Shape:
        input_ ``(batch, features)`` -> output of the same shape.
    """

    def __init__(self, B: Array) -> None:
        if np.ndim(B) != 2 or np.shape(B)[0] != 1:
            raise ShapeError(
                f"BiasAdd: B must have shape (1, features), received shape "
                f"{np.shape(B)}"
            )
        super().__init__(B)

    def _output(self) -> Array:
        return self.input_ + self.param

    def _input_grad(self, output_grad: Array) -> Array:
        # d(x + b)/dx is the identity: the gradient passes through unchanged.
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        # The bias is broadcast over the batch, so its gradient sums over it.
        return output_grad.sum(axis=0, keepdims=True)
