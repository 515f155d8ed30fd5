"""How layers draw their initial parameters: the weight-initialization rules and
the generators their random operations get."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..errors import check_choice

__all__ = ["WEIGHT_INITS", "check_weight_init", "init_weights", "child_generator"]

#: ``"standard"`` (the book's N(0, 1); ``"normal"`` is the book's Conv2D name for
#: it), ``"glorot"`` and ``"he"``.
WEIGHT_INITS = ("standard", "normal", "glorot", "he")


def check_weight_init(owner: str, weight_init: Any) -> str:
    """``weight_init`` as saved (``"normal"`` becomes ``"standard"``).

    Raises:
        ConfigError: not one of :data:`WEIGHT_INITS`.
    """
    value = check_choice(owner, "weight_init", weight_init, WEIGHT_INITS)
    return "standard" if value == "normal" else str(value)


def init_weights(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    weight_init: str,
    fan_in: int,
    fan_out: int,
    dtype: Any,
) -> Array:
    """Normal weights with the standard deviation ``weight_init`` asks for.

    ``"standard"`` is 1, ``"glorot"`` is sqrt(2 / (fan_in + fan_out)) (Glorot &
    Bengio, 2010), ``"he"`` is sqrt(2 / fan_in) (He et al., 2015). (The book's
    "glorot" used 2 / (fan_in + fan_out), the variance, as the deviation.)
    """
    if weight_init == "glorot":
        scale = np.sqrt(2.0 / (fan_in + fan_out))
    elif weight_init == "he":
        scale = np.sqrt(2.0 / fan_in)
    else:
        scale = 1.0
    return (rng.standard_normal(shape) * scale).astype(dtype)


def child_generator(rng: np.random.Generator) -> np.random.Generator:
    """A generator seeded from the next draw of ``rng`` (for an operation's own
    randomness, such as a dropout mask)."""
    return np.random.default_rng(int(rng.integers(2**63)))
