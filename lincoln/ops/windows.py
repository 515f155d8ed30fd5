"""Window geometry for convolution and pooling: padding rules, output sizes,
the kernel taps (:class:`Offset`), the batch-last memory order, and ``im2col`` /
``col2im`` (see :mod:`lincoln.ops.conv` for how the convolution uses them).
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, NamedTuple

import numpy as np

from ..base import Array
from ..errors import ConfigError, ShapeError

__all__ = [
    "PADDINGS",
    "Padding",
    "check_images",
    "check_padding",
    "conv_output_size",
    "fitted_output_size",
    "window_offsets",
    "Offset",
    "batch_last",
    "batch_first",
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


def batch_last(images: Array) -> Array:
    """NCHW ``images`` seen as ``(channels, height, width, batch)``: a view.

    lincoln's image operations keep their arrays in this order in memory (the
    batch innermost) and hand them on as NCHW views (:func:`batch_first`). Then
    a kernel tap, a pooling tap or a channel's bias runs over long contiguous
    stretches of ``width * batch`` numbers, where NCHW memory would give rows of
    a few pixels (and NumPy's cost per row dominates), and a convolution's output
    is its matrix product's result as it stands. For an array an image operation
    produced, this view is C-contiguous.
    """
    return images.transpose(1, 2, 3, 0)


def batch_first(array: Array) -> Array:
    """A ``(channels, height, width, batch)`` array seen as NCHW images: a view
    (the inverse of :func:`batch_last`)."""
    return array.transpose(3, 0, 1, 2)


def im2col(
    x: Array,
    kernel: int,
    stride: int = 1,
    padding: Padding = "same",
    out: Array | None = None,
) -> Array:
    """Every ``kernel x kernel`` window of ``x``, as columns of one matrix for
    the whole batch.

    Args:
        x: images ``(batch, channels, height, width)``, in any memory order.
        kernel, stride, padding: the window geometry (see :func:`conv_output_size`).
        out: a buffer to fill, of the returned shape and ``x``'s dtype. Only the
            entries that read image pixels are written, so the entries that read
            padding must already be zero: pass a fresh ``np.zeros`` buffer or one
            that an earlier ``im2col`` of the same geometry filled.

    Returns:
        ``cols`` of shape ``(channels, kernel, kernel, out_height, out_width,
        batch)``: ``cols[c, i, j, y, x, n]`` is the (padded) input pixel
        ``[n, c, y * stride + i - pad_top, x * stride + j - pad_left]``.
        Reshaped to ``(channels * kernel**2, out_height * out_width * batch)``
        it is the im2col matrix of the batch, so that a convolution is one
        matrix product for all samples rather than one small product per sample.
    """
    n, c, h, w = x.shape
    out_h, out_w, offsets = window_offsets(h, w, kernel, stride, padding)
    if out is None:
        out = np.zeros((c, kernel, kernel, out_h, out_w, n), dtype=x.dtype)
    # images in another memory order are copied once, rather than read k * k
    # times in small pieces
    images = np.ascontiguousarray(batch_last(x))
    for o in offsets:
        out[:, o.i, o.j, o.out_rows, o.out_cols] = images[:, o.in_rows, o.in_cols]
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
        cols: ``(channels, kernel, kernel, out_height, out_width, batch)``.
        input_shape: ``(batch, channels, height, width)`` of the image.
        out: an array of ``input_shape`` and ``cols``' dtype to write the
            result into (its contents are overwritten; fastest when its memory
            is batch-last, see :func:`batch_last`); None for a new one.

    Returns:
        ``out``, or new NCHW images in batch-last memory.
    """
    n, c, h, w = input_shape
    out_h, out_w, offsets = window_offsets(h, w, cols.shape[1], stride, padding)
    if out is None:
        out = batch_first(np.empty((c, h, w, n), dtype=cols.dtype))
    images = batch_last(out)
    images[...] = 0
    for o in offsets:
        images[:, o.in_rows, o.in_cols] += cols[:, o.i, o.j, o.out_rows, o.out_cols]
    return out


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
