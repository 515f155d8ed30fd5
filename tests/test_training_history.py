"""Tests of lincoln.training.History: what it records, and which epoch's
parameters the network holds after fit (``held_epoch``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from lincoln.layers import Dense
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD
from lincoln.training import History, Trainer

FIT = dict(epochs=12, eval_every=1, batch_size=20, verbose=False)


def net() -> NeuralNetwork:
    return NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)


@pytest.fixture
def overfit(digits64):
    """Validation labels shifted by one: the validation loss soon rises."""
    X_train, _, y_train, _ = digits64
    X, y = X_train[:200], y_train[:200]
    return X, y, X, (y + 1) % 10


def params_after(epochs: int, data) -> list[np.ndarray]:
    n = net()
    Trainer(n, SGD(0.1)).fit(*data, **{**FIT, "epochs": epochs}, early_stopping=False)
    return n.params()


def test_early_stopping_holds_the_best_epoch(overfit) -> None:
    trainer = Trainer(net(), SGD(0.1))
    history = trainer.fit(*overfit, **FIT)
    assert history.stop_reason == "early_stopping"
    assert history.held_epoch == history.best_epoch < history.stopped_epoch
    for a, b in zip(
        trainer.net.params(), params_after(history.best_epoch, overfit), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_without_early_stopping_the_last_parameters_are_kept(overfit) -> None:
    trainer = Trainer(net(), SGD(0.1))
    history = trainer.fit(*overfit, **FIT, early_stopping=False)
    assert history.stop_reason == "completed"
    assert history.held_epoch == 12 and history.best_epoch < 12  # says which
    assert trainer.evaluate(*overfit[2:])["loss"] == pytest.approx(history.val_loss[-1])
    assert history.val_loss[-1] > history.best_val_loss
    for a, b in zip(trainer.net.params(), params_after(12, overfit), strict=True):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_holds_the_best_epoch_even_without_early_stopping(overfit) -> None:
    trainer = Trainer(net(), SGD(0.1))
    calls = iter(range(1, 10_000))
    train_batch = trainer.net.train_batch

    def interrupt_in_epoch_11(*args) -> float:  # type: ignore[no-untyped-def]
        if next(calls) == 10 * 10 + 4:  # 10 batches an epoch
            raise KeyboardInterrupt
        return train_batch(*args)

    trainer.net.train_batch = interrupt_in_epoch_11  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(*overfit, **FIT, early_stopping=False)
    history = trainer.history
    assert (history.stop_reason, history.stopped_epoch, history.stopped_batch) == (
        "interrupted",
        11,
        3,
    )
    assert history.held_epoch == history.best_epoch == 7  # the loss rises after 7
    for a, b in zip(
        trainer.net.params(), params_after(history.best_epoch, overfit), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_nan_before_any_evaluation_holds_the_starting_parameters(digits) -> None:
    X, _, y, _ = digits
    n = net()
    n.build((64,))
    start = [p.copy() for p in n.params()]
    calls = iter(range(1, 10_000))
    train_batch: Callable[..., float] = n.train_batch
    n.train_batch = lambda *a: math.nan if next(calls) == 3 else train_batch(*a)  # type: ignore[method-assign]
    history = Trainer(n, SGD(0.1)).fit(X[:100], y[:100], epochs=2, verbose=False)
    assert history.stop_reason == "non_finite_loss" and history.held_epoch == 0
    for a, b in zip(n.params(), start, strict=True):
        np.testing.assert_array_equal(a, b)


def test_round_trip_and_older_files() -> None:
    history = History(
        epochs=[2],
        val_loss=[0.5],
        train_loss=[1.0, 0.7],
        lr=[0.1, 0.1],
        best_epoch=2,
        best_val_loss=0.5,
        held_epoch=2,
    )
    assert History.from_dict(history.to_dict()) == history
    older = history.to_dict()
    del older["held_epoch"]  # written before held_epoch existed
    assert History.from_dict({**older, "unknown": 1}).held_epoch is None
    assert "held_epoch=2" in repr(history)
