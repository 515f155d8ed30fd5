"""The Flatten layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..ops.reshape import FlattenOp
from ..registry import LAYERS
from .base import Layer

__all__ = ["Flatten"]


@LAYERS.register("flatten")
class Flatten(Layer):
    """Flatten each sample into a row, e.g. between convolutional and dense layers.

    Shape:
        input_ ``(batch, C, H, W)`` (or any ``(batch, *)``) -> output
        ``(batch, C * H * W)``.

    Example:
        >>> Flatten().output_shape((8, 4, 4))
        (128,)
    """

    width_from_input = True

    def _setup_layer(self, input_: Array) -> None:
        self.params = []
        self.operations = [FlattenOp()]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def get_config(self) -> dict[str, Any]:
        return {}
