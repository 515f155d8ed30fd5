"""The batch-normalization layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..errors import ShapeError
from ..ops.normalization import BatchNormalize, Scale, Shift
from ..registry import LAYERS
from .base import Layer

__all__ = ["BatchNorm"]


@LAYERS.register("batchnorm")
class BatchNorm(Layer):
    """Batch normalization of each feature (dense inputs) or channel (images).

    In training, ``gamma * (x - batch_mean) / sqrt(batch_var + eps) + beta``; the
    running mean and variance follow the batch statistics with ``momentum``,
    and at inference (``forward(X, inference=True)``) replace them.

    Args:
        momentum: share of the running statistics kept at each training step,
            in [0, 1): ``running = momentum * running + (1 - momentum) * batch``.
        eps: added to the variance before the square root.

    Parameters:
        ``params[0]`` gamma (ones) and ``params[1]`` beta (zeros), of shape
        ``(1, features)`` or ``(1, C, 1, 1)``. Buffers (not trained, saved with
        the model): ``running_mean`` (zeros) and ``running_var`` (ones), of the
        same shape.

    Shape:
        input_ ``(batch, features)`` or ``(batch, C, H, W)`` -> the same shape.

    Raises:
        ConfigError: ``momentum`` outside [0, 1) or a non-positive ``eps``.
        ShapeError: an input that is neither 2-D nor 4-D or, once built, has a
            different shape.

    Example:
        >>> layer = BatchNorm(momentum=0.9)
    """

    width_from_input = True

    def __init__(self, momentum: float = 0.9, eps: float = 1e-5) -> None:
        super().__init__()
        self._normalize = BatchNormalize(momentum=momentum, eps=eps)
        self.momentum, self.eps = self._normalize.momentum, self._normalize.eps

    def _setup_layer(self, input_: Array) -> None:
        self.output_shape(tuple(input_.shape[1:]))  # raises unless 2-D or 4-D
        shape = (1, input_.shape[1]) + (1,) * (input_.ndim - 2)
        self._normalize.set_statistics(
            np.zeros(shape, dtype=self.dtype), np.ones(shape, dtype=self.dtype)
        )
        gamma = np.ones(shape, dtype=self.dtype)
        beta = np.zeros(shape, dtype=self.dtype)
        self.params = [gamma, beta]
        self.operations = [self._normalize, Scale(gamma), Shift(beta)]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) not in (1, 3):
            raise ShapeError(
                f"BatchNorm: input must be (batch, features) or (batch, channels, "
                f"height, width), received shape (batch, "
                f"{', '.join(map(str, input_shape))})"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps}
