"""Tests of lincoln.train: Trainer.fit's validation, loop, early stopping, recovery."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import textwrap
from collections.abc import Callable

import numpy as np
import pytest

from lincoln.errors import ConfigError, DataError, ShapeError
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, Adam, SGDMomentum
from lincoln.train import Callback, History, Trainer, sample_shape_mismatch


def _linear_classifier(seed: int = 1) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(10, "linear")], SoftmaxCrossEntropy(), seed=seed, dtype=np.float64
    )


@pytest.fixture
def overfit(digits64):
    """200 training digits, validated on the same images with the labels shifted by
    one: the validation loss falls for a few epochs, then rises as the network
    learns the true labels. Returns (X, y, X_val, y_val)."""
    X_train, _, y_train, _ = digits64
    X, y = X_train[:200], y_train[:200]
    return X, y, X, (y + 1) % 10


class _Recording(Callback):
    """Copies of the parameters at every evaluation, by evaluation number."""

    def __init__(self) -> None:
        self.seen: dict[int, list[np.ndarray]] = {}

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        params = [p.copy() for p in self.trainer.net.params()]
        self.seen[len(self.seen) + 1] = params


def _first(
    digits: tuple[np.ndarray, ...], n_train: int, n_test: int = 50
) -> tuple[np.ndarray, ...]:
    """The first ``n_train`` training and ``n_test`` test samples of a
    ``digits`` fixture, in the order fit takes them: X, y, X_test, y_test."""
    X_train, X_test, y_train, y_test = digits
    return X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]


def _wrap_train_batch(net: NeuralNetwork, wrapper: Callable[..., float]) -> None:
    """Route each ``net.train_batch(xb, yb)`` through ``wrapper(n, train, xb)``:
    ``n`` counts the calls from 1, ``train()`` runs the real train_batch."""
    original = net.train_batch
    calls = itertools.count(1)

    def train_batch(xb, yb, *args, **kwargs):
        return wrapper(next(calls), lambda: original(xb, yb, *args, **kwargs), xb)

    net.train_batch = train_batch  # type: ignore[method-assign]


FIT = dict(epochs=30, eval_every=1, batch_size=20, verbose=False)


# -- early stopping --------------------------------------------------------------------


def test_early_stopping_ends_with_the_best_evaluations_parameters(overfit) -> None:
    trainer = Trainer(_linear_classifier(), SGD(0.1))
    recording = _Recording()
    history = trainer.fit(*overfit, **FIT, callbacks=[recording])
    seen = recording.seen
    assert history.stop_reason == "early_stopping"
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == history.epochs[best] > 1
    assert history.best_val_loss == min(history.val_loss)
    assert history.stopped_epoch == history.epochs[-1] == history.best_epoch + 1
    assert len(history.train_loss) == history.stopped_epoch
    for p, q in zip(trainer.net.params(), seen[history.best_epoch], strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(trainer.net.params()[0], seen[history.stopped_epoch][0])
    assert trainer.evaluate(*overfit[2:])["loss"] == pytest.approx(
        history.best_val_loss
    )


def test_early_stopping_params_equal_a_run_that_stops_at_the_best_epoch(
    overfit,
) -> None:
    stopped = Trainer(_linear_classifier(), SGD(0.1))
    history = stopped.fit(*overfit, **FIT)
    rerun = Trainer(_linear_classifier(), SGD(0.1))
    rerun.fit(*overfit, **{**FIT, "epochs": history.best_epoch}, early_stopping=False)
    for p, q in zip(stopped.net.params(), rerun.net.params(), strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("patience", [2, 4])
def test_patience_tolerates_that_many_non_improving_evaluations(
    overfit, patience
) -> None:
    trainer = Trainer(_linear_classifier(), SGD(0.1))
    recording = _Recording()
    history = trainer.fit(*overfit, **FIT, patience=patience, callbacks=[recording])
    seen = recording.seen
    assert history.stop_reason == "early_stopping"
    after = [
        loss
        for e, loss in zip(history.epochs, history.val_loss, strict=True)
        if e > history.best_epoch
    ]
    assert len(after) == patience
    assert all(loss >= history.best_val_loss for loss in after)
    for p, q in zip(trainer.net.params(), seen[history.best_epoch], strict=True):
        np.testing.assert_array_equal(p, q)


def test_min_delta_demands_a_real_improvement(overfit) -> None:
    plain = Trainer(_linear_classifier(), SGD(0.1)).fit(*overfit, **FIT)
    strict = Trainer(_linear_classifier(), SGD(0.1)).fit(
        *overfit, **FIT, min_delta=0.05
    )
    assert strict.best_epoch < plain.best_epoch
    with pytest.raises(ConfigError, match=r"fit: min_delta must be >= 0"):
        Trainer(_linear_classifier(), SGD(0.1)).fit(*overfit, **FIT, min_delta=-1)


def test_without_early_stopping_training_runs_every_epoch(overfit) -> None:
    history = Trainer(_linear_classifier(), SGD(0.1)).fit(
        *overfit, **FIT, early_stopping=False
    )
    assert history.stop_reason == "completed" and history.stopped_epoch is None
    assert len(history.train_loss) == len(history.epochs) == 30


def test_same_seed_gives_bit_identical_parameters(digits) -> None:
    def run() -> list[np.ndarray]:
        net = NeuralNetwork(
            [Dense(16, "relu", dropout=0.8), Dense(10, "linear")],
            SoftmaxCrossEntropy(),
            seed=5,
        )
        Trainer(net, SGDMomentum(0.1, momentum=0.9)).fit(
            *_first(digits, 300, 100),
            epochs=4,
            eval_every=2,
            batch_size=32,
            seed=11,
            verbose=False,
        )
        return net.params()

    for p, q in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_fit_twice_with_restart_is_identical_and_without_continues(digits) -> None:
    data = _first(digits, 300, 100)
    kwargs = dict(
        epochs=3, eval_every=1, batch_size=32, verbose=False, early_stopping=False
    )
    trainer = Trainer(
        NeuralNetwork([Dense(16, "tanh"), Dense(10, "linear")], SoftmaxCrossEntropy()),
        Adam(0.01),
    )
    first = trainer.fit(*data, **kwargs)
    after_first = [p.copy() for p in trainer.net.params()]
    again = trainer.fit(*data, **kwargs)  # restart=True: from the same initial weights
    assert again.train_loss == first.train_loss
    for p, q in zip(trainer.net.params(), after_first, strict=True):
        np.testing.assert_array_equal(p, q)
    more = trainer.fit(*data, **kwargs, restart=False)
    assert more.train_loss[0] < first.train_loss[0]
    assert more.train_loss[0] == pytest.approx(first.train_loss[-1], rel=0.5)
    assert not np.array_equal(trainer.net.params()[0], after_first[0])


def test_restart_false_never_loses_the_previous_best(overfit) -> None:
    """Continuing (restart=False) from a best model that no later evaluation beats
    must end with that model, not with the worse parameters that followed it."""
    trainer = Trainer(_linear_classifier(), SGD(0.1))
    trainer.fit(*overfit, **FIT)
    best = [p.copy() for p in trainer.net.params()]
    history = trainer.fit(*overfit, **FIT, restart=False)
    assert history.stop_reason == "early_stopping" and history.best_epoch is None
    for p, q in zip(trainer.net.params(), best, strict=True):
        np.testing.assert_array_equal(p, q)


# -- training end to end ---------------------------------------------------------------


def test_float64_network_trains_end_to_end(digits64) -> None:
    X_train, X_test, y_train, y_test = digits64
    net = NeuralNetwork(
        [
            Dense(32, "tanh", weight_init="glorot"),
            Dense(10, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=3,
        dtype=np.float64,
    )
    history = Trainer(net, SGDMomentum(0.1, momentum=0.9)).fit(
        X_train,
        y_train,
        X_test,
        y_test,
        epochs=4,
        eval_every=2,
        batch_size=32,
        verbose=False,
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_accuracy[-1] > 0.9
    assert all(p.dtype == np.float64 for p in net.params())


@pytest.mark.parametrize(
    "optim",
    [SGD(0.1), SGDMomentum(0.1, momentum=0.9), Adam(0.01)],
    ids=["SGD", "SGDMomentum", "Adam"],
)
def test_float32_network_keeps_float32_parameters(optim, digits64) -> None:
    net = NeuralNetwork(
        [Dense(16, "relu"), Dense(10, "linear")], SoftmaxCrossEntropy(), seed=0
    )
    history = Trainer(net, optim).fit(  # float64 data is cast, not the net upcast
        *_first(digits64, 300, 100), epochs=2, eval_every=1, verbose=False
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert all(p.dtype == np.float32 for p in net.params())
    assert all(g.dtype == np.float32 for g in net.param_grads())


def test_one_hot_targets_and_regression_targets(digits) -> None:
    X, y = _first(digits, 100)[:2]

    def fit(targets: np.ndarray) -> History:
        net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=2)
        return Trainer(net, SGD(0.1)).fit(X, targets, epochs=2, verbose=False)

    ha, hb = fit(y), fit(np.eye(10)[y])
    np.testing.assert_allclose(ha.train_loss, hb.train_loss, rtol=1e-5)
    reg = Trainer(
        NeuralNetwork(
            [Dense(4, "tanh"), Dense(1, "linear")], MeanSquaredError(), seed=0
        ),
        SGD(0.01),
    )
    hr = reg.fit(
        X, y.astype(float), X, y.astype(float), epochs=3, eval_every=1, verbose=False
    )
    assert hr.val_accuracy == [] and hr.val_loss[-1] < hr.val_loss[0]


def test_every_sample_is_used_once_per_epoch_and_the_last_batch_is_kept(digits) -> None:
    net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy())
    sizes: list[int] = []
    seen_rows: list[np.ndarray] = []

    def spy(n: int, train: Callable[[], float], xb: np.ndarray) -> float:
        sizes.append(len(xb))
        seen_rows.append(xb.copy())
        return train()

    _wrap_train_batch(net, spy)
    Trainer(net, SGD(0.01)).fit(
        *_first(digits, 70)[:2], epochs=2, batch_size=32, verbose=False
    )
    assert sizes == [32, 32, 6, 32, 32, 6]
    epoch1 = np.concatenate(seen_rows[:3])
    epoch2 = np.concatenate(seen_rows[3:])
    key = lambda a: np.lexsort(a.T[::-1])  # noqa: E731
    np.testing.assert_array_equal(epoch1[key(epoch1)], epoch2[key(epoch2)])
    assert not np.array_equal(epoch1, epoch2)  # a fresh permutation each epoch


def test_the_last_epoch_is_always_evaluated(digits) -> None:
    history = Trainer(
        NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy()), SGD(0.05)
    ).fit(
        *_first(digits, 100),
        epochs=7,
        eval_every=3,
        verbose=False,
        early_stopping=False,
    )
    assert history.epochs == [3, 6, 7]
    assert len(history.val_accuracy) == 3 and all(
        0 <= a <= 1 for a in history.val_accuracy
    )
    assert (
        isinstance(history, History) and History.from_dict(history.to_dict()) == history
    )


# -- recovery: non-finite loss and Ctrl-C ----------------------------------------------


def test_a_non_finite_loss_stops_training_with_finite_parameters(digits) -> None:
    def network() -> NeuralNetwork:
        return NeuralNetwork(
            [Dense(32, "relu"), Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1
        )

    net = network()
    with np.errstate(all="ignore"):
        history = Trainer(net, SGD(1e20)).fit(
            *_first(digits, 200), epochs=3, eval_every=1, verbose=False
        )
    assert history.stop_reason == "non_finite_loss"
    assert history.stopped_epoch == 1 and history.stopped_batch is not None
    assert history.stopped_batch >= 1
    assert all(np.isfinite(p).all() for p in net.params())
    fresh = network()
    fresh.build((64,))
    # nothing evaluated: the initial weights
    for p, q in zip(net.params(), fresh.params(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_a_non_finite_loss_after_an_evaluation_restores_the_best(digits) -> None:
    net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)
    trainer = Trainer(net, SGD(0.05))
    recording = _Recording()

    def nan_in_epoch_3(n: int, train: Callable[[], float], xb: np.ndarray) -> float:
        loss = train()
        return math.nan if n == 2 * 4 + 2 else loss  # 4 batches per epoch

    _wrap_train_batch(net, nan_in_epoch_3)
    history = trainer.fit(
        *_first(digits, 128),
        epochs=5,
        eval_every=1,
        batch_size=32,
        verbose=False,
        callbacks=[recording],
    )
    assert history.stop_reason == "non_finite_loss"
    assert (history.stopped_epoch, history.stopped_batch) == (3, 1)
    assert history.best_epoch == 2
    for p, q in zip(net.params(), recording.seen[2], strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_keyboard_interrupt_is_raised_again_and_keeps_the_history(digits, k) -> None:
    net = NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy(), seed=1)
    trainer = Trainer(net, SGD(0.05))

    def interrupt(n: int, train: Callable[[], float], xb: np.ndarray) -> float:
        if n == k:
            raise KeyboardInterrupt
        return train()

    _wrap_train_batch(net, interrupt)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(  # 3 batches per epoch
            *_first(digits, 96), epochs=5, eval_every=1, batch_size=32, verbose=False
        )
    history = trainer.history
    assert history is not None
    assert history.stop_reason == "interrupted" and history.interrupted
    assert history.stopped_epoch == (k - 1) // 3 + 1
    assert history.stopped_batch == (k - 1) % 3
    assert len(history.train_loss) == (k - 1) // 3
    assert all(np.isfinite(p).all() for p in net.params())


# -- output ----------------------------------------------------------------------------


def _fit_and_capture(digits, capsys, *, verbose: bool, progress: bool | None):
    """Two epochs on 100 digits; what they printed to stdout and stderr."""
    trainer = Trainer(
        NeuralNetwork([Dense(10, "linear")], SoftmaxCrossEntropy()), SGD(0.05)
    )
    trainer.fit(
        *_first(digits, 100), epochs=2, eval_every=1, verbose=verbose, progress=progress
    )
    return capsys.readouterr()


def test_no_progress_bar_when_not_a_terminal_and_verbose_false_prints_nothing(
    digits, capsys
) -> None:
    captured = _fit_and_capture(digits, capsys, verbose=False, progress=None)
    assert captured.out == "" and captured.err == ""


def test_progress_and_verbose_when_asked(digits, capsys) -> None:
    captured = _fit_and_capture(digits, capsys, verbose=True, progress=True)
    assert "training" in captured.err and "batch" in captured.err  # the tqdm bar
    assert "Validation loss after 1 epochs is" in captured.out


def test_verbose_false_prints_nothing_even_when_interrupted() -> None:
    """In a plain script (no logging configured) verbose=False must stay silent:
    a logger without a handler would print its WARNING through logging.lastResort."""
    code = textwrap.dedent("""
        import numpy as np
        from lincoln import Dense, NeuralNetwork, SGD, SoftmaxCrossEntropy, Trainer
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((64, 5)), rng.integers(0, 3, 64)
        net = NeuralNetwork([Dense(3, "linear")], SoftmaxCrossEntropy())
        calls = []
        original = net.train_batch
        def interrupt(*args):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return original(*args)
        net.train_batch = interrupt
        trainer = Trainer(net, SGD(0.1))
        try:
            trainer.fit(X, y, epochs=2, batch_size=16, verbose=False)
        except KeyboardInterrupt:
            print(trainer.history.stop_reason)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "interrupted"
    assert result.stderr == ""


