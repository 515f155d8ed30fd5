"""``fit``'s options, checked once (:class:`FitOptions`), and the callbacks
they ask for."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..base import Array
from ..errors import ConfigError, check_positive_int
from .callbacks import Callback, EarlyStopping, ProgressBar, TerminateOnNaN
from .checkpoint import ModelCheckpoint
from .data import check_fraction, is_classifier
from .monitor import Monitor
from .recurrent import ResetStates, has_recurrent_layers
from .schedules import BookDecay

__all__ = ["FitOptions"]


@dataclass
class FitOptions:
    """The options of one ``fit`` call (see :meth:`Trainer.fit
    <lincoln.training.Trainer.fit>`), validated on creation.

    Raises:
        ConfigError: a non-positive count, a negative ``min_delta``, a seed
            that is not a non-negative integer or None, an unknown monitor, or a
            ``validation_split`` outside (0, 1), an ``augment`` that is not
            callable.
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
    augment: Callable[[Array], Array] | None = None

    def __post_init__(self) -> None:
        if self.augment is not None and not callable(self.augment):
            raise ConfigError(
                "fit: augment must be an Augment (or a function of a batch), "
                f"received {self.augment!r}"
            )
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

    def callbacks(
        self,
        net: Any,
        user: list[Callback] | None,
        checkpoint_dir: str | os.PathLike[str] | None,
    ) -> tuple[list[Callback], Monitor]:
        """The callbacks of a fit, in order, and what "best" means for it.

        The defaults (``TerminateOnNaN``, ``BookDecay``, ``ResetStates`` for
        a network with recurrent layers, ``EarlyStopping`` if
        ``early_stopping``, ``ProgressBar``, ``ModelCheckpoint`` given a
        ``checkpoint_dir``) come first, except those of a type in ``user``;
        a ``ModelCheckpoint`` comes last. "Best" is the ``EarlyStopping``'s
        monitor if there is one, else ``monitor`` and ``min_delta``.

        Raises:
            ConfigError: a non-Callback in ``user``; ``val_accuracy`` monitored
                for a network that is not a classifier.
        """
        user = list(user or [])
        for cb in user:
            if not isinstance(cb, Callback):
                raise ConfigError(
                    f"fit: callbacks must be Callback objects, got {cb!r}"
                )
        defaults: list[Callback] = [TerminateOnNaN(), BookDecay()]
        if has_recurrent_layers(net):
            defaults.append(ResetStates())
        if self.early_stopping:
            defaults.append(EarlyStopping(self.patience, self.min_delta, self.monitor))
        defaults.append(ProgressBar(self.progress))
        if checkpoint_dir is not None:
            defaults.append(ModelCheckpoint(checkpoint_dir))
        chosen = [d for d in defaults if not any(isinstance(u, type(d)) for u in user)]
        # stable: the checkpoint comes last, to save every other callback's state
        chosen = sorted(chosen + user, key=lambda cb: isinstance(cb, ModelCheckpoint))
        stopper = next((cb for cb in chosen if isinstance(cb, EarlyStopping)), None)
        best_by = (
            stopper.monitor
            if stopper
            else Monitor(self.monitor, "auto", self.min_delta)
        )
        if best_by.monitor == "val_accuracy" and not is_classifier(net):
            raise ConfigError(
                "fit: monitor='val_accuracy' needs a classifier (SoftmaxCrossEntropy "
                f"loss); this network's loss is {net.loss!r}"
            )
        return chosen, best_by
