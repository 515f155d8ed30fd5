"""Tests of lincoln.training.data and fit's validation data: the seeded,
stratified validation split, and a test set that fit never sees."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lincoln.errors import ConfigError, DataError
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD
from lincoln.training import Trainer, split_validation


def imbalanced_labels(rng: np.random.Generator) -> np.ndarray:
    # classes of 3, 10, 31 and 56 samples, shuffled
    y = np.repeat(np.arange(4), [3, 10, 31, 56])
    return rng.permutation(y)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.73])
def test_the_split_is_stratified_disjoint_and_complete(rng, fraction) -> None:
    y = imbalanced_labels(rng)
    train, val = split_validation(y, fraction, seed=3, stratify=True)
    assert len(val) == round(100 * fraction)
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    for part in (train, val):
        for c in range(4):
            share_of_whole = np.mean(y == c) * len(part)
            assert abs(np.sum(y[part] == c) - share_of_whole) < 1  # within one sample


def test_the_split_is_seeded(rng) -> None:
    y = imbalanced_labels(rng)
    a = split_validation(y, 0.2, seed=7, stratify=True)
    b = split_validation(y, 0.2, seed=7, stratify=True)
    c = split_validation(y, 0.2, seed=8, stratify=True)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_one_hot_targets_are_stratified_and_regression_is_not(rng) -> None:
    y = imbalanced_labels(rng)
    _, by_labels = split_validation(y, 0.2, seed=1, stratify=True)
    _, by_rows = split_validation(np.eye(4)[y], 0.2, seed=1, stratify=True)
    np.testing.assert_array_equal(by_labels, by_rows)
    train, val = split_validation(rng.normal(size=(10, 1)), 0.3, seed=1, stratify=False)
    assert (len(train), len(val)) == (7, 3)
    # at least one sample on each side
    assert [len(p) for p in split_validation(np.arange(3), 0.01, 1, False)] == [2, 1]
    with pytest.raises(DataError, match="at least 2 samples"):
        split_validation(np.arange(1), 0.5, 1, False)


def classifier() -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(16, "tanh"), Dense(10, "linear")], SoftmaxCrossEntropy(), seed=2
    )


def test_validation_split_trains_on_the_rest_and_validates_on_the_held_out(
    digits,
) -> None:
    X, _, y, _ = digits
    X, y = X[:300], y[:300]
    train, val = split_validation(y, 0.2, seed=5, stratify=True)
    split = Trainer(classifier(), SGD(0.1))
    h1 = split.fit(
        X, y, epochs=3, eval_every=1, seed=5, verbose=False, validation_split=0.2
    )
    by_hand = Trainer(classifier(), SGD(0.1))
    h2 = by_hand.fit(
        X[train],
        y[train],
        X[val],
        y[val],
        epochs=3,
        eval_every=1,
        seed=5,
        verbose=False,
    )
    assert h1.val_loss == h2.val_loss and h1.train_loss == h2.train_loss
    for a, b in zip(split.net.params(), by_hand.net.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def _rows(arrays: list[np.ndarray]) -> set[bytes]:
    return {row.tobytes() for a in arrays for row in np.asarray(a, np.float32)}


def test_the_test_set_is_never_seen_before_the_final_evaluation(digits) -> None:
    X_train, X_test, y_train, y_test = digits
    net = classifier()
    seen: list[np.ndarray] = []
    forward = net.forward

    def recording_forward(x: Any, inference: bool = False) -> np.ndarray:
        seen.append(np.array(x, copy=True))
        return forward(x, inference)

    net.forward = recording_forward  # type: ignore[method-assign]
    trainer = Trainer(net, SGD(0.1))
    history = trainer.fit(
        X_train[:400],
        y_train[:400],
        epochs=6,
        eval_every=2,
        verbose=False,
        validation_split=0.2,
    )
    assert history.epochs == [2, 4, 6]
    test_rows = _rows([X_test])
    assert seen and not (_rows(seen) & test_rows)  # not one test sample
    assert _rows(seen) == _rows([X_train[:400]])  # all training samples
    seen.clear()
    result = trainer.evaluate(X_test, y_test)
    assert _rows(seen) == test_rows and 0 <= result["accuracy"] <= 1


def test_validation_data_is_the_books_X_test_y_test(digits) -> None:
    X, Xv, y, yv = digits
    a = Trainer(classifier(), SGD(0.1)).fit(
        X[:200], y[:200], Xv[:50], yv[:50], epochs=2, eval_every=1, verbose=False
    )
    b = Trainer(classifier(), SGD(0.1)).fit(
        X[:200],
        y[:200],
        epochs=2,
        eval_every=1,
        verbose=False,
        validation_data=(Xv[:50], yv[:50]),
    )
    assert a.val_loss == b.val_loss and len(a.val_loss) == 2


def test_validation_comes_from_one_place_only(digits) -> None:
    X, Xv, y, yv = digits
    trainer = Trainer(classifier(), SGD(0.1))
    with pytest.raises(ConfigError, match="give validation_split or validation data"):
        trainer.fit(X, y, Xv, yv, verbose=False, validation_split=0.1)
    with pytest.raises(ConfigError, match="give validation_split or validation data"):
        trainer.fit(X, y, verbose=False, validation_split=0.1, validation_data=(Xv, yv))
    for bad in (0, 1, 1.5, -0.1, True, "0.1"):
        with pytest.raises(ConfigError, match="validation_split must be a fraction"):
            trainer.fit(X, y, verbose=False, validation_split=bad)


def test_fit_keeps_the_books_positional_order(digits) -> None:
    X, Xv, y, yv = digits
    trainer = Trainer(classifier(), SGD(0.1))
    # X_train, y_train, X_test, y_test, epochs, eval_every, batch_size, seed,
    # single_output, restart, early_stopping, conv_testing
    history = trainer.fit(
        X[:96],
        y[:96],
        Xv[:30],
        yv[:30],
        4,
        2,
        48,
        3,
        True,
        True,
        False,
        False,
        verbose=False,
    )
    assert len(history.train_loss) == 4 and history.epochs == [2, 4]
    assert history.stop_reason == "completed"
    with pytest.raises(TypeError):  # lincoln's own options are keyword-only
        trainer.fit(X, y, Xv, yv, 4, 2, 48, 3, False, True, False, False, 2)


def test_a_resumed_split_uses_the_saved_seed(digits, tmp_path) -> None:
    X, _, y, _ = digits
    X, y = X[:200], y[:200]

    def run(epochs: int, **kwargs: Any) -> Trainer:
        trainer = Trainer(classifier(), SGD(0.1), checkpoint_dir=tmp_path)
        trainer.fit(
            X,
            y,
            epochs=epochs,
            eval_every=1,
            verbose=False,
            validation_split=0.25,
            patience=5,
            **kwargs,
        )
        return trainer

    whole = run(4, seed=9)
    run(2, seed=9)
    resumed = run(4, seed=123, resume=tmp_path / "last.ckpt.npz")  # seed ignored
    assert resumed.history.val_loss == whole.history.val_loss
    for a, b in zip(whole.net.params(), resumed.net.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_regressor_splits_without_strata(rng) -> None:
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    net = NeuralNetwork([Dense(1, "linear")], MeanSquaredError(), seed=0)
    history = Trainer(net, SGD(0.01)).fit(
        X, y, epochs=2, eval_every=1, verbose=False, validation_split=0.25
    )
    assert len(history.val_loss) == 2


def test_data_the_network_cannot_take_is_named_with_its_own_shape(rng) -> None:
    # the network is probed with one sample; the error shows the whole array
    from lincoln.errors import ShapeError
    from lincoln.layers import Conv2D

    X = rng.random((20, 64)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    net = NeuralNetwork(
        [Conv2D(2, 3, flatten=True), Dense(3)], SoftmaxCrossEntropy(), seed=0
    )
    with pytest.raises(ShapeError, match=r"^fit: X_train of shape \(20, 64\): Conv2D"):
        Trainer(net, SGD(0.1)).fit(X, y, epochs=1, progress=False)
