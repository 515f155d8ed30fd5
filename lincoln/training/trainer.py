"""The training loop: :class:`Trainer`.

``Trainer(net, optim).fit(...)`` runs epochs of shuffled mini-batches, evaluates
every ``eval_every`` epochs, and calls its callbacks (early stopping, the
book's learning-rate decay, the progress bar, checkpoints, and the user's) at
fixed points (see :mod:`lincoln.training.callbacks`). It returns the
:class:`~lincoln.training.History`, also kept as ``trainer.history``.

What the network holds at the end, one rule: with early stopping (an
:class:`EarlyStopping` with ``restore_best=True``, which ``fit`` adds by
default) the best evaluation's parameters, otherwise the last ones; a loss
that became NaN or Ctrl-C goes back to the best ones in any case.
``history.held_epoch`` says which epoch they come from.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
from tqdm.auto import tqdm

from ..base import Array
from ..errors import ConfigError
from ..threads import check_threads, limit
from .callbacks import Callback, CallbackList, EarlyStopping
from .checkpoint import resume_training, saved_split_seed
from .data import (
    FitData,
    batches,
    check_data,
    check_pairs,
    evaluate_in_batches,
    fit_data,
)
from .history import History
from .interface import bind, check_interfaces, restart
from .monitor import BestKeeper, Monitor
from .options import FitOptions

__all__ = ["Trainer"]

logger = logging.getLogger("lincoln.train")
# A library prints through logging only when the application configures it:
logger.addHandler(logging.NullHandler())  # verbose=False is silent
_QUIET: dict[str, Any] = {"over": "ignore", "invalid": "ignore"}  # fit reports inf/nan


class Trainer:
    """Trains a network with an optimizer.

    Creating a Trainer binds the optimizer to the network (``optim.bind(net)``,
    or ``optim.net = net`` for an optimizer written as in the book), so the
    book's own loop ``net.train_batch(X, y); optim.step()`` works afterwards.
    Any network and optimizer with the book's interface can be trained: a
    network with ``forward``, ``backward``, ``train_batch``, ``params()``,
    ``param_grads()``, ``layers`` and ``loss``, an optimizer with ``step()``
    and ``lr``.

    Args:
        net: the network to train.
        optim: the optimizer that updates it.
        checkpoint_dir: a folder where ``fit`` writes ``best.npz`` and
            ``last.ckpt.npz`` (a :class:`ModelCheckpoint`); None writes nothing.
        threads: most BLAS/OpenMP threads in ``fit`` and ``evaluate`` (None: all).

    Attributes:
        history: the :class:`History` of the last ``fit`` (kept when it raised).
        stop_training: set it to True (from a callback) to stop after the
            current hook.
        epoch, epochs, start_epoch, num_batches: where ``fit`` is.
        best: the :class:`~lincoln.training.monitor.BestKeeper` of the run.

    Example:
        >>> trainer = Trainer(net, SGD(lr=0.01))             # doctest: +SKIP
        >>> history = trainer.fit(X_train, y_train, X_test, y_test,
        ...                       epochs=50, eval_every=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        net: Any,
        optim: Any,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        check_interfaces(net, optim)
        if checkpoint_dir is not None and not isinstance(
            checkpoint_dir, (str, os.PathLike)
        ):
            raise ConfigError(
                f"Trainer: checkpoint_dir must be a path or None, received "
                f"{checkpoint_dir!r}"
            )
        self.net, self.optim = net, optim
        self.threads = check_threads(threads, "Trainer")
        bind(optim, net)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.history: History = None  # type: ignore[assignment]  # set by fit
        self.best_loss = math.inf  # the best score, carried to a fit(restart=False)
        self._monitor_key = ("val_loss", False)  # what best_loss measures
        self.stop_training = False
        self.verbose = True
        self.epoch = self.epochs = self.start_epoch = self.num_batches = 0
        self.batch = -1
        self.callbacks = CallbackList([])
        self.rng = np.random.default_rng()
        self.run_options: dict[str, Any] = {}

    def __repr__(self) -> str:
        ckpt = (
            f", checkpoint_dir={str(self.checkpoint_dir)!r}"
            if self.checkpoint_dir is not None
            else ""
        )
        return f"Trainer(net={type(self.net).__name__}, optim={self.optim!r}{ckpt})"

    @staticmethod
    def generate_batches(
        X: Array, y: Array, size: int = 32
    ) -> Iterator[tuple[Array, Array]]:
        """Consecutive ``(X, y)`` slices of ``size`` rows; the last may be shorter."""
        return batches(X, y, size)

    # -- evaluation ------------------------------------------------------------------

    def evaluate(self, X: Array, y: Array, batch_size: int = 1024) -> dict[str, float]:
        """Loss (and accuracy for classifiers) on ``(X, y)`` in inference mode,
        computed in batches so memory does not grow with the data set."""
        X, y = check_data(self.net, X, y, "eval")
        with limit(self.threads):
            return evaluate_in_batches(self.net, X, y, batch_size)

    # -- fit -------------------------------------------------------------------------

    def fit(
        self,
        X_train: Array,
        y_train: Array,
        X_test: Array | None = None,
        y_test: Array | None = None,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        seed: int | None = 1,
        single_output: bool = False,
        restart: bool = True,
        early_stopping: bool = True,
        conv_testing: bool = False,
        *,
        patience: int = 1,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        verbose: bool = True,
        progress: bool | None = None,
        eval_batch_size: int = 1024,
        resume: str | os.PathLike[str] | None = None,
        callbacks: list[Callback] | None = None,
        validation_split: float | None = None,
        validation_data: tuple[Array, Array] | None = None,
        augment: Callable[[Array], Array] | None = None,
    ) -> History:
        """Train for ``epochs`` epochs of shuffled mini-batches.

        The positional order is the book's.

        Args:
            X_train, y_train: training inputs and targets (labels or one-hot).
            X_test, y_test: validation data (the book's names), evaluated every
                ``eval_every`` epochs and after the last one; None to skip
                evaluation. Keep a real test set out of ``fit`` and give
                ``validation_split`` instead, then ``trainer.evaluate`` it once.
            epochs: number of passes over the training data.
            eval_every: evaluate every this many epochs.
            batch_size: samples per batch; the last, partial batch is kept.
            seed: seeds the shuffling (a fresh permutation each epoch) and the
                ``validation_split``.
            single_output: the book's argument; accepted and ignored.
            restart: re-initialize the parameters (from the network's seed) and
                the optimizer state first; False continues from where they are.
            early_stopping: add ``EarlyStopping(patience, min_delta, monitor)``:
                stop after ``patience`` evaluations in a row without
                improvement, and end with the best evaluation's parameters.
            conv_testing: the book's option for slow convolutional networks:
                also report the training loss every 10 batches.
            patience: evaluations without improvement tolerated; 1 (default)
                stops at the first one, as the book does.
            min_delta: an improvement must better the monitored value by more
                than this.
            monitor: what "best" means: ``"val_loss"`` (the book's rule,
                default) or ``"val_accuracy"`` (classifiers only).
            verbose: write a line per evaluation (through tqdm.write, and the
                ``lincoln.train`` logger at INFO).
            progress: show a progress bar; None shows it only on a terminal.
            eval_batch_size: batch size of evaluation.
            resume: a checkpoint (``last.ckpt.npz``) to continue from:
                parameters, optimizer state, shuffling and dropout generators,
                best parameters, history and callback states are restored and
                training goes on from the epoch after the saved one up to
                ``epochs``; with the same data, options and callbacks the result
                is bit-identical to an uninterrupted run. ``seed`` and
                ``restart`` are then ignored.
            callbacks: more :class:`Callback` objects, called after the default
                ones; one of the type of a default (``EarlyStopping``,
                ``ProgressBar``, ``TerminateOnNaN``, ``BookDecay``,
                ``ModelCheckpoint``) replaces it (a user's ``EarlyStopping``
                then defines "best" instead of ``patience``, ``min_delta`` and
                ``monitor``).
            validation_split: hold out this share of the training data,
                seeded by ``seed`` and stratified for classifiers, and validate
                on it (instead of ``X_test, y_test``).
            validation_data: ``(X_val, y_val)``, the same as ``X_test, y_test``.
            augment: an :class:`~lincoln.augment.Augment` for training batches only.

        Returns:
            The :class:`History`, also kept as ``trainer.history``.

        Raises:
            KeyboardInterrupt: Ctrl-C; the parameters are restored first as
                after a NaN loss, and ``trainer.history`` says where it stopped.
            ConfigError: invalid options (see :class:`FitOptions`).
            DataError, ShapeError: unusable data (see :func:`check_data`).
            ModelFileError: ``resume`` is unreadable or does not fit the network
                or optimizer (nothing is changed then).
        """
        opts = FitOptions(
            epochs=epochs,
            eval_every=eval_every,
            batch_size=batch_size,
            seed=seed,
            restart=restart,
            early_stopping=early_stopping,
            conv_testing=conv_testing,
            patience=patience,
            min_delta=min_delta,
            monitor=monitor,
            verbose=verbose,
            progress=progress,
            eval_batch_size=eval_batch_size,
            validation_split=validation_split,
            augment=augment,
        )
        chosen, best_by = opts.callbacks(self.net, callbacks, self.checkpoint_dir)
        val = validation_data if validation_data is not None else (X_test, y_test)
        data = self._prepare(opts, X_train, y_train, val, resume)
        self._begin(opts, chosen, best_by, data, resume)
        try:
            with np.errstate(**_QUIET), limit(self.threads):
                self._run_epochs(data, opts)
        except KeyboardInterrupt:
            self._interrupted()
            raise
        finally:
            self._finish()
        return self.history

    def _prepare(
        self,
        opts: FitOptions,
        X_train: Any,
        y_train: Any,
        val: tuple[Any, Any],
        resume: str | os.PathLike[str] | None,
    ) -> FitData:
        """Check the data (restarting the network first if asked), and split
        off the validation set, with the seed of the run resumed."""
        check_pairs(val, opts.validation_split)
        if opts.restart and resume is None:
            restart(self.net, self.optim)
            self.best_loss = math.inf
        seed = opts.seed if resume is None else saved_split_seed(resume, opts.seed)
        return fit_data(self.net, (X_train, y_train), val, opts.validation_split, seed)

    def _begin(
        self,
        opts: FitOptions,
        chosen: list[Callback],
        best_by: Monitor,
        data: FitData,
        resume: str | os.PathLike[str] | None,
    ) -> None:
        """Set up the run: history, best keeper, generator, resumed state, and
        the callbacks' ``on_train_begin``."""
        self.history, self.verbose = History(), opts.verbose
        self.epochs, self.stop_training = opts.epochs, False
        self.start_epoch = self.epoch = 0
        self.batch = -1
        self.num_batches = -(-data.X.shape[0] // opts.batch_size)
        self.callbacks = CallbackList(chosen)
        self.run_options = opts.run_options(data.X.shape[0])
        # a best carried over from an earlier fit counts only when this fit
        # evaluates too, and by the same measure
        carried = data.X_val is not None and not opts.restart and resume is None
        carried = carried and self._monitor_key == best_by.key()
        self.best = BestKeeper(
            self.net, best_by, self.best_loss if carried else math.inf
        )
        self._monitor_key = best_by.key()
        self.rng = np.random.default_rng(opts.seed)
        states = None
        if resume is not None:
            self.start_epoch, self.rng, self.history, states = resume_training(
                self, resume
            )
            self.epoch = self.start_epoch
        self.callbacks.on_train_begin(self)
        if states is not None:
            self.callbacks.load_state_dict(states)

    def _run_epochs(self, data: FitData, opts: FitOptions) -> None:
        for epoch in range(self.start_epoch + 1, self.epochs + 1):
            self.epoch = epoch
            self.callbacks.on_epoch_begin(epoch)
            start = time.perf_counter()
            loss = self._train_epoch(data, opts)
            if self.stop_training:  # in the middle of the epoch
                return
            history = self.history
            history.train_loss.append(loss)
            history.lr.append(self.optim.lr)
            history.epoch_time.append(time.perf_counter() - start)
            logs = {"loss": loss, "lr": self.optim.lr}
            if data.X_val is not None and (
                epoch % opts.eval_every == 0 or epoch == self.epochs
            ):
                logs.update(self._evaluate_epoch(epoch, data, opts))
            self.callbacks.on_epoch_end(epoch, logs)
            if self.stop_training:
                self._note_stop(None)
                return

    def _train_epoch(self, data: FitData, opts: FitOptions) -> float:
        """One pass over a fresh permutation; the mean loss (NaN if stopped)."""
        n = data.X.shape[0]
        perm = self.rng.permutation(n)
        loss_sum = 0.0
        for batch, (xb, yb) in enumerate(
            batches(data.X[perm], data.y[perm], opts.batch_size, opts.augment)
        ):
            self.batch = batch
            loss = self.net.train_batch(xb, yb)
            self.callbacks.on_batch_end(batch, {"loss": loss, "size": xb.shape[0]})
            if self.stop_training:
                self._note_stop(batch)
                return math.nan
            self.optim.step()
            if opts.conv_testing and batch % 10 == 0:
                self.say(f"batch {batch} loss {loss:.4f}")
            loss_sum += loss * xb.shape[0]
        return loss_sum / n

    def _evaluate_epoch(
        self, epoch: int, data: FitData, opts: FitOptions
    ) -> dict[str, float]:
        """Evaluate on the validation data; record it, judge it, report it."""
        # fit evaluates only when it has validation data
        X_val, y_val = cast(Array, data.X_val), cast(Array, data.y_val)
        result = evaluate_in_batches(self.net, X_val, y_val, opts.eval_batch_size)
        metrics = {f"val_{name}": value for name, value in result.items()}
        history = self.history
        history.record_evaluation(epoch, metrics)
        val_loss = metrics["val_loss"]
        acc = f", accuracy {result['accuracy']:.4f}" if "accuracy" in result else ""
        if self.best.update(epoch, metrics):
            history.best_epoch, history.best_val_loss = epoch, val_loss
            self.say(f"Validation loss after {epoch} epochs is {val_loss:.3f}{acc}")
        else:
            self.say(
                f"Validation loss after {epoch} epochs is {val_loss:.3f}{acc}, no "
                f"better than epoch {history.best_epoch}'s "
                f"{self.best.monitor.monitor} {abs(self.best.score):.4g}"
            )
        self.callbacks.on_evaluate(epoch, metrics)
        return metrics

    # -- stopping and the end ---------------------------------------------------------

    def stop(
        self,
        reason: str = "callback",
        message: str | None = None,
        batch: int | None = None,
        level: int = logging.INFO,
    ) -> None:
        """Stop training after the current hook, saying why.

        Args:
            reason: ``history.stop_reason`` (see ``STOP_REASONS``).
            message: written as ``fit``'s other messages are (None: nothing).
            batch: the batch it stopped in (from ``on_batch_end``), else None.
            level: the message's logging level.
        """
        self.stop_training = True
        if self.history.stop_reason == "completed":
            self.history.stop_reason = reason
            self.history.stopped_epoch, self.history.stopped_batch = self.epoch, batch
        if message is not None:
            self.say(message, level)

    def _note_stop(self, batch: int | None) -> None:
        # the reason is "callback" if the callback only set stop_training
        self.stop("callback", batch=batch)
        if self.history.stopped_batch is None:
            self.history.stopped_batch = batch

    def _interrupted(self) -> None:
        history = self.history
        batch = max(self.batch, 0)
        history.stop_reason = "interrupted"
        history.stopped_epoch, history.stopped_batch = self.epoch, batch
        self.say(f"Interrupted in epoch {self.epoch}, batch {batch}", logging.WARNING)

    def _keeps_best(self) -> bool:
        return any(
            isinstance(cb, EarlyStopping) and cb.restore_best for cb in self.callbacks
        )

    def _finish(self) -> None:
        """Leave the network with the parameters the rule says, then end the
        callbacks."""
        history = self.history
        stopped_badly = history.stop_reason in (
            "non_finite_loss",
            "interrupted",
            "checkpoint_failed",
        )
        if (self.best.has_best and (self._keeps_best() or stopped_badly)) or (
            # nothing evaluated yet: the initial parameters are the finite ones
            history.stop_reason == "non_finite_loss"
        ):
            self.best.restore()
            history.held_epoch = 0 if self.best.epoch is None else self.best.epoch
        else:  # the last parameters: an epoch's, or from the middle of one
            done = len(history.train_loss)
            history.held_epoch = done if done == self.epoch else None
        self.best_loss = self.best.score
        self.callbacks.on_train_end(self)

    def say(self, message: str, level: int = logging.INFO) -> None:
        """Log ``message`` to ``lincoln.train``; also write it when verbose."""
        logger.log(level, message)
        if self.verbose:
            tqdm.write(message)
