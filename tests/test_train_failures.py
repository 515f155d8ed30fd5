"""Training that goes wrong: NaN losses, Ctrl-C, and data that does not fit.

Whatever happens, ``fit`` ends with the best parameters it saw and a history that
says where it stopped; bad data is refused with one named error before training
starts, or converted in a documented way (see ``lincoln.train.check_data``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lincoln import serialization
from lincoln.errors import ConfigError, DataError, ShapeError
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD
from lincoln.serialization import load, read_header
from lincoln.train import BEST_MODEL_FILE, LAST_CHECKPOINT_FILE, Trainer, check_data

BATCHES = 4  # 64 training samples in batches of 16


def classifier(classes: int = 3) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(8, "tanh", weight_init="glorot"), Dense(classes, weight_init="glorot")],
        SoftmaxCrossEntropy(),
        seed=1,
        dtype=np.float64,
    )


def regressor() -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(4, "linear"), Dense(1, "linear")],
        MeanSquaredError(),
        seed=1,
        dtype=np.float64,
    )


def labels_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X[:, :3].argmax(axis=1)


def regression_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, 2.0, 3.0])


def blow_up_at(net: NeuralNetwork, call: int) -> None:
    """Make the ``call``-th training batch diverge: its parameters become inf, as
    after a too-large step, so the loss of that batch is not finite."""
    step = net.train_batch
    calls = {"n": 0}

    def train_batch(xb: np.ndarray, yb: np.ndarray, inference: bool = False) -> float:
        calls["n"] += 1
        if calls["n"] == call:
            net.params()[0][...] = np.inf
        return step(xb, yb, inference)

    net.train_batch = train_batch  # type: ignore[method-assign, assignment]


def interrupt_at(net: NeuralNetwork, call: int) -> None:
    """Raise KeyboardInterrupt (Ctrl-C) inside the ``call``-th training batch."""
    step = net.train_batch
    calls = {"n": 0}

    def train_batch(xb: np.ndarray, yb: np.ndarray, inference: bool = False) -> float:
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return step(xb, yb, inference)

    net.train_batch = train_batch  # type: ignore[method-assign, assignment]


def params_at_epoch(epochs: int, **kwargs: Any) -> list[np.ndarray]:
    """Parameters of an untroubled run of ``epochs`` epochs (same seeds)."""
    net = classifier()
    X, y = labels_data()
    Trainer(net, SGD(0.1)).fit(
        X, y, epochs=epochs, batch_size=16, verbose=False, **kwargs
    )
    return [p.copy() for p in net.params()]


# -- a loss that becomes NaN or Inf ----------------------------------------------------


def test_non_finite_loss_stops_and_restores_the_best(
    caplog: pytest.LogCaptureFixture,
) -> None:
    X, y = labels_data()
    Xv, yv = labels_data(32, seed=1)
    net = classifier()
    blow_up_at(net, 2 * BATCHES + 3)  # epoch 3, batch 2
    with (
        caplog.at_level(logging.WARNING, logger="lincoln.train"),
        np.errstate(all="ignore"),
    ):
        history = Trainer(net, SGD(0.1)).fit(
            X,
            y,
            Xv,
            yv,
            epochs=5,
            eval_every=1,
            batch_size=16,
            verbose=False,
            patience=5,
        )
    assert history.stop_reason == "non_finite_loss"
    assert (history.stopped_epoch, history.stopped_batch) == (3, 2)
    assert len(history.train_loss) == 2 and history.epochs == [1, 2]
    assert "loss became" in caplog.text and "epoch 3, batch 2" in caplog.text
    assert all(np.isfinite(p).all() for p in net.params())
    best = params_at_epoch(history.best_epoch)  # type: ignore[arg-type]
    for got, want in zip(net.params(), best, strict=True):
        np.testing.assert_array_equal(got, want)


def test_non_finite_loss_before_any_evaluation_restores_the_start() -> None:
    X, y = labels_data()
    net = classifier()
    net.build((5,))
    start = [p.copy() for p in net.params()]
    blow_up_at(net, 2)
    with np.errstate(all="ignore"):
        history = Trainer(net, SGD(0.1)).fit(
            X, y, epochs=3, batch_size=16, verbose=False
        )
    assert (history.stop_reason, history.stopped_epoch, history.stopped_batch) == (
        "non_finite_loss",
        1,
        1,
    )
    for got, want in zip(net.params(), start, strict=True):
        np.testing.assert_array_equal(got, want)


def test_non_finite_loss_never_reaches_the_checkpoint(tmp_path: Path) -> None:
    X, y = labels_data()
    net = classifier()
    blow_up_at(net, 2 * BATCHES + 1)
    with np.errstate(all="ignore"):
        history = Trainer(net, SGD(0.1), checkpoint_dir=tmp_path).fit(
            X, y, epochs=5, batch_size=16, verbose=False
        )
    assert history.stop_reason == "non_finite_loss"
    ckpt = serialization.load_checkpoint(tmp_path / LAST_CHECKPOINT_FILE)
    assert ckpt.training["epoch"] == 2
    assert all(np.isfinite(p).all() for p in ckpt.net.params())
    assert [p.name for p in tmp_path.iterdir()] == [LAST_CHECKPOINT_FILE]


def test_divergence_from_a_huge_learning_rate_is_caught() -> None:
    X, y = regression_data()
    net = regressor()
    with np.errstate(all="ignore"):
        history = Trainer(net, SGD(lr=1.0)).fit(
            X, y, epochs=20, batch_size=16, verbose=False
        )
    assert history.stop_reason == "non_finite_loss"
    assert history.stopped_epoch is not None and history.stopped_batch is not None
    assert all(np.isfinite(p).all() for p in net.params())


# -- Ctrl-C ----------------------------------------------------------------------------


def test_keyboard_interrupt_stops_cleanly_and_restores_the_best() -> None:
    X, y = labels_data()
    Xv, yv = labels_data(32, seed=1)
    net = classifier()
    interrupt_at(net, 2 * BATCHES + 2)  # epoch 3, batch 1
    trainer = Trainer(net, SGD(0.1))
    with pytest.raises(KeyboardInterrupt):  # raised again, after the restore
        trainer.fit(
            X,
            y,
            Xv,
            yv,
            epochs=5,
            eval_every=1,
            batch_size=16,
            verbose=False,
            patience=5,
        )
    history = trainer.history
    assert history is not None and history.held_epoch == history.best_epoch
    assert history.interrupted and history.stop_reason == "interrupted"
    assert (history.stopped_epoch, history.stopped_batch) == (3, 1)
    assert len(history.train_loss) == 2 and history.epochs == [1, 2]  # history kept
    best = params_at_epoch(history.best_epoch)  # type: ignore[arg-type]
    for got, want in zip(net.params(), best, strict=True):
        np.testing.assert_array_equal(got, want)


def test_checkpoint_files_are_intact_after_an_interrupt(tmp_path: Path) -> None:
    X, y = labels_data()
    Xv, yv = labels_data(32, seed=1)
    net = classifier()
    interrupt_at(net, 2 * BATCHES + 2)
    trainer = Trainer(net, SGD(0.1), checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(
            X,
            y,
            Xv,
            yv,
            epochs=5,
            eval_every=1,
            batch_size=16,
            verbose=False,
            patience=5,
        )
    assert trainer.history is not None and trainer.history.interrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        BEST_MODEL_FILE,
        LAST_CHECKPOINT_FILE,
    ]
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 2
    best = load(tmp_path / BEST_MODEL_FILE)
    for got, want in zip(best.params(), net.params(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_interrupt_while_writing_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of writing last.ckpt.npz: the previous one survives."""
    X, y = labels_data()
    real_savez = np.savez
    writes = {"n": 0}

    def savez(file: Any, *args: Any, **kwds: Any) -> None:
        writes["n"] += 1
        if writes["n"] == 3:  # the checkpoint of epoch 3
            file.write(b"PK\x03\x04 partial")
            raise KeyboardInterrupt
        real_savez(file, *args, **kwds)

    monkeypatch.setattr(np, "savez", savez)
    trainer = Trainer(classifier(), SGD(0.1), checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, y, epochs=5, batch_size=16, verbose=False)
    monkeypatch.undo()
    history = trainer.history
    assert history is not None
    assert (history.stop_reason, history.stopped_epoch) == ("interrupted", 3)
    assert [p.name for p in tmp_path.iterdir()] == [LAST_CHECKPOINT_FILE]
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 2
    serialization.load_checkpoint(tmp_path / LAST_CHECKPOINT_FILE)