# -- validation of fit's arguments -----------------------------------------------------


@pytest.fixture
def trainer() -> Trainer:
    return Trainer(NeuralNetwork([Dense(3, "linear")], SoftmaxCrossEntropy()), SGD(0.1))


@pytest.fixture
def data(rng):
    return rng.standard_normal((20, 4)), rng.integers(0, 3, 20)


def test_trainer_needs_a_network_and_an_optimizer() -> None:
    net = NeuralNetwork([Dense(3, "linear")], SoftmaxCrossEntropy())
    with pytest.raises(ConfigError, match=r"Trainer: net must be a NeuralNetwork"):
        Trainer("net", SGD(0.1))
    with pytest.raises(ConfigError, match=r"Trainer: optim must be an Optimizer"):
        Trainer(net, "sgd")


def test_rows_of_X_and_y_must_match(trainer, data) -> None:
    X, y = data
    with pytest.raises(
        DataError, match=r"fit: X_train has 20 samples but y_train has 19"
    ):
        trainer.fit(X, y[:-1], verbose=False)
    with pytest.raises(DataError, match=r"fit: X_test has 20 samples but y_test has 5"):
        trainer.fit(X, y, X, y[:5], verbose=False)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs(trainer, data, value) -> None:
    X, y = data
    X = X.copy()
    X[3, 2] = value
    with pytest.raises(
        DataError,
        match=r"fit: X_train contains 1 NaN or Inf values \(first at "
        r"index \(3, 2\)\)",
    ):
        trainer.fit(X, y, verbose=False)


