"""Running an experiment: train what the file describes, report, write a run directory.

A run directory holds ``config.toml`` (the file used), ``history.json``,
``history.csv``, ``metrics.json``, the trained ``model.npz`` and
``preprocess.npz`` (the input standardizer).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import Standardizer
from ..errors import LincolnError
from ..metrics import accuracy
from ..train import History, Trainer
from .build import build_network, build_optimizer, fit_options, load_data_and_scaler
from .experiment import Experiment, load_config

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
) -> tuple[History, dict[str, Any], Trainer]:
    """Train what an experiment describes; write the run directory if ``out``.

    Returns:
        The training history, the final metrics (test loss and accuracy, epochs,
        wall time) and the trainer (whose ``net`` is the trained network).

    Raises:
        ConfigError: a value of the file is not valid (naming the file and key;
            ``[trainer]`` values are checked by ``Trainer.fit``).
        KeyboardInterrupt: only from a ``fit`` that re-raises Ctrl-C after
            restoring the best parameters; the run directory is written first.
    """
    exp = experiment if isinstance(experiment, Experiment) else load_config(experiment)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise LincolnError(f"--out {out}: exists and is not a directory")
    net = build_network(exp)
    trainer = Trainer(net, build_optimizer(exp))
    X_train, y_train, X_test, y_test, scaler = load_data_and_scaler(exp, net.dtype)
    # with a validation split the test set stays out of training entirely
    split = exp.config["data"].get("validation_split")
    validation = (None, None) if split is not None else (X_test, y_test)
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
                **fit_options(exp),
            )
    except KeyboardInterrupt as exc:  # fit kept the best model and its history:
        if trainer.history is None:  # write the run directory, then stop (130)
            raise
        history, interrupted = trainer.history, exc
    train_time = time.perf_counter() - start
    test_loss, test_accuracy = evaluate_test(trainer, X_test, y_test)
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
    if out is not None:
        write_run_dir(Path(out), exp, trainer, history, metrics, scaler)
    if interrupted is not None:
        raise interrupted
    return history, metrics, trainer


def write_run_dir(
    out: Path,
    exp: Experiment,
    trainer: Trainer,
    history: History,
    metrics: dict[str, Any],
    scaler: Standardizer | None = None,
) -> None:
    """Write the config used, the history (JSON and CSV), metrics, the model and
    (given ``scaler``) the input preprocessing as ``preprocess.npz``."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exp.path, out / "config.toml")
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    trainer.net.save(out / "model.npz")
    if scaler is not None:
        scaler.save(out / PREPROCESS_FILE)
