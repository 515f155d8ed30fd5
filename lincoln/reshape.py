"""The book's import path for :class:`Flatten`: ``from lincoln.reshape import Flatten``.

*Deep Learning from Scratch* defines ``Flatten`` in ``lincoln/reshape.py``; lincoln
keeps it in :mod:`lincoln.layers`, and this module re-exports that class, so both
imports give the same ``Flatten``.
"""

from .layers import Flatten

__all__ = ["Flatten"]
