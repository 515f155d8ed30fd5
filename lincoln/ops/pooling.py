"""Pooling: the max and average of each window of NCHW images, as operations.

Both reuse the window geometry of :mod:`lincoln.conv` with ``"valid"`` padding
(every window lies inside the image; rows and columns that do not fill a whole
window at the bottom/right are dropped, as in every library). Forward and
backward loop over the ``pool_size ** 2`` offsets inside a window, never over
pixels or samples: for each offset the pixels it reads form one strided slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation
from ..errors import ShapeError, check_positive_int
from .conv import Offset, window_offsets

__all__ = ["MaxPool2DOp", "AvgPool2DOp", "pool_output_shape"]


def pool_output_shape(
    owner: str, input_shape: tuple[int, ...], pool_size: int, stride: int
) -> tuple[int, int, int]:
    """The per-sample output ``(C, H_out, W_out)`` of pooling ``(C, H, W)`` inputs.

    Raises:
        ShapeError: the input is not ``(C, H, W)`` or is smaller than a window.
    """
    if len(input_shape) != 3:
        raise ShapeError(
            f"{owner}: input must have shape (batch, channels, height, width), "
            f"received samples of shape {tuple(input_shape)}"
        )
    c, h, w = input_shape
    if h < pool_size or w < pool_size:
        raise ShapeError(
            f"{owner}: a {pool_size}x{pool_size} window does not fit inputs of "
            f"shape (batch, {c}, {h}, {w})"
        )
    return (c, (h - pool_size) // stride + 1, (w - pool_size) // stride + 1)


class _Pool2DOp(Operation):
    """Shared by the pooling operations: hyperparameters and geometry."""

    def __init__(self, pool_size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.pool_size = check_positive_int(name, "pool_size", pool_size)
        if stride is None:
            stride = self.pool_size
        self.stride = check_positive_int(name, "stride", stride)

    def _offsets(self) -> tuple[int, int, tuple[Offset, ...]]:
        x = self.input_
        pool_output_shape(type(self).__name__, x.shape[1:], self.pool_size, self.stride)
        h, w = x.shape[2], x.shape[3]
        return window_offsets(h, w, self.pool_size, self.stride, "valid")

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape."""
        return pool_output_shape(
            type(self).__name__, input_shape, self.pool_size, self.stride
        )

    def get_config(self) -> dict[str, Any]:
        return {"pool_size": self.pool_size, "stride": self.stride}


class MaxPool2DOp(_Pool2DOp):
    """The maximum of each ``pool_size x pool_size`` window.

    The gradient of a window goes to its maximum. On a tie it goes to the
    first maximum in row-major order within the window (one element, so the
    gradient is never counted twice).

    Args:
        pool_size: side of the window.
        stride: step of the window; None (default) is ``pool_size``, so windows
            do not overlap.

    Shape:
        input_ ``(batch, C, H, W)`` -> output ``(batch, C, (H - pool_size) //
        stride + 1, (W - pool_size) // stride + 1)``.

    Raises:
        ConfigError: a non-positive ``pool_size`` or ``stride``.
        ShapeError: an input that is not 4-D or smaller than a window.

    Example:
        >>> MaxPool2DOp(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
        [[5.0, 7.0], [13.0, 15.0]]
    """

    def _output(self) -> Array:
        x = self.input_
        _, _, offsets = self._offsets()
        # valid padding: every offset reads a full (batch, C, H_out, W_out) slice
        # (a 1x1 window has one offset, taken twice here)
        first, second = offsets[0], offsets[1 % len(offsets)]
        out = np.maximum(
            x[:, :, first.in_rows, first.in_cols],
            x[:, :, second.in_rows, second.in_cols],
        )
        for o in offsets[2:]:
            np.maximum(out, x[:, :, o.in_rows, o.in_cols], out=out)
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        # Where the maximum was is found here rather than in forward, so that
        # inference pays for the maxima only: each window's gradient goes to
        # the first offset whose pixel equals the window's (cached) output.
        x, out = self.input_, self.output
        _, _, offsets = self._offsets()
        dx = np.zeros(x.shape, dtype=output_grad.dtype)
        overlapping = self.stride < self.pool_size
        unclaimed = np.ones(out.shape, dtype=bool)  # windows still to be routed
        hit = np.empty(out.shape, dtype=bool)
        for o in offsets:
            np.equal(x[:, :, o.in_rows, o.in_cols], out, out=hit)
            hit &= unclaimed
            unclaimed ^= hit  # hit is a subset of unclaimed: this removes it
            target = dx[:, :, o.in_rows, o.in_cols]
            if overlapping:  # a pixel can be the maximum of several windows
                target += output_grad * hit
            else:
                np.multiply(output_grad, hit, out=target)
        return dx


class AvgPool2DOp(_Pool2DOp):
    """The mean of each ``pool_size x pool_size`` window.

    Args:
        pool_size: side of the window.
        stride: step of the window; None (default) is ``pool_size``.

    Shape:
        input_ ``(batch, C, H, W)`` -> output ``(batch, C, (H - pool_size) //
        stride + 1, (W - pool_size) // stride + 1)``.

    Raises:
        ConfigError: a non-positive ``pool_size`` or ``stride``.
        ShapeError: an input that is not 4-D or smaller than a window.
    """

    def _output(self) -> Array:
        x = self.input_
        _, _, offsets = self._offsets()
        first = offsets[0]
        out = x[:, :, first.in_rows, first.in_cols].copy()
        for o in offsets[1:]:
            out += x[:, :, o.in_rows, o.in_cols]
        out *= 1.0 / len(offsets)  # a Python float keeps float32 float32
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        _, _, offsets = self._offsets()
        share = output_grad * (1.0 / len(offsets))
        dx = np.zeros(self.input_.shape, dtype=output_grad.dtype)
        for o in offsets:
            dx[:, :, o.in_rows, o.in_cols] += share
        return dx
