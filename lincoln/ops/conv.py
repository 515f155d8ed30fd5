"""Convolution: the 2-D convolution operation, its per-channel bias, and the
im2col / col2im helpers they (and pooling) are built on.

A convolution is a matrix product in disguise. ``im2col`` copies every
``k x k`` window of the input into one column of a matrix, so that the whole
layer is one product with the kernel reshaped to ``(out_channels,
in_channels * k * k)``:

    cols   = im2col(x)                       (batch, C*k*k, H_out*W_out)
    output = W2 @ cols                       (batch, O, H_out*W_out)
    dW2    = sum over the batch of output_grad @ cols^T
    dx     = col2im(W2^T @ output_grad)

im2col is written as a loop over the ``k * k`` kernel offsets ``(i, j)``: for each
offset, the input pixels that this kernel tap sees form one strided slice of
the input, copied whole into the matching slice of ``cols``. The padding is
never materialised: the part of ``cols`` that would read padding is zero, and
stays zero because no offset ever writes there, so a ``cols`` buffer is zeroed
once and reused for inputs of the same shape. col2im is the same loop with the
copy turned into ``+=`` (the transpose of a copy is an accumulation). Neither
loop ever visits single pixels or samples, and there is no ``np.add.at``.

Unlike the book's published ``Conv2D_Op``, the input gradient here is the true
transpose of the forward pass (the book forgot to flip the kernel) and the
kernel gradient sums over the whole batch (the book's was wrong for batch > 1);
the tests check both against central differences in float64.

Layout: inputs are NCHW ``(batch, channels, height, width)``; the kernel is
``(in_channels, out_channels, k, k)``, the book's layout. What is computed is a
cross-correlation (no kernel flip in the forward pass), as in every deep-learning
library.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..base import Array, ParamOperation
from ..errors import ConfigError, ShapeError, check_positive_int
from .buffers import Recycler

__all__ = [
    "Conv2DOp",
    "Conv2D_Op",
    "BiasAdd2D",
    "PADDINGS",
    "check_images",
    "check_padding",
    "conv_output_size",
    "fitted_output_size",
    "window_offsets",
    "window_view",
    "Offset",
    "im2col",
    "col2im",
]

PADDINGS = ("same", "valid")

Padding = str | int  # "same", "valid" or a non-negative number of pixels


# -- validation --------------------------------------------------------------------


def check_padding(owner: str, padding: Any) -> Padding:
    """``padding`` if it is ``"same"``, ``"valid"`` or a non-negative int.

    Raises:
        ConfigError: anything else, naming ``owner``.
    """
    if isinstance(padding, str) and padding in PADDINGS:
        return padding
    if (
        isinstance(padding, numbers.Integral)
        and not isinstance(padding, bool)
        and int(padding) >= 0
    ):
        return int(padding)
    raise ConfigError(
        f"{owner}: padding must be 'same', 'valid' or a non-negative integer, "
        f"received padding={padding!r}"
    )


# -- geometry ----------------------------------------------------------------------


def _pads(size: int, kernel: int, stride: int, padding: Padding) -> tuple[int, int]:
    """(padding before, output size) along one spatial axis."""
    if padding == "same":
        # TensorFlow's rule: output = ceil(size / stride); any odd pixel of
        # padding goes after. For stride 1 the output is exactly the input size.
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, out
    pad = 0 if padding == "valid" else int(padding)
    return pad, (size + 2 * pad - kernel) // stride + 1


def conv_output_size(
    height: int, width: int, kernel: int, stride: int = 1, padding: Padding = "same"
) -> tuple[int, int]:
    """Output ``(height, width)`` of a ``kernel x kernel`` window sliding with
    ``stride`` over a padded ``height x width`` image.

    ``"same"`` gives ``ceil(size / stride)`` (the input size for stride 1),
    ``"valid"`` gives ``(size - kernel) // stride + 1``, an int ``p`` pads ``p``
    pixels on every side. A result below 1 means the kernel does not fit.

    Example:
        >>> conv_output_size(28, 28, 3, stride=2)
        (14, 14)
        >>> conv_output_size(28, 28, 5, padding="valid")
        (24, 24)
    """
    out_h = _pads(height, kernel, stride, padding)[1]
    out_w = _pads(width, kernel, stride, padding)[1]
    return out_h, out_w


def fitted_output_size(
    owner: str,
    input_shape: tuple[int, ...],
    kernel: int,
    stride: int,
    padding: Padding,
) -> tuple[int, int]:
    """:func:`conv_output_size` for a per-sample ``(C, H, W)`` input shape, or a
    :class:`ShapeError` naming ``owner`` when the window does not fit."""
    if len(input_shape) != 3:
        raise ShapeError(
            f"{owner}: input must have shape (batch, channels, height, width), "
            f"received samples of shape {tuple(input_shape)}"
        )
    out_h, out_w = conv_output_size(*input_shape[1:], kernel, stride, padding)
    if out_h < 1 or out_w < 1:
        raise ShapeError(
            f"{owner}: a {kernel}x{kernel} kernel with stride={stride}, "
            f"padding={padding!r} does not fit inputs of shape "
            f"(batch, {', '.join(map(str, input_shape))})"
        )
    return out_h, out_w


class Offset(NamedTuple):
    """One kernel tap ``(i, j)``: the output positions whose window has this tap
    inside the image (``out_rows, out_cols``) and the input pixels the tap
    reads there (``in_rows, in_cols``, strided slices of the same lengths)."""

    i: int
    j: int
    out_rows: slice
    out_cols: slice
    in_rows: slice
    in_cols: slice


def _axis_slices(
    size: int, kernel: int, stride: int, padding: Padding
) -> tuple[int, list[tuple[slice, slice] | None]]:
    before, out = _pads(size, kernel, stride, padding)
    slices: list[tuple[slice, slice] | None] = []
    for i in range(kernel):
        # output o reads input o * stride + i - before, which must lie in [0, size)
        first = max(0, -(-(before - i) // stride))
        stop = min(out, (size - 1 + before - i) // stride + 1)
        if stop <= first:
            slices.append(None)  # this tap only ever sees padding
            continue
        start = first * stride + i - before
        end = start + (stop - first - 1) * stride + 1
        slices.append((slice(first, stop), slice(start, end, stride)))
    return out, slices


@functools.lru_cache(maxsize=256)
def window_offsets(
    height: int, width: int, kernel: int, stride: int = 1, padding: Padding = "same"
) -> tuple[int, int, tuple[Offset, ...]]:
    """Output size and the :class:`Offset` of every kernel tap that sees the image.

    Taps that fall entirely in the padding are left out. Cached: a network asks
    for the same geometry every batch.

    Returns:
        ``(out_height, out_width, offsets)``.
    """
    out_h, rows = _axis_slices(height, kernel, stride, padding)
    out_w, cols = _axis_slices(width, kernel, stride, padding)
    offsets = tuple(
        Offset(i, j, r[0], c[0], r[1], c[1])
        for i, r in enumerate(rows)
        if r is not None
        for j, c in enumerate(cols)
        if c is not None
    )
    return out_h, out_w, offsets


def window_view(
    images: Array,
    kernel: int,
    stride: int,
    out_h: int,
    out_w: int,
    writeable: bool = False,
) -> Array:
    """Every ``kernel x kernel`` window of the last two axes of ``images`` (no
    padding), as a strided view ``(..., out_h, out_w, kernel, kernel)``, no copy:
    ``view[..., y, x, i, j]`` is ``images[..., y * stride + i, x * stride + j]``.

    ``writeable=True`` allows writing through one tap ``view[..., i, j]`` at a
    time (its pixels are distinct); windows that overlap share pixels.
    """
    view = sliding_window_view(
        images, (kernel, kernel), axis=(-2, -1), writeable=writeable
    )
    last_h, last_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    return view[..., :last_h:stride, :last_w:stride, :, :]


def im2col(
    x: Array,
    kernel: int,
    stride: int = 1,
    padding: Padding = "same",
    out: Array | None = None,
) -> Array:
    """Every ``kernel x kernel`` window of ``x``, as columns.

    Args:
        x: images ``(batch, channels, height, width)``.
        kernel, stride, padding: the window geometry (see :func:`conv_output_size`).
        out: a buffer to fill, of the returned shape and ``x``'s dtype. Only the
            entries that read image pixels are written, so the entries that read
            padding must already be zero: pass a fresh ``np.zeros`` buffer or one
            that an earlier ``im2col`` of the same geometry filled.

    Returns:
        ``cols`` of shape ``(batch, channels, kernel, kernel, out_height,
        out_width)``: ``cols[n, c, i, j, y, x]`` is the (padded) input pixel
        ``[n, c, y * stride + i - pad_top, x * stride + j - pad_left]``.
        Reshaped to ``(batch, channels * kernel**2, out_height * out_width)`` it
        is the im2col matrix of each sample.
    """
    n, c, h, w = x.shape
    out_h, out_w, offsets = window_offsets(h, w, kernel, stride, padding)
    if out is None:
        out = np.zeros((n, c, kernel, kernel, out_h, out_w), dtype=x.dtype)
    for o in offsets:
        out[:, :, o.i, o.j, o.out_rows, o.out_cols] = x[:, :, o.in_rows, o.in_cols]
    return out


def col2im(
    cols: Array,
    input_shape: tuple[int, ...],
    stride: int = 1,
    padding: Padding = "same",
    out: Array | None = None,
) -> Array:
    """The transpose of :func:`im2col`: add every column entry back onto the
    input pixel it was copied from (entries that read padding are dropped).

    Args:
        cols: ``(batch, channels, kernel, kernel, out_height, out_width)``.
        input_shape: ``(batch, channels, height, width)`` of the image.
        out: an array of ``input_shape`` and ``cols``' dtype to write the
            result into (its contents are overwritten); None for a new one.

    Returns:
        ``out``, or a new array of ``input_shape`` and ``cols``' dtype.
    """
    n, c, kernel, _, _, _ = cols.shape
    h, w = input_shape[2], input_shape[3]
    _, _, offsets = window_offsets(h, w, kernel, stride, padding)
    if out is None:
        dx = np.zeros(input_shape, dtype=cols.dtype)
    else:
        dx = out
        dx.fill(0)
    for o in offsets:
        dx[:, :, o.in_rows, o.in_cols] += cols[:, :, o.i, o.j, o.out_rows, o.out_cols]
    return dx


def _scratch(
    buffer: Array | None, shape: tuple[int, ...], dtype: Any, zero: bool
) -> Array:
    """``buffer`` if it has this shape and dtype, else a new one (zeroed if asked)."""
    if buffer is not None and buffer.shape == shape and buffer.dtype == dtype:
        return buffer
    return np.zeros(shape, dtype=dtype) if zero else np.empty(shape, dtype=dtype)


def check_images(
    owner: Any,
    x: Array,
    channels: int | None = None,
    *,
    requirement: str | None = None,
) -> None:
    """Raise :class:`ShapeError` unless ``x`` is a batch of NCHW images (with
    ``channels`` channels, if given).

    Args:
        owner: the operation or layer checking (its class name leads the
            message), or that name as a string.
        x: the input.
        channels: the number of channels required, or None for any.
        requirement: the words after "input must" in the message; default
            ``"have shape (batch, C, height, width)"``.

    Raises:
        ShapeError: e.g. ``Conv2DOp: input must have shape (batch, 3, height,
            width), received shape (2, 75)``.
    """
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        name = owner if isinstance(owner, str) else type(owner).__name__
        if requirement is None:
            c = "channels" if channels is None else str(channels)
            requirement = f"have shape (batch, {c}, height, width)"
        raise ShapeError(f"{name}: input must {requirement}, received shape {x.shape}")


# -- operations --------------------------------------------------------------------


class Conv2DOp(ParamOperation):
    """2-D convolution (cross-correlation) of NCHW images with a square kernel.

    Args:
        W: kernel of shape ``(in_channels, out_channels, k, k)``.
        stride: step of the window, a positive int.
        padding: ``"same"`` (output ``ceil(size / stride)``, the input size for
            stride 1), ``"valid"`` (no padding) or a number of zero pixels on
            every side.

    Shape:
        input_ ``(batch, in_channels, H, W)`` -> output ``(batch, out_channels,
        H_out, W_out)``, see :func:`conv_output_size`.

    Raises:
        ShapeError: a kernel that is not ``(C, O, k, k)``; an input with the wrong
            number of dimensions or channels, or too small for the kernel.
        ConfigError: a bad ``stride`` or ``padding``.

    Example:
        >>> op = Conv2DOp(np.ones((1, 2, 3, 3)))
        >>> op.forward(np.ones((4, 1, 5, 6))).shape
        (4, 2, 5, 6)
    """

    def __init__(self, W: Array, stride: int = 1, padding: Padding = "same") -> None:
        if np.ndim(W) != 4 or np.shape(W)[2] != np.shape(W)[3]:
            raise ShapeError(
                f"Conv2DOp: W must be a 4-D kernel (in_channels, out_channels, k, k), "
                f"received shape {np.shape(W)}"
            )
        super().__init__(W)
        self.stride = check_positive_int("Conv2DOp", "stride", stride)
        self.padding = check_padding("Conv2DOp", padding)
        # Scratch reused from batch to batch (reallocated when the batch shape
        # changes): the im2col buffer, whose padding entries stay zero (see
        # im2col), its gradient, and the kernel as a matrix.
        # _cols and _w2 are None only until the first _output call sets them.
        self._cols: Array = None  # type: ignore[assignment]
        # The input shape _cols was filled from. Which entries of _cols read
        # padding depends on the input's height and width, not only on the
        # output size (stride 2 maps 7x7 and 8x8 alike to 4x4), so _cols is
        # reused only for an input of exactly this shape.
        self._cols_input_shape: tuple[int, ...] | None = None
        self._dcols: Array | None = None
        self._w2: Array = None  # type: ignore[assignment]
        # its output and input gradient, reused from step to step
        self._buffers = Recycler()

    def _output(self) -> Array:
        x = self.input_
        in_c, out_c, k, _ = self.param.shape
        check_images(self, x, in_c)
        n = x.shape[0]
        out_h, out_w = fitted_output_size(
            "Conv2DOp", x.shape[1:], k, self.stride, self.padding
        )
        shape = (n, in_c, k, k, out_h, out_w)
        reusable = self._cols if self._cols_input_shape == x.shape else None
        self._cols = cols = _scratch(reusable, shape, x.dtype, zero=True)
        self._cols_input_shape = x.shape
        im2col(x, k, self.stride, self.padding, out=cols)
        # (C, O, k, k) -> (O, C*k*k): a copy, but of the small kernel only
        self._w2 = self.param.transpose(1, 0, 2, 3).reshape(out_c, in_c * k * k)
        dtype = np.result_type(self.param, x)
        out = self._buffers.take("output", (n, out_c, out_h, out_w), dtype)
        cols_matrix = cols.reshape(n, in_c * k * k, out_h * out_w)
        np.matmul(self._w2, cols_matrix, out=out.reshape(n, out_c, out_h * out_w))
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        n, out_c, out_h, out_w = output_grad.shape
        in_c, _, k, _ = self.param.shape
        g = output_grad.reshape(n, out_c, out_h * out_w)
        shape = (n, in_c, k, k, out_h, out_w)
        dtype = np.result_type(self._w2, g)
        self._dcols = dcols = _scratch(self._dcols, shape, dtype, zero=False)
        # (C*k*k, O) @ (batch, O, H_out*W_out), written into the scratch buffer
        np.matmul(self._w2.T, g, out=dcols.reshape(n, in_c * k * k, out_h * out_w))
        dx = self._buffers.take("grad", self.input_.shape, dtype)
        self._buffers.give_back("grad", dx)  # for the next backward
        return col2im(dcols, self.input_.shape, self.stride, self.padding, out=dx)

    def _param_grad(self, output_grad: Array) -> Array:
        n, out_c, out_h, out_w = output_grad.shape
        in_c, _, k, _ = self.param.shape
        g = output_grad.reshape(n, out_c, out_h * out_w)
        cols = self._cols.reshape(n, in_c * k * k, out_h * out_w)
        # one small product per sample, summed over the batch: (O, C*k*k)
        dw2 = np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0)
        dw = dw2.reshape(out_c, in_c, k, k).transpose(1, 0, 2, 3)
        # always called by backward (the input gradient may be skipped): this
        # step is done with the output
        self._buffers.give_back("output", self.output)
        return np.ascontiguousarray(dw)

    def get_config(self) -> dict[str, Any]:
        return {"stride": self.stride, "padding": self.padding}

    def __repr__(self) -> str:
        return (
            f"Conv2DOp(W shape={tuple(self.param.shape)}, stride={self.stride}, "
            f"padding={self.padding!r})"
        )


Conv2D_Op = Conv2DOp  # the book's name


class BiasAdd2D(ParamOperation):
    """Add one bias per channel to NCHW images.

    Args:
        B: bias of shape ``(1, channels, 1, 1)``.

    Shape:
        input_ ``(batch, channels, H, W)`` -> output of the same shape.
    """

    def __init__(self, B: Array) -> None:
        shape = np.shape(B)
        if len(shape) != 4 or shape[0] != 1 or shape[2:] != (1, 1):
            raise ShapeError(
                f"BiasAdd2D: B must have shape (1, channels, 1, 1), received shape "
                f"{shape}"
            )
        super().__init__(B)
        self._buffers = Recycler()  # its output, reused from step to step

    def _output(self) -> Array:
        x = self.input_
        check_images(self, x, self.param.shape[1])
        dtype = np.result_type(x, self.param)
        return np.add(x, self.param, out=self._buffers.take("output", x.shape, dtype))

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        self._buffers.give_back("output", self.output)  # this step is done
        # each channel's bias is broadcast over the batch and every pixel
        return output_grad.sum(axis=(0, 2, 3), keepdims=True)
