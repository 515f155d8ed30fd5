"""Pooling: the max and average of each window of NCHW images, as operations.

Both see the windows as a strided view of the input, ``(batch, C, H_out, W_out,
pool_size, pool_size)`` (:func:`lincoln.ops.conv.window_view`, ``"valid"``
padding: every window lies inside the image; rows and columns that do not fill
a whole window at the bottom/right are dropped, as in every library). For the
usual non-overlapping windows that view is just the input reshaped. Forward and
backward loop over the ``pool_size ** 2`` taps inside a window, never over
pixels or samples: each tap is one strided slice ``windows[..., i, j]``.
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
from .conv import window_view
from .parallel import over_batch

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

    def _taps(self, x: Array, writeable: bool = False) -> list[Array]:
        """The ``pool_size ** 2`` taps of every window of ``x``: strided views
        ``(batch, C, H_out, W_out)``, in row-major order within the window."""
        name, p = type(self).__name__, self.pool_size
        _, out_h, out_w = pool_output_shape(name, x.shape[1:], p, self.stride)
        windows = window_view(x, p, self.stride, out_h, out_w, writeable)
        return [windows[..., i, j] for i in range(p) for j in range(p)]

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
            top = self._buffers.take("top", out.shape, out.dtype)
            bottom = self._buffers.take("bottom", out.shape, out.dtype)

            def pool(rows: slice) -> None:
                np.maximum(a[rows], b[rows], out=top[rows])
                np.maximum(c[rows], d[rows], out=bottom[rows])
                np.maximum(top[rows], bottom[rows], out=out[rows])

            over_batch(pool, len(out), self.input_.size)
            self._rows = (top, bottom)
            return out
        # a 1x1 window has one tap, taken twice here
        np.maximum(taps[0], taps[-1], out=out)
        for tap in taps[1:-1]:
            np.maximum(out, tap, out=out)
        return out

    def _in_pairs(self) -> bool:
        """True for 2x2 windows with stride 2: they do not overlap, and each
        maximum is a maximum of two pairs."""
        return self.pool_size == self.stride == 2

    def _input_grad(self, output_grad: Array) -> Array:
        dx = self._buffers.take("grad", self.input_.shape, output_grad.dtype)
        if self._in_pairs():
            self._route_pairwise(output_grad, dx)
        else:
            self._route_first_maximum(output_grad, dx)
        self._buffers.give_back("grad", dx)  # for the next backward
        self._buffers.give_back("output", self.output)  # this step is done with it
        return dx

    def _route_pairwise(self, output_grad: Array, dx: Array) -> None:
        """2x2 windows ``[a b; c d]``: the gradient goes to the top row where its
        maximum is at least the bottom row's, and within a row to the left pixel
        where it is at least the right one: the first maximum in row-major
        order, found with three comparisons on quarter-size arrays."""
        a, b, c, d = self._taps(self.input_)
        to_a, to_b, to_c, to_d = self._taps(dx, writeable=True)
        top, bottom = self._rows
        wins = self._buffers.take("wins", top.shape, bool)

        h, w = dx.shape[2:]

        def route(n: slice) -> None:
            # an odd last row or column is in no window: its gradient is zero
            if h % 2:
                dx[n, :, -1, :] = 0
            if w % 2:
                dx[n, :, :, -1] = 0
            np.greater_equal(top[n], bottom[n], out=wins[n])
            g_top = np.multiply(output_grad[n], wins[n], out=top[n])  # rows done
            g_bottom = np.subtract(output_grad[n], g_top, out=bottom[n])
            for g_row, left, right, to_left, to_right in (
                (g_top, a[n], b[n], to_a[n], to_b[n]),
                (g_bottom, c[n], d[n], to_c[n], to_d[n]),
            ):
                np.greater_equal(left, right, out=wins[n])
                np.multiply(g_row, wins[n], out=to_left)
                np.subtract(g_row, to_left, out=to_right)

        over_batch(route, len(top), dx.size)
        self._buffers.give_back("wins", wins)
        self._buffers.give_back("top", top)
        self._buffers.give_back("bottom", bottom)

    def _route_first_maximum(self, output_grad: Array, dx: Array) -> None:
        """Any window: each window's gradient goes to the first tap whose pixel
        equals the window's (cached) output."""
        x, out = self.input_, self.output
        p, stride = self.pool_size, self.stride
        if not (stride == p and x.shape[2] % p == 0 and x.shape[3] % p == 0):
            dx.fill(0)  # unless the windows tile the input, which writes every pixel
        unclaimed = np.ones(out.shape, dtype=bool)  # windows still to be routed
        hit = np.empty(out.shape, dtype=bool)
        for tap, target in zip(self._taps(x), self._taps(dx, True), strict=True):
            np.equal(tap, out, out=hit)
            hit &= unclaimed
            unclaimed ^= hit  # hit is a subset of unclaimed: this removes it
            if stride < p:  # overlapping: a pixel can be the maximum of several windows
                target += output_grad * hit
            else:
                np.multiply(output_grad, hit, out=target)


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
        out = taps[0].copy()
        for tap in taps[1:]:
            out += tap
        out *= 1.0 / len(taps)  # a Python float keeps float32 float32
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        dx = np.zeros_like(self.input_, dtype=output_grad.dtype)
        share = output_grad * (1.0 / self.pool_size**2)
        for target in self._taps(dx, writeable=True):
            target += share
        return dx
