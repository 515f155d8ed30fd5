"""Shared by the tests of lincoln.io: small networks, data, a file rewriter, and
registering a user's class for one test."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lincoln.io.format import HEADER_KEY
from lincoln.layers import Dense
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGDMomentum
from lincoln.registry import Registry
from lincoln.train import Trainer

__all__ = ["classification_data", "mlp", "registered", "rewrite", "trained_mlp"]


def classification_data(
    n: int = 96, features: int = 6, classes: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = (X[:, :classes] + 0.3 * rng.normal(size=(n, classes))).argmax(axis=1)
    return X, y


def mlp(dtype: Any = np.float64, dropout: float = 1.0, seed: int = 7) -> NeuralNetwork:
    return NeuralNetwork(
        [
            Dense(8, "tanh", weight_init="glorot", dropout=dropout),
            Dense(3, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=seed,
        dtype=dtype,
    )


def trained_mlp(dtype: Any = np.float64, dropout: float = 0.8) -> NeuralNetwork:
    X, y = classification_data()
    net = mlp(dtype, dropout)
    Trainer(net, SGDMomentum(0.1)).fit(X, y, epochs=2, batch_size=32, verbose=False)
    return net


def rewrite(src: Path, dst: Path, header: Any = None, arrays: Any = None) -> Path:
    """Copy a lincoln file, letting ``header(dict)`` and ``arrays(dict)`` edit it."""
    with np.load(src, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    head = json.loads(data.pop(HEADER_KEY).tobytes())
    if header is not None:
        header(head)
    if arrays is not None:
        arrays(data)
    data[HEADER_KEY] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
    with open(dst, "wb") as fh:
        np.savez(fh, **data)
    return dst


@contextlib.contextmanager
def registered(registry: Registry, name: str, cls: type) -> Iterator[None]:
    """A user's class registered under ``name`` for the ``with`` block only."""
    registry.register(name, cls)
    try:
        yield
    finally:
        del registry[name]
