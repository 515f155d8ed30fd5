"""Convolution: the 2-D convolution operation, its per-channel bias, and the
im2col / col2im helpers they are built on.

A convolution is a matrix product in disguise. ``im2col`` copies every
``k x k`` window of the input into one column of a matrix, so that the whole
layer is one product with the kernel reshaped to ``(out_channels,
in_channels * k * k)``. Conv2DOp keeps that matrix channels first, with the
batch inside the columns, so that each of its three products covers the whole
batch at once (one large product keeps both BLAS threads busy; a stack of one
small product per sample does not):

    cols   = im2col(x)                      (C*k*k, batch*H_out*W_out)
    output = W2 @ cols                      (O, batch*H_out*W_out)
    dW2    = output_grad @ cols^T           (O, C*k*k), summed over the batch
    dx     = col2im(W2^T @ output_grad)

im2col is one copy: the input is written into a zero-bordered buffer that the
operation owns, every window of that buffer is a strided view of it
(``sliding_window_view``), and copying the view lays out the matrix. col2im is
its transpose: each of the ``k * k`` kernel taps adds one strided slice back
onto the padded buffer (the transpose of a copy is an accumulation), with no
loop over pixels or samples and no ``np.add.at``.

The output is returned as a view of the product, ``(batch, O, H_out, W_out)``
with the channels outermost in memory; element-wise operations that follow
keep that layout, so the output gradient usually comes back in it and turns
into the ``(O, batch*H_out*W_out)`` matrix without a copy.

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
    "padded_geometry",
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


class PaddedGeometry(NamedTuple):
    """Where an image sits in its zero-bordered buffer, and the output size."""

    top: int
    left: int
    height: int  # of the padded buffer
    width: int
    out_h: int
    out_w: int


@functools.lru_cache(maxsize=256)
def padded_geometry(
    height: int, width: int, kernel: int, stride: int = 1, padding: Padding = "same"
) -> PaddedGeometry:
    """The zero-bordered buffer a ``height x width`` image is copied into so that
    every window lies inside it: the image at ``[top:top + height, left:left +
    width]``, the buffer just large enough for the image and every window."""
    top, out_h = _pads(height, kernel, stride, padding)
    left, out_w = _pads(width, kernel, stride, padding)
    padded_h = max(top + height, (out_h - 1) * stride + kernel)
    padded_w = max(left + width, (out_w - 1) * stride + kernel)
    return PaddedGeometry(top, left, padded_h, padded_w, out_h, out_w)


def window_view(
    padded: Array,
    kernel: int,
    stride: int,
    out_h: int,
    out_w: int,
    writeable: bool = False,
) -> Array:
    """Every ``kernel x kernel`` window of the last two axes of ``padded``, as a
    strided view ``(..., out_h, out_w, kernel, kernel)`` (no copy):
    ``view[..., y, x, i, j]`` is ``padded[..., y * stride + i, x * stride + j]``.

    ``writeable=True`` allows writing through one tap ``view[..., i, j]`` at a
    time (its pixels are distinct); windows that overlap share pixels."""
    view = sliding_window_view(
        padded, (kernel, kernel), axis=(-2, -1), writeable=writeable
    )
    last_h, last_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    return view[..., :last_h:stride, :last_w:stride, :, :]


def add_windows(padded: Array, windows: Array, stride: int) -> None:
    """The transpose of :func:`window_view`: add ``windows`` ``(..., kernel,
    kernel, out_h, out_w)`` onto the pixels of ``padded`` they were read from.

    One strided slice per kernel tap ``(i, j)``, never a loop over pixels."""
    kernel, _, out_h, out_w = windows.shape[-4:]
    last_h, last_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    for i in range(kernel):
        for j in range(kernel):
            rows, cols = slice(i, i + last_h, stride), slice(j, j + last_w, stride)
            padded[..., rows, cols] += windows[..., i, j, :, :]


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
        out: a buffer to fill (every entry is written), of the returned shape
            and ``x``'s dtype.

    Returns:
        ``cols`` of shape ``(batch, channels, kernel, kernel, out_height,
        out_width)``: ``cols[n, c, i, j, y, x]`` is the (padded) input pixel
        ``[n, c, y * stride + i - pad_top, x * stride + j - pad_left]``.
        Reshaped to ``(batch, channels * kernel**2, out_height * out_width)`` it
        is the im2col matrix of each sample.
    """
    n, c, h, w = x.shape
    g = padded_geometry(h, w, kernel, stride, padding)
    padded = np.zeros((n, c, g.height, g.width), dtype=x.dtype)
    padded[:, :, g.top : g.top + h, g.left : g.left + w] = x
    if out is None:
        out = np.empty((n, c, kernel, kernel, g.out_h, g.out_w), dtype=x.dtype)
    windows = window_view(padded, kernel, stride, g.out_h, g.out_w)
    np.copyto(out, windows.transpose(0, 1, 4, 5, 2, 3))
    return out


