"""Inverted dropout as an operation.

In training each unit is kept with probability ``keep_prob`` and the kept units
are scaled by ``1 / keep_prob``, so the expected activation is unchanged and
inference needs no rescaling: at inference the operation is the identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation
from ..errors import check_real

__all__ = ["Dropout"]


class Dropout(Operation):
    """Zero each unit with probability ``1 - keep_prob`` while training.

    Args:
        keep_prob: probability of keeping a unit, in ``(0, 1]``.
        seed: seed of the operation's own random generator (or a Generator).

    Shape:
        input_ ``(batch, *)`` -> output of the same shape.

    Raises:
        ConfigError: ``keep_prob`` is not a number in ``(0, 1]``.

    Example:
        >>> d = Dropout(0.8, seed=0)
        >>> d.forward(np.ones((2, 3)), inference=True).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(
        self,
        keep_prob: float = 0.8,
        seed: int | np.integer[Any] | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.keep_prob = check_real(
            "Dropout",
            "keep_prob",
            keep_prob,
            low=0,
            high=1,
            low_open=True,
            requirement="(the probability of keeping a unit; a layer's dropout=) "
            "must be in (0, 1]",
        )
        self.rng = np.random.default_rng(seed)
        self.mask: Array | None = None

    def _output(self, inference: bool) -> Array:
        if inference or self.keep_prob == 1.0:
            self.mask = None
            return self.input_
        x = self.input_
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        keep = self.rng.random(x.shape, dtype=draw_dtype)  # C order, as ever
        # the mask holds 0 or 1/keep_prob, so backward is one multiplication;
        # it is laid out in memory as x is (e.g. batch-last images), so that
        # the products here and the operations around run along memory
        self.mask = np.empty_like(x)
        np.copyto(self.mask, keep < self.keep_prob)
        self.mask /= np.asarray(self.keep_prob, dtype=x.dtype)
        return x * self.mask

    def _input_grad(self, output_grad: Array) -> Array:
        if self.mask is None:
            return output_grad
        return output_grad * self.mask

    def generators(self) -> dict[str, np.random.Generator]:
        return {"rng": self.rng}

    def get_config(self) -> dict[str, Any]:
        return {"keep_prob": self.keep_prob}
