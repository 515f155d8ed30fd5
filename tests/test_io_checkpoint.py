"""Training checkpoints and resuming: lincoln.io.checkpoint, fit(resume=)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from io_helpers import classification_data, mlp, registered, trained_mlp

from lincoln.errors import ModelFileError
from lincoln.io import load, load_checkpoint, read_header, save_checkpoint
from lincoln.layers import Dense, layer_from_config
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, Adam, Optimizer, SGDMomentum
from lincoln.registry import OPTIMIZERS
from lincoln.train import LAST_CHECKPOINT_FILE, Trainer


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    trained_mlp().save(path)
    return path


# -- checkpoints -----------------------------------------------------------------------


def test_checkpoint_round_trip_restores_optimizer_state(tmp_path: Path) -> None:
    X, y = classification_data()
    net, opt = mlp(), Adam(0.01, final_lr=0.001, decay_type="linear")
    Trainer(net, opt).fit(X, y, epochs=2, batch_size=32, verbose=False)
    best = {k: v + 1 for k, v in net.state_dict().items()}
    save_checkpoint(
        tmp_path / "c.ckpt.npz", net, opt, training={"epoch": 2}, best_state=best
    )
    net2, opt2 = mlp(seed=3), Adam(0.01, final_lr=0.001, decay_type="linear")
    Trainer(net2, opt2)
    ckpt = load_checkpoint(tmp_path / "c.ckpt.npz", net=net2, optimizer=opt2)
    assert ckpt.training == {"epoch": 2}
    assert ckpt.optimizer is not None and ckpt.optimizer["type"] == "adam"
    for name, value in best.items():
        np.testing.assert_array_equal(ckpt.best_state[name], value)  # type: ignore[index]
    for a, b in zip(net.params(), net2.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (opt2.lr, opt2.step_count, opt2.decay_per_epoch, opt2.max_epochs) == (
        opt.lr,
        opt.step_count,
        opt.decay_per_epoch,
        opt.max_epochs,
    )
    for s1, s2 in zip(opt.state, opt2.state, strict=True):
        assert s1.keys() == s2.keys() == {"m", "v"}
        for key in s1:
            np.testing.assert_array_equal(s1[key], s2[key])
    # a checkpoint is also a model file, and can rebuild its own network
    np.testing.assert_array_equal(
        load(tmp_path / "c.ckpt.npz").predict(X), net.predict(X)
    )
    assert load_checkpoint(tmp_path / "c.ckpt.npz").net.built


def test_checkpoint_for_another_optimizer_is_refused(tmp_path: Path) -> None:
    net, opt = trained_mlp(), SGDMomentum(0.1)
    Trainer(net, opt)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)
    with pytest.raises(
        ModelFileError, match="state of a 'sgd_momentum' optimizer, not of 'adam'"
    ):
        load_checkpoint(tmp_path / "c.ckpt.npz", net=mlp(dropout=0.8), optimizer=Adam())


def test_model_file_is_not_a_checkpoint(model_file: Path) -> None:
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        load_checkpoint(model_file)
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        Trainer(mlp(dropout=0.8), SGD()).fit(
            *classification_data(), epochs=2, verbose=False, resume=model_file
        )


def test_checkpoint_into_a_network_with_another_loss_is_refused(
    tmp_path: Path,
) -> None:
    net, opt = trained_mlp(), SGD(0.1)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)
    other = NeuralNetwork(
        [
            Dense(8, "tanh", weight_init="glorot", dropout=0.8),
            Dense(3, "linear", weight_init="glorot"),
        ],
        MeanSquaredError(),
        dtype=np.float64,
    )
    with pytest.raises(ModelFileError, match="the loss differs"):
        load_checkpoint(tmp_path / "c.ckpt.npz", net=other, optimizer=SGD(0.1))


# -- resuming training -----------------------------------------------------------------


def dense_bn(dtype: Any) -> NeuralNetwork:
    return NeuralNetwork(
        [
            Dense(8, "relu", weight_init="he"),
            layer_from_config({"type": "batchnorm"}),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=4,
        dtype=dtype,
    )


def run(
    make_net: Any,
    make_opt: Any,
    epochs: int,
    checkpoint_dir: Path | None = None,
    resume: Path | None = None,
    interrupt_at: int | None = None,
    **kwargs: Any,
) -> tuple[NeuralNetwork, Any]:
    X, y = classification_data(n=90)
    Xv, yv = classification_data(n=30, seed=5)
    net = make_net()
    trainer = Trainer(net, make_opt(), checkpoint_dir=checkpoint_dir)
    if interrupt_at is not None:
        calls = {"n": 0}
        step = net.train_batch

        def train_batch(
            xb: np.ndarray, yb: np.ndarray, inference: bool = False
        ) -> float:
            calls["n"] += 1
            if calls["n"] == interrupt_at:
                raise KeyboardInterrupt
            return step(xb, yb, inference)

        net.train_batch = train_batch  # type: ignore[method-assign]
    options: dict[str, Any] = dict(
        epochs=epochs, eval_every=1, batch_size=16, seed=11, verbose=False, patience=3
    )
    options.update(kwargs)
    try:
        history = trainer.fit(X, y, Xv, yv, resume=resume, **options)
    except KeyboardInterrupt:  # fit restores, keeps its history, raises again
        if interrupt_at is None:
            raise
        history = trainer.history
    return net, history


def same_run(a: tuple[NeuralNetwork, Any], b: tuple[NeuralNetwork, Any]) -> None:
    (net_a, hist_a), (net_b, hist_b) = a, b
    for (name, x), (_, z) in zip(
        net_a.state_dict().items(), net_b.state_dict().items(), strict=True
    ):
        assert np.array_equal(x, z), name  # bit-identical, not approximately equal
    da, db = hist_a.to_dict(), hist_b.to_dict()
    da.pop("epoch_time"), db.pop("epoch_time")
    assert da == db


@pytest.mark.parametrize(
    "make_net",
    [
        pytest.param(lambda: mlp(np.float64, dropout=0.8), id="dense-dropout-float64"),
        pytest.param(lambda: mlp(np.float32, dropout=0.8), id="dense-dropout-float32"),
        pytest.param(lambda: dense_bn(np.float64), id="batchnorm"),
    ],
)
def test_three_epochs_then_resume_to_six_equals_six(
    tmp_path: Path, make_net: Any
) -> None:
    def make_opt() -> Adam:
        return Adam(0.01)

    uninterrupted = run(make_net, make_opt, 6)
    run(make_net, make_opt, 3, checkpoint_dir=tmp_path)
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 3
    resumed = run(
        make_net, make_opt, 6, resume=tmp_path / LAST_CHECKPOINT_FILE, seed=12345
    )  # the seed is ignored: the generator state is restored
    same_run(uninterrupted, resumed)


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """Momentum, exponential decay and dropout: Ctrl-C in epoch 4, resume to 6."""

    def make_opt() -> SGDMomentum:
        return SGDMomentum(0.1, momentum=0.9, final_lr=0.01, decay_type="exponential")

    def make_net() -> NeuralNetwork:
        return mlp(np.float64, dropout=0.8)

    uninterrupted = run(make_net, make_opt, 6)
    batches = 6  # 90 samples in batches of 16
    _, stopped = run(
        make_net, make_opt, 6, checkpoint_dir=tmp_path, interrupt_at=3 * batches + 2
    )
    assert (stopped.stop_reason, stopped.stopped_epoch, stopped.stopped_batch) == (
        "interrupted",
        4,
        1,
    )
    resumed = run(
        make_net,
        make_opt,
        6,
        checkpoint_dir=tmp_path,
        resume=tmp_path / LAST_CHECKPOINT_FILE,
    )
    same_run(uninterrupted, resumed)
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 6


def test_resume_with_early_stopping_matches(tmp_path: Path) -> None:
    """Early stopping's count and the best parameters survive the checkpoint."""

    def make_opt() -> SGD:
        return SGD(0.5)

    kwargs: dict[str, Any] = dict(patience=2, min_delta=0.05)
    uninterrupted = run(mlp, make_opt, 10, **kwargs)
    history = uninterrupted[1]
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch is not None and history.best_epoch < history.stopped_epoch
    stop = history.stopped_epoch
    # interrupted in the last epoch: the checkpoint holds one bad evaluation already
    run(
        mlp,
        make_opt,
        10,
        checkpoint_dir=tmp_path,
        interrupt_at=(stop - 1) * 6 + 1,
        **kwargs,
    )
    training = read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]
    assert (training["epoch"], training["bad_evals"]) == (stop - 1, 1)
    resumed = run(mlp, make_opt, 10, resume=tmp_path / LAST_CHECKPOINT_FILE, **kwargs)
    same_run(uninterrupted, resumed)


