"""The book's own extra optimizer: SGD with weight shrinkage (chapter 4)."""

from __future__ import annotations

from typing import Any

from ..base import Array
from ..registry import OPTIMIZERS
from .base import unit_interval
from .rules import SGD

__all__ = ["RegularizedSGD"]


@OPTIMIZERS.register("regularized_sgd")
class RegularizedSGD(SGD):
    """The book's SGD with weight shrinkage: ``param -= lr * grad + alpha * param``.

    Args:
        alpha: share of each parameter removed at every step, in ``[0, 1)``
            (not scaled by the learning rate, as in the book).
    """

    hyperparams = ("alpha",)

    def __init__(self, lr: float = 0.01, alpha: float = 0.1, **options: Any) -> None:
        super().__init__(lr, **options)
        self.alpha = unit_interval("RegularizedSGD", "alpha", alpha)

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        param -= self.lr * grad + self.alpha * param