# -- data that does not fit ------------------------------------------------------------


@pytest.mark.parametrize("which", ["X_train", "y_train", "X_test", "y_test"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_data_is_refused(which: str, bad: float) -> None:
    X, y = regression_data()
    data: dict[str, Any] = {
        "X_train": X.copy(),
        "y_train": y.copy(),
        "X_test": X[:8].copy(),
        "y_test": y[:8].copy(),
    }
    data[which].flat[5] = bad
    with pytest.raises(
        DataError,
        match=rf"{which} contains 1 NaN or Inf values \(first "
        r"at index",
    ):
        Trainer(regressor(), SGD(0.01)).fit(**data, epochs=1, verbose=False)


def test_nan_labels_are_refused() -> None:
    X, y = labels_data()
    y = y.astype(float)
    y[3] = np.nan
    with pytest.raises(DataError, match="labels must be integers"):
        Trainer(classifier(), SGD(0.1)).fit(X, y, epochs=1, verbose=False)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.empty((0, 5)), np.empty((0,), dtype=int), "X_train is empty"),
        (np.ones((4, 5)), np.empty((0,), dtype=int), "y_train is empty"),
        (np.float64(1.0), np.ones(1, dtype=int), "X_train is empty"),
    ],
)
def test_empty_arrays_are_refused(X: Any, y: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        Trainer(classifier(), SGD(0.1)).fit(X, y, epochs=1, verbose=False)


def test_non_numeric_arrays_are_refused() -> None:
    X, y = labels_data()
    with pytest.raises(
        DataError, match="X_train must be a numeric array, received dtype <U"
    ):
        Trainer(classifier(), SGD(0.1)).fit(X.astype(str), y, epochs=1, verbose=False)
    with pytest.raises(DataError, match="y_train must be a numeric array"):
        Trainer(classifier(), SGD(0.1)).fit(
            X, y.astype(object), epochs=1, verbose=False
        )


def test_integer_and_boolean_inputs_are_converted() -> None:
    X, y = labels_data()
    Xi = np.round(X * 10).astype(np.int32)
    Xc, yc = check_data(classifier(), Xi, y, "train")
    assert Xc.dtype == np.float64 and np.array_equal(Xc, Xi)
    assert yc.dtype == np.int64
    Xb, _ = check_data(classifier(), Xi > 0, y, "train")
    assert Xb.dtype == np.float64 and set(np.unique(Xb)) <= {0.0, 1.0}
    # integer inputs train exactly like the same values given as floats
    a, b = classifier(), classifier()
    Trainer(a, SGD(0.1)).fit(Xi, y, epochs=2, verbose=False)
    Trainer(b, SGD(0.1)).fit(Xi.astype(np.float64), y, epochs=2, verbose=False)
    for p, q in zip(a.params(), b.params(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_label_column_is_flattened_for_softmax() -> None:
    X, y = labels_data()
    _, yc = check_data(classifier(), X, y.reshape(-1, 1), "train")
    assert yc.shape == (64,) and yc.dtype == np.int64
    a, b = classifier(), classifier()
    ha = Trainer(a, SGD(0.1)).fit(
        X, y.reshape(-1, 1), X, y.reshape(-1, 1), epochs=2, eval_every=1, verbose=False
    )
    hb = Trainer(b, SGD(0.1)).fit(X, y, X, y, epochs=2, eval_every=1, verbose=False)
    assert ha.val_loss == hb.val_loss and ha.val_accuracy == hb.val_accuracy


def test_float_labels_holding_integers_are_accepted() -> None:
    X, y = labels_data()
    _, yc = check_data(classifier(), X, y.astype(np.float32), "train")
    assert yc.dtype == np.int64 and np.array_equal(yc, y)


def test_one_hot_targets_are_kept() -> None:
    X, y = labels_data()
    onehot = np.eye(3)[y]
    _, yc = check_data(classifier(), X, onehot, "train")
    assert yc.shape == (64, 3) and yc.dtype == np.float64


def test_flat_targets_become_a_column_for_one_output() -> None:
    X, y = regression_data()
    _, yc = check_data(regressor(), X, y, "train")
    assert yc.shape == (64, 1)
    a, b = regressor(), regressor()
    ha = Trainer(a, SGD(0.01)).fit(X, y, X, y, epochs=2, eval_every=1, verbose=False)
    hb = Trainer(b, SGD(0.01)).fit(
        X, y.reshape(-1, 1), X, y.reshape(-1, 1), epochs=2, eval_every=1, verbose=False
    )
    assert ha.val_loss == hb.val_loss


@pytest.mark.parametrize(
    "labels, match",
    [
        (
            [0, 1, 3],
            r"labels must be in \[0, 3\) to fit the network's 3 outputs, received "
            r"labels from 0 to 3",
        ),
        ([0, -1, 2], r"labels must be in \[0, 3\).*from -1 to 2"),
        ([0.0, 1.5, 2.0], "labels must be integers 0..2, received dtype float64"),
    ],
)
def test_labels_that_do_not_fit_the_output_width(labels: list[Any], match: str) -> None:
    X = np.ones((3, 5))
    with pytest.raises(DataError, match=match):
        Trainer(classifier(3), SGD(0.1)).fit(
            X, np.array(labels), epochs=1, verbose=False
        )


def test_targets_of_the_wrong_width_are_refused() -> None:
    X, _ = labels_data()
    with pytest.raises(
        ShapeError,
        match=r"y_train must have shape \(samples, 3\).*"
        r"received shape \(64, 4\)",
    ):
        Trainer(classifier(3), SGD(0.1)).fit(
            X, np.zeros((64, 4)), epochs=1, verbose=False
        )
    with pytest.raises(ShapeError, match=r"y_train must have shape \(samples, 1\)"):
        Trainer(regressor(), SGD(0.1)).fit(
            X[:, :3], np.zeros((64, 2)), epochs=1, verbose=False
        )


def test_mismatched_sample_counts() -> None:
    X, y = labels_data()
    with pytest.raises(DataError, match="X_train has 64 samples but y_train has 63"):
        Trainer(classifier(), SGD(0.1)).fit(X, y[:-1], epochs=1, verbose=False)


def test_inputs_without_a_batch_axis() -> None:
    with pytest.raises(
        ShapeError,
        match=r"X_train must have shape \(samples, "
        r"features...\), received shape \(5,\)",
    ):
        Trainer(classifier(), SGD(0.1)).fit(
            np.ones(5), np.zeros(5, dtype=int), epochs=1, verbose=False
        )


def test_inputs_of_the_wrong_width_for_a_built_network() -> None:
    X, y = labels_data()
    net = classifier()
    net.build((4,))
    with pytest.raises(
        ShapeError,
        match=r"fit: X_train has samples of shape \(5,\), but the network was built "
        r"for samples of shape \(4,\)",
    ):
        Trainer(net, SGD(0.1)).fit(X, y, epochs=1, verbose=False, restart=False)


def test_validation_data_needs_both_halves() -> None:
    X, y = labels_data()
    with pytest.raises(DataError, match="give both X_test and y_test"):
        Trainer(classifier(), SGD(0.1)).fit(X, y, X, None, epochs=1, verbose=False)


def test_bad_data_is_refused_before_anything_changes() -> None:
    X, y = labels_data()
    net = classifier()
    trainer = Trainer(net, SGD(0.1))
    trainer.fit(X, y, epochs=2, verbose=False)
    before = [p.copy() for p in net.params()]
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError):
        trainer.fit(bad, y, epochs=2, verbose=False, restart=False)
    for got, want in zip(net.params(), before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("checkpoint_dir", [3, 1.5, object()])
def test_checkpoint_dir_must_be_a_path(checkpoint_dir: Any) -> None:
    with pytest.raises(ConfigError, match="checkpoint_dir must be a path"):
        Trainer(classifier(), SGD(0.1), checkpoint_dir=checkpoint_dir)
