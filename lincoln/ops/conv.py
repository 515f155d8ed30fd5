"""Convolution: the 2-D convolution operation, its per-channel bias, and the
im2col / col2im helpers they (and pooling) are built on.

A convolution is a matrix product in disguise. ``im2col`` copies every
``k x k`` window of the input into one column of a matrix, so that the whole
layer is one product with the kernel reshaped to ``(out_channels,
in_channels * k * k)``. The columns of all samples sit side by side, so each of
the three steps is a single matrix product for the whole batch (large products
are what BLAS does fastest, and what it spreads over several cores):

    cols   = im2col(x)                       (C*k*k, batch*H_out*W_out)
    output = W2 @ cols                       (O, batch*H_out*W_out)
    dW2    = G @ cols^T                      (O, C*k*k), summed over the batch
    dx     = col2im(W2^T @ G)

where ``G`` is the output gradient laid out channels first like the output
(the kernel gradient is computed as one product per sample, summed, so that
each thread sums its own share of the batch). Each step runs on shares of the
batch in lincoln's threads when it is large enough (:mod:`lincoln.ops.parallel`).
The forward pass returns its channels-first result as an NCHW view (a
transpose, no copy); the next operation (the bias) writes NCHW.

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
from .parallel import over_batch, product_work, sum_over_batch
from .windows import (
    PADDINGS,
    Offset,
    Padding,
    _scratch,
    check_images,
    check_padding,
    col2im,
    conv_output_size,
    fitted_output_size,
    im2col,
    window_offsets,
    window_view,
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
    "window_view",
    "Offset",
    "im2col",
    "col2im",
]

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
        shape = (in_c, k, k, n, out_h, out_w)
        reusable = self._cols if self._cols_input_shape == x.shape else None
        self._cols = cols = _scratch(reusable, shape, x.dtype, zero=True)
        self._cols_input_shape = x.shape
        # (C, O, k, k) -> (O, C*k*k): a copy, but of the small kernel only
        self._w2 = w2 = self.param.transpose(1, 0, 2, 3).reshape(out_c, -1)
        dtype = np.result_type(self.param, x)
        out = self._buffers.take("output", (out_c, n, out_h, out_w), dtype)
        cols_by_sample = cols.reshape(w2.shape[1], n, -1)
        out_by_sample = out.reshape(out_c, n, -1)

        def convolve(rows: slice) -> None:
            """im2col and the product for the samples ``rows``."""
            im2col(x[rows], k, self.stride, self.padding, out=cols[:, :, :, rows])
            # (O, C*k*k) @ (C*k*k, samples*H_out*W_out); each reshape is a view,
            # as a share's samples are contiguous within every row
            width = (rows.stop - rows.start) * out_h * out_w
            np.matmul(
                w2,
                cols_by_sample[:, rows].reshape(-1, width),
                out=out_by_sample[:, rows].reshape(out_c, width),
            )

        over_batch(convolve, n, cols.size + product_work(cols.size * out_c))
        # channels first is the product's layout; the caller sees NCHW (a view)
        return out.transpose(1, 0, 2, 3)

    def _input_grad(self, output_grad: Array) -> Array:
        n, out_c, out_h, out_w = output_grad.shape
        dtype = np.result_type(self._w2, output_grad)
        # the output gradient channels first, (O, batch, H_out, W_out)
        g = self._buffers.take("grad_matrix", (out_c, n, out_h, out_w), dtype)
        self._buffers.give_back("grad_matrix", g)  # for the next backward
        self._dcols = dcols = _scratch(self._dcols, self._cols.shape, dtype, zero=False)
        dcols_by_sample = dcols.reshape(self._w2.shape[1], n, -1)
        dx = self._buffers.take("grad", self.input_.shape, dtype)
        self._buffers.give_back("grad", dx)  # for the next backward

        def backpropagate(rows: slice) -> None:
            """The input gradient of the samples ``rows``."""
            np.copyto(g[:, rows], output_grad[rows].transpose(1, 0, 2, 3))
            # (C*k*k, O) @ (O, samples*H_out*W_out), into views as in _output
            width = (rows.stop - rows.start) * out_h * out_w
            np.matmul(
                self._w2.T,
                g[:, rows].reshape(out_c, width),
                out=dcols_by_sample[:, rows].reshape(-1, width),
            )
            shape = (rows.stop - rows.start, *self.input_.shape[1:])
            cols = dcols[:, :, :, rows]
            col2im(
                cols, shape, self.stride, self.padding, dx[rows], cols_are_scratch=True
            )

        over_batch(backpropagate, n, 2 * dcols.size + product_work(dcols.size * out_c))
        return dx

    def _param_grad(self, output_grad: Array) -> Array:
        in_c, out_c, k, _ = self.param.shape
        n = output_grad.shape[0]
        # one product per sample, (O, H_out*W_out) @ (H_out*W_out, C*k*k),
        # summed: each thread sums the samples of its share
        cols = self._cols.reshape(in_c * k * k, n, -1).transpose(1, 2, 0)
        g = output_grad.reshape(n, out_c, -1)
        dw2 = sum_over_batch(
            lambda rows: np.matmul(g[rows], cols[rows]).sum(axis=0),
            n,
            product_work(self._cols.size * out_c),
        )
        dw = dw2.reshape(out_c, in_c, k, k).transpose(1, 0, 2, 3)
        # always called by backward (the input gradient may be skipped): this
        # step is done with the output
        self._buffers.give_back("output", self.output.transpose(1, 0, 2, 3))
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
        out = self._buffers.take("output", x.shape, dtype)
        over_batch(
            lambda rows: np.add(x[rows], self.param, out=out[rows]), len(x), x.size
        )
        return out

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        self._buffers.give_back("output", self.output)  # this step is done
        # each channel's bias is broadcast over the batch and every pixel
        return sum_over_batch(
            lambda rows: output_grad[rows].sum(axis=(0, 2, 3), keepdims=True),
            len(output_grad),
            output_grad.size,
        )
