"""Shared fixtures: a seeded generator, the bundled digits, strict numerics, and
an independent central-difference reference.

Everything here is small on purpose: the whole suite runs in well under a minute.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from lincoln import Dense, NeuralNetwork, Operation, SoftmaxCrossEntropy
from lincoln.datasets import load_digits, train_test_split


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for test data (never the global np.random)."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The bundled digits as float32 ``X_train, X_test, y_train, y_test``
    (70/30, stratified, seeded). Read-only: tests must not modify them."""
    X, y = load_digits()
    parts = train_test_split(X, y, test_fraction=0.3, seed=0, stratify=True)
    for part in parts:
        part.setflags(write=False)
    return parts


@pytest.fixture(scope="session")
def digits64() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same split as ``digits`` in float64."""
    X, y = load_digits(dtype=np.float64)
    parts = train_test_split(X, y, test_fraction=0.3, seed=0, stratify=True)
    for part in parts:
        part.setflags(write=False)
    return parts


@contextmanager
def strict_numerics(underflow: bool = False) -> Iterator[None]:
    """Turn every warning into an error and make NumPy raise on overflow,
    invalid values and division by zero (the events NumPy warns about by
    default); with ``underflow=True`` also on underflow, i.e. ``all="raise"``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if underflow:
            with np.errstate(all="raise"):
                yield
        else:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                yield


@pytest.fixture
def no_warnings() -> Callable[..., object]:
    """``with no_warnings(): ...`` fails the test on any warning or FP error."""
    return strict_numerics


def _central_difference(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """d f / d x by central differences; ``f`` reads ``x``, perturbed in place."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + eps
        f_plus = f()
        x[idx] = original - eps
        f_minus = f()
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


@pytest.fixture
def central_difference() -> Callable[..., np.ndarray]:
    """``central_difference(f, x, eps=1e-6)``: the suite's one minimal
    central-difference gradient, written independently of lincoln.gradcheck so
    that the tests of that module have something to compare it with. Every
    other gradient check goes through lincoln.gradcheck."""
    return _central_difference


class UserSquare(Operation):
    """An operation written the way the book's readers write one: ``_output``
    and ``_input_grad`` only."""

    def _output(self) -> np.ndarray:
        return self.input_**2

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2 * self.input_ * output_grad


@pytest.fixture
def user_op() -> Operation:
    """A fresh user-written operation (:class:`UserSquare`)."""
    return UserSquare()


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def tiny_net(request: pytest.FixtureRequest) -> NeuralNetwork:
    """A small built classifier (5 features, 4 tanh units, 3 classes), once
    per dtype."""
    net = NeuralNetwork(
        [Dense(4, "tanh"), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=0,
        dtype=request.param,
    )
    net.build((5,))
    return net
