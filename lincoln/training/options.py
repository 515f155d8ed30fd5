"""``fit``'s options, checked once: :class:`FitOptions`."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, check_positive_int
from .data import check_fraction
from .monitor import Monitor

__all__ = ["FitOptions"]


@dataclass
class FitOptions:
    """The options of one ``fit`` call (see :meth:`Trainer.fit
    <lincoln.training.Trainer.fit>`), validated on creation.

    Raises:
        ConfigError: a non-positive count, a negative ``min_delta``, a seed
            that is not a non-negative integer or None, an unknown monitor, or a
            ``validation_split`` outside (0, 1).
    """

    epochs: int = 100
    eval_every: int = 10
    batch_size: int = 32
    seed: int | None = 1
    restart: bool = True
    early_stopping: bool = True
    conv_testing: bool = False
    patience: int = 1
    min_delta: float = 0.0
    monitor: str = "val_loss"
    verbose: bool = True
    progress: bool | None = None
    eval_batch_size: int = 1024
    validation_split: float | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "eval_every", "batch_size", "patience"):
            setattr(self, name, check_positive_int("fit", name, getattr(self, name)))
        self.eval_batch_size = check_positive_int(
            "fit", "eval_batch_size", self.eval_batch_size
        )
        self.min_delta = Monitor(self.monitor, "auto", self.min_delta).min_delta
        seed = self.seed
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise ConfigError(
                "fit: seed must be a non-negative integer or None, received "
                f"seed={seed!r}"
            )
        if self.validation_split is not None:
            self.validation_split = check_fraction(self.validation_split)

    def run_options(self, n_train: int) -> dict[str, Any]:
        """What a checkpoint records of these options (a resumed run warns
        when those that shape training differ)."""
        return {
            "batch_size": self.batch_size,
            "eval_every": self.eval_every,
            "early_stopping": self.early_stopping,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "monitor": self.monitor,
            "validation_split": self.validation_split,
            "split_seed": self.seed,
            "n_train": n_train,
        }
