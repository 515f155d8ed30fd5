"""What ``fit`` did: the :class:`History` of a training run."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["History", "STOP_REASONS"]

#: Why training ended: all epochs run, early stopping, a loss that became NaN or
#: Inf, Ctrl-C, a callback that set ``trainer.stop_training``, or a checkpoint
#: that could not be written (a full disk, ...).
STOP_REASONS = (
    "completed",
    "early_stopping",
    "non_finite_loss",
    "interrupted",
    "callback",
    "checkpoint_failed",
)


@dataclass
class History:
    """What happened during ``fit``.

    Attributes:
        epochs: the epochs (1-based) at which the model was evaluated.
        val_loss: validation loss at each of those epochs.
        val_accuracy: validation accuracy at each (classifiers only, else empty).
        train_loss: mean training loss of every epoch run.
        lr: learning rate used in every epoch run.
        epoch_time: wall time in seconds of every epoch run (training only).
        best_epoch: the epoch of the best evaluation (None if never evaluated,
            or if no evaluation bettered the best carried over from an earlier
            ``fit(restart=False)``).
        best_val_loss: its validation loss.
        held_epoch: the epoch whose parameters the network holds after ``fit``:
            ``best_epoch`` when the best parameters were restored (early
            stopping, a NaN loss, Ctrl-C), else the last epoch run; 0 for the
            parameters this ``fit`` started from; None for parameters from the
            middle of an epoch (Ctrl-C before any evaluation).
        stop_reason: one of ``STOP_REASONS``: ``"completed"``,
            ``"early_stopping"``, ``"non_finite_loss"``, ``"interrupted"``,
            ``"callback"`` or ``"checkpoint_failed"``.
        stopped_epoch, stopped_batch: where training stopped early (1-based
            epoch, 0-based batch; the batch is None when it stopped between
            epochs), None when it completed.
    """

    epochs: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stop_reason: str = "completed"
    stopped_epoch: int | None = None
    stopped_batch: int | None = None
    held_epoch: int | None = None

    @property
    def best_val_accuracy(self) -> float | None:
        """Validation accuracy of the best evaluation; None if not recorded."""
        if self.best_epoch is None or not self.val_accuracy:
            return None
        return self.val_accuracy[self.epochs.index(self.best_epoch)]

    @property
    def interrupted(self) -> bool:
        """True when training was stopped by Ctrl-C (KeyboardInterrupt)."""
        return self.stop_reason == "interrupted"

    def record_evaluation(self, epoch: int, metrics: dict[str, float]) -> None:
        """Append one evaluation (``val_loss`` and, if given, ``val_accuracy``)."""
        self.epochs.append(epoch)
        self.val_loss.append(metrics["val_loss"])
        if "val_accuracy" in metrics:
            self.val_accuracy.append(metrics["val_accuracy"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self, path: str | Path) -> None:
        """Write the history as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def to_csv(self, path: str | Path) -> None:
        """Write one row per epoch: epoch, train_loss, lr, and the validation
        loss/accuracy on evaluated epochs (empty elsewhere)."""
        # val_accuracy is empty for non-classifiers, and a History built by hand
        # or from_dict need not have lists of equal length: keep zip's truncation.
        evals = dict(zip(self.epochs, self.val_loss, strict=False))
        accs = dict(zip(self.epochs, self.val_accuracy, strict=False))
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["epoch", "train_loss", "lr", "val_loss", "val_accuracy"])
            for i, loss in enumerate(self.train_loss, start=1):
                writer.writerow(
                    [
                        i,
                        loss,
                        self.lr[i - 1] if i <= len(self.lr) else "",
                        evals.get(i, ""),
                        accs.get(i, ""),
                    ]
                )

    def __repr__(self) -> str:
        best = (
            f", best_epoch={self.best_epoch}, best_val_loss={self.best_val_loss:.4g}"
            if self.best_val_loss is not None
            else ""
        )
        return (
            f"History(epochs_run={len(self.train_loss)}, evaluations={len(self.epochs)}"
            f"{best}, held_epoch={self.held_epoch}, stop_reason={self.stop_reason!r})"
        )
