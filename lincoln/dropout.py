"""The book's import path for dropout (see :mod:`lincoln.ops.dropout`)."""

from .ops import dropout as _module
from .ops.dropout import *  # noqa: F403  (the names listed in its __all__)

__all__ = _module.__all__
