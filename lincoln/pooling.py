"""Pooling operations (moved to :mod:`lincoln.ops.pooling`)."""

from .ops.pooling import AvgPool2DOp, MaxPool2DOp, pool_output_shape

__all__ = ["MaxPool2DOp", "AvgPool2DOp", "pool_output_shape"]
