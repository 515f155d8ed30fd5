"""Reusing an operation's large arrays from one training step to the next.

A fresh multi-megabyte array for every output and gradient of every batch costs
more than the arithmetic on it: the memory goes back to the operating system
between batches and is faulted in (and zero-filled) again on the next one. An
operation that owns a :class:`Recycler` keeps those arrays instead.

The rule that keeps this safe: an array that ``forward`` returned is reused only
after ``backward`` has run on the operation (the training step that needed it is
over), and an array that ``backward`` returned is reused by the next
``backward``. Calls to ``forward`` without ``backward`` in between, as in
prediction, always get fresh arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array

__all__ = ["Recycler"]


class Recycler:
    """Arrays an operation has finished with, by name, ready to be written again.

    Example:
        >>> bin = Recycler()
        >>> a = bin.take("output", (2, 3), np.float32)  # nothing kept yet: new
        >>> bin.give_back("output", a)
        >>> bin.take("output", (2, 3), np.float32) is a
        True
    """

    def __init__(self) -> None:
        self._free: dict[str, Array] = {}
        self._zeros: Array | None = None

    def take(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """The array given back under ``name`` if it has this shape and dtype
        (its contents are stale), else a new uninitialised one."""
        array = self._kept(name, shape, dtype)
        if array is None or not array.flags.c_contiguous:  # e.g. after unpickling
            array = np.empty(shape, dtype=dtype)
        return array

    def take_like(self, name: str, like: Array, dtype: Any = None) -> Array:
        """Like :meth:`take`, for an array of ``like``'s shape and memory order
        (e.g. NCHW images in batch-last memory, :mod:`lincoln.ops.windows`), so
        that element-wise work on ``like`` runs along its memory."""
        dtype = like.dtype if dtype is None else np.dtype(dtype)
        array = self._kept(name, like.shape, dtype)
        if array is None or not _laid_out_alike(array, like):
            array = np.empty_like(like, dtype=dtype)
        return array

    def _kept(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array | None:
        """The array given back under ``name`` if it has this shape and dtype
        and may be written (not, e.g., unpickled from a read-only file)."""
        array = self._free.pop(name, None)
        if array is None or array.shape != shape or array.dtype != dtype:
            return None
        return array if array.flags.writeable else None

    def zeros_like(self, like: Array) -> Array:
        """A read-only array of zeros of ``like``'s shape, dtype and memory
        order, kept for the next call."""
        zeros = self._zeros
        if (
            zeros is None
            or zeros.shape != like.shape
            or zeros.dtype != like.dtype
            or not _laid_out_alike(zeros, like)
        ):
            zeros = self._zeros = np.zeros_like(like)
            zeros.flags.writeable = False
        return zeros

    def give_back(self, name: str, array: Array) -> None:
        """Let the next :meth:`take` of ``name`` overwrite ``array``."""
        self._free[name] = array

    def __repr__(self) -> str:
        return f"Recycler({sorted(self._free)})"


def _laid_out_alike(array: Array, like: Array) -> bool:
    """True if ``array`` steps through memory as ``like`` (of the same shape) does."""
    if array.strides == like.strides and array.itemsize == like.itemsize:
        return True  # the common case, without counting
    return _element_strides(array) == _element_strides(like)


def _element_strides(array: Array) -> tuple[int, ...]:
    """The strides of ``array`` counted in elements (0 along axes of length
    1, which never step): equal for two arrays of one shape that are laid out
    alike in memory."""
    return tuple(
        stride // array.itemsize if length > 1 else 0
        for stride, length in zip(array.strides, array.shape, strict=True)
    )
