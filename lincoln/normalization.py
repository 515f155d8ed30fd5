"""Batch-normalization operations (moved to :mod:`lincoln.ops.normalization`)."""

from .ops.normalization import BatchNormalize, Scale, Shift

__all__ = ["BatchNormalize", "Scale", "Shift"]
