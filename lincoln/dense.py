"""The book's import path for the dense operations (see :mod:`lincoln.ops.dense`)."""

from .ops import dense as _module
from .ops.dense import *  # noqa: F403  (the names listed in its __all__)

__all__ = _module.__all__