def test_checkpoint_dir_files(tmp_path: Path) -> None:
    net, history = run(mlp, lambda: SGD(0.1), 4, checkpoint_dir=tmp_path / "ckpt")
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["best.npz", "last.ckpt.npz"]
    best = load(tmp_path / "ckpt" / "best.npz")
    # fit ends holding the best evaluation's parameters: the ones in best.npz
    for a, b in zip(best.params(), net.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    training = read_header(tmp_path / "ckpt" / "last.ckpt.npz")["training"]
    assert (
        training["epoch"] == 4
        and training["history"]["best_epoch"] == history.best_epoch
    )


def test_resume_with_other_settings_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run(mlp, lambda: SGD(0.1), 2, checkpoint_dir=tmp_path)
    with caplog.at_level("WARNING", logger="lincoln.train"):
        run(
            mlp,
            lambda: SGD(0.2),
            3,
            resume=tmp_path / LAST_CHECKPOINT_FILE,
            batch_size=8,
        )
    assert "batch_size=16 -> 8" in caplog.text
    assert "optimizer {'lr': 0.1} -> {'lr': 0.2}" in caplog.text


def test_resume_into_another_architecture_fails_cleanly(tmp_path: Path) -> None:
    run(mlp, lambda: SGD(0.1), 2, checkpoint_dir=tmp_path)
    with pytest.raises(
        ModelFileError,
        match=r"layer 0 differs: the file has Dense\(neurons=8, activation='tanh'\), "
        r"this network has Dense\(neurons=5, activation='linear'\)",
    ):
        run(
            lambda: NeuralNetwork(
                [Dense(5, "linear"), Dense(3, "linear")],
                SoftmaxCrossEntropy(),
                dtype=np.float64,
            ),
            lambda: SGD(0.1),
            3,
            resume=tmp_path / LAST_CHECKPOINT_FILE,
        )


def test_resume_from_a_checkpoint_without_training_state(tmp_path: Path) -> None:
    net, opt = trained_mlp(), SGD(0.1)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)  # no training entry
    fresh = mlp(dropout=0.8)
    fresh.build((6,))
    before = [p.copy() for p in fresh.params()]
    with pytest.raises(ModelFileError, match="holds no training state 'bad_evals'"):
        Trainer(fresh, SGD(0.1)).fit(
            *classification_data(),
            epochs=2,
            verbose=False,
            restart=False,
            resume=tmp_path / "c.ckpt.npz",
        )
    for got, want in zip(fresh.params(), before, strict=True):
        np.testing.assert_array_equal(got, want)  # nothing was changed