def test_non_finite_targets(trainer, data) -> None:
    X, _ = data
    reg = Trainer(NeuralNetwork([Dense(1, "linear")], MeanSquaredError()), SGD(0.1))
    y = np.zeros(20)
    y[7] = np.nan
    with pytest.raises(DataError, match=r"fit: y_train contains 1 NaN or Inf"):
        reg.fit(X, y, verbose=False)
    one_hot = np.eye(3)[np.zeros(20, dtype=int)]
    one_hot[0, 0] = np.inf
    with pytest.raises(DataError, match=r"NaN or Inf"):
        trainer.fit(X, one_hot, verbose=False)
    with pytest.raises(DataError, match=r"labels must be integers"):
        trainer.fit(X, np.where(np.arange(20) == 4, np.nan, 1.0), verbose=False)


def test_empty_arrays(trainer) -> None:
    with pytest.raises(DataError, match=r"fit: X_train is empty \(shape \(0, 4\)\)"):
        trainer.fit(np.zeros((0, 4)), np.zeros(0, dtype=int), verbose=False)


@pytest.mark.parametrize("name", ["epochs", "eval_every", "batch_size", "patience"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "10", True])
def test_counts_must_be_positive_integers(trainer, data, name, value) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"fit: {name} must be a positive integer, "
        rf"received {name}={value!r}",
    ):
        trainer.fit(*data, **{name: value}, verbose=False)


