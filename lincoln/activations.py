"""The book's import path for activations (see :mod:`lincoln.ops.activations`)."""

from .ops import activations as _module
from .ops.activations import *  # noqa: F403  (the names listed in its __all__)

__all__ = _module.__all__
