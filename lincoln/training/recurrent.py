"""The callback a network with recurrent layers trains with: their carried
state is forgotten at the start of every epoch (the data was reshuffled, so the
last batch of one epoch does not continue into the first of the next)."""

from __future__ import annotations

from typing import Any

from ..layers.recurrent import recurrent_layers, reset_states
from .callbacks import Callback

__all__ = ["ResetStates", "has_recurrent_layers"]


def has_recurrent_layers(net: Any) -> bool:
    """True when ``net`` holds a recurrent layer (at any depth)."""
    return any(True for _ in recurrent_layers(getattr(net, "layers", ())))


class ResetStates(Callback):
    """Reset every recurrent layer's state at each epoch's start.

    :class:`~lincoln.training.FitOptions` adds it for a network with recurrent
    layers (a user's ``ResetStates`` replaces it).
    """

    def on_epoch_begin(self, epoch: int) -> None:
        reset_states(self.trainer.net.layers)
