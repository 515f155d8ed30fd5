"""An optimizer's state as scalars and arrays, for checkpoints (``state_dict``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["StateDict"]


class StateDict:
    """``state_dict()`` / ``load_state_dict()``: the rate, its schedule's
    position, the step count and the per-parameter arrays (velocities,
    moments), enough to resume an optimizer exactly."""

    lr: float
    initial_lr: float
    _rate_fixed: bool
    decay_per_epoch: float
    decay_steps: int
    max_epochs: int
    step_count = 0
    state: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        """Scalars and arrays that resume the optimizer exactly."""
        arrays = {
            f"state.{i}.{key}": value
            for i, st in enumerate(self.state)
            for key, value in st.items()
        }
        return {
            "lr": self.lr,
            "initial_lr": self.initial_lr,
            "decay_per_epoch": self.decay_per_epoch,
            "decay_steps": self.decay_steps,
            "max_epochs": self.max_epochs,
            "step_count": self.step_count,
            "num_params": len(self.state),
            "arrays": arrays,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (``initial_lr`` and
        ``decay_steps`` are optional, for older checkpoints)."""
        self.lr = float(state["lr"])
        self.initial_lr = float(state.get("initial_lr", self.initial_lr))
        self._rate_fixed = True
        self.decay_per_epoch = float(state["decay_per_epoch"])
        self.decay_steps = int(state.get("decay_steps", 0))
        self.max_epochs = int(state["max_epochs"])
        self.step_count = int(state["step_count"])
        self.state = [{} for _ in range(int(state["num_params"]))]
        for name, value in state["arrays"].items():
            _, index, key = name.split(".", 2)
            self.state[int(index)][key] = np.array(value)
