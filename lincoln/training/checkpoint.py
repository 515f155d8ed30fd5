"""Training that survives the process: :class:`ModelCheckpoint` writes the best
model and the whole training state; :func:`resume_training` reads it back.

``best.npz`` (a model file, ``lincoln.load``) is written whenever validation
improves and ``last.ckpt.npz`` (network, optimizer, shuffling generator, best
parameters, history and every callback's ``state_dict``) after every epoch,
both atomically, through :mod:`lincoln.serialization`. The folder is checked
before the first epoch; a write that fails later (a full disk) stops training
with ``history.stop_reason == "checkpoint_failed"`` and the best parameters in
the network, and the error is reported, never swallowed.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, ModelFileError
from ..io.rundir import check_writable_dir
from ..serialization import load_checkpoint, read_header, save, save_checkpoint
from .callbacks import Callback
from .history import History

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = [
    "ModelCheckpoint",
    "BEST_MODEL_FILE",
    "LAST_CHECKPOINT_FILE",
    "training_state",
    "resume_training",
    "saved_split_seed",
]

#: Names of the files :class:`ModelCheckpoint` writes in its folder.
BEST_MODEL_FILE = "best.npz"
LAST_CHECKPOINT_FILE = "last.ckpt.npz"

# fit options that change the course of training; a resumed run warns if they differ
RUN_OPTIONS = (
    "batch_size",
    "eval_every",
    "early_stopping",
    "patience",
    "min_delta",
    "monitor",
    "validation_split",
)
# what fit writes in a checkpoint's training entry and needs to resume
TRAINING_KEYS = ("epoch", "epochs", "rng_state", "best_loss", "bad_evals", "history")


class ModelCheckpoint(Callback):
    """Write ``best.npz`` at every improvement and ``last.ckpt.npz`` after
    every epoch into ``dirpath`` (created if needed).

    ``Trainer(net, optim, checkpoint_dir=...)`` uses one; resume with
    ``fit(..., resume=dirpath / "last.ckpt.npz")``. It runs after every other
    callback, so the checkpoint holds their state at the end of the epoch.

    Args:
        dirpath: the folder.

    Attributes:
        error: the ``OSError`` of a write that failed (training then stopped
            with ``stop_reason == "checkpoint_failed"``), else None.
    """

    def __init__(self, dirpath: str | os.PathLike[str]) -> None:
        if not isinstance(dirpath, (str, os.PathLike)):
            raise ConfigError(
                f"ModelCheckpoint: dirpath must be a path, received {dirpath!r}"
            )
        self.dirpath = Path(dirpath)
        self.error: OSError | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        # before the first epoch: a folder that cannot be written fails now
        check_writable_dir(self.dirpath, "checkpoint_dir")
        self.error = None

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.trainer.best.improved:
            self._write(BEST_MODEL_FILE, lambda p: save(self.trainer.net, p))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        trainer = self.trainer
        self._write(
            LAST_CHECKPOINT_FILE,
            lambda p: save_checkpoint(
                p,
                trainer.net,
                trainer.optim,
                training=training_state(trainer, epoch),
                best_state=trainer.best.saved,
            ),
        )

    def _write(self, name: str, write: Callable[[Path], None]) -> None:
        """Write one file; if it fails, stop training and say why (the trainer
        then leaves the best parameters in the network)."""
        if self.error is not None:
            return
        try:
            write(self.dirpath / name)
        except OSError as exc:
            self.error = exc
            message = (
                f"Training stopped: cannot write checkpoint "
                f"{exc.filename or self.dirpath / name}: {exc.strerror or exc}; "
                f"the best parameters are kept in the network"
            )
            self.trainer.stop("checkpoint_failed", message, level=logging.WARNING)
            if not self.trainer.verbose:
                warnings.warn(message, RuntimeWarning, stacklevel=2)

    def __repr__(self) -> str:
        return f"ModelCheckpoint({str(self.dirpath)!r})"


def training_state(trainer: Trainer, epoch: int) -> dict[str, Any]:
    """The checkpoint's ``training`` entry after ``epoch``: everything, beyond
    the network and optimizer, that an uninterrupted run would still know."""
    callbacks = trainer.callbacks.state_dict()
    return {
        "epoch": epoch,
        "epochs": trainer.epochs,
        "rng_state": trainer.rng.bit_generator.state,
        "best_loss": trainer.best.score,
        # kept at the top level, where checkpoints before callbacks had it
        "bad_evals": callbacks.get("EarlyStopping", {}).get("wait", 0),
        "history": trainer.history.to_dict(),
        **trainer.run_options,
        "callbacks": callbacks,
    }


def saved_split_seed(path: str | os.PathLike[str], default: int | None) -> Any:
    """The seed of the validation split of the run saved at ``path``."""
    return read_header(path).get("training", {}).get("split_seed", default)


def resume_training(
    trainer: Trainer, path: str | os.PathLike[str]
) -> tuple[int, np.random.Generator, History, dict[str, Any]]:
    """Restore the network, optimizer and best parameters saved by
    :class:`ModelCheckpoint` in ``path``; return the epoch reached, the
    shuffling generator, the history so far and the callbacks' states.

    Raises:
        ModelFileError: unreadable, or not fitting the network or optimizer
            (nothing is changed then).
    """
    ckpt = load_checkpoint(
        path, net=trainer.net, optimizer=trainer.optim, require=TRAINING_KEYS
    )
    training = ckpt.training
    try:
        epoch = int(training["epoch"])
        trainer.best.score = float(training["best_loss"])
        history = History.from_dict(training["history"])
        rng = np.random.default_rng()
        rng.bit_generator.state = training["rng_state"]
        states = dict(training.get("callbacks", {}))
        states.setdefault("EarlyStopping", {"wait": int(training["bad_evals"])})
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{ckpt.path}: corrupt training state ({exc!r})") from None
    if ckpt.best_state is not None:
        trainer.best.load(ckpt.best_state)
    trainer.best.epoch = history.best_epoch
    history.stop_reason, history.stopped_epoch, history.stopped_batch = (
        "completed",
        None,
        None,
    )
    history.held_epoch = None
    _warn_if_changed(trainer, ckpt.path, training, ckpt.optimizer)
    left = epoch >= trainer.epochs
    trainer.say(
        f"Resuming from epoch {epoch} of {ckpt.path}"
        + (f"; nothing left to train for epochs={trainer.epochs}" if left else "")
    )
    return epoch, rng, history, states


def _warn_if_changed(
    trainer: Trainer,
    path: Path,
    training: dict[str, Any],
    optimizer: dict[str, Any] | None,
) -> None:
    options = trainer.run_options
    changed = [
        f"{k}={training.get(k)!r} -> {options[k]!r}"
        for k in (*RUN_OPTIONS, "n_train")
        if training.get(k) != options[k]
    ]
    saved_optim = (optimizer or {}).get("config")
    config = trainer.optim.get_config()
    if saved_optim != json.loads(json.dumps(config)):
        changed.append(f"optimizer {saved_optim} -> {config}")
    if changed:
        trainer.say(
            f"Resuming {path} with different settings ({', '.join(changed)}): the "
            f"result will differ from an uninterrupted run",
            level=logging.WARNING,
        )
