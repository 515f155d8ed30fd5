"""Tests of lincoln.training's callbacks and schedules: hooks, stopping,
learning-rate schedules, and resuming with them."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from lincoln.errors import ConfigError
from lincoln.layers import Dense
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, SGDMomentum
from lincoln.serialization import read_header
from lincoln.training import (
    LAST_CHECKPOINT_FILE,
    Callback,
    CosineAnnealing,
    CSVLogger,
    EarlyStopping,
    History,
    ReduceLROnPlateau,
    StepLR,
    Trainer,
    Warmup,
)


def classifier(dropout: float = 1.0) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(8, "tanh", dropout=dropout), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=4,
        dtype=np.float64,
    )


def data(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, (X[:, :3] + 0.5 * rng.normal(size=(n, 3))).argmax(axis=1)


@pytest.fixture
def overfit(digits64):
    """Validation labels shifted by one: the validation loss soon rises."""
    X_train, _, y_train, _ = digits64
    X, y = X_train[:200], y_train[:200]
    return X, y, X, (y + 1) % 10


def fit(net: NeuralNetwork, optim: Any, **kwargs: Any) -> tuple[Trainer, History]:
    X, y = data()
    Xv, yv = data(30, seed=5)
    options: dict[str, Any] = dict(
        epochs=6, eval_every=1, batch_size=16, seed=11, verbose=False
    )
    options.update(kwargs)
    trainer = Trainer(net, optim)
    return trainer, trainer.fit(X, y, Xv, yv, **options)


class Recorder(Callback):
    """Does nothing but note which hooks ran, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_train_begin(self, trainer: Trainer) -> None:
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch: int) -> None:
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.calls.append(("batch_end", batch))

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        self.calls.append(("evaluate", epoch, sorted(metrics)))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, trainer: Trainer) -> None:
        self.calls.append(("train_end",))


# -- hooks -----------------------------------------------------------------------------


def test_a_do_nothing_callback_changes_nothing() -> None:
    plain_net, with_net = classifier(dropout=0.8), classifier(dropout=0.8)
    _, plain = fit(plain_net, SGDMomentum(0.1), eval_every=2, patience=2)
    recorder = Recorder()
    _, with_cb = fit(
        with_net, SGDMomentum(0.1), eval_every=2, patience=2, callbacks=[recorder]
    )
    for (name, a), (_, b) in zip(
        plain_net.state_dict().items(), with_net.state_dict().items(), strict=True
    ):
        assert np.array_equal(a, b), name
    a, b = plain.to_dict(), with_cb.to_dict()
    a.pop("epoch_time"), b.pop("epoch_time")
    assert a == b
    # and it was called: 6 batches an epoch, an evaluation every second epoch
    calls = recorder.calls
    assert calls[0] == ("train_begin",) and calls[-1] == ("train_end",)
    assert calls[1:9] == [("epoch_begin", 1)] + [("batch_end", i) for i in range(6)] + [
        ("epoch_end", 1, ["loss", "lr"])
    ]
    assert ("evaluate", 2, ["val_accuracy", "val_loss"]) in calls
    assert ("epoch_end", 2, ["loss", "lr", "val_accuracy", "val_loss"]) in calls


