"""Experiment files: a TOML file describes data, network, optimizer and training.

A minimal file::

    [data]
    name = "digits"            # "digits" (bundled), "mnist", "fashion_mnist"

    [model]
    loss = "softmax_cross_entropy"
    seed = 190119

    [[model.layers]]
    type = "dense"
    neurons = 64
    activation = "relu"

    [[model.layers]]
    type = "dense"
    neurons = 10

    [optimizer]
    type = "sgd_momentum"
    lr = 0.1

    [trainer]
    epochs = 20

Every mistake is reported as a :class:`~lincoln.errors.ConfigError` that names
the file, the key and the valid choices.
"""

from __future__ import annotations

import copy
import inspect
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import (
    Standardizer,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    train_test_split,
)
from .errors import ConfigError, LincolnError
from .layers import LAYERS, layer_from_config
from .losses import LOSSES, get_loss
from .metrics import accuracy
from .network import DTYPES, NeuralNetwork
from .optimizers import OPTIMIZERS, Optimizer, get_optimizer
from .train import MONITORS, History, Trainer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

__all__ = [
    "load_config",
    "build_network",
    "build_optimizer",
    "load_data",
    "fit_options",
    "Experiment",
    "run_experiment",
    "evaluate_test",
    "write_run_dir",
    "DATASETS",
    "SECTIONS",
]

DATASETS = ("digits", "mnist", "fashion_mnist")
PREPROCESS_FILE = "preprocess.npz"  # the run directory's input standardizer
PREPROCESS = ("standardize", "global", "scale", "none")

# every key each section accepts, with a one-line meaning for error messages
SECTIONS: dict[str, dict[str, str]] = {
    "data": {
        "name": f"one of {', '.join(DATASETS)}",
        "path": "folder holding the data set's files",
        "shape": "'flat' (samples, features) or 'image' (samples, 1, H, W)",
        "preprocess": "standardize (per feature), global (one mean and std over "
        "all pixels, the book's), scale (to [0, 1]) or none",
        "test_fraction": "share held out for testing (digits only)",
        "split_seed": "seed of the train/test split (digits only)",
        "one_hot": "true to give targets as one-hot rows "
        "(needed by mean squared error)",
        "limit_train": "use only the first N training samples",
        "limit_test": "use only the first N test samples",
    },
    "model": {
        "layers": "list of [[model.layers]] tables",
        "loss": f"one of {', '.join(LOSSES)}",
        "seed": "seed of the initial weights",
        "dtype": "float32 or float64",
    },
    "optimizer": {"type": f"one of {', '.join(OPTIMIZERS)}"},
    "trainer": {
        "epochs": "passes over the training data",
        "eval_every": "evaluate every N epochs",
        "batch_size": "samples per batch",
        "seed": "seed of the shuffling",
        "early_stopping": "true/false",
        "patience": "evaluations without improvement before stopping",
        "min_delta": "smallest improvement that counts",
        "monitor": "val_loss or val_accuracy: what early stopping calls best",
        "restart": "true/false",
    },
}


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


# what each [trainer] value must be: (test, description for the error message)
_TRAINER_VALUES: dict[str, tuple[Any, str]] = {
    "epochs": (lambda v: _is_int(v, 1), "a positive integer"),
    "eval_every": (lambda v: _is_int(v, 1), "a positive integer"),
    "batch_size": (lambda v: _is_int(v, 1), "a positive integer"),
    "patience": (lambda v: _is_int(v, 1), "a positive integer"),
    "seed": (lambda v: _is_int(v, 0), "a non-negative integer"),
    "early_stopping": (lambda v: isinstance(v, bool), "true or false"),
    "restart": (lambda v: isinstance(v, bool), "true or false"),
    "min_delta": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "a number >= 0",
    ),
    "monitor": (lambda v: v in MONITORS, f"one of {', '.join(MONITORS)}"),
}


@dataclass
class Experiment:
    """A parsed experiment file: where it came from and its contents."""

    path: Path
    config: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem


def _err(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}")


