"""Convolution: the 2-D convolution operation, its per-channel bias, and the
im2col / col2im helpers they (and pooling) are built on.

A convolution is a matrix product in disguise. ``im2col`` copies every
``k x k`` window of the input into one column of a matrix, so that the whole
layer is one product with the kernel reshaped to ``(out_channels,
in_channels * k * k)``. The columns of every output pixel of every sample sit
side by side, so each of the three steps is a single matrix product for the
whole batch (large products are what BLAS does fastest, and what it spreads
over several cores):

    cols   = im2col(x)                       (C*k*k, H_out*W_out*batch)
    output = W2 @ cols                       (O, H_out*W_out*batch)
    dW2    = G @ cols^T                      (O, C*k*k), summed over the batch
    dx     = col2im(W2^T @ G)

where ``G`` is the output gradient laid out like the output. The product's
result, ``(O, H_out, W_out, batch)``, is returned as it stands, seen as NCHW
(:func:`~lincoln.ops.windows.batch_last` explains this memory order); the
bias, pooling and activation after it keep that order.

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

from typing import Any

import numpy as np

from ..base import Array, ParamOperation
from ..errors import ShapeError, check_positive_int
from .buffers import Recycler
from .windows import (
    PADDINGS,
    Offset,
    Padding,
    _scratch,
    batch_first,
    batch_last,
    check_images,
    check_padding,
    col2im,
    conv_output_size,
    fitted_output_size,
    im2col,
    window_offsets,
)

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
    "Offset",
    "im2col",
    "col2im",
    "batch_last",
    "batch_first",
]

# -- operations --------------------------------------------------------------------

# the columns of cols and G summed per product in the kernel gradient
_PRODUCT_PIECE = 4096


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
        # the output gradient a backward got and its matrix (see _grad_matrix)
        self._grad: tuple[Array, Array] | None = None

    def _output(self) -> Array:
        x = self.input_
        in_c, out_c, k, _ = self.param.shape
        check_images(self, x, in_c)
        n = x.shape[0]
        out_h, out_w = fitted_output_size(
            "Conv2DOp", x.shape[1:], k, self.stride, self.padding
        )
        shape = (in_c, k, k, out_h, out_w, n)
        reusable = self._cols if self._cols_input_shape == x.shape else None
        self._cols = _scratch(reusable, shape, x.dtype, zero=True)
        self._cols_input_shape = x.shape
        cols = im2col(x, k, self.stride, self.padding, out=self._cols)
        # (C, O, k, k) -> (O, C*k*k): a copy, but of the small kernel only
        self._w2 = w2 = self.param.transpose(1, 0, 2, 3).reshape(out_c, -1)
        dtype = np.result_type(self.param, x)
        out = self._buffers.take("output", (out_c, out_h, out_w, n), dtype)
        np.matmul(w2, cols.reshape(w2.shape[1], -1), out=out.reshape(out_c, -1))
        return batch_first(out)

    def _grad_matrix(self, output_grad: Array) -> Array:
        """The output gradient as the matrix ``G``, ``(O, H_out*W_out*batch)``:
        a view if it is in batch-last memory, else a copy (made once per
        backward: the input and kernel gradients share it)."""
        if self._grad is not None and self._grad[0] is output_grad:
            return self._grad[1]
        g = batch_last(output_grad)
        if not g.flags.c_contiguous:
            copy = self._buffers.take("grad_matrix", g.shape, g.dtype)
            self._buffers.give_back("grad_matrix", copy)  # for the next backward
            np.copyto(copy, g)
            g = copy
        self._grad = (output_grad, g.reshape(g.shape[0], -1))
        return self._grad[1]

    def _input_grad(self, output_grad: Array) -> Array:
        g = self._grad_matrix(output_grad)
        dtype = np.result_type(self._w2, g)
        self._dcols = dcols = _scratch(self._dcols, self._cols.shape, dtype, zero=False)
        # (C*k*k, O) @ (O, H_out*W_out*batch)
        np.matmul(self._w2.T, g, out=dcols.reshape(self._w2.shape[1], -1))
        n, c, h, w = self.input_.shape
        dx = self._buffers.take("grad", (c, h, w, n), dtype)
        self._buffers.give_back("grad", dx)  # for the next backward
        return col2im(
            dcols, self.input_.shape, self.stride, self.padding, batch_first(dx)
        )

    def _param_grad(self, output_grad: Array) -> Array:
        in_c, out_c, k, _ = self.param.shape
        g = self._grad_matrix(output_grad)
        self._grad = None  # the next backward brings a new gradient
        cols = self._cols.reshape(in_c * k * k, -1)
        # cols @ G^T, (C*k*k, O), summed over pieces of the columns: OpenBLAS
        # multiplies matrices this thin over an inner dimension of tens of
        # thousands up to three times slower than in pieces (W3 and W4 of
        # scripts/benchmark.py)
        dw2 = np.zeros((cols.shape[0], out_c), dtype=np.result_type(cols, g))
        for start in range(0, cols.shape[1], _PRODUCT_PIECE):
            piece = slice(start, start + _PRODUCT_PIECE)
            dw2 += cols[:, piece] @ g[:, piece].T
        dw = dw2.T.reshape(out_c, in_c, k, k).transpose(1, 0, 2, 3)
        # always called by backward (the input gradient may be skipped): this
        # step is done with the output
        self._buffers.give_back("output", batch_last(self.output))
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
        c = self.param.shape[1]
        check_images(self, x, c)
        dtype = np.result_type(x, self.param)
        out = self._buffers.take("output", batch_last(x).shape, dtype)
        np.add(batch_last(x), self.param.reshape(c, 1, 1, 1), out=out)
        return batch_first(out)

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        self._buffers.give_back("output", batch_last(self.output))  # step done
        # each channel's bias is broadcast over the batch and every pixel
        total = batch_last(output_grad).sum(axis=(1, 2, 3))
        return total.reshape(self.param.shape)
