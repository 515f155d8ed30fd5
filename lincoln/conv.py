"""The book's import path for convolution (see :mod:`lincoln.ops.conv`)."""

from .ops import conv as _module
from .ops.conv import *  # noqa: F403  (the names listed in its __all__)
from .ops.reshape import FlattenOp

__all__ = [*_module.__all__, "FlattenOp"]
