"""Optimizers: update every parameter of a network in place from its gradient.

:mod:`.base` holds :class:`Optimizer` (the book's base class: learning rate and
its per-epoch decay, weight decay, clipping, ``step``), :mod:`.rules` the
optimizers lincoln ships, :mod:`.book` the book's ``RegularizedSGD``. Every
optimizer is registered in :data:`lincoln.registry.OPTIMIZERS`.
"""

from __future__ import annotations

from typing import Any

from ..registry import OPTIMIZERS
from .base import DECAY_TYPES, Optimizer
from .book import RegularizedSGD
from .rules import SGD, AdaGrad, Adam, RMSProp, SGDMomentum

__all__ = [
    "Optimizer",
    "SGD",
    "SGDMomentum",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "RegularizedSGD",
    "OPTIMIZERS",
    "get_optimizer",
    "DECAY_TYPES",
]


def get_optimizer(spec: dict[str, Any] | Optimizer) -> Optimizer:
    """An optimizer from ``{"type": name, **kwargs}`` or an instance.

    Raises:
        ConfigError: unknown type (naming the valid ones) or bad arguments.
    """
    return OPTIMIZERS.create(spec, base=Optimizer)  # type: ignore[no-any-return]