def col2im(
    cols: Array,
    input_shape: tuple[int, ...],
    stride: int = 1,
    padding: Padding = "same",
) -> Array:
    """The transpose of :func:`im2col`: add every column entry back onto the
    input pixel it was copied from (entries that read padding are dropped).

    Args:
        cols: ``(batch, channels, kernel, kernel, out_height, out_width)``.
        input_shape: ``(batch, channels, height, width)`` of the image.

    Returns:
        A new array of ``input_shape`` and ``cols``' dtype.
    """
    n, c, kernel = cols.shape[:3]
    h, w = input_shape[2], input_shape[3]
    g = padded_geometry(h, w, kernel, stride, padding)
    padded = np.zeros((n, c, g.height, g.width), dtype=cols.dtype)
    add_windows(padded, cols, stride)
    return padded[:, :, g.top : g.top + h, g.left : g.left + w].copy()


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
        # Scratch reused from batch to batch, channels first: the zero-bordered
        # input (C, batch, H_pad, W_pad), the im2col matrix, its gradient. Only
        # the image part of _padded is ever written, so its border stays zero;
        # where that image part lies depends on the input's height and width,
        # not only on the output size (stride 2 maps 7x7 and 8x8 alike to
        # 4x4), so the buffers are reused only for an input of the same shape.
        # _cols and _w2 are None only until the first _output call sets them.
        self._padded: Array | None = None
        self._padded_input_shape: tuple[int, ...] | None = None
        self._cols: Array = None  # type: ignore[assignment]
        self._dcols: Array | None = None
        self._w2: Array = None  # type: ignore[assignment]

    def _geometry(self) -> PaddedGeometry:
        _, _, h, w = self.input_.shape
        return padded_geometry(h, w, self.param.shape[2], self.stride, self.padding)

    def _output(self) -> Array:
        x = self.input_
        in_c, out_c, k, _ = self.param.shape
        check_images(self, x, in_c)
        n, _, h, w = x.shape
        fitted_output_size("Conv2DOp", x.shape[1:], k, self.stride, self.padding)
        g = self._geometry()
        if self._padded_input_shape != x.shape:
            self._padded = None
        padded_shape = (in_c, n, g.height, g.width)
        self._padded = padded = _scratch(self._padded, padded_shape, x.dtype, zero=True)
        self._padded_input_shape = x.shape
        padded[:, :, g.top : g.top + h, g.left : g.left + w] = x.transpose(1, 0, 2, 3)
        # im2col: one copy of the strided view of every window, laid out as
        # (C, k, k, batch, H_out, W_out), i.e. the (C*k*k, batch*H_out*W_out) matrix
        cols_shape = (in_c, k, k, n, g.out_h, g.out_w)
        self._cols = cols = _scratch(self._cols, cols_shape, x.dtype, zero=False)
        windows = window_view(padded, k, self.stride, g.out_h, g.out_w)
        np.copyto(cols, windows.transpose(0, 4, 5, 1, 2, 3))
        # (C, O, k, k) -> (O, C*k*k): a copy, but of the small kernel only
        self._w2 = self.param.transpose(1, 0, 2, 3).reshape(out_c, in_c * k * k)
        out = self._w2 @ cols.reshape(in_c * k * k, n * g.out_h * g.out_w)
        return out.reshape(out_c, n, g.out_h, g.out_w).transpose(1, 0, 2, 3)

    def _grad_matrix(self, output_grad: Array) -> Array:
        """``output_grad`` as the ``(O, batch*H_out*W_out)`` matrix: a view when
        it has the output's channels-first layout, else a copy."""
        return output_grad.transpose(1, 0, 2, 3).reshape(output_grad.shape[1], -1)

    def _input_grad(self, output_grad: Array) -> Array:
        g = self._grad_matrix(output_grad)
        dtype = np.result_type(self._w2, g)
        self._dcols = dcols = _scratch(self._dcols, self._cols.shape, dtype, zero=False)
        # (C*k*k, O) @ (O, batch*H_out*W_out), written into the scratch buffer
        np.matmul(self._w2.T, g, out=dcols.reshape(-1, g.shape[1]))
        # col2im onto a fresh zero-bordered buffer (it is returned, so not reused)
        padded = np.zeros(self._padded.shape, dtype=dtype)  # type: ignore[union-attr]
        add_windows(padded, dcols.transpose(0, 3, 1, 2, 4, 5), self.stride)
        geo = self._geometry()
        _, _, h, w = self.input_.shape
        inner = padded[:, :, geo.top : geo.top + h, geo.left : geo.left + w]
        return inner.transpose(1, 0, 2, 3)

    def _param_grad(self, output_grad: Array) -> Array:
        in_c, out_c, k, _ = self.param.shape
        g = self._grad_matrix(output_grad)
        # one product sums over the whole batch: (O, C*k*k)
        dw2 = g @ self._cols.reshape(in_c * k * k, -1).T
        dw = dw2.reshape(out_c, in_c, k, k).transpose(1, 0, 2, 3)
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

    def _output(self) -> Array:
        check_images(self, self.input_, self.param.shape[1])
        return self.input_ + self.param

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        # each channel's bias is broadcast over the batch and every pixel
        return output_grad.sum(axis=(0, 2, 3), keepdims=True)
