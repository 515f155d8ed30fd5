"""The training loop: batches, evaluation, early stopping, and its record.

:class:`Trainer` binds an optimizer to a network and runs ``fit``; ``fit``
returns a :class:`History` of what happened. Training never loses the best
model: with early stopping on (the default), however training ends (finished,
stopped early, a loss that became NaN, or Ctrl-C), the parameters of the best
evaluation are restored in place; with it off, a finished run keeps its last
parameters, and a NaN loss or Ctrl-C still goes back to the best ones.

With ``Trainer(net, optim, checkpoint_dir=...)`` training also survives the
process: ``best.npz`` (a model file) is written whenever validation improves
and ``last.ckpt.npz`` (the full training state) after every epoch, both
atomically; ``fit(..., resume="last.ckpt.npz")`` continues from the next epoch
to exactly the result an uninterrupted run would have reached.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import numbers
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .base import Array, as_array, check_finite
from .errors import (
    ConfigError,
    DataError,
    ModelFileError,
    ShapeError,
    check_positive_int,
)
from .losses import SoftmaxCrossEntropy, _check_labels
from .network import NeuralNetwork
from .optimizers import Optimizer
from .serialization import load_checkpoint, save, save_checkpoint

__all__ = [
    "Trainer",
    "History",
    "check_data",
    "sample_shape_mismatch",
    "BEST_MODEL_FILE",
    "LAST_CHECKPOINT_FILE",
]

#: Names of the files ``fit`` writes in ``Trainer(checkpoint_dir=...)``.
BEST_MODEL_FILE = "best.npz"
LAST_CHECKPOINT_FILE = "last.ckpt.npz"

# fit options that change the course of training; a resumed run warns if they differ
_RUN_OPTIONS = (
    "batch_size",
    "eval_every",
    "early_stopping",
    "patience",
    "min_delta",
    "monitor",
)
# what fit writes in a checkpoint's training entry and needs to resume
_TRAINING_KEYS = ("epoch", "epochs", "rng_state", "best_loss", "bad_evals", "history")

logger = logging.getLogger("lincoln.train")
# A library does not print through logging unless the application configures it:
# verbose=False must stay silent (verbose=True writes through tqdm).
logger.addHandler(logging.NullHandler())

MONITORS = ("val_loss", "val_accuracy")

STOP_REASONS = ("completed", "early_stopping", "non_finite_loss", "interrupted")


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
        best_epoch: the epoch whose parameters the network holds after ``fit``
            when early stopping is on (None if never evaluated).
        best_val_loss: its validation loss.
        stop_reason: ``"completed"``, ``"early_stopping"``, ``"non_finite_loss"``
            or ``"interrupted"``.
        stopped_epoch, stopped_batch: where training stopped early (1-based
            epoch, 0-based batch), None when it completed.
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

    @property
    def best_val_accuracy(self) -> float | None:
        """Validation accuracy of the best evaluation (the model ``fit`` leaves
        in the network when early stopping is on); None if not recorded."""
        if self.best_epoch is None or not self.val_accuracy:
            return None
        return self.val_accuracy[self.epochs.index(self.best_epoch)]

    @property
    def interrupted(self) -> bool:
        """True when training was stopped by Ctrl-C (KeyboardInterrupt)."""
        return self.stop_reason == "interrupted"

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
            f"{best}, stop_reason={self.stop_reason!r})"
        )


def sample_shape_mismatch(net: NeuralNetwork, X: Array) -> tuple[int, ...] | None:
    """The per-sample shape ``net`` was built for, if ``X``'s samples (``X.shape[1:]``)
    have another; None when they fit or the network is not built yet."""
    built_for = net.input_shape
    if built_for is not None and tuple(X.shape[1:]) != tuple(built_for):
        return built_for
    return None


def check_data(net: NeuralNetwork, X: Any, y: Any, name: str) -> tuple[Array, Array]:
    """Validate and convert one (inputs, targets) pair for ``net``.

    Inputs become the network's dtype (integers and booleans are converted);
    labels become int64 ``(N,)`` (a ``(N, 1)`` label column is flattened);
    other targets become the network's dtype, ``(N,)`` becoming ``(N, 1)`` for a
    one-output network.

    Raises:
        DataError: non-numeric or empty arrays, mismatched sample counts,
            NaN or Inf values, labels that do not fit the network's outputs.
        ShapeError: targets whose shape does not fit the network's output.
    """
    X = as_array(X, f"fit: X_{name}")
    y = as_array(y, f"fit: y_{name}")
    for arr, what in ((X, f"X_{name}"), (y, f"y_{name}")):
        if arr.dtype.kind not in "biuf":
            raise DataError(
                f"fit: {what} must be a numeric array, received dtype {arr.dtype}"
            )
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise DataError(f"fit: {what} is empty (shape {arr.shape})")
    if X.ndim < 2:
        raise ShapeError(
            f"fit: X_{name} must have shape (samples, features...), received shape "
            f"{X.shape}"
        )
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"fit: X_{name} has {X.shape[0]} samples but y_{name} has {y.shape[0]}"
        )
    X = np.ascontiguousarray(X, dtype=net.dtype)
    check_finite(X, f"X_{name}", "fit")
    built_for = sample_shape_mismatch(net, X)
    if built_for is not None:
        raise ShapeError(
            f"fit: X_{name} has samples of shape {X.shape[1:]}, but the network "
            f"was built for samples of shape {built_for}"
            + (" (the shape of X_train)" if name != "train" else "")
        )
    out_shape = net.forward(X[:1], inference=True).shape[1:]
    if isinstance(net.loss, SoftmaxCrossEntropy) and (
        y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out_shape != (1,))
    ):
        y = _check_labels(y.reshape(-1), out_shape[0], f"fit: y_{name}")
        return X, np.ascontiguousarray(y, dtype=np.int64)
    y = np.ascontiguousarray(y, dtype=net.dtype)
    check_finite(y, f"y_{name}", "fit")
    if y.ndim == 1 and out_shape == (1,):
        y = y.reshape(-1, 1)
    if y.shape[1:] != out_shape:
        raise ShapeError(
            f"fit: y_{name} must have shape "
            f"(samples, {', '.join(map(str, out_shape))}) to "
            f"match the network's output, received shape {y.shape}"
        )
    if isinstance(net.loss, SoftmaxCrossEntropy):
        _check_distributions(y, f"y_{name}")
    return X, y


def _check_distributions(y: Array, what: str) -> None:
    """One-hot (or soft) targets: each row non-negative and summing to 1."""
    if y.min() < 0:
        raise DataError(
            f"fit: {what} holds one-hot rows, which cannot be negative; received a "
            f"minimum of {float(y.min())}"
        )
    sums = y.sum(axis=1, dtype=np.float64)
    off = np.flatnonzero(np.abs(sums - 1.0) > 1e-3)
    if off.size:
        raise DataError(
            f"fit: {what} holds one-hot rows, which must each sum to 1; row "
            f"{int(off[0])} sums to {float(sums[off[0]]):.4g} ({off.size} rows do not)"
        )


class Trainer:
    """Trains a network with an optimizer.

    Creating a Trainer binds the optimizer to the network, so the book's own
    loop ``net.train_batch(X, y); optim.step()`` works afterwards.

    Args:
        net: the network to train.
        optim: the optimizer that updates it.
        checkpoint_dir: a folder (created if needed) where ``fit`` writes
            ``best.npz``, the best model so far (load it with ``lincoln.load``),
            whenever the validation loss improves, and ``last.ckpt.npz``, the
            whole training state, at the end of every epoch; resume from it with
            ``fit(..., resume=...)``. None (default) writes nothing.

    Example:
        >>> trainer = Trainer(net, SGD(lr=0.01))             # doctest: +SKIP
        >>> history = trainer.fit(X_train, y_train, X_test, y_test,
        ...                       epochs=50, eval_every=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        net: NeuralNetwork,
        optim: Optimizer,
        checkpoint_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(net, NeuralNetwork):
            raise ConfigError(f"Trainer: net must be a NeuralNetwork, received {net!r}")
        if not isinstance(optim, Optimizer):
            raise ConfigError(
                f"Trainer: optim must be an Optimizer, received {optim!r}"
            )
        if checkpoint_dir is not None and not isinstance(
            checkpoint_dir, (str, os.PathLike)
        ):
            raise ConfigError(
                f"Trainer: checkpoint_dir must be a path or None, received "
                f"{checkpoint_dir!r}"
            )
        self.net = net
        self.optim = optim
        optim.bind(net)
        self.best_loss = math.inf
        self._monitor = "val_loss"  # what best_loss measures
        self.history: History | None = None
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)

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
        if X.shape[0] != y.shape[0]:
            raise DataError(
                f"generate_batches: X has {X.shape[0]} rows, y has {y.shape[0]}"
            )
        for start in range(0, X.shape[0], size):
            yield X[start : start + size], y[start : start + size]

    def evaluate(self, X: Array, y: Array, batch_size: int = 1024) -> dict[str, float]:
        """Loss (and accuracy for classifiers) on ``(X, y)`` in inference mode,
        computed in batches so memory does not grow with the data set."""
        X, y = check_data(self.net, X, y, "eval")
        return self._evaluate(X, y, batch_size)

    def _evaluate(self, X: Array, y: Array, batch_size: int) -> dict[str, float]:
        n = X.shape[0]
        total_loss = 0.0
        correct = 0
        classify = isinstance(self.net.loss, SoftmaxCrossEntropy)
        for start in range(0, n, batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            pred = self.net.forward(xb, inference=True)
            total_loss += self.net.loss.forward(pred, yb) * xb.shape[0]
            if classify:
                labels = yb if yb.ndim == 1 else yb.argmax(axis=1)
                correct += int(np.count_nonzero(pred.argmax(axis=1) == labels))
        result = {"loss": total_loss / n}
        if classify:
            result["accuracy"] = correct / n
        return result

    def fit(
        self,
        X_train: Array,
        y_train: Array,
        X_test: Array | None = None,
        y_test: Array | None = None,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        seed: int = 1,
        restart: bool = True,
        early_stopping: bool = True,
        patience: int = 1,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        verbose: bool = True,
        progress: bool | None = None,
        eval_batch_size: int = 1024,
        resume: str | os.PathLike[str] | None = None,
        conv_testing: bool = False,
    ) -> History:
        """Train for ``epochs`` epochs of shuffled mini-batches.

        Args:
            X_train, y_train: training inputs and targets (labels or one-hot).
            X_test, y_test: validation data, evaluated every ``eval_every``
                epochs and after the last one; None to skip evaluation.
            epochs: number of passes over the training data.
            eval_every: evaluate every this many epochs.
            batch_size: samples per batch; the last, partial batch is kept.
            seed: seeds the shuffling (a fresh permutation each epoch).
            restart: re-initialize the parameters (from the network's seed) and
                the optimizer state first; False continues from where they are.
            early_stopping: stop after ``patience`` evaluations in a row without
                improvement, and end with the best evaluation's parameters.
            patience: evaluations without improvement tolerated; 1 (default)
                stops at the first one, as the book does.
            min_delta: an improvement must better the monitored value by more than this.
            monitor: what "best" means for early stopping and the restored
                parameters: ``"val_loss"`` (the book's rule, default) or
                ``"val_accuracy"`` (classifiers only).
            verbose: write a line per evaluation (through tqdm.write, and the
                ``lincoln.train`` logger at INFO).
            progress: show a progress bar; None shows it only on a terminal.
            eval_batch_size: batch size of evaluation.
            resume: a checkpoint (``last.ckpt.npz`` of a ``checkpoint_dir``) to
                continue from: parameters, optimizer state, learning-rate
                schedule, shuffling and dropout generators, best parameters,
                early-stopping count and history are restored and training goes
                on from the epoch after the saved one up to ``epochs``. With the
                same data and options the result is bit-identical to an
                uninterrupted run. ``seed`` and ``restart`` are then ignored.
            conv_testing: the book's option for slow convolutional networks:
                also report the training loss every 10 batches.

        Returns:
            The :class:`History`, also kept as ``trainer.history``.

        Raises:
            ConfigError: non-positive ``epochs``, ``eval_every``, ``batch_size``,
                ``patience`` or a negative ``min_delta``.
            DataError, ShapeError: unusable data (see :func:`check_data`).
            ModelFileError: ``resume`` is unreadable or does not fit the network
                or optimizer (nothing is changed then).
        """
        epochs = check_positive_int("fit", "epochs", epochs)
        eval_every = check_positive_int("fit", "eval_every", eval_every)
        batch_size = check_positive_int("fit", "batch_size", batch_size)
        patience = check_positive_int("fit", "patience", patience)
        eval_batch_size = check_positive_int("fit", "eval_batch_size", eval_batch_size)
        if not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ConfigError(
                f"fit: min_delta must be >= 0, received min_delta={min_delta!r}"
            )
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise ConfigError(
                "fit: seed must be a non-negative integer or None, received "
                f"seed={seed!r}"
            )
        if monitor not in MONITORS:
            raise ConfigError(
                f"fit: monitor must be one of {', '.join(MONITORS)}, received "
                f"monitor={monitor!r}"
            )
        if monitor == "val_accuracy" and not isinstance(
            self.net.loss, SoftmaxCrossEntropy
        ):
            raise ConfigError(
                "fit: monitor='val_accuracy' needs a classifier (SoftmaxCrossEntropy "
                f"loss); this network's loss is {self.net.loss!r}"
            )
        if (X_test is None) != (y_test is None):
            raise DataError("fit: give both X_test and y_test, or neither")

        if restart and resume is None:
            for layer in self.net.layers:
                layer.first = True
            self.optim.reset_state()
            self.best_loss = math.inf
        X_train, y_train = check_data(self.net, X_train, y_train, "train")
        validate = X_test is not None
        if validate:
            X_test, y_test = check_data(self.net, X_test, y_test, "test")

        history = History()
        self.history = history
        self.optim.setup_decay(epochs)
        # parameters and buffers (batch-norm statistics): the arrays themselves,
        # and a copy of them at the best evaluation
        state = self.net.state_dict()
        best_state = {name: a.copy() for name, a in state.items()}
        # a best carried over from an earlier fit counts only when this fit
        # evaluates too, and by the same measure
        carried = (
            validate and not restart and resume is None and self._monitor == monitor
        )
        best_loss = self.best_loss if carried else math.inf
        self._monitor = monitor
        bad_evals = 0
        rng = np.random.default_rng(seed)
        n = X_train.shape[0]
        options = {
            "batch_size": batch_size,
            "eval_every": eval_every,
            "early_stopping": early_stopping,
            "patience": patience,
            "min_delta": float(min_delta),
            "monitor": monitor,
            "n_train": n,
        }
        start_epoch = 0
        if resume is not None:
            start_epoch, rng, best_loss, bad_evals, history = self._resume(
                resume, epochs, best_state, options, verbose
            )
            self.history = history
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        num_batches = -(-n // batch_size)
        bar = tqdm(
            total=max(epochs - start_epoch, 0) * num_batches,
            unit="batch",
            leave=False,
            disable=(None if progress is None else not progress),
            desc="training",
        )
        epoch = start_epoch
        batch = -1
        # every target was checked above; the loss need not check each batch
        checked_targets = self.net.loss.check_targets
        self.net.loss.check_targets = False
        show_running = not bar.disable
        # a diverging network overflows on its way to a NaN loss; that is caught
        # in the loop, with a message of our own instead of NumPy's warnings
        numpy_errors = np.seterr(over="ignore", invalid="ignore")
        try:
            for epoch in range(start_epoch + 1, epochs + 1):
                start_time = time.perf_counter()
                perm = rng.permutation(n)
                X_epoch, y_epoch = X_train[perm], y_train[perm]
                loss_sum = 0.0
                for batch, start in enumerate(range(0, n, batch_size)):
                    xb = X_epoch[start : start + batch_size]
                    yb = y_epoch[start : start + batch_size]
                    loss = self.net.train_batch(xb, yb)
                    if not math.isfinite(loss):
                        history.stop_reason = "non_finite_loss"
                        history.stopped_epoch, history.stopped_batch = epoch, batch
                        restored = (
                            f"the parameters of epoch {history.best_epoch}"
                            if history.best_epoch
                            else "the parameters training started from"
                        )
                        self._say(
                            f"Training stopped: the loss became {loss} in epoch "
                            f"{epoch}, batch {batch} (try a smaller learning rate); "
                            f"{restored} were restored",
                            verbose,
                            level=logging.WARNING,
                        )
                        break
                    self.optim.step()
                    if conv_testing and batch % 10 == 0:
                        self._say(f"batch {batch} loss {loss:.4f}", verbose)
                    loss_sum += loss * xb.shape[0]
                    bar.update(1)
                    if show_running and batch % 20 == 0:
                        seen = start + xb.shape[0]
                        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
                if history.stop_reason != "completed":
                    break
                history.train_loss.append(loss_sum / n)
                history.lr.append(self.optim.lr)
                history.epoch_time.append(time.perf_counter() - start_time)
                bar.set_postfix(loss=f"{loss_sum / n:.4f}", refresh=False)

                if validate and (epoch % eval_every == 0 or epoch == epochs):
                    metrics = self._evaluate(X_test, y_test, eval_batch_size)
                    val_loss = metrics["loss"]
                    history.epochs.append(epoch)
                    history.val_loss.append(val_loss)
                    if "accuracy" in metrics:
                        history.val_accuracy.append(metrics["accuracy"])
                    acc = (
                        f", accuracy {metrics['accuracy']:.4f}"
                        if "accuracy" in metrics
                        else ""
                    )
                    # lower is better: the loss, or the accuracy negated
                    score = val_loss if monitor == "val_loss" else -metrics["accuracy"]
                    if score < best_loss - min_delta:
                        best_loss = score
                        bad_evals = 0
                        history.best_epoch, history.best_val_loss = epoch, val_loss
                        for name, src in state.items():
                            np.copyto(best_state[name], src)
                        if self.checkpoint_dir is not None:
                            save(self.net, self.checkpoint_dir / BEST_MODEL_FILE)
                        self._say(
                            f"Validation loss after {epoch} epochs is "
                            f"{val_loss:.3f}{acc}",
                            verbose,
                        )
                    else:
                        bad_evals += 1
                        self._say(
                            f"Validation loss after {epoch} epochs is {val_loss:.3f}"
                            f"{acc}, no better than epoch {history.best_epoch}'s "
                            f"{monitor} {abs(best_loss):.4g}",
                            verbose,
                        )
                        if early_stopping and bad_evals >= patience:
                            history.stop_reason = "early_stopping"
                            history.stopped_epoch = epoch
                            self._say(
                                f"Early stopping after epoch {epoch}: using the "
                                f"model from epoch {history.best_epoch}",
                                verbose,
                            )
                stop = history.stop_reason != "completed"
                if not stop and epoch < epochs:
                    self.optim.decay_lr()
                if self.checkpoint_dir is not None:
                    save_checkpoint(
                        self.checkpoint_dir / LAST_CHECKPOINT_FILE,
                        self.net,
                        self.optim,
                        training={
                            "epoch": epoch,
                            "epochs": epochs,
                            "rng_state": rng.bit_generator.state,
                            "best_loss": best_loss,
                            "bad_evals": bad_evals,
                            "history": history.to_dict(),
                            **options,
                        },
                        best_state=best_state,
                    )
                if stop:
                    break
        except KeyboardInterrupt:
            history.stop_reason = "interrupted"
            history.stopped_epoch, history.stopped_batch = epoch, max(batch, 0)
            self._say(
                f"Interrupted in epoch {epoch}, batch {max(batch, 0)}",
                verbose,
                level=logging.WARNING,
            )
        finally:
            np.seterr(**numpy_errors)
            self.net.loss.check_targets = checked_targets
            bar.close()
            stopped_badly = history.stop_reason in ("non_finite_loss", "interrupted")
            # a best to go back to: an evaluation of this run, or the parameters
            # the run started from when it carries over a best loss (restart=False)
            has_best = history.best_epoch is not None or math.isfinite(best_loss)
            if (has_best and (early_stopping or stopped_badly)) or (
                # nothing evaluated yet: the initial parameters are the finite ones
                history.stop_reason == "non_finite_loss"
            ):
                for name, dst in state.items():
                    np.copyto(dst, best_state[name])
            self.best_loss = best_loss
        return history

    def _resume(
        self,
        path: str | os.PathLike[str],
        epochs: int,
        best_state: dict[str, Array],
        options: dict[str, Any],
        verbose: bool,
    ) -> tuple[int, np.random.Generator, float, int, History]:
        """Restore the state saved by ``fit`` in ``path``; return where to go on from:
        the epoch reached, the shuffling generator, best loss, bad-evaluation
        count and history so far."""
        ckpt = load_checkpoint(
            path, net=self.net, optimizer=self.optim, require=_TRAINING_KEYS
        )
        training = ckpt.training
        try:
            epoch = int(training["epoch"])
            best_loss = float(training["best_loss"])
            bad_evals = int(training["bad_evals"])
            history = History.from_dict(training["history"])
            rng = np.random.default_rng()
            rng.bit_generator.state = training["rng_state"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{ckpt.path}: corrupt training state ({exc!r})"
            ) from None
        if ckpt.best_state is not None:
            for name, dst in best_state.items():
                np.copyto(dst, ckpt.best_state[name])
        # The learning rate of epoch `epoch + 1` of an `epochs`-epoch run, reached by
        # the very operations an uninterrupted run performs (one decay per epoch).
        self.optim.setup_decay(epochs)
        for _ in range(min(epoch, epochs - 1)):
            self.optim.decay_lr()
        history.stop_reason, history.stopped_epoch, history.stopped_batch = (
            "completed",
            None,
            None,
        )
        changed = [
            f"{k}={training.get(k)!r} -> {options[k]!r}"
            for k in (*_RUN_OPTIONS, "n_train")
            if training.get(k) != options[k]
        ]
        saved_optim = (ckpt.optimizer or {}).get("config")
        if saved_optim != json.loads(json.dumps(self.optim.get_config())):
            changed.append(f"optimizer {saved_optim} -> {self.optim.get_config()}")
        if changed:
            self._say(
                f"Resuming {ckpt.path} with different settings "
                f"({', '.join(changed)}): the result will differ from an "
                f"uninterrupted run",
                verbose,
                level=logging.WARNING,
            )
        self._say(
            f"Resuming from epoch {epoch} of {ckpt.path}"
            + (
                f"; nothing left to train for epochs={epochs}"
                if epoch >= epochs
                else ""
            ),
            verbose,
        )
        return epoch, rng, best_loss, bad_evals, history

    @staticmethod
    def _say(message: str, verbose: bool, level: int = logging.INFO) -> None:
        logger.log(level, message)
        if verbose:
            tqdm.write(message)