class StopAt(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch == self.epoch:
            self.trainer.stop_training = True


def test_a_callback_stops_training_at_epoch_3() -> None:
    net = classifier()
    _, history = fit(
        net, SGD(0.1), epochs=10, early_stopping=False, callbacks=[StopAt(3)]
    )
    assert history.stopped_epoch == 3 and history.stopped_batch is None
    assert history.stop_reason == "callback"
    assert len(history.train_loss) == 3 and history.epochs == [1, 2, 3]
    # no early stopping: the network holds epoch 3's parameters
    assert history.held_epoch == 3
    rerun = classifier()
    fit(rerun, SGD(0.1), epochs=3, early_stopping=False)
    for a, b in zip(net.params(), rerun.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_callback_stopping_in_a_batch_skips_that_update() -> None:
    class StopInBatch(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            if self.trainer.epoch == 2 and batch == 3:
                self.trainer.stop("callback", "enough")

    net = classifier()
    trainer = Trainer(net, SGD(0.1))
    seen: list[list[np.ndarray]] = []

    class Snapshot(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            seen.append([p.copy() for p in self.trainer.net.params()])

    X, y = data()
    history = trainer.fit(
        X,
        y,
        epochs=4,
        batch_size=16,
        verbose=False,
        early_stopping=False,
        callbacks=[StopInBatch(), Snapshot()],
    )
    assert (history.stopped_epoch, history.stopped_batch) == (2, 3)
    assert history.held_epoch is None  # parameters from the middle of epoch 2
    # the parameters before batch 3's update: as the callbacks saw them
    for a, b in zip(net.params(), seen[-1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_callbacks_must_be_callbacks() -> None:
    with pytest.raises(ConfigError, match="fit: callbacks must be Callback objects"):
        fit(classifier(), SGD(0.1), callbacks=[lambda: None])


def test_fit_never_touches_the_loss_checks_or_numpys_global_error_state() -> None:
    seen: list[Any] = []

    class Peek(Callback):
        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            seen.append((self.trainer.net.loss.check_targets, np.geterr()["over"]))

    before = np.geterr()
    net = classifier()
    fit(net, SGD(0.1), epochs=1, callbacks=[Peek()])
    assert all(check for check, _ in seen)  # the per-batch target checks stay on
    assert {over for _, over in seen} == {"ignore"}  # overflow ignored inside fit
    assert np.geterr() == before and net.loss.check_targets is True


def test_a_user_early_stopping_replaces_the_default_and_defines_best(overfit) -> None:
    trainer = Trainer(
        NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1), SGD(0.1)
    )
    stopper = EarlyStopping(patience=2, monitor="val_accuracy")
    history = trainer.fit(
        *overfit,
        epochs=30,
        eval_every=1,
        batch_size=20,
        verbose=False,
        callbacks=[stopper],
    )  # fit's patience=1 and monitor="val_loss" are not used
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch == history.epochs[int(np.argmax(history.val_accuracy))]
    after = [e for e in history.epochs if e > history.best_epoch]
    assert len(after) == 2 and history.held_epoch == history.best_epoch
    assert [type(cb).__name__ for cb in trainer.callbacks].count("EarlyStopping") == 1


def test_early_stopping_without_restore_keeps_the_last_parameters(overfit) -> None:
    net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)
    history = Trainer(net, SGD(0.1)).fit(
        *overfit,
        epochs=30,
        eval_every=1,
        batch_size=20,
        verbose=False,
        callbacks=[EarlyStopping(restore_best=False)],
    )
    assert history.stop_reason == "early_stopping"
    assert history.held_epoch == history.stopped_epoch == history.best_epoch + 1
    rerun = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)
    Trainer(rerun, SGD(0.1)).fit(
        *overfit,
        epochs=history.stopped_epoch,
        eval_every=1,
        batch_size=20,
        verbose=False,
        early_stopping=False,
    )
    for a, b in zip(net.params(), rerun.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_checks_its_arguments() -> None:
    with pytest.raises(ConfigError, match="EarlyStopping: patience must be a positive"):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match="EarlyStopping: monitor must be one of"):
        EarlyStopping(monitor="loss")
    with pytest.raises(ConfigError, match="EarlyStopping: mode must be one of"):
        EarlyStopping(mode="up")


def test_csv_logger_writes_a_row_per_epoch(tmp_path: Path) -> None:
    _, history = fit(
        classifier(),
        SGD(0.1),
        epochs=4,
        eval_every=2,
        early_stopping=False,
        callbacks=[CSVLogger(tmp_path / "log.csv")],
    )
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert [float(r["train_loss"]) for r in rows] == history.train_loss
    assert [r["val_loss"] != "" for r in rows] == [False, True, False, True]


# -- learning-rate schedules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (StepLR(step_size=2, gamma=0.5), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]),
        (
            CosineAnnealing(t_max=4),
            [0.1, 0.1 * (1 + 0.5**0.5) / 2, 0.05, 0.1 * (1 - 0.5**0.5) / 2, 0.0, 0.0],
        ),
        (
            CosineAnnealing(t_max=2, min_lr=0.02),
            [0.1, 0.06, 0.02, 0.02, 0.02, 0.02],
        ),
        (
            Warmup(warmup_epochs=3, start_factor=0.25),
            [0.025, 0.05, 0.075, 0.1, 0.1, 0.1],
        ),
    ],
    ids=["step", "cosine", "cosine-min_lr", "warmup"],
)
def test_schedules_give_the_expected_rates(
    schedule: Callback, expected: list[float]
) -> None:
    _, history = fit(classifier(), SGD(0.1), early_stopping=False, callbacks=[schedule])
    np.testing.assert_allclose(history.lr, expected, rtol=1e-12, atol=1e-15)


def test_a_second_fit_starts_the_schedule_again() -> None:
    trainer, first = fit(
        classifier(), SGD(0.1), early_stopping=False, callbacks=[StepLR(2, 0.5)]
    )
    again = trainer.fit(*data(), epochs=6, verbose=False, callbacks=[StepLR(2, 0.5)])
    assert again.lr == first.lr


def plateau_rates(
    val_loss: list[float], lr: float, patience: int, factor: float
) -> list[float]:
    """The rate of every epoch under ReduceLROnPlateau, evaluating every epoch:
    an independent rendering of its rule."""
    rates, best, wait = [], math.inf, 0
    for loss in val_loss:
        rates.append(lr)
        if loss < best:
            best, wait = loss, 0
        else:
            wait += 1
            if wait == patience:
                lr, wait = lr * factor, 0
    return rates


def test_reduce_lr_on_plateau_lowers_the_rate_after_its_patience(overfit) -> None:
    net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)
    plateau = ReduceLROnPlateau(patience=2, factor=0.5)
    history = Trainer(net, SGD(0.1)).fit(
        *overfit,
        epochs=14,
        eval_every=1,
        batch_size=20,
        verbose=False,
        early_stopping=False,
        callbacks=[plateau],
    )
    assert history.lr == plateau_rates(history.val_loss, 0.1, 2, 0.5)
    assert history.lr[-1] < 0.1 / 2  # it did drop, more than once


