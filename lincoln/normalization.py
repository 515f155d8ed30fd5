"""Batch-normalization operations (moved to :mod:`lincoln.ops.normalization`)."""

from .ops import normalization as _module
from .ops.normalization import *  # noqa: F403  (the names listed in its __all__)

__all__ = _module.__all__
