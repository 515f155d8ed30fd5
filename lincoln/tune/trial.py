"""One trial of a sweep: the experiment file with the trial's values, trained
and scored on held-out training data (``[data] validation_split``), never on
the test set, which a sweep does not even load into training.

Each trial's experiment is written as a ready-to-run file
(``trials/trial_0007.toml``) and read back with
:func:`~lincoln.config.load_config`, so that it is checked exactly as
``lincoln train`` checks a file.
"""

from __future__ import annotations

import json
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from ..config import (
    Experiment,
    build_network,
    build_optimizer,
    fit_options,
    load_config,
    load_data_and_scaler,
)
from ..datasets import Standardizer
from ..errors import ConfigError
from ..network import NeuralNetwork
from ..train import History, Trainer
from ..training import FitOptions
from ..training.data import is_classifier
from .pruning import PruningCallback
from .space import SearchSpace
from .tomlfile import dumps

__all__ = [
    "Objective",
    "METRICS",
    "check_experiment",
    "check_space",
    "default_metric",
    "write_experiment",
]

#: What a sweep can optimize: the validation accuracy of the kept model
#: (maximized) or its validation loss (minimized).
METRICS = ("val_accuracy", "val_loss")


def write_experiment(
    config: dict[str, Any], path: Path, comment: str = ""
) -> Experiment:
    """Write ``config`` as an experiment file at ``path`` and read it back.

    Raises:
        ConfigError: the file is not a valid experiment (naming ``path``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(config, comment))
    return load_config(path)


def check_experiment(exp: Experiment, metric: str) -> NeuralNetwork:
    """Check what a trial builds before it trains: the network, the optimizer,
    the ``[trainer]`` options, a validation split, and that ``metric`` fits the
    network. Returns the (unbuilt) network.

    Raises:
        ConfigError: naming the file and key.
    """
    split = exp.config["data"].get("validation_split")
    if split is None:
        raise exp.error(
            "data.validation_split",
            "a sweep scores trials on held-out training data, never on the test "
            "set: set a share such as validation_split = 0.1",
        )
    net = build_network(exp)
    build_optimizer(exp)
    options = fit_options(exp)
    with exp.at("trainer"):
        FitOptions(**options, validation_split=split)
    if metric == "val_accuracy" and not is_classifier(net):
        raise exp.error(
            "model.loss",
            "the metric val_accuracy needs a classifier (softmax_cross_entropy); "
            "use the metric val_loss",
        )
    return net


def default_metric(exp: Experiment) -> str:
    """``val_accuracy`` for a classifier, else ``val_loss``."""
    return "val_accuracy" if is_classifier(build_network(exp)) else "val_loss"


def check_space(space: SearchSpace, exp: Experiment, metric: str) -> None:
    """Check, before the first trial, that each edge of each range (each choice
    of a categorical) makes a valid experiment of ``exp``.

    Raises:
        ConfigError: naming the search-space file, the key and the value.
    """
    check_experiment(exp, metric)
    # candidates in a folder of this process's own: sweeps start side by side
    with tempfile.TemporaryDirectory(prefix="lincoln-tune-") as folder:
        candidate = Path(folder) / exp.path.name
        for parameter in space.parameters:
            for value in parameter.bounds():
                config = space.apply(exp.config, {parameter.key: value})
                try:
                    check_experiment(write_experiment(config, candidate), metric)
                except ConfigError as exc:
                    reason = str(exc).removeprefix(f"{candidate}: ")
                    raise space.error(
                        parameter.key,
                        f"the value {value!r} does not fit {exp.path}: {reason}",
                    ) from None


class Objective:
    """What Optuna calls for each trial: draw the values, write the trial's
    experiment file, train it with pruning, return its validation score.

    Each trial records (as user attributes) its sampler ``seed``, the
    ``model_seed`` and ``trainer_seed`` it trained with, the ``worker``
    (host:pid) that ran it, ``epochs_run``, ``best_epoch``, ``stop_reason``,
    ``pruned_epoch`` if pruned, an ``error`` if it failed, and its whole
    ``experiment``.

    Args:
        exp: the experiment file the sweep starts from.
        space: the search space.
        metric: one of :data:`METRICS`.
        folder: where the trials' experiment files are written.
        seed: the sweep's sampler seed (trial ``n`` samples with ``seed + n``).
    """

    def __init__(
        self, exp: Experiment, space: SearchSpace, metric: str, folder: Path, seed: int
    ) -> None:
        self.exp, self.space, self.metric = exp, space, metric
        self.folder, self.seed = folder, seed
        self._data: dict[str, tuple[np.ndarray, np.ndarray, Standardizer]] = {}

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            return self._run(trial)
        except KeyboardInterrupt:
            trial.set_user_attr("error", "interrupted")
            raise

    def _run(self, trial: optuna.Trial) -> float:
        values = self.space.suggest(trial)
        config = self.space.apply(self.exp.config, values)
        self._record_start(trial, config)
        path = self.folder / f"trial_{trial.number:04d}.toml"
        comment = f"trial {trial.number} of a sweep over {self.exp.path}"
        try:
            exp = write_experiment(config, path, comment)
            history, pruning = self.train(exp, trial)
        except ConfigError as exc:  # a combination of values the file cannot take
            trial.set_user_attr("error", str(exc))
            return math.nan
        trial.set_user_attr("epochs_run", len(history.train_loss))
        trial.set_user_attr("best_epoch", history.best_epoch)
        trial.set_user_attr("stop_reason", history.stop_reason)
        if pruning.pruned_epoch is not None:
            trial.set_user_attr("pruned_epoch", pruning.pruned_epoch)
            raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_epoch}")
        if self.metric == "val_accuracy":
            value = history.best_val_accuracy
        else:
            value = history.best_val_loss
        if value is None or not math.isfinite(value):
            trial.set_user_attr(
                "error", f"no finite {self.metric} (stopped: {history.stop_reason})"
            )
            return math.nan
        return float(value)

    def train(
        self, exp: Experiment, trial: optuna.Trial
    ) -> tuple[History, PruningCallback]:
        """Train what ``exp`` describes on its training data, validating on its
        held-out share; report each evaluation to ``trial``."""
        net = build_network(exp)
        trainer = Trainer(net, build_optimizer(exp))
        X_train, y_train, scaler = self._training_data(exp, net.dtype)
        pruning = PruningCallback(trial, self.metric)
        options = fit_options(exp, scaler)
        with exp.at("trainer"):
            history = trainer.fit(
                X_train,
                y_train,
                verbose=False,
                progress=False,
                callbacks=[pruning],
                validation_split=exp.config["data"]["validation_split"],
                **options,
            )
        return history, pruning

    def _training_data(
        self, exp: Experiment, dtype: Any
    ) -> tuple[np.ndarray, np.ndarray, Standardizer]:
        # trials that share [data] share the loaded arrays (the last one only)
        key = json.dumps(exp.config["data"], sort_keys=True) + str(np.dtype(dtype))
        if key not in self._data:
            X_train, y_train, _, _, scaler = load_data_and_scaler(exp, dtype)
            self._data = {key: (X_train, y_train, scaler)}
        return self._data[key]

    def _record_start(self, trial: optuna.Trial, config: dict[str, Any]) -> None:
        trial.set_user_attr("seed", self.seed + trial.number)
        trial.set_user_attr("model_seed", config["model"].get("seed", 1))
        trial.set_user_attr("trainer_seed", config.get("trainer", {}).get("seed", 1))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("experiment", config)

    def __repr__(self) -> str:
        return (
            f"Objective({str(self.exp.path)!r}, {self.space!r}, metric={self.metric!r})"
        )