def test_reduce_lr_on_plateau_hooks() -> None:
    optim = SimpleNamespace(lr=1.0)
    said: list[str] = []
    plateau = ReduceLROnPlateau(patience=2, factor=0.1, min_lr=0.005, cooldown=1)
    plateau.set_trainer(SimpleNamespace(optim=optim, say=said.append))  # type: ignore[arg-type]
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5], start=1):
        plateau.on_evaluate(epoch, {"val_loss": loss})
        rates.append(optim.lr)
    # drop after 2 bad evaluations; 1 evaluation of cooldown; never below min_lr
    assert rates == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01])
    plateau.on_evaluate(9, {"val_loss": 0.6})
    plateau.on_evaluate(10, {"val_loss": 0.6})
    assert optim.lr == 0.005 and len(said) == 3


def test_schedules_check_their_arguments() -> None:
    with pytest.raises(ConfigError, match="StepLR: step_size must be a positive"):
        StepLR(0)
    with pytest.raises(ConfigError, match="ReduceLROnPlateau: factor"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ConfigError, match="Warmup: start_factor"):
        Warmup(2, start_factor=0.0)


# -- resuming with callbacks -----------------------------------------------------------


def resumable_run(
    epochs: int,
    make_callbacks: Any,
    tmp_path: Path | None = None,
    resume: Path | None = None,
    interrupt_at: int | None = None,
) -> tuple[NeuralNetwork, History]:
    net = classifier(dropout=0.8)
    if interrupt_at is not None:
        step, calls = net.train_batch, {"n": 0}

        def train_batch(
            xb: np.ndarray, yb: np.ndarray, inference: bool = False
        ) -> float:
            calls["n"] += 1
            if calls["n"] == interrupt_at:
                raise KeyboardInterrupt
            return step(xb, yb, inference)

        net.train_batch = train_batch  # type: ignore[method-assign]
    trainer = Trainer(net, SGDMomentum(0.5, momentum=0.9), checkpoint_dir=tmp_path)
    X, y = data()
    Xv, yv = data(30, seed=5)
    try:
        history = trainer.fit(
            *(X, y, Xv, yv),
            epochs=epochs,
            eval_every=1,
            batch_size=16,
            seed=3,
            verbose=False,
            patience=8,
            resume=resume,
            callbacks=make_callbacks(),
        )
    except KeyboardInterrupt:
        history = trainer.history
    return net, history