# -- a checkpoint written by lincoln 0.1 -----------------------------------------------

V01_CHECKPOINT = Path(__file__).parent / "data" / "v0.1-mlp.ckpt.npz"


def v01_adam() -> Adam:
    return Adam(0.01, final_lr=0.001, decay_type="linear")


def test_a_v0_1_checkpoint_restores_network_optimizer_and_best(tmp_path: Path) -> None:
    expected = np.load(Path(__file__).parent / "data" / "v0.1-expected.npz")
    opt = v01_adam()
    ckpt = load_checkpoint(V01_CHECKPOINT, optimizer=opt, require=("epoch", "history"))
    np.testing.assert_allclose(
        ckpt.net.predict(expected["X_mlp"]), expected["mlp_predict"], rtol=1e-12
    )
    assert ckpt.training["epoch"] == 2
    assert (opt.lr, opt.step_count, opt.max_epochs) == (0.001, 6, 2)
    with np.load(V01_CHECKPOINT) as raw:
        for i, state in enumerate(opt.state):
            for key in ("m", "v"):
                np.testing.assert_array_equal(
                    state[key], raw[f"optimizer.state.{i}.{key}"]
                )
        assert ckpt.best_state is not None
        for name, value in ckpt.best_state.items():
            np.testing.assert_array_equal(value, raw[f"best.{name}"])
    saved = read_header(V01_CHECKPOINT)["generators"]
    generators = dict(ckpt.net.named_generators())
    assert generators.keys() == saved.keys() == {"layers.0.operations.3.rng"}
    for name, gen in generators.items():
        assert gen.bit_generator.state == saved[name]


