"""The book's import path for convolution (see :mod:`lincoln.ops.conv`)."""

from .ops.conv import (
    PADDINGS,
    BiasAdd2D,
    Conv2D_Op,
    Conv2DOp,
    Offset,
    check_images,
    check_padding,
    col2im,
    conv_output_size,
    fitted_output_size,
    im2col,
    window_offsets,
)
from .ops.reshape import FlattenOp

__all__ = [
    "Conv2DOp",
    "Conv2D_Op",
    "BiasAdd2D",
    "FlattenOp",
    "PADDINGS",
    "check_images",
    "check_padding",
    "conv_output_size",
    "fitted_output_size",
    "window_offsets",
    "Offset",
    "im2col",
    "col2im",
]
