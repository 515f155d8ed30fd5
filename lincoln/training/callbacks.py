"""Callbacks: code that runs at fixed points of ``Trainer.fit``.

A :class:`Callback` overrides the hooks it needs. ``fit`` gives it the trainer
(``set_trainer``, and as the argument of ``on_train_begin``/``on_train_end``);
through it a callback reads the network, optimizer and history, changes the
learning rate (``trainer.optim.lr``) or stops training (``trainer.stop_training
= True``, or ``trainer.stop(reason, message)``).

The order of one epoch::

    on_epoch_begin(epoch)
    for each batch: net.train_batch -> on_batch_end(batch, logs) -> optim.step()
    every eval_every epochs and after the last: on_evaluate(epoch, metrics)
    on_epoch_end(epoch, logs)

``on_batch_end`` runs after the batch's forward and backward pass and before
the optimizer's update, so a callback that stops training there (as
:class:`TerminateOnNaN` does on a NaN loss) keeps that update from being
applied. Training stops after the hook that asked for it.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ..errors import ConfigError, check_positive_int
from .monitor import Monitor

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "ProgressBar",
    "TerminateOnNaN",
    "CSVLogger",
]


class Callback:
    """Base class: every hook does nothing; override the ones you need.

    Attributes:
        trainer: the :class:`~lincoln.training.Trainer` running ``fit`` (set by
            ``set_trainer`` before ``on_train_begin``).

    A callback whose state must survive ``fit(..., resume=...)`` returns it
    (JSON-serializable) from ``state_dict`` and takes it back in
    ``load_state_dict``, which ``fit`` calls after ``on_train_begin``.

    Example:
        >>> class StopAt(Callback):
        ...     def on_epoch_end(self, epoch, logs):
        ...         if epoch == 3:
        ...             self.trainer.stop_training = True
    """

    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, trainer: Trainer) -> None:
        """Training starts (``trainer.start_epoch`` epochs are already done)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Training ended, however it ended (the network holds its final
        parameters; ``trainer.history.stop_reason`` says why)."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Epoch ``epoch`` (1-based) starts."""

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        """Batch ``batch`` (0-based) was run forward and backward; ``logs`` holds
        its ``loss`` and ``size``. The update follows unless training stops."""

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        """An evaluation: ``val_loss`` (and ``val_accuracy`` for classifiers);
        ``trainer.best.improved`` says whether it is the best so far."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Epoch ``epoch`` ended: ``logs`` holds the mean training ``loss``, the
        ``lr`` used, and the metrics of an evaluation in this epoch."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state_dict` returned."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook) is not getattr(Callback, hook)


class CallbackList:
    """Callbacks called in order; a hook is called only on the callbacks that
    override it (so an empty ``on_batch_end`` costs nothing per batch)."""

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = list(callbacks)
        self._batch_end = [c for c in self.callbacks if _overrides(c, "on_batch_end")]
        self.keys: list[str] = []
        for cb in self.callbacks:
            name = type(cb).__name__
            n = sum(k.split(".")[0] == name for k in self.keys)
            self.keys.append(name if n == 0 else f"{name}.{n}")

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def on_train_begin(self, trainer: Trainer) -> None:
        for cb in self.callbacks:
            cb.set_trainer(trainer)
            cb.on_train_begin(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        for cb in self.callbacks:
            cb.on_train_end(trainer)

    def on_epoch_begin(self, epoch: int) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch)

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        for cb in self._batch_end:
            cb.on_batch_end(batch, logs)

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        for cb in self.callbacks:
            cb.on_evaluate(epoch, metrics)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def state_dict(self) -> dict[str, dict[str, Any]]:
        """Each callback's state by key (class name, ``.1`` ... for repeats)."""
        states = {
            k: cb.state_dict() for k, cb in zip(self.keys, self.callbacks, strict=True)
        }
        return {k: s for k, s in states.items() if s}

    def load_state_dict(self, states: dict[str, dict[str, Any]]) -> None:
        for key, cb in zip(self.keys, self.callbacks, strict=True):
            if key in states:
                cb.load_state_dict(states[key])

    def __repr__(self) -> str:
        return f"CallbackList({self.callbacks!r})"