def test_a_v0_1_checkpoint_resumes_training(tmp_path: Path) -> None:
    expected = np.load(Path(__file__).parent / "data" / "v0.1-expected.npz")
    X, y = expected["X_mlp"], expected["y_mlp"]
    net = NeuralNetwork(
        [Dense(5, "relu", dropout=0.75, weight_init="he"), Dense(2, "sigmoid")],
        MeanSquaredError(normalize=True),
        seed=12,
        dtype=np.float64,
    )
    history = Trainer(net, v01_adam()).fit(
        X, y, X, y, epochs=4, batch_size=8, verbose=False, resume=V01_CHECKPOINT
    )
    saved = read_header(V01_CHECKPOINT)["training"]["history"]
    # the two epochs trained by 0.1, then two more
    assert history.to_dict()["train_loss"][:2] == saved["train_loss"]
    assert len(history.to_dict()["train_loss"]) == 4


# -- a user's optimizer, registered ---------------------------------------------------


class SignMomentum(Optimizer):
    """A user's optimizer: steps of ``lr`` along the sign of a gradient average."""

    hyperparams = ("beta",)

    def __init__(self, lr: float = 0.01, beta: float = 0.9, **options: Any) -> None:
        super().__init__(lr, **options)
        self.beta = beta

    def _update_rule(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], **_: Any
    ) -> None:
        average = state.setdefault("average", np.zeros_like(param))
        average *= self.beta
        average += (1.0 - self.beta) * grad
        param -= self.lr * np.sign(average)


def test_a_registered_user_optimizer_is_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "c.ckpt.npz"
    X, y = classification_data()
    with registered(OPTIMIZERS, "sign_momentum", SignMomentum):
        net, opt = mlp(), SignMomentum(0.05, beta=0.8)
        Trainer(net, opt).fit(X, y, epochs=2, batch_size=32, verbose=False)
        save_checkpoint(path, net, opt)
        entry = read_header(path)["optimizer"]
        assert entry["type"] == "sign_momentum"
        assert entry["config"] == {"lr": 0.05, "beta": 0.8}
        again = SignMomentum(0.05, beta=0.8)
        load_checkpoint(path, net=mlp(seed=2), optimizer=again)
        assert again.step_count == opt.step_count == 6
        for mine, saved in zip(again.state, opt.state, strict=True):
            np.testing.assert_array_equal(mine["average"], saved["average"])
        with pytest.raises(
            ModelFileError, match="state of a 'sign_momentum' optimizer, not of 'sgd'"
        ):
            load_checkpoint(path, net=mlp(), optimizer=SGD(0.1))
