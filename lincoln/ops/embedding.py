"""Looking up a vector per integer id: the operation of an Embedding layer."""

from __future__ import annotations

import numpy as np

from ..base import Array, ParamOperation
from ..errors import DataError, ShapeError

__all__ = ["EmbeddingLookup", "as_ids"]


def as_ids(ids: Array, vocab_size: int, owner: str) -> Array:
    """``ids`` as an integer array with every value in ``[0, vocab_size)``.

    Integer arrays pass unchanged; float arrays holding whole numbers (a
    gradient check or a network build sends those) are converted.

    Raises:
        DataError: non-integral values, or ids outside the vocabulary.
    """
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        if ids.dtype.kind != "f" or not np.all(ids == np.round(ids)):
            raise DataError(
                f"{owner}: inputs must be integer ids, received dtype {ids.dtype}"
            )
        ids = ids.astype(np.intp)
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= vocab_size:
            raise DataError(
                f"{owner}: ids must be in [0, {vocab_size}), received ids from {lo} "
                f"to {hi}"
            )
    return ids


class EmbeddingLookup(ParamOperation):
    """Row ``ids[...]`` of a table, for every id: ``W[ids]``.

    The ids are indices, never cast to floats; they have no gradient (the input
    gradient, when asked for, is zeros).

    Args:
        W: the table ``(vocab_size, dim)``.

    Shape:
        input_ ``(batch, ...)`` integers -> output ``(batch, ..., dim)``.
    """

    def __init__(self, W: Array) -> None:
        if np.ndim(W) != 2:
            raise ShapeError(
                f"EmbeddingLookup: W must have shape (vocab_size, dim), received "
                f"shape {np.shape(W)}"
            )
        super().__init__(W)

    def _output(self) -> Array:
        self._ids = as_ids(self.input_, self.param.shape[0], "EmbeddingLookup")
        return self.param[self._ids]

    def _input_grad(self, output_grad: Array) -> Array:
        return np.zeros(self.input_.shape, dtype=self.param.dtype)

    def _param_grad(self, output_grad: Array) -> Array:
        # rows of repeated ids add up. Sorting the ids and summing each run of
        # equal ids with one add.reduceat is about five times faster than
        # np.add.at, which adds one row at a time
        grad = np.zeros_like(self.param)
        ids = self._ids.reshape(-1)
        if ids.size == 0:
            return grad
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        rows = output_grad.reshape(-1, self.param.shape[1])[order]
        grad[sorted_ids[starts]] = np.add.reduceat(rows, starts, axis=0)
        return grad
