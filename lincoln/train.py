"""The training loop: batches, evaluation, early stopping, and its record.

:class:`Trainer` binds an optimizer to a network and runs ``fit``; ``fit``
returns a :class:`History` of what happened. Training never loses the best
model: however it ends (finished, stopped early, a loss that became NaN, or
Ctrl-C), the parameters of the best evaluation are restored in place.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import numbers
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .base import Array
from .errors import ConfigError, DataError, ShapeError
from .losses import SoftmaxCrossEntropy, _check_labels
from .network import NeuralNetwork
from .optimizers import Optimizer

__all__ = ["Trainer", "History", "check_data"]

logger = logging.getLogger("lincoln.train")

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
        evals = dict(zip(self.epochs, self.val_loss))
        accs = dict(zip(self.epochs, self.val_accuracy))
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["epoch", "train_loss", "lr", "val_loss", "val_accuracy"])
            for i, loss in enumerate(self.train_loss, start=1):
                writer.writerow([i, loss, self.lr[i - 1] if i <= len(self.lr) else "",
                                 evals.get(i, ""), accs.get(i, "")])

    def __repr__(self) -> str:
        best = (f", best_epoch={self.best_epoch}, best_val_loss={self.best_val_loss:.4g}"
                if self.best_val_loss is not None else "")
        return (f"History(epochs_run={len(self.train_loss)}, evaluations={len(self.epochs)}"
                f"{best}, stop_reason={self.stop_reason!r})")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(f"fit: {name} must be a positive integer, received {name}={value!r}")
    return int(value)


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
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    y = y if isinstance(y, np.ndarray) else np.asarray(y)
    for arr, what in ((X, f"X_{name}"), (y, f"y_{name}")):
        if arr.dtype.kind not in "biuf":
            raise DataError(f"fit: {what} must be a numeric array, received dtype {arr.dtype}")
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise DataError(f"fit: {what} is empty (shape {arr.shape})")
    if X.ndim < 2:
        raise ShapeError(
            f"fit: X_{name} must have shape (samples, features...), received shape {X.shape}"
        )
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"fit: X_{name} has {X.shape[0]} samples but y_{name} has {y.shape[0]}"
        )
    X = np.ascontiguousarray(X, dtype=net.dtype)
    _check_finite(X, f"X_{name}")
    out_shape = net.forward(X[:1], inference=True).shape[1:]
    if isinstance(net.loss, SoftmaxCrossEntropy) and (
        y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out_shape != (1,))
    ):
        y = _check_labels(y.reshape(-1), out_shape[0], f"fit: y_{name}")
        return X, np.ascontiguousarray(y, dtype=np.int64)
    y = np.ascontiguousarray(y, dtype=net.dtype)
    _check_finite(y, f"y_{name}")
    if y.ndim == 1 and out_shape == (1,):
        y = y.reshape(-1, 1)
    if y.shape[1:] != out_shape:
        raise ShapeError(
            f"fit: y_{name} must have shape (samples, {', '.join(map(str, out_shape))}) to "
            f"match the network's output, received shape {y.shape}"
        )
    return X, y


def _check_finite(arr: Array, what: str) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        raise DataError(
            f"fit: {what} contains {len(bad)} NaN or Inf values (first at index "
            f"{tuple(int(i) for i in bad[0])})"
        )


class Trainer:
    """Trains a network with an optimizer.

    Creating a Trainer binds the optimizer to the network, so the book's own
    loop ``net.train_batch(X, y); optim.step()`` works afterwards.

    Args:
        net: the network to train.
        optim: the optimizer that updates it.

    Example:
        >>> trainer = Trainer(net, SGD(lr=0.01))             # doctest: +SKIP
        >>> history = trainer.fit(X_train, y_train, X_test, y_test,
        ...                       epochs=50, eval_every=10)  # doctest: +SKIP
    """

    def __init__(self, net: NeuralNetwork, optim: Optimizer) -> None:
        if not isinstance(net, NeuralNetwork):
            raise ConfigError(f"Trainer: net must be a NeuralNetwork, received {net!r}")
        if not isinstance(optim, Optimizer):
            raise ConfigError(f"Trainer: optim must be an Optimizer, received {optim!r}")
        self.net = net
        self.optim = optim
        optim.bind(net)
        self.best_loss = math.inf
        self.history: History | None = None

    def __repr__(self) -> str:
        return f"Trainer(net={type(self.net).__name__}, optim={self.optim!r})"

    @staticmethod
    def generate_batches(X: Array, y: Array, size: int = 32) -> Iterator[tuple[Array, Array]]:
        """Consecutive ``(X, y)`` slices of ``size`` rows; the last may be shorter."""
        if X.shape[0] != y.shape[0]:
            raise DataError(f"generate_batches: X has {X.shape[0]} rows, y has {y.shape[0]}")
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
        verbose: bool = True,
        progress: bool | None = None,
        eval_batch_size: int = 1024,
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
            min_delta: an improvement must lower the validation loss by more than this.
            verbose: write a line per evaluation (through tqdm.write, and the
                ``lincoln.train`` logger at INFO).
            progress: show a progress bar; None shows it only on a terminal.
            eval_batch_size: batch size of evaluation.

        Returns:
            The :class:`History`, also kept as ``trainer.history``.

        Raises:
            ConfigError: non-positive ``epochs``, ``eval_every``, ``batch_size``,
                ``patience`` or a negative ``min_delta``.
            DataError, ShapeError: unusable data (see :func:`check_data`).
        """
        epochs = _positive_int("epochs", epochs)
        eval_every = _positive_int("eval_every", eval_every)
        batch_size = _positive_int("batch_size", batch_size)
        patience = _positive_int("patience", patience)
        eval_batch_size = _positive_int("eval_batch_size", eval_batch_size)
        if not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ConfigError(f"fit: min_delta must be >= 0, received min_delta={min_delta!r}")
        if (X_test is None) != (y_test is None):
            raise DataError("fit: give both X_test and y_test, or neither")

        if restart:
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
        params = self.net.params()
        best_params = [p.copy() for p in params]
        best_loss = self.best_loss if not restart else math.inf
        bad_evals = 0
        rng = np.random.default_rng(seed)
        n = X_train.shape[0]
        num_batches = -(-n // batch_size)
        bar = tqdm(total=epochs * num_batches, unit="batch", leave=False,
                   disable=(None if progress is None else not progress),
                   desc="training")
        epoch = 0
        batch = -1
        try:
            for epoch in range(1, epochs + 1):
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
                        self._say(
                            f"loss became {loss} in epoch {epoch}, batch {batch}; training "
                            f"stopped" + (f", parameters of epoch {history.best_epoch} "
                                          f"restored" if history.best_epoch else ""),
                            verbose, level=logging.WARNING,
                        )
                        break
                    self.optim.step(epoch)
                    loss_sum += loss * xb.shape[0]
                    bar.update(1)
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
                    acc = (f", accuracy {metrics['accuracy']:.4f}"
                           if "accuracy" in metrics else "")
                    if val_loss < best_loss - min_delta:
                        best_loss = val_loss
                        bad_evals = 0
                        history.best_epoch, history.best_val_loss = epoch, val_loss
                        for dst, src in zip(best_params, params):
                            np.copyto(dst, src)
                        self._say(f"Validation loss after {epoch} epochs is "
                                  f"{val_loss:.3f}{acc}", verbose)
                    else:
                        bad_evals += 1
                        self._say(f"Validation loss after {epoch} epochs is {val_loss:.3f}"
                                  f"{acc}, no better than {best_loss:.3f} (epoch "
                                  f"{history.best_epoch})", verbose)
                        if early_stopping and bad_evals >= patience:
                            history.stop_reason = "early_stopping"
                            history.stopped_epoch = epoch
                            self._say(f"Early stopping after epoch {epoch}: using the "
                                      f"model from epoch {history.best_epoch}", verbose)
                            break
                if epoch < epochs:
                    self.optim.decay_lr()
        except KeyboardInterrupt:
            history.stop_reason = "interrupted"
            history.stopped_epoch, history.stopped_batch = epoch, max(batch, 0)
            self._say(f"Interrupted in epoch {epoch}, batch {max(batch, 0)}", verbose,
                      level=logging.WARNING)
        finally:
            bar.close()
            stopped_badly = history.stop_reason in ("non_finite_loss", "interrupted")
            if history.best_epoch is not None and (early_stopping or stopped_badly):
                for dst, src in zip(params, best_params):
                    np.copyto(dst, src)
            elif history.stop_reason == "non_finite_loss":
                # nothing evaluated yet: the initial parameters are the finite ones
                for dst, src in zip(params, best_params):
                    np.copyto(dst, src)
            self.best_loss = best_loss
        return history

    @staticmethod
    def _say(message: str, verbose: bool, level: int = logging.INFO) -> None:
        logger.log(level, message)
        if verbose:
            tqdm.write(message)