def test_numpy_integers_are_accepted(trainer, data) -> None:
    history = trainer.fit(
        *data, epochs=np.int64(2), batch_size=np.int32(8), verbose=False
    )
    assert len(history.train_loss) == 2


@pytest.mark.parametrize("which", ["X", "y"])
def test_non_numeric_data(trainer, data, which) -> None:
    X, y = data
    if which == "X":
        X = X.astype(str)
    else:
        y = y.astype(str)
    with pytest.raises(
        DataError,
        match=rf"fit: {which}_train must be a numeric array, "
        rf"received dtype <U",
    ):
        trainer.fit(X, y, verbose=False)


def test_test_data_comes_in_pairs(trainer, data) -> None:
    X, y = data
    with pytest.raises(
        DataError, match=r"fit: give both X_test and y_test, or neither"
    ):
        trainer.fit(X, y, X, verbose=False)
    with pytest.raises(
        DataError, match=r"fit: give both X_test and y_test, or neither"
    ):
        trainer.fit(X, y, None, y, verbose=False)


def test_labels_must_fit_the_outputs(trainer, data) -> None:
    X, y = data
    with pytest.raises(DataError, match=r"labels must be in \[0, 3\).*from 0 to 5"):
        trainer.fit(X, np.where(y == 2, 5, y), verbose=False)