@pytest.mark.parametrize(
    "make_callbacks",
    [
        lambda: [StepLR(2, 0.7)],
        lambda: [ReduceLROnPlateau(patience=1, factor=0.5)],
        lambda: [Warmup(3), CSVLogger(Path("/dev/null"))],
    ],
    ids=["step", "plateau", "warmup"],
)
def test_resume_with_schedules_is_bit_identical(
    tmp_path: Path, make_callbacks: Any
) -> None:
    net_a, hist_a = resumable_run(8, make_callbacks)
    assert len(set(hist_a.lr)) > 1  # the schedule changed the rate
    lr_at_4 = hist_a.lr[3]
    _, stopped = resumable_run(
        8, make_callbacks, tmp_path, interrupt_at=5 * 6 + 2
    )  # Ctrl-C in epoch 6
    assert (stopped.stop_reason, stopped.stopped_epoch) == ("interrupted", 6)
    saved = read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]
    assert saved["epoch"] == 5
    net_b, hist_b = resumable_run(
        8, make_callbacks, resume=tmp_path / LAST_CHECKPOINT_FILE
    )
    for (name, a), (_, b) in zip(
        net_a.state_dict().items(), net_b.state_dict().items(), strict=True
    ):
        assert np.array_equal(a, b), name
    a, b = hist_a.to_dict(), hist_b.to_dict()
    a.pop("epoch_time"), b.pop("epoch_time")
    assert a == b and hist_b.lr[3] == lr_at_4


def test_model_checkpoint_as_a_user_callback(tmp_path: Path) -> None:
    from lincoln.serialization import load
    from lincoln.training import BEST_MODEL_FILE, ModelCheckpoint

    net = classifier()
    _, history = fit(net, SGD(0.1), callbacks=[ModelCheckpoint(tmp_path / "ck")])
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        BEST_MODEL_FILE,
        LAST_CHECKPOINT_FILE,
    ]
    training = read_header(tmp_path / "ck" / LAST_CHECKPOINT_FILE)["training"]
    assert training["epoch"] == history.stopped_epoch or training["epoch"] == 6
    assert training["callbacks"] == {"EarlyStopping": {"wait": training["bad_evals"]}}
    best = load(tmp_path / "ck" / BEST_MODEL_FILE)
    for a, b in zip(best.params(), net.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stop_with_a_reason_of_ones_own() -> None:
    class Enough(Callback):
        def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
            if metrics["val_accuracy"] > 0.0:
                self.trainer.stop("callback", f"accurate enough at epoch {epoch}")

    _, history = fit(classifier(), SGD(0.1), early_stopping=False, callbacks=[Enough()])
    assert (history.stop_reason, history.stopped_epoch) == ("callback", 1)
    assert len(history.train_loss) == 1 and history.held_epoch == 1
