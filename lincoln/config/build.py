"""What an experiment file describes, made: the network, the optimizer, the data.

Each value is checked by what it configures (``Dense``, ``NeuralNetwork``, the
registries, the optimizer, ``train_test_split``); these functions add the file
and key to its :class:`~lincoln.errors.ConfigError` (:meth:`Experiment.at`).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..augment import Augment
from ..datasets import (
    Standardizer,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    train_test_split,
)
from ..errors import ShapeError, check_seed
from ..layers import Layer, layer_from_config
from ..losses import get_loss
from ..network import NeuralNetwork
from ..optimizers import Optimizer, get_optimizer
from ..registry import LAYERS, OPTIMIZERS
from ..threads import check_threads
from .experiment import Experiment
from .text import is_text, with_vocabulary

__all__ = [
    "build_network",
    "build_optimizer",
    "fit_options",
    "blank_pixel",
    "trainer_options",
    "data_input_shape",
    "load_data",
    "load_data_and_scaler",
    "IMAGE_SIZES",
]

# (height, width) of each data set's images: enough to know a network's input
# shape without loading tens of megabytes of MNIST just to print a summary
IMAGE_SIZES = {"digits": (8, 8), "mnist": (28, 28), "fashion_mnist": (28, 28)}
# the largest pixel value of each data set, for preprocess = "scale"
_MAX_VALUES = {"digits": 16.0, "mnist": 255.0, "fashion_mnist": 255.0}


def build_network(exp: Experiment) -> NeuralNetwork:
    """The network the ``[model]`` section describes (not yet built).

    Raises:
        ConfigError: from the layers, the loss or :class:`NeuralNetwork`
            (seed, dtype), naming the file and the key.
    """
    model = exp.config["model"]
    specs = model.get("layers")
    if not isinstance(specs, list):
        raise exp.error("model.layers", "needs at least one [[model.layers]] table")
    if is_text(exp):  # the Embedding gets the text's vocabulary
        specs = with_vocabulary(exp, specs)
    layers = [_build_layer(exp, f"model.layers[{i}]", s) for i, s in enumerate(specs)]
    with exp.at("model.loss"):
        loss = get_loss(model.get("loss", "softmax_cross_entropy"))
    with exp.at("model"):
        return NeuralNetwork(
            layers, loss, seed=model.get("seed", 1), dtype=model.get("dtype", "float32")
        )


def _build_layer(exp: Experiment, key: str, spec: Any) -> Layer:
    if not isinstance(spec, dict):
        raise exp.error(key, "must be a table")
    with exp.at(f"{key}.type"):
        cls = LAYERS.lookup(spec.get("type"))
    # a misspelt key, named with the valid ones (the constructor's TypeError
    # would name neither the key's place in the file nor the choices)
    params = inspect.signature(cls).parameters.values()
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        accepted = [
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        for name in spec:
            if name != "type" and name not in accepted:
                raise exp.error(
                    f"{key}.{name}",
                    f"unknown key for a {spec['type']} layer; valid keys: type, "
                    + ", ".join(accepted),
                )
    with exp.at(key):
        return layer_from_config(spec)


def build_optimizer(exp: Experiment) -> Optimizer:
    """The optimizer the ``[optimizer]`` section describes.

    Raises:
        ConfigError: an unknown type (``optimizer.type``) or an argument the
            optimizer rejects (``optimizer``), naming the file.
    """
    spec = exp.config["optimizer"]
    with exp.at("optimizer.type"):
        OPTIMIZERS.lookup(spec.get("type"))
    with exp.at("optimizer"):
        return get_optimizer(dict(spec))


def fit_options(exp: Experiment, scaler: Standardizer | None = None) -> dict[str, Any]:
    """Keyword arguments for :meth:`~lincoln.train.Trainer.fit` from ``[trainer]``
    (``fit`` checks them; :func:`~lincoln.config.run_experiment` names the file),
    and ``augment`` from ``[data]`` shift and flip (seeded by ``[trainer]`` seed).

    Args:
        exp: the experiment.
        scaler: what prepared the images (:func:`load_data_and_scaler`); the
            pixels a shift brings in are a raw 0, a blank pixel, as it prepares
            it (None: the images are raw, and the fill is 0).
    """
    options = dict(exp.config.get("trainer", {}))
    options.pop("threads", None)  # the Trainer's (trainer_options)
    data = exp.config["data"]
    if "shift" in data or "flip" in data:
        with exp.at("trainer.seed"):
            seed = check_seed("fit", options.get("seed", 1))
        with exp.at("data.shift"):  # flip is checked by the reader
            augment = Augment(
                data.get("shift", 0),
                data.get("flip", False),
                seed=seed,
                fill=0.0 if scaler is None else blank_pixel(scaler),
            )
        try:  # known from the data set's name, before a batch is drawn
            augment.check_size(*IMAGE_SIZES[data["name"]])
        except ShapeError as exc:
            raise exp.error("data.shift", str(exc)) from None
        options["augment"] = augment
    return options


def blank_pixel(scaler: Standardizer) -> float:
    """The value a raw 0 (the background of MNIST-like images) has once
    ``scaler`` prepares it: ``-mean / std`` for standardized images."""
    return float(scaler.transform(np.zeros((1, 1)), np.float64).ravel()[0])


def trainer_options(exp: Experiment) -> dict[str, Any]:
    """Keyword arguments for :class:`~lincoln.train.Trainer`: ``threads``."""
    with exp.at("trainer.threads"):
        return {"threads": check_threads(exp.config.get("trainer", {}).get("threads"))}


def data_input_shape(exp: Experiment) -> tuple[int, ...]:
    """The per-sample input shape the ``[data]`` section gives, without loading it:
    ``(H*W,)`` for ``shape = "flat"`` (the default), ``(1, H, W)`` for ``"image"``.
    """
    data = exp.config["data"]
    if is_text(exp):  # a sequence of character ids
        return (int(data.get("seq_len", 64)),)
    height, width = IMAGE_SIZES[data["name"]]
    if data.get("shape", "flat") == "flat":
        return (height * width,)
    return (1, height, width)


def load_data(exp: Experiment, dtype: Any = np.float32) -> tuple[np.ndarray, ...]:
    """``(X_train, y_train, X_test, y_test)`` as the ``[data]`` section describes."""
    return load_data_and_scaler(exp, dtype)[:4]


def load_data_and_scaler(
    exp: Experiment, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Standardizer]:
    """:func:`load_data`, plus the :class:`Standardizer` that prepared the inputs
    (so that new inputs can be prepared the same way)."""
    data = exp.config["data"]
    flatten = data.get("shape", "flat") == "flat"
    X_train, y_train, X_test, y_test = _load_split(exp, flatten)
    # a missing limit is None, and X[:None] is all of X
    limit_train, limit_test = data.get("limit_train"), data.get("limit_test")
    X_train, y_train = X_train[:limit_train], y_train[:limit_train]
    X_test, y_test = X_test[:limit_test], y_test[:limit_test]
    max_value = _MAX_VALUES[data["name"]]
    scaler = _scaler(data.get("preprocess", "standardize"), flatten, X_train, max_value)
    scaler.record_raw(X_train)  # saved in preprocess.npz: predict --raw-input checks
    X_train, X_test = scaler.transform(X_train, dtype), scaler.transform(X_test, dtype)
    if data.get("one_hot", False):
        num_classes = int(max(y_train.max(), y_test.max())) + 1
        y_train = one_hot(y_train, num_classes, dtype=dtype)
        y_test = one_hot(y_test, num_classes, dtype=dtype)
    return X_train, y_train, X_test, y_test, scaler


def _load_split(exp: Experiment, flatten: bool) -> tuple[np.ndarray, ...]:
    """The raw ``(X_train, y_train, X_test, y_test)`` of the named data set."""
    data = exp.config["data"]
    if data["name"] != "digits":
        loader = load_mnist if data["name"] == "mnist" else load_fashion_mnist
        return loader(  # type: ignore[no-any-return]
            data.get("path"), flatten=flatten, normalize=False, dtype=np.float32
        )
    X, y = load_digits(flatten=flatten, normalize=False, dtype=np.float64)
    with exp.at("data"):
        X_train, X_test, y_train, y_test = train_test_split(
            X,
            y,
            data.get("test_fraction", 0.25),
            seed=data.get("split_seed", 0),
            stratify=True,
        )
    return X_train, y_train, X_test, y_test


def _scaler(
    preprocess: str, flatten: bool, X_train: np.ndarray, max_value: float
) -> Standardizer:
    if preprocess == "standardize" and flatten:
        return Standardizer().fit(X_train)
    if preprocess in ("standardize", "global"):
        # one mean and spread over all pixels (the book's preprocessing)
        return Standardizer(float(X_train.mean()), float(X_train.std()) or 1.0)
    if preprocess == "scale":
        return Standardizer(0.0, max_value)
    return Standardizer(0.0, 1.0)