def load_config(path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or has an unknown
            section or key (the message names the file, key and valid choices).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, value in config.items():
        if section not in SECTIONS:
            raise _err(
                path, section, f"unknown section; valid sections: {', '.join(SECTIONS)}"
            )
        if not isinstance(value, dict):
            raise _err(path, section, "must be a table, e.g. [" + section + "]")
    for section in ("data", "model", "optimizer"):
        if section not in config:
            raise _err(path, section, "missing section")
    for section in ("data", "model", "trainer"):
        for key in config.get(section, {}):
            if key not in SECTIONS[section]:
                valid = ", ".join(SECTIONS[section])
                raise _err(
                    path, f"{section}.{key}", f"unknown key; valid keys: {valid}"
                )
    for key, value in config.get("trainer", {}).items():
        check, expected = _TRAINER_VALUES[key]
        if not check(value):
            raise _err(
                path, f"trainer.{key}", f"must be {expected}, received {value!r}"
            )
    return Experiment(path=path, config=config)


def _layer_keys(layer_type: str) -> list[str]:
    """The constructor arguments of a registered layer type."""
    params = inspect.signature(LAYERS[layer_type]).parameters.values()
    return [
        p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def build_network(exp: Experiment) -> NeuralNetwork:
    """The network the ``[model]`` section describes (not yet built)."""
    model = exp.config["model"]
    specs = model.get("layers")
    if not isinstance(specs, list) or not specs:
        raise _err(
            exp.path, "model.layers", "needs at least one [[model.layers]] table"
        )
    layers = []
    for i, spec in enumerate(specs):
        key = f"model.layers[{i}]"
        if not isinstance(spec, dict):
            raise _err(exp.path, key, "must be a table")
        if spec.get("type") not in LAYERS:
            raise _err(
                exp.path,
                f"{key}.type",
                f"unknown layer type {spec.get('type')!r}; choose one of: "
                f"{', '.join(LAYERS)}",
            )
        accepted = _layer_keys(spec["type"])
        for name in spec:
            if name != "type" and name not in accepted:
                raise _err(
                    exp.path,
                    f"{key}.{name}",
                    f"unknown key for a {spec['type']} layer; valid keys: type, "
                    + ", ".join(accepted),
                )
        try:
            layers.append(layer_from_config(spec))
        except ConfigError as exc:
            raise _err(exp.path, key, str(exc)) from None
    loss_spec = model.get("loss", "softmax_cross_entropy")
    try:
        loss = get_loss(loss_spec)
    except (ConfigError, TypeError) as exc:
        raise _err(exp.path, "model.loss", str(exc)) from None
    dtype = model.get("dtype", "float32")
    if dtype not in DTYPES:
        raise _err(
            exp.path,
            "model.dtype",
            f"must be one of {', '.join(DTYPES)}, received {dtype!r}",
        )
    try:
        return NeuralNetwork(
            layers, loss, seed=model.get("seed", 1), dtype=DTYPES[dtype]
        )
    except ConfigError as exc:
        raise _err(exp.path, "model", str(exc)) from None


def build_optimizer(exp: Experiment) -> Optimizer:
    """The optimizer the ``[optimizer]`` section describes."""
    spec = dict(exp.config["optimizer"])
    if spec.get("type") not in OPTIMIZERS:
        raise _err(
            exp.path,
            "optimizer.type",
            f"unknown optimizer {spec.get('type')!r}; choose one of: "
            f"{', '.join(OPTIMIZERS)}",
        )
    try:
        return get_optimizer(spec)
    except ConfigError as exc:
        raise _err(exp.path, "optimizer", str(exc)) from None


def fit_options(exp: Experiment) -> dict[str, Any]:
    """Keyword arguments for :meth:`~lincoln.train.Trainer.fit` from ``[trainer]``."""
    return dict(exp.config.get("trainer", {}))


def load_data(exp: Experiment, dtype: Any = np.float32) -> tuple[np.ndarray, ...]:
    """``(X_train, y_train, X_test, y_test)`` as the ``[data]`` section describes."""
    return load_data_and_scaler(exp, dtype)[:4]


def load_data_and_scaler(
    exp: Experiment, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Standardizer]:
    """:func:`load_data`, plus the :class:`Standardizer` that prepared the inputs
    (so that new inputs can be prepared the same way)."""
    data = exp.config["data"]
    name = data.get("name")
    if name not in DATASETS:
        raise _err(
            exp.path,
            "data.name",
            f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}",
        )
    shape = data.get("shape", "flat")
    if shape not in ("flat", "image"):
        raise _err(
            exp.path, "data.shape", f"must be 'flat' or 'image', received {shape!r}"
        )
    preprocess = data.get("preprocess", "standardize")
    if preprocess not in PREPROCESS:
        raise _err(
            exp.path,
            "data.preprocess",
            f"must be one of {', '.join(PREPROCESS)}, received {preprocess!r}",
        )
    flatten = shape == "flat"
    if name == "digits":
        X, y = load_digits(flatten=flatten, normalize=False, dtype=np.float64)
        try:
            X_train, X_test, y_train, y_test = train_test_split(
                X,
                y,
                data.get("test_fraction", 0.25),
                seed=data.get("split_seed", 0),
                stratify=True,
            )
        except ConfigError as exc:
            raise _err(exp.path, "data.test_fraction", str(exc)) from None
        max_value = 16.0
    else:
        loader = load_mnist if name == "mnist" else load_fashion_mnist
        X_train, y_train, X_test, y_test = loader(
            data.get("path"), flatten=flatten, normalize=False, dtype=np.float32
        )
        max_value = 255.0
    for key, arrays in (("limit_train", "train"), ("limit_test", "test")):
        limit = data.get(key)
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise _err(
                    exp.path,
                    f"data.{key}",
                    f"must be a positive integer, received {limit!r}",
                )
            if arrays == "train":
                X_train, y_train = X_train[:limit], y_train[:limit]
            else:
                X_test, y_test = X_test[:limit], y_test[:limit]
    if preprocess == "standardize" and flatten:
        scaler = Standardizer().fit(X_train)
    elif preprocess in ("standardize", "global"):
        # one mean and spread over all pixels (the book's preprocessing)
        scaler = Standardizer(float(X_train.mean()), float(X_train.std()) or 1.0)
    elif preprocess == "scale":
        scaler = Standardizer(0.0, max_value)
    else:
        scaler = Standardizer(0.0, 1.0)
    X_train, X_test = scaler.transform(X_train, dtype), scaler.transform(X_test, dtype)
    one_hot_targets = data.get("one_hot", False)
    if not isinstance(one_hot_targets, bool):
        raise _err(
            exp.path,
            "data.one_hot",
            f"must be true or false, received {one_hot_targets!r}",
        )
    if one_hot_targets:
        num_classes = int(max(y_train.max(), y_test.max())) + 1
        y_train = one_hot(y_train, num_classes, dtype=dtype)
        y_test = one_hot(y_test, num_classes, dtype=dtype)
    return X_train, y_train, X_test, y_test, scaler


def config_copy(exp: Experiment) -> dict[str, Any]:
    """A deep copy of the parsed configuration."""
    return copy.deepcopy(exp.config)


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
    """
    exp = experiment if isinstance(experiment, Experiment) else load_config(experiment)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise LincolnError(f"--out {out}: exists and is not a directory")
    net = build_network(exp)
    optim = build_optimizer(exp)
    X_train, y_train, X_test, y_test, scaler = load_data_and_scaler(exp, net.dtype)
    trainer = Trainer(net, optim)
    start = time.perf_counter()
    # load_config has checked every [trainer] key and value
    interrupted: KeyboardInterrupt | None = None
    try:
        history = trainer.fit(
            X_train,
            y_train,
            X_test,
            y_test,
            verbose=verbose,
            progress=progress,
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
        "epochs_run": len(history.train_loss),
        "best_epoch": history.best_epoch,
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