class EarlyStopping(Callback):
    """Stop after ``patience`` evaluations in a row without improvement.

    The trainer judges every evaluation by this callback's ``monitor``,
    ``mode`` and ``min_delta`` (they define the run's best evaluation, kept in
    ``trainer.best`` and ``history.best_epoch``).

    Args:
        patience: evaluations without improvement tolerated; 1 stops at the
            first one, as the book does.
        min_delta: an improvement must better the best value by more than this.
        monitor: ``"val_loss"`` or ``"val_accuracy"`` (classifiers only).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the monitor's name).
        restore_best: end ``fit`` with the best evaluation's parameters
            (however training ends); False keeps the last ones.

    Raises:
        ConfigError: a non-positive ``patience``, negative ``min_delta``, or an
            unknown monitor or mode.
    """

    def __init__(
        self,
        patience: int = 1,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        self.patience = check_positive_int("EarlyStopping", "patience", patience)
        self.monitor = Monitor(monitor, mode, min_delta, owner="EarlyStopping")
        self.restore_best = bool(restore_best)
        self.wait = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        self.wait = 0

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        self.wait = 0 if self.trainer.best.improved else self.wait + 1
        if self.wait >= self.patience:
            kept = (
                f"using the model from epoch {self.trainer.history.best_epoch}"
                if self.restore_best
                else "keeping the last parameters"
            )
            self.trainer.stop(
                "early_stopping", f"Early stopping after epoch {epoch}: {kept}"
            )

    def state_dict(self) -> dict[str, Any]:
        return {"wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait = int(state["wait"])

    def __repr__(self) -> str:
        m = self.monitor
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={m.min_delta}, "
            f"monitor={m.monitor!r}, mode={m.mode!r}, "
            f"restore_best={self.restore_best})"
        )


class TerminateOnNaN(Callback):
    """Stop as soon as a batch's loss is NaN or Inf, before its update.

    ``fit`` then restores the best parameters (or, before any evaluation, the
    ones training started from) and ``history.stop_reason`` is
    ``"non_finite_loss"``. ``fit`` uses one always.
    """

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        loss = logs["loss"]
        if math.isfinite(loss):
            return
        best = self.trainer.history.best_epoch
        restored = (
            f"the parameters of epoch {best}"
            if best
            else "the parameters training started from"
        )
        self.trainer.stop(
            "non_finite_loss",
            f"Training stopped: the loss became {loss} in epoch "
            f"{self.trainer.epoch}, batch {batch} (try a smaller learning rate); "
            f"{restored} were restored",
            batch=batch,
            level=logging.WARNING,
        )


class ProgressBar(Callback):
    """A tqdm bar over the batches, showing the epoch and its running loss.

    Args:
        enabled: True or False; None (default) shows it only on a terminal.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self._sum = 0.0
        self._seen = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        self.bar = tqdm(
            total=max(trainer.epochs - trainer.start_epoch, 0) * trainer.num_batches,
            unit="batch",
            leave=False,
            disable=None if self.enabled is None else not self.enabled,
            desc="training",
        )

    def on_epoch_begin(self, epoch: int) -> None:
        self._sum, self._seen = 0.0, 0

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.bar.disable:
            return
        self._sum += logs["loss"] * logs["size"]
        self._seen += int(logs["size"])
        self.bar.update(1)
        if batch % 20 == 0:
            self._show(self._sum / self._seen)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if not self.bar.disable:
            self._show(logs["loss"])

    def _show(self, loss: float) -> None:
        epoch = f"{self.trainer.epoch}/{self.trainer.epochs}"
        self.bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", refresh=False)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()

    def __repr__(self) -> str:
        return f"ProgressBar(enabled={self.enabled})"


class CSVLogger(Callback):
    """Write one row per epoch to ``path``: epoch, train_loss, lr, val_loss,
    val_accuracy (empty when not evaluated). A resumed ``fit`` appends.

    Args:
        path: the CSV file (its folder must exist).
    """

    FIELDS = ("epoch", "train_loss", "lr", "val_loss", "val_accuracy")

    def __init__(self, path: str | Path) -> None:
        if not isinstance(path, (str, Path)):
            raise ConfigError(f"CSVLogger: path must be a path, received {path!r}")
        self.path = Path(path)
        self._file: IO[str] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        resuming = trainer.start_epoch > 0 and self.path.exists()
        self._file = open(self.path, "a" if resuming else "w", newline="")
        self._writer = csv.writer(self._file)
        if not resuming:
            self._writer.writerow(self.FIELDS)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        row: list[Any] = [epoch, logs["loss"], logs["lr"]]
        row += [logs.get(key, "") for key in ("val_loss", "val_accuracy")]
        self._writer.writerow(row)
        if self._file is not None:
            self._file.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"CSVLogger({str(self.path)!r})"
