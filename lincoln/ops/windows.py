"""Window geometry for convolution and pooling: padding rules, output sizes,
the kernel taps (:class:`Offset`), strided window views, and ``im2col`` /
``col2im`` (see :mod:`lincoln.ops.conv` for how the convolution uses them).
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..base import Array
from ..errors import ConfigError, ShapeError
from .parallel import over_batch

__all__ = [
    "PADDINGS",
    "Padding",
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
    """Every ``kernel x kernel`` window of ``x``, as columns of one matrix for
    the whole batch.

    Args:
        x: images ``(batch, channels, height, width)``.
        kernel, stride, padding: the window geometry (see :func:`conv_output_size`).
        out: a buffer to fill, of the returned shape and ``x``'s dtype. Only the
            entries that read image pixels are written, so the entries that read
            padding must already be zero: pass a fresh ``np.zeros`` buffer or one
            that an earlier ``im2col`` of the same geometry filled.

    Returns:
        ``cols`` of shape ``(channels, kernel, kernel, batch, out_height,
        out_width)``: ``cols[c, i, j, n, y, x]`` is the (padded) input pixel
        ``[n, c, y * stride + i - pad_top, x * stride + j - pad_left]``.
        Reshaped to ``(channels * kernel**2, batch * out_height * out_width)``
        it is the im2col matrix of the batch, so that a convolution is one
        matrix product for all samples rather than one small product per sample.
    """
    n, c, h, w = x.shape
    out_h, out_w, offsets = window_offsets(h, w, kernel, stride, padding)
    if out is None:
        out = np.zeros((c, kernel, kernel, n, out_h, out_w), dtype=x.dtype)
    channels_first = x.transpose(1, 0, 2, 3)  # a view: (C, batch, H, W)

    def copy(rows: slice) -> None:
        for o in offsets:
            out[:, o.i, o.j, rows, o.out_rows, o.out_cols] = channels_first[
                :, rows, o.in_rows, o.in_cols
            ]

    over_batch(copy, n, out.size)
    return out


def col2im(
    cols: Array,
    input_shape: tuple[int, ...],
    stride: int = 1,
    padding: Padding = "same",
    out: Array | None = None,
    cols_are_scratch: bool = False,
) -> Array:
    """The transpose of :func:`im2col`: add every column entry back onto the
    input pixel it was copied from (entries that read padding are dropped).

    Args:
        cols: ``(channels, kernel, kernel, batch, out_height, out_width)``.
        input_shape: ``(batch, channels, height, width)`` of the image.
        out: an array of ``input_shape`` and ``cols``' dtype to write the
            result into (its contents are overwritten); None for a new one.
        cols_are_scratch: ``cols`` may be overwritten, which lets a stride-1
            convolution whose output has the input's size take a faster path
            (:func:`_col2im_by_shifts`).

    Returns:
        ``out``, or a new array of ``input_shape`` and ``cols``' dtype.
    """
    kernel = cols.shape[1]
    h, w = input_shape[2], input_shape[3]
    out_h, out_w, offsets = window_offsets(h, w, kernel, stride, padding)
    dx = np.empty(input_shape, dtype=cols.dtype) if out is None else out
    if cols_are_scratch and stride == 1 and (out_h, out_w) == (h, w):
        return _col2im_by_shifts(cols, offsets, dx)
    channels_first = dx.transpose(1, 0, 2, 3)  # a view: (C, batch, H, W)

    def add(rows: slice) -> None:
        dx[rows] = 0
        for o in offsets:
            channels_first[:, rows, o.in_rows, o.in_cols] += cols[
                :, o.i, o.j, rows, o.out_rows, o.out_cols
            ]

    over_batch(add, input_shape[0], cols.size)
    return dx


def _col2im_by_shifts(cols: Array, offsets: tuple[Offset, ...], dx: Array) -> Array:
    """col2im when the output grid is the input grid (stride 1, "same" size).

    Then a kernel tap moves every pixel by the same amount: column entry ``(y,
    x)`` of tap ``(i, j)`` belongs to pixel ``(y + di, x + dj)``, which in the
    flattened ``batch * H * W`` axis is ``di * W + dj`` further on. So once the
    entries that read padding are zeroed (those beyond an edge, which would
    wrap onto the next row or sample), each tap is one addition of two long
    contiguous slices, instead of thousands of short rows. The sums are made
    in the tap that does not move (it reads no padding).
    """
    n, c, h, w = dx.shape
    # each tap with how far it moves a pixel along the flattened axis
    steps = []
    for o in offsets:
        down = o.in_rows.start - o.out_rows.start
        right = o.in_cols.start - o.out_cols.start
        steps.append((o, down * w + right))
    centre = next(o for o, step in steps if step == 0)
    moved = [(o, step) for o, step in steps if step != 0]

    def add(rows: slice) -> None:
        for o, _ in moved:  # zero the entries that read padding
            tap = cols[:, o.i, o.j, rows]
            tap[:, :, : o.out_rows.start] = 0
            tap[:, :, o.out_rows.stop :] = 0
            tap[:, :, :, : o.out_cols.start] = 0
            tap[:, :, :, o.out_cols.stop :] = 0
        # (C, k, k, samples * H * W): a view, as a share's samples are contiguous
        flat = cols[:, :, :, rows].reshape(*cols.shape[:3], -1)
        total = flat[:, centre.i, centre.j]
        for o, step in moved:
            if step > 0:
                total[:, step:] += flat[:, o.i, o.j, :-step]
            else:
                total[:, :step] += flat[:, o.i, o.j, -step:]
        np.copyto(dx[rows].transpose(1, 0, 2, 3), total.reshape(c, -1, h, w))

    over_batch(add, n, cols.size)
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
