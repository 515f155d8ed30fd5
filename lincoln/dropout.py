"""The book's import path for dropout (see :mod:`lincoln.ops.dropout`)."""

from .ops.dropout import Dropout

__all__ = ["Dropout"]
