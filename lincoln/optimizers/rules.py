"""The optimizers: SGD, momentum, AdaGrad, RMSProp and Adam, each applying an
update rule of :mod:`lincoln.updates` with its own per-parameter state."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import updates
from ..base import Array
from ..registry import OPTIMIZERS
from .base import Optimizer, positive, unit_interval

__all__ = ["SGD", "SGDMomentum", "AdaGrad", "RMSProp", "Adam"]


def _slot(state: dict[str, Any], key: str, like: Array) -> Array:
    """The per-parameter array ``state[key]``, zeros on first use."""
    if key not in state:  # not setdefault: that would allocate at every step
        state[key] = np.zeros_like(like)
    return state[key]  # type: ignore[no-any-return]


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Plain stochastic gradient descent: ``param -= lr * grad``."""

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        updates.sgd_update(param, grad, self.lr)


@OPTIMIZERS.register("sgd_momentum")
class SGDMomentum(Optimizer):
    """SGD with momentum in the book's form ``v = momentum v + lr g; p -= v``;
    ``momentum`` in ``[0, 1)``, 0.9 is usual."""

    hyperparams = ("momentum",)

    def __init__(
        self,
        lr: float = 0.01,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        momentum: float = 0.9,
        **options: Any,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, **options)
        self.momentum = unit_interval("SGDMomentum", "momentum", momentum)

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        velocity = _slot(state, "velocity", param)
        updates.momentum_update(param, grad, velocity, self.lr, self.momentum)


@OPTIMIZERS.register("adagrad")
class AdaGrad(Optimizer):
    """AdaGrad: per-parameter rates shrinking with the sum of squared gradients.

    Args:
        final_lr_exp, final_lr_linear: the book's way to ask for a decay: a
            positive value decays exponentially (or linearly) to it. Give
            ``final_lr`` and ``decay_type`` instead, as every other optimizer.
        eps: added to the denominator for stability.
    """

    hyperparams = ("eps",)

    def __init__(
        self,
        lr: float = 0.01,
        final_lr_exp: float = 0.0,
        final_lr_linear: float = 0.0,
        *,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        eps: float = 1e-7,
        **options: Any,
    ) -> None:
        if final_lr_exp:
            final_lr, decay_type = final_lr_exp, "exponential"
        elif final_lr_linear:
            final_lr, decay_type = final_lr_linear, "linear"
        super().__init__(lr, final_lr, decay_type, **options)
        self.eps = positive("AdaGrad", "eps", eps)

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        updates.adagrad_update(
            param, grad, _slot(state, "sum_sq", param), self.lr, self.eps
        )


@OPTIMIZERS.register("rmsprop")
class RMSProp(Optimizer):
    """RMSProp: rates scaled by a running mean of squared gradients.

    Args:
        rho: decay of the running mean, in ``[0, 1)``.
        eps: added to the denominator for stability.
    """

    hyperparams = ("rho", "eps")

    def __init__(
        self,
        lr: float = 0.001,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        rho: float = 0.9,
        eps: float = 1e-7,
        **options: Any,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, **options)
        self.rho = unit_interval("RMSProp", "rho", rho)
        self.eps = positive("RMSProp", "eps", eps)

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        mean_sq = _slot(state, "mean_sq", param)
        updates.rmsprop_update(param, grad, mean_sq, self.lr, self.rho, self.eps)


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam with bias-corrected first and second moments (Kingma & Ba, 2015).

    Args:
        beta1, beta2: moment decays, each in ``[0, 1)``.
        eps: added to the denominator for stability.
    """

    hyperparams = ("beta1", "beta2", "eps")

    def __init__(
        self,
        lr: float = 0.001,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        **options: Any,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, **options)
        self.beta1 = unit_interval("Adam", "beta1", beta1)
        self.beta2 = unit_interval("Adam", "beta2", beta2)
        self.eps = positive("Adam", "eps", eps)

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **_: Any
    ) -> None:
        m, v = _slot(state, "m", param), _slot(state, "v", param)
        args = (self.step_count, self.lr, self.beta1, self.beta2, self.eps)
        updates.adam_update(param, grad, m, v, *args)
