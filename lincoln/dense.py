"""The book's import path for the dense operations (see :mod:`lincoln.ops.dense`)."""

from .ops.dense import BiasAdd, WeightMultiply

__all__ = ["WeightMultiply", "BiasAdd"]
