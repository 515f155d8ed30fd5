"""Pooling: the max and average of each window of NCHW images, as operations.

Windows lie inside the image (``"valid"`` padding: rows and columns that do not
fill a whole window at the bottom/right are dropped, as in every library).
Forward and backward loop over the ``pool_size ** 2`` taps inside a window,
never over pixels or samples: tap ``(i, j)`` of every window is one strided
slice of the input, ``(C, H_out, W_out, batch)`` in batch-last memory
(:func:`lincoln.ops.windows.batch_last`), where each pixel's samples are
contiguous. Outputs and gradients are kept in that memory order too.
The usual 2x2 max pooling with stride 2 is done in pairs: the maximum of each
row of a window, then of the two rows, and the gradient is routed back by
three comparisons of those (see ``MaxPool2DOp._route_pairwise``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation
from ..errors import ShapeError, check_positive_int
from .buffers import Recycler
from .windows import batch_first, batch_last

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
        self._buffers = Recycler()  # output and input gradient, reused

    def _taps(self, x: Array) -> list[Array]:
        """The ``pool_size ** 2`` taps of every window of NCHW ``x``: strided
        views ``(C, H_out, W_out, batch)`` of its batch-last memory, in
        row-major order within the window."""
        p, s = self.pool_size, self.stride
        _, out_h, out_w = pool_output_shape(type(self).__name__, x.shape[1:], p, s)
        images = batch_last(x)
        last_h, last_w = (out_h - 1) * s + 1, (out_w - 1) * s + 1
        return [
            images[:, i : i + last_h : s, j : j + last_w : s]
            for i in range(p)
            for j in range(p)
        ]

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
        taps = self._taps(self.input_)
        out = self._buffers.take("output", taps[0].shape, self.input_.dtype)
        if self._in_pairs():
            # the maximum of each row pair, then of the two rows; both kept
            a, b, c, d = taps
            top = np.maximum(a, b, out=self._buffers.take("top", out.shape, out.dtype))
            bottom = self._buffers.take("bottom", out.shape, out.dtype)
            np.maximum(c, d, out=bottom)
            np.maximum(top, bottom, out=out)
            self._rows = (top, bottom)
            return batch_first(out)
        # a 1x1 window has one tap, taken twice here
        np.maximum(taps[0], taps[-1], out=out)
        for tap in taps[1:-1]:
            np.maximum(out, tap, out=out)
        return batch_first(out)

    def _in_pairs(self) -> bool:
        """True for 2x2 windows with stride 2: they do not overlap, and each
        maximum is a maximum of two pairs."""
        return self.pool_size == self.stride == 2

    def _input_grad(self, output_grad: Array) -> Array:
        n, c, h, w = self.input_.shape
        dx = self._buffers.take("grad", (c, h, w, n), output_grad.dtype)
        g = batch_last(output_grad)
        if self._in_pairs():
            self._route_pairwise(g, dx)
        else:
            self._route_first_maximum(g, dx)
        self._buffers.give_back("grad", dx)  # for the next backward
        self._buffers.give_back("output", batch_last(self.output))  # step done
        return batch_first(dx)

    def _route_pairwise(self, g: Array, dx: Array) -> None:
        """2x2 windows ``[a b; c d]``: the gradient ``g`` goes to the top row
        where its maximum is at least the bottom row's, and within a row to the
        left pixel where it is at least the right one: the first maximum in
        row-major order, found with three comparisons on quarter-size arrays.
        ``dx`` is batch-last."""
        a, b, c, d = self._taps(self.input_)
        to_a, to_b, to_c, to_d = self._taps(batch_first(dx))
        top, bottom = self._rows
        wins = self._buffers.take("wins", top.shape, bool)
        # an odd last row or column is in no window: its gradient is zero
        if dx.shape[1] % 2:
            dx[:, -1] = 0
        if dx.shape[2] % 2:
            dx[:, :, -1] = 0
        np.greater_equal(top, bottom, out=wins)
        g_top = np.multiply(g, wins, out=top)  # the rows' maxima are done with
        g_bottom = np.subtract(g, g_top, out=bottom)
        for g_row, left, right, to_left, to_right in (
            (g_top, a, b, to_a, to_b),
            (g_bottom, c, d, to_c, to_d),
        ):
            np.greater_equal(left, right, out=wins)
            np.multiply(g_row, wins, out=to_left)
            np.subtract(g_row, to_left, out=to_right)
        self._buffers.give_back("wins", wins)
        self._buffers.give_back("top", top)
        self._buffers.give_back("bottom", bottom)

    def _route_first_maximum(self, g: Array, dx: Array) -> None:
        """Any window: each window's gradient ``g`` goes to the first tap whose
        pixel equals the window's (cached) output. ``dx`` is batch-last."""
        x, out = self.input_, batch_last(self.output)
        p, stride = self.pool_size, self.stride
        if not (stride == p and x.shape[2] % p == 0 and x.shape[3] % p == 0):
            dx.fill(0)  # unless the windows tile the input, which writes every pixel
        unclaimed = np.ones(out.shape, dtype=bool)  # windows still to be routed
        hit = np.empty(out.shape, dtype=bool)
        for tap, target in zip(self._taps(x), self._taps(batch_first(dx)), strict=True):
            np.equal(tap, out, out=hit)
            hit &= unclaimed
            unclaimed ^= hit  # hit is a subset of unclaimed: this removes it
            if stride < p:  # overlapping: a pixel can be the maximum of several windows
                target += g * hit
            else:
                np.multiply(g, hit, out=target)


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
        taps = self._taps(self.input_)
        out = taps[0].copy()  # C-contiguous: batch-last
        for tap in taps[1:]:
            out += tap
        out *= 1.0 / len(taps)  # a Python float keeps float32 float32
        return batch_first(out)

    def _input_grad(self, output_grad: Array) -> Array:
        n, c, h, w = self.input_.shape
        dx = np.zeros((c, h, w, n), dtype=output_grad.dtype)
        share = batch_last(output_grad) * (1.0 / self.pool_size**2)
        for target in self._taps(batch_first(dx)):
            target += share
        return batch_first(dx)
