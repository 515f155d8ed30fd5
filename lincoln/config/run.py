"""Running an experiment: train what the file describes, report, write a run directory.

A run directory holds ``config.toml`` (the file used), ``history.json``,
``history.csv``, ``metrics.json``, the trained ``model.npz`` and
``preprocess.npz`` (the input standardizer). Whether it can be written is
checked before any data is loaded; it is then written as a whole, or not at
all (:mod:`lincoln.io.rundir`), so its files always belong to one run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import Standardizer
from ..io.rundir import check_run_dir, write_run_dir_atomically
from ..metrics import accuracy
from ..train import History, Trainer
from .build import (
    build_network,
    build_optimizer,
    fit_options,
    load_data_and_scaler,
    trainer_options,
)
from .experiment import Experiment, load_config
from .text import is_text, text_data, text_metrics

__all__ = ["run_experiment", "evaluate_test", "write_run_dir", "PREPROCESS_FILE"]

PREPROCESS_FILE = "preprocess.npz"  # the run directory's input standardizer


def evaluate_test(
    trainer: Trainer, X_test: np.ndarray, y_test: np.ndarray
) -> tuple[float, float | None]:
    """Test loss and accuracy of ``trainer.net``, as ``metrics.json`` reports them.

    The figures are :meth:`~lincoln.train.Trainer.evaluate`'s. It gives an
    accuracy for a softmax classifier only; a classifier trained with mean
    squared error (integer labels or one-hot rows as targets) gets one computed
    from its predictions. Regression targets get None.
    """
    result = trainer.evaluate(X_test, y_test)
    test_accuracy = result.get("accuracy")
    if test_accuracy is None and (
        (y_test.ndim == 1 and y_test.dtype.kind in "iu")
        or (y_test.ndim == 2 and y_test.shape[1] > 1)
    ):
        test_accuracy = accuracy(y_test, trainer.net.predict(X_test))
    return result["loss"], test_accuracy


def run_experiment(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    verbose: bool = True,
    progress: bool | None = None,
    force: bool = False,
    report: Callable[[History, dict[str, Any]], None] | None = None,
) -> tuple[History, dict[str, Any], Trainer]:
    """Train what an experiment describes; write the run directory if ``out``.

    Args:
        experiment: the experiment, or its file.
        out: the run directory to write (checked before any data is loaded).
        verbose, progress: as :meth:`~lincoln.train.Trainer.fit` takes them.
        force: replace a run already in ``out`` (only once the new one is
            complete); without it, such an ``out`` is refused before training.
        report: called with the history and metrics once training and the
            test evaluation are done, before the run directory is written (so
            that the figures are shown even if writing fails).

    Returns:
        The training history, the final metrics (test loss and accuracy, epochs,
        wall time) and the trainer (whose ``net`` is the trained network).

    Raises:
        ConfigError: a value of the file is not valid (naming the file and key;
            ``[trainer]`` values are checked by ``Trainer.fit``).
        LincolnError: ``out`` cannot be written, or holds a run and not
            ``force`` (before training); the run directory could not be
            completed (after: see :func:`write_run_dir`).
        KeyboardInterrupt: only from a ``fit`` that re-raises Ctrl-C after
            restoring the best parameters; the run directory is written first.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_config(experiment)
    net = build_network(exp)
    trainer = Trainer(net, build_optimizer(exp), **trainer_options(exp))
    if out is not None:  # before any data is loaded: fail in a second, not an hour
        check_run_dir(out, force=force)
    X_train, y_train, X_test, y_test, scaler = _load(exp, net.dtype)
    # with a validation split the test set stays out of training entirely
    split = exp.config["data"].get("validation_split")
    validation = (None, None) if split is not None else (X_test, y_test)
    if not len(X_test):  # a text with val_fraction = 0: nothing to validate on
        validation = (None, None)
    options = fit_options(exp, scaler)
    start = time.perf_counter()
    interrupted: KeyboardInterrupt | None = None
    try:
        with exp.at("trainer"):  # fit names the argument (validation_split too)
            history = trainer.fit(
                X_train,
                y_train,
                *validation,
                verbose=verbose,
                progress=progress,
                validation_split=split,
                **options,
            )
    except KeyboardInterrupt as exc:  # fit kept the best model and its history:
        if trainer.history is None:  # write the run directory, then stop (130)
            raise
        history, interrupted = trainer.history, exc
    train_time = time.perf_counter() - start
    metrics = _metrics(
        exp, trainer, history, split, train_time, X_train, X_test, y_test
    )
    if report is not None:
        report(history, metrics)
    if out is not None:
        write_run_dir(Path(out), exp, trainer, history, metrics, scaler, force=force)
    if interrupted is not None:
        raise interrupted
    return history, metrics, trainer


def _metrics(
    exp: Experiment,
    trainer: Trainer,
    history: History,
    split: float | None,
    train_time: float,
    X_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
) -> dict[str, Any]:
    """What ``metrics.json`` holds: the test figures (a text's validation
    figures), which data chose the model, and how training went."""
    text = is_text(exp)
    test_loss, test_accuracy = (
        (None, None) if text else evaluate_test(trainer, X_test, y_test)
    )
    metrics: dict[str, Any] = {
        "config": str(exp.path),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        # which data chose the kept model: a held-out share of the training
        # data, or (without data.validation_split) the test set itself
        "selected_on": "validation_split" if split is not None else "test",
        "validation_split": split,
        "best_val_loss": history.best_val_loss,
        "best_val_accuracy": history.best_val_accuracy,
        "epochs_run": len(history.train_loss),
        "best_epoch": history.best_epoch,
        "held_epoch": history.held_epoch,
        "stop_reason": history.stop_reason,
        "train_seconds": round(train_time, 3),
        "train_samples": int(len(X_train)),
        "test_samples": int(len(X_test)),
    }
    if text:  # the validation figures, in nats per character
        metrics.update(text_metrics(trainer, X_test, y_test))
    return metrics


def _load(exp: Experiment, dtype: Any) -> tuple[Any, ...]:
    """The training and test (a text's validation) data, and the scaler (None
    for a text, whose inputs are character ids)."""
    if is_text(exp):
        data = text_data(exp)
        return data.X_train, data.y_train, data.X_val, data.y_val, None
    return load_data_and_scaler(exp, dtype)


def write_run_dir(
    out: Path,
    exp: Experiment,
    trainer: Trainer,
    history: History,
    metrics: dict[str, Any],
    scaler: Standardizer | None = None,
    force: bool = False,
) -> bool:
    """Write the model, (given ``scaler``) the input preprocessing as
    ``preprocess.npz``, the config used, the metrics and the history (JSON
    and CSV) as one run directory, replacing a run at ``out`` if ``force``.

    Returns:
        True if a previous run at ``out`` was replaced.

    Raises:
        PartialWriteError: a file could not be written (the message names it);
            ``out`` is as it was, and the files written before it (the model
            first) are kept beside it.
        LincolnError: ``out`` holds a run (written while this one trained) and
            not ``force``: this run is kept beside it (the message says where).
    """
    config_text = exp.path.read_bytes()
    files: list[tuple[str, Callable[[Path], object]]] = [
        ("model.npz", trainer.net.save),
    ]
    if scaler is not None:
        files.append((PREPROCESS_FILE, scaler.save))
    files += [
        ("config.toml", lambda p: p.write_bytes(config_text)),
        ("metrics.json", lambda p: p.write_text(json.dumps(metrics, indent=2) + "\n")),
        ("history.json", history.to_json),
        ("history.csv", history.to_csv),
    ]
    return write_run_dir_atomically(out, files, force=force)
