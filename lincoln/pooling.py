"""Pooling operations (moved to :mod:`lincoln.ops.pooling`)."""

from .ops import pooling as _module
from .ops.pooling import *  # noqa: F403  (the names listed in its __all__)

__all__ = _module.__all__
