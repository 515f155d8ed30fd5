"""The book's own extra optimizers: SGD with weight shrinkage (chapter 4) and
the recurrent chapter's base with gradient clipping on (chapter 6)."""

from __future__ import annotations

from typing import Any

from ..base import Array
from ..registry import OPTIMIZERS
from .base import Optimizer, unit_interval
from .rules import SGD

__all__ = ["RegularizedSGD", "RNNOptimizer"]


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


class RNNOptimizer(Optimizer):
    """The book's chapter 6 optimizer base: ``RNNOptimizer(lr=0.01,
    gradient_clipping=True)``, every gradient entry clipped to [-2, 2] by default.

    ``model`` is the book's name for the bound network (its trainer sets it).
    Subclasses write ``_update_rule(self, **kwargs)`` reading ``kwargs["param"]``
    and ``kwargs["grad"]``, as printed; :class:`~lincoln.optimizers.SGD` and
    :class:`~lincoln.optimizers.AdaGrad` take ``gradient_clipping=True`` too.
    """

    def __init__(
        self, lr: float = 0.01, gradient_clipping: bool = True, **options: Any
    ) -> None:
        super().__init__(lr, gradient_clipping=gradient_clipping, **options)
        self.gradient_clipping = bool(gradient_clipping)

    @property
    def model(self) -> Any:
        return self.net

    @model.setter
    def model(self, net: Any) -> None:
        self.bind(net)
