"""Learning-rate schedules: the math as plain functions, and the callbacks
that apply it to ``trainer.optim.lr``.

Epochs count from 1. :class:`StepLR`, :class:`CosineAnnealing` and
:class:`Warmup` set the rate at the start of every epoch from the rate the
optimizer had when training began (``base_lr``), so a resumed run gets the very
same rates. :class:`ReduceLROnPlateau` lowers the rate when evaluations stop
improving. :class:`BookDecay` is the book's per-epoch linear or exponential
decay from ``lr`` to ``final_lr``, driven by the optimizer's ``decay_type``;
``fit`` always uses one. When schedules are combined, the last one to set the
rate in an epoch wins: use a schedule callback with an optimizer without a
``decay_type``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import check_positive_int, check_real
from .callbacks import Callback
from .monitor import Monitor

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = [
    "step_lr",
    "cosine_lr",
    "warmup_lr",
    "LRScheduler",
    "StepLR",
    "CosineAnnealing",
    "Warmup",
    "ReduceLROnPlateau",
    "BookDecay",
]


def step_lr(base_lr: float, epoch: int, step_size: int, gamma: float) -> float:
    """``base_lr * gamma ** ((epoch - 1) // step_size)``: ``step_size`` epochs at
    each rate."""
    return base_lr * gamma ** ((epoch - 1) // step_size)


def cosine_lr(base_lr: float, epoch: int, t_max: int, min_lr: float) -> float:
    """Half a cosine from ``base_lr`` (epoch 1) down to ``min_lr`` (epoch
    ``t_max + 1`` and after)."""
    t = min(epoch - 1, t_max)
    return min_lr + (base_lr - min_lr) * (1.0 + math.cos(math.pi * t / t_max)) / 2.0


def warmup_lr(
    base_lr: float, epoch: int, warmup_epochs: int, start_factor: float
) -> float:
    """A straight line from ``start_factor * base_lr`` (epoch 1) up to
    ``base_lr`` (epoch ``warmup_epochs + 1`` and after)."""
    t = min(epoch - 1, warmup_epochs) / warmup_epochs
    return base_lr * (start_factor + (1.0 - start_factor) * t)


class LRScheduler(Callback):
    """Base class: set ``optim.lr = self.rate(epoch)`` as every epoch begins.

    Subclasses implement ``rate(epoch)`` from ``self.base_lr``, the optimizer's
    rate when training began.
    """

    #: the optimizer's rate when training began (NaN before)
    base_lr: float = math.nan

    def on_train_begin(self, trainer: Trainer) -> None:
        self.base_lr = float(trainer.optim.lr)

    def on_epoch_begin(self, epoch: int) -> None:
        self.trainer.optim.lr = self.rate(epoch)

    def rate(self, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement rate(epoch)")

    def state_dict(self) -> dict[str, Any]:
        return {"base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_lr = float(state["base_lr"])


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    Args:
        step_size: epochs at each rate (>= 1).
        gamma: the factor, in (0, 1].

    Example:
        >>> [round(step_lr(0.1, e, 2, 0.5), 4) for e in range(1, 6)]
        [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive_int("StepLR", "step_size", step_size)
        self.gamma = check_real(
            "StepLR", "gamma", gamma, low=0.0, high=1.0, low_open=True
        )

    def rate(self, epoch: int) -> float:
        return step_lr(self.base_lr, epoch, self.step_size, self.gamma)

    def __repr__(self) -> str:
        return f"StepLR(step_size={self.step_size}, gamma={self.gamma})"


class CosineAnnealing(LRScheduler):
    """Cosine annealing from the optimizer's rate down to ``min_lr`` over
    ``t_max`` epochs, then ``min_lr``.

    Args:
        t_max: epochs of the descent (>= 1).
        min_lr: the rate it ends at (>= 0).
    """

    def __init__(self, t_max: int, min_lr: float = 0.0) -> None:
        self.t_max = check_positive_int("CosineAnnealing", "t_max", t_max)
        self.min_lr = check_real("CosineAnnealing", "min_lr", min_lr, low=0.0)

    def rate(self, epoch: int) -> float:
        return cosine_lr(self.base_lr, epoch, self.t_max, self.min_lr)

    def __repr__(self) -> str:
        return f"CosineAnnealing(t_max={self.t_max}, min_lr={self.min_lr})"


class Warmup(LRScheduler):
    """Raise the rate linearly from ``start_factor`` times the optimizer's rate
    to the full rate over ``warmup_epochs`` epochs, then keep it.

    Args:
        warmup_epochs: epochs of the climb (>= 1).
        start_factor: the share of the rate used in epoch 1, in (0, 1].
    """

    def __init__(self, warmup_epochs: int, start_factor: float = 0.1) -> None:
        self.warmup_epochs = check_positive_int(
            "Warmup", "warmup_epochs", warmup_epochs
        )
        self.start_factor = check_real(
            "Warmup", "start_factor", start_factor, low=0.0, high=1.0, low_open=True
        )

    def rate(self, epoch: int) -> float:
        return warmup_lr(self.base_lr, epoch, self.warmup_epochs, self.start_factor)

    def __repr__(self) -> str:
        return (
            f"Warmup(warmup_epochs={self.warmup_epochs}, "
            f"start_factor={self.start_factor})"
        )


class ReduceLROnPlateau(Callback):
    """Multiply the rate by ``factor`` after ``patience`` evaluations in a row
    without improvement of ``monitor``.

    Args:
        patience: evaluations without improvement before the rate drops.
        factor: the factor, in (0, 1).
        monitor, mode, min_delta: what improvement means (as for
            :class:`~lincoln.training.EarlyStopping`).
        cooldown: evaluations after a drop during which nothing is counted.
        min_lr: the rate never goes below this.
    """

    def __init__(
        self,
        patience: int = 10,
        factor: float = 0.1,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        name = "ReduceLROnPlateau"
        self.patience = check_positive_int(name, "patience", patience)
        self.factor = check_real(
            name, "factor", factor, low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.monitor = Monitor(monitor, mode, min_delta, owner=name)
        self.cooldown = int(check_real(name, "cooldown", cooldown, low=0.0))
        self.min_lr = check_real(name, "min_lr", min_lr, low=0.0)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf
        self.wait = 0
        self.cooling = 0
        self.lr: float | None = None  # the rate this callback set last

    def on_train_begin(self, trainer: Trainer) -> None:
        self._reset()

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        score = self.monitor.score(metrics)
        if self.monitor.improves(score, self.best):
            self.best, self.wait = score, 0
        elif self.cooling > 0:
            self.cooling -= 1
        else:
            self.wait += 1
        if self.wait < self.patience:
            return
        optim = self.trainer.optim
        new = max(optim.lr * self.factor, self.min_lr)
        self.wait, self.cooling = 0, self.cooldown
        if new < optim.lr:
            self.trainer.say(
                f"ReduceLROnPlateau: {self.monitor.monitor} has not improved in "
                f"{self.patience} evaluations; learning rate {optim.lr:.4g} -> "
                f"{new:.4g}"
            )
            optim.lr = self.lr = new

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "wait": self.wait,
            "cooling": self.cooling,
            "lr": self.lr,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait = float(state["best"]), int(state["wait"])
        self.cooling = int(state["cooling"])
        self.lr = None if state["lr"] is None else float(state["lr"])
        if self.lr is not None:
            self.trainer.optim.lr = self.lr

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(patience={self.patience}, factor={self.factor}, "
            f"monitor={self.monitor.monitor!r}, min_lr={self.min_lr})"
        )


class BookDecay(Callback):
    """The book's learning-rate decay: once after every epoch but the last,
    linear or exponential from ``lr`` to ``final_lr`` as the optimizer's
    ``decay_type`` says (nothing without one).

    A lincoln optimizer is set up with ``setup_decay(epochs)`` and moved with
    ``decay_lr()``; an optimizer written as in the book gets
    ``max_epochs = epochs``, ``_setup_decay()`` and ``_decay_lr()``. A resumed
    run replays the decays of the epochs already done.
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        optim, epochs = trainer.optim, trainer.epochs
        setup = getattr(optim, "setup_decay", None)
        if callable(setup):
            setup(epochs)
        else:
            optim.max_epochs = epochs
            book_setup = getattr(optim, "_setup_decay", None)
            if callable(book_setup):
                book_setup()
        for _ in range(min(trainer.start_epoch, epochs - 1)):
            self._decay()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if not self.trainer.stop_training and epoch < self.trainer.epochs:
            self._decay()

    def _decay(self) -> None:
        optim = self.trainer.optim
        decay = getattr(optim, "decay_lr", None) or getattr(optim, "_decay_lr", None)
        if callable(decay):
            decay()
