"""What "better" means for an evaluation, and the copy of the best parameters.

A :class:`Monitor` turns evaluation metrics into one score where lower is
better; :class:`BestKeeper` remembers the best score of a run and a copy of
the parameter arrays (not of the network) that reached it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..base import Array
from ..errors import ConfigError

__all__ = ["MONITORS", "MODES", "Monitor", "BestKeeper", "net_arrays"]

#: The figures an evaluation produces, by the names callbacks monitor.
MONITORS = ("val_loss", "val_accuracy")
MODES = ("auto", "min", "max")


class Monitor:
    """A metric to watch, which way is better, and by how much it must improve.

    Args:
        monitor: ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"min"``, ``"max"``, or ``"auto"`` (max for accuracies, else min).
        min_delta: an improvement must better the best value by more than this.
        owner: the name used in error messages.

    Raises:
        ConfigError: an unknown monitor or mode, or a negative ``min_delta``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        owner: str = "fit",
    ) -> None:
        if monitor not in MONITORS:
            raise ConfigError(
                f"{owner}: monitor must be one of {', '.join(MONITORS)}, received "
                f"monitor={monitor!r}"
            )
        if mode not in MODES:
            raise ConfigError(
                f"{owner}: mode must be one of {', '.join(MODES)}, received "
                f"mode={mode!r}"
            )
        if not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ConfigError(
                f"{owner}: min_delta must be >= 0, received min_delta={min_delta!r}"
            )
        self.monitor: str = monitor
        self.mode: str = mode
        self.min_delta: float = float(min_delta)
        self.sign: float = -1.0 if self.maximize else 1.0

    @property
    def maximize(self) -> bool:
        return self.mode == "max" or (
            self.mode == "auto" and self.monitor.endswith("accuracy")
        )

    def score(self, metrics: dict[str, float]) -> float:
        """The monitored value, negated when larger is better: lower is better."""
        return self.sign * metrics[self.monitor]

    def improves(self, score: float, best: float) -> bool:
        return score < best - self.min_delta

    def key(self) -> tuple[str, bool]:
        """What the scores measure: two monitors with the same key compare."""
        return self.monitor, self.maximize

    def __repr__(self) -> str:
        return (
            f"Monitor(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"min_delta={self.min_delta!r})"
        )


def net_arrays(net: Any) -> dict[str, Array]:
    """Every array that makes up the trained model, by name (the arrays
    themselves): ``net.state_dict()`` (parameters and buffers), or the
    parameters of a network in the book's form, which has none."""
    state = getattr(net, "state_dict", None)
    if callable(state):
        return dict(state())
    return {f"params.{i}": p for i, p in enumerate(net.params())}


class BestKeeper:
    """The best evaluation of a run and a copy of the arrays it had.

    Args:
        net: the network; its arrays are copied now (the parameters training
            starts from) and at every improvement.
        monitor: what "best" means.
        score: a best score carried over (``inf``: none).
    """

    def __init__(self, net: Any, monitor: Monitor, score: float = math.inf) -> None:
        self.monitor = monitor
        self.arrays = net_arrays(net)
        self.saved = {name: a.copy() for name, a in self.arrays.items()}
        self.score = score
        self.epoch: int | None = None
        self.improved = False

    @property
    def has_best(self) -> bool:
        """True when there is a best to go back to: an evaluation of this run,
        or the starting parameters when they carry a best score."""
        return self.epoch is not None or math.isfinite(self.score)

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Judge one evaluation; copy the arrays if it is the best so far."""
        score = self.monitor.score(metrics)
        self.improved = self.monitor.improves(score, self.score)
        if self.improved:
            self.score, self.epoch = score, epoch
            for name, src in self.arrays.items():
                np.copyto(self.saved[name], src)
        return self.improved

    def load(self, saved: dict[str, Array]) -> None:
        """Take the best arrays of a checkpoint."""
        for name, dst in self.saved.items():
            np.copyto(dst, saved[name])

    def restore(self) -> None:
        """Copy the best arrays back into the network, in place."""
        for name, dst in self.arrays.items():
            np.copyto(dst, self.saved[name])

    def __repr__(self) -> str:
        return (
            f"BestKeeper(monitor={self.monitor.monitor!r}, epoch={self.epoch}, "
            f"score={self.score:.4g})"
        )