def test_wrong_input_width_and_target_shape(trainer, data) -> None:
    X, y = data
    trainer.fit(X, y, epochs=1, verbose=False)
    with pytest.raises(ShapeError, match=r"y_train must have shape \(samples, 1\)"):
        Trainer(NeuralNetwork([Dense(1, "linear")], MeanSquaredError()), SGD(0.1)).fit(
            X, np.zeros((20, 2)), verbose=False
        )
    with pytest.raises(
        ShapeError, match=r"X_train must have shape \(samples, features"
    ):
        trainer.fit(X[:, 0], y, verbose=False)


def test_sample_shape_mismatch_compares_with_the_built_shape() -> None:
    net = NeuralNetwork([Dense(2, "linear")], MeanSquaredError())
    assert sample_shape_mismatch(net, np.zeros((3, 5))) is None  # not built yet
    net.build((4,))
    assert sample_shape_mismatch(net, np.zeros((3, 4))) is None
    assert sample_shape_mismatch(net, np.zeros((3, 5))) == (4,)


# -- the book's interfaces: duck-typed networks and optimizers -------------------------


class BookStyleSGD:
    """An optimizer written as in the book, not derived from lincoln's: it is
    wired by ``optim.net = net``, reads ``max_epochs`` in ``_setup_decay`` and
    decays in ``_decay_lr``; ``step`` takes no argument."""

    def __init__(
        self, lr: float = 0.01, final_lr: float = 0, decay_type: str | None = None
    ) -> None:
        self.lr = lr
        self.final_lr = final_lr
        self.decay_type = decay_type
        self.first = True
        self.steps = 0

    def _setup_decay(self) -> None:
        if not self.decay_type:
            return
        if self.decay_type == "exponential":
            self.decay_per_epoch = np.power(
                self.final_lr / self.lr, 1.0 / (self.max_epochs - 1)
            )
        elif self.decay_type == "linear":
            self.decay_per_epoch = (self.lr - self.final_lr) / (self.max_epochs - 1)

    def _decay_lr(self) -> None:
        if not self.decay_type:
            return
        if self.decay_type == "exponential":
            self.lr *= self.decay_per_epoch
        elif self.decay_type == "linear":
            self.lr -= self.decay_per_epoch

    def step(self) -> None:
        self.steps += 1
        for param, param_grad in zip(
            self.net.params(), self.net.param_grads(), strict=True
        ):
            self._update_rule(param=param, grad=param_grad)

    def _update_rule(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        update = self.lr * kwargs["grad"]
        kwargs["param"] -= update


class _Slot:
    """What the trainer touches of a layer: ``first`` (rebuild on next input)."""

    first = True


class BookStyleLinearNet:
    """A hand-written linear regression with the book's network interface and
    no lincoln class but its loss."""

    def __init__(self, n_out: int = 1, seed: int = 0) -> None:
        self.layers = [_Slot()]
        self.loss = MeanSquaredError()
        self.n_out, self.seed = n_out, seed

    def forward(self, x_batch: np.ndarray, inference: bool = False) -> np.ndarray:
        if self.layers[0].first:
            rng = np.random.default_rng(self.seed)
            self.W = rng.normal(size=(x_batch.shape[1], self.n_out))
            self.B = np.zeros((1, self.n_out))
            self.layers[0].first = False
        self.x = x_batch
        return x_batch @ self.W + self.B

    def backward(self, loss_grad: np.ndarray) -> np.ndarray:
        self.dW = self.x.T @ loss_grad
        self.dB = loss_grad.sum(axis=0, keepdims=True)
        return loss_grad @ self.W.T

    def train_batch(self, x_batch: np.ndarray, y_batch: np.ndarray) -> float:
        predictions = self.forward(x_batch)
        loss = self.loss.forward(predictions, y_batch)
        self.backward(self.loss.backward())
        return loss

    def params(self) -> list[np.ndarray]:
        return [self.W, self.B]

    def param_grads(self) -> list[np.ndarray]:
        return [self.dW, self.dB]


def test_a_book_style_network_and_optimizer_train_under_fit(rng) -> None:
    X = rng.normal(size=(120, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=120)
    net = BookStyleLinearNet()
    optim = BookStyleSGD(lr=0.01, final_lr=0.001, decay_type="linear")
    trainer = Trainer(net, optim)
    assert optim.net is net  # the book's wiring
    history = trainer.fit(
        X[:100],
        y[:100],
        X[100:],
        y[100:],
        epochs=10,
        eval_every=2,
        batch_size=10,
        verbose=False,
    )
    assert optim.steps == 10 * 10 and optim.max_epochs == 10
    # the book's linear decay, once after every epoch but the last
    np.testing.assert_allclose(history.lr, np.linspace(0.01, 0.001, 10), rtol=1e-12)
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    assert history.held_epoch == history.best_epoch
    assert trainer.evaluate(X[100:], y[100:])["loss"] == pytest.approx(
        history.best_val_loss
    )
    # restart=True (the default) rebuilds the network and resets the optimizer
    optim.first, optim.lr, optim.decay_type = False, 0.01, None
    again = trainer.fit(X[:100], y[:100], epochs=2, batch_size=10, verbose=False)
    fresh = Trainer(BookStyleLinearNet(), BookStyleSGD(lr=0.01)).fit(
        X[:100], y[:100], epochs=2, batch_size=10, verbose=False
    )
    assert optim.first is True and again.train_loss == fresh.train_loss


def test_a_book_style_optimizer_subclass_matches_sgd(digits) -> None:
    from lincoln.optimizers import Optimizer

    class BookSGD(Optimizer):
        def step(self) -> None:  # type: ignore[override]
            for param, grad in zip(
                self.net.params(), self.net.param_grads(), strict=True
            ):
                self._update_rule(param=param, grad=grad)

        def _update_rule(self, **kwargs) -> None:  # type: ignore[override, no-untyped-def]
            kwargs["param"] -= self.lr * kwargs["grad"]

    def run(optim: Optimizer) -> NeuralNetwork:
        net = NeuralNetwork(
            [Dense(16, "tanh"), Dense(10, "linear")], SoftmaxCrossEntropy()
        )
        Trainer(net, optim).fit(
            *_first(digits, 200), epochs=3, eval_every=1, verbose=False
        )
        return net

    book, ours = run(BookSGD(0.1)), run(SGD(0.1))
    for p, q in zip(book.params(), ours.params(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_the_trainer_names_what_an_object_lacks() -> None:
    with pytest.raises(
        ConfigError,
        match=r"net must be a NeuralNetwork or have its "
        r"interface \(missing: forward, backward, train_batch",
    ):
        Trainer(object(), SGD(0.1))
    with pytest.raises(
        ConfigError,
        match=r"optim must be an Optimizer or have its "
        r"interface \(missing: step, lr\)",
    ):
        Trainer(BookStyleLinearNet(), object())
