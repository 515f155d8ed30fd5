"""The benchmark's workloads, their data and lincoln's networks for them.

Every implementation starts from the initial parameters of lincoln's network
(:func:`initial_params`) and trains on the same batches (:func:`batch_slice`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import lincoln
from lincoln import (
    LSTM,
    Dense,
    Embedding,
    Linear,
    NeuralNetwork,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
)
from lincoln.datasets import load_fashion_mnist
from lincoln.layers import Conv2D, Flatten, MaxPool2D

__all__ = [
    "Workload",
    "WORKLOADS",
    "MOMENTUM",
    "CLIP",
    "make_data",
    "batch_slice",
    "lincoln_net",
    "initial_params",
]

MOMENTUM = 0.9  # SGD momentum of W1-W4
CLIP = 5.0  # W5's global gradient-norm limit


@dataclass
class Workload:
    """One network, its batch and its optimizer.

    ``kind`` is ``"mlp"``, ``"conv"`` (W3), ``"cnn"`` (W4) or ``"lstm"`` (W5).
    ``cost`` is how many W1-sized steps one step counts as: a repetition runs
    ``--steps / cost`` steps. An LSTM sample is a sequence of ``seq_len``
    character ids (``input_shape`` holds the vocabulary, the embedding and
    the hidden sizes).
    """

    name: str
    input_shape: tuple[int, ...]
    hidden: tuple[int, ...]
    activation: str  # "sigmoid" | "relu" | "lstm"
    batch: int
    kind: str = "mlp"
    lr: float = 0.1
    cost: int = 1
    seq_len: int = 0

    @property
    def optimizer(self) -> str:
        return "adam" if self.kind == "lstm" else "sgd_momentum"


WORKLOADS = {
    "W1": Workload("W1", (784,), (89,), "sigmoid", 60),
    "W2": Workload("W2", (784,), (256, 128), "relu", 128),
    "W3": Workload("W3", (1, 28, 28), (), "relu", 32, kind="conv"),
    "W4": Workload("W4", (1, 28, 28), (128,), "relu", 64, kind="cnn", lr=0.01),
    # Embedding(62, 64) -> LSTM(256) -> Dense(62) on 64 characters, Adam, clip 5
    "W5": Workload(
        "W5", (62, 64), (256,), "lstm", 32, kind="lstm", lr=2e-3, cost=20, seq_len=64
    ),
}


@functools.cache
def fashion_images() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's training images (N, 1, 28, 28) in [0, 1], read once."""
    X, y, _, _ = load_fashion_mnist(flatten=False, dtype=np.float64, download=False)
    return X, y


def make_data(w: Workload, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples: inputs in ``dtype`` (ids for W5) and integer targets."""
    rng = np.random.default_rng(0)
    if (
        w.kind == "cnn"
    ):  # real images: their zero background makes max-pooling ties common
        X, y = fashion_images()
        return X[:n].astype(dtype), y[:n]
    if w.kind == "lstm":  # a random text; the target is the next character
        text = rng.integers(0, w.input_shape[0], n * w.seq_len + 1)
        return (
            text[:-1].reshape(n, w.seq_len),
            text[1:].reshape(n, w.seq_len),
        )
    X = rng.standard_normal((n, *w.input_shape)).astype(dtype)
    y = rng.integers(0, 10, n)
    return X, y


def batch_slice(w: Workload, n: int, i: int) -> slice:
    """The rows of step ``i`` among ``n`` samples (every runner takes the same)."""
    s = (i * w.batch) % (n - w.batch)
    return slice(s, s + w.batch)


def _layers(w: Workload) -> list[lincoln.layers.Layer]:
    if w.kind == "lstm":
        vocab, dim = w.input_shape
        return [Embedding(vocab, dim), LSTM(w.hidden[0]), Dense(vocab, Linear())]
    if w.kind == "cnn":
        return [
            Conv2D(16, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Conv2D(32, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Flatten(),
            Dense(128, ReLU(), weight_init="he"),
            Dense(10, Linear(), weight_init="glorot"),
        ]
    if w.kind == "conv":
        return [
            Conv2D(8, 3, activation=ReLU(), flatten=True, weight_init="glorot"),
            Dense(10, Linear(), weight_init="glorot"),
        ]
    act = Sigmoid if w.activation == "sigmoid" else ReLU
    layers = [Dense(h, act(), weight_init="glorot") for h in w.hidden]
    return [*layers, Dense(10, Linear(), weight_init="glorot")]


def lincoln_net(w: Workload, dtype: np.dtype) -> NeuralNetwork:
    """lincoln's network for ``w``, built (its parameters exist)."""
    seed = 5 if w.kind == "lstm" else 1
    net = NeuralNetwork(_layers(w), SoftmaxCrossEntropy(), seed=seed, dtype=dtype)
    net.build((w.seq_len,) if w.kind == "lstm" else w.input_shape)
    return net


def initial_params(w: Workload, dtype: np.dtype) -> list[np.ndarray]:
    """lincoln's initial parameters, so every implementation starts alike."""
    return [p.copy() for p in lincoln_net(w, dtype).params()]
