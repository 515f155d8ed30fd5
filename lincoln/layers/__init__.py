"""Layers: operations grouped into the units a network is written in.

One module per family; :data:`LAYERS` (the registry in :mod:`lincoln.registry`)
names them for experiment files and saved models. A new layer is a subclass of
:class:`Layer` with ``_setup_layer`` and ``get_config``, registered with
``LAYERS.register("name", MyLayer)``.
"""

from __future__ import annotations

from typing import Any

from ..registry import LAYERS
from .base import Layer
from .conv import Conv2D
from .dense import Dense
from .init import WEIGHT_INITS, init_weights
from .normalization import BatchNorm
from .pooling import AvgPool2D, MaxPool2D
from .reshape import Flatten

__all__ = [
    "Layer",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "BatchNorm",
    "LAYERS",
    "WEIGHT_INITS",
    "init_weights",
    "layer_from_config",
    "register_layer",
]


def register_layer(name: str, cls: type[Layer]) -> type[Layer]:
    """Make ``cls`` known to experiment files and saved models under ``name``."""
    return LAYERS.register(name, cls)  # type: ignore[no-any-return]


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Build a layer from ``{"type": name, **constructor_arguments}``.

    Raises:
        ConfigError: unknown type (naming the known ones) or bad arguments.
    """
    return LAYERS.create(config)  # type: ignore[no-any-return]
