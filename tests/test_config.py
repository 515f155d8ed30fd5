"""Experiment files: parsing, building, and errors that name file, key and choices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lincoln import config as cfg
from lincoln.errors import ConfigError
from lincoln.layers import Dense
from lincoln.losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, SGDMomentum
from lincoln.train import Trainer

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[data]
name = "digits"
test_fraction = 0.25

[model]
loss = "softmax_cross_entropy"
seed = 3
dtype = "float64"

[[model.layers]]
type = "dense"
neurons = 16
activation = "tanh"

[[model.layers]]
type = "dense"
neurons = 10

[optimizer]
type = "sgd_momentum"
lr = 0.1
momentum = 0.8

[trainer]
epochs = 2
batch_size = 50
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_config_builds_network_optimizer_and_data(tmp_path: Path) -> None:
    exp = cfg.load_config(write(tmp_path, GOOD))
    net = cfg.build_network(exp)
    assert [type(layer) for layer in net.layers] == [Dense, Dense]
    assert net.layers[0].neurons == 16 and net.dtype == np.float64 and net.seed == 3
    assert isinstance(net.loss, SoftmaxCrossEntropy)
    opt = cfg.build_optimizer(exp)
    assert isinstance(opt, SGDMomentum) and opt.momentum == 0.8 and opt.lr == 0.1
    X_train, y_train, X_test, y_test = cfg.load_data(exp, dtype=np.float64)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == np.float64 and y_train.dtype.kind == "i"
    # standardized with the training statistics
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-9)
    assert cfg.fit_options(exp) == {"epochs": 2, "batch_size": 50}


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            'type = "dense"\nneurons = 16',
            'type = "dens"\nneurons = 16',
            r"model\.layers\[0\]\.type: unknown layer type 'dens'; "
            r"choose one of: .*dense",
        ),
        (
            'type = "sgd_momentum"',
            'type = "sgdm"',
            r"optimizer\.type: unknown optimizer 'sgdm'; "
            r"choose one of: sgd, sgd_momentum",
        ),
        (
            'loss = "softmax_cross_entropy"',
            'loss = "hinge"',
            r"model\.loss: unknown loss 'hinge'; choose one of",
        ),
        ('name = "digits"', 'name = "cifar"', r"data\.name: unknown data set 'cifar'"),
        (
            'dtype = "float64"',
            'dtype = "int8"',
            r"model: NeuralNetwork: dtype must be float32 or float64, "
            r"received dtype='int8'",
        ),
        ("epochs = 2", "epoch = 2", r"trainer\.epoch: unknown key; valid keys: epochs"),
        ("neurons = 16", "neurons = -3", r"model\.layers\[0\]: .*neurons=-3"),
        (
            'activation = "tanh"',
            'activation = "swish"',
            r"unknown activation 'swish'; choose one of",
        ),
        ("momentum = 0.8", "momentum = 1.5", r"optimizer: SGDMomentum: momentum"),
        (
            "test_fraction = 0.25",
            "test_fraction = 1.5",
            r"data: train_test_split: test_fraction must be in \(0, 1\)",
        ),
    ],
)
def test_bad_config_names_file_key_and_choices(
    tmp_path: Path, old: str, new: str, match: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=match) as info:
        exp = cfg.load_config(path)
        cfg.build_network(exp)
        cfg.build_optimizer(exp)
        cfg.load_data(exp)
    assert str(path) in str(info.value)


def test_unknown_section_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"modle: unknown section; valid sections"):
        cfg.load_config(write(tmp_path, GOOD + "\n[modle]\nx = 1\n", "a.toml"))
    with pytest.raises(ConfigError, match="config file not found"):
        cfg.load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        cfg.load_config(write(tmp_path, "[data\nname=", "b.toml"))
    with pytest.raises(ConfigError, match=r"optimizer: missing section"):
        cfg.load_config(write(tmp_path, GOOD.split("[optimizer]")[0], "c.toml"))


def test_every_shipped_config_parses_and_builds() -> None:
    # *_space.toml files are lincoln tune's search spaces, not experiment files
    paths = sorted(
        p for p in (ROOT / "configs").glob("*.toml") if not p.stem.endswith("_space")
    )
    assert paths, "configs/ holds the experiment files"
    for path in paths:
        exp = cfg.load_config(path)
        net = cfg.build_network(exp)
        cfg.build_optimizer(exp)
        assert net.layers


def test_evaluate_test_gives_mse_classifiers_an_accuracy(rng) -> None:
    X = rng.standard_normal((20, 4))
    labels = rng.integers(0, 3, 20)

    def trainer(loss: Loss, outputs: int = 3) -> Trainer:
        net = NeuralNetwork([Dense(outputs, "linear")], loss, seed=0)
        return Trainer(net, SGD())

    # softmax: Trainer.evaluate's own accuracy
    t = trainer(SoftmaxCrossEntropy())
    loss, acc = cfg.evaluate_test(t, X, labels)
    assert (loss, acc) == (
        t.evaluate(X, labels)["loss"],
        t.evaluate(X, labels)["accuracy"],
    )
    # mean squared error on one-hot rows: computed from the predictions
    t = trainer(MeanSquaredError())
    one_hot = np.eye(3)[labels]
    loss, acc = cfg.evaluate_test(t, X, one_hot)
    assert loss == t.evaluate(X, one_hot)["loss"]
    assert acc == np.mean(t.net.predict(X).argmax(axis=1) == labels)
    # regression: no accuracy
    regression = trainer(MeanSquaredError(), outputs=1)
    assert cfg.evaluate_test(regression, X, X[:, 0])[1] is None


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            'name = "digits"',
            'name = "digits"\nshape = "square"',
            r"data\.shape: unknown shape 'square'; choose one of: flat, image",
        ),
        (
            'name = "digits"',
            'name = "digits"\npreprocess = "whiten"',
            r"data\.preprocess: unknown preprocessing 'whiten'; choose one of: "
            r"standardize, global, scale, none",
        ),
        (
            'name = "digits"',
            'name = "digits"\nlimit_train = 0',
            r"data\.limit_train: must be a positive integer, received 0",
        ),
        (
            'name = "digits"',
            'name = "digits"\none_hot = "yes"',
            r"data\.one_hot: must be true or false, received 'yes'",
        ),
        (
            "epochs = 2",
            'epochs = 2\nearly_stopping = "no"',
            r"trainer\.early_stopping: must be true or false, received 'no'",
        ),
    ],
)
def test_the_readers_own_values_are_checked_when_the_file_is_read(
    tmp_path: Path, old: str, new: str, match: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=match) as info:
        cfg.load_config(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "neurons = 16",
            "neuron = 16",
            r"model\.layers\[0\]\.neuron: unknown key for a dense layer; "
            r"valid keys: type, neurons, activation",
        ),
        ('seed = 3\ndtype = "float64"', "seed = -1", r"model: NeuralNetwork: seed"),
        (
            "test_fraction = 0.25",
            "split_seed = -1",
            r"data: train_test_split: seed must be a non-negative integer",
        ),
        (
            "momentum = 0.8",
            "momentun = 0.8",
            r"optimizer: optimizer 'sgd_momentum': .*momentun",
        ),
    ],
)
def test_constructor_errors_gain_the_file_and_key(
    tmp_path: Path, old: str, new: str, match: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=match) as info:
        exp = cfg.load_config(path)
        cfg.build_network(exp)
        cfg.build_optimizer(exp)
        cfg.load_data(exp)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "batch_size = 50",
            "batch_size = 0",
            r"trainer: fit: batch_size must be a positive integer, "
            r"received batch_size=0",
        ),
        (
            "epochs = 2",
            'epochs = 2\nmonitor = "val_acc"',
            r"trainer: fit: monitor must be one of val_loss, val_accuracy",
        ),
    ],
)
def test_trainer_values_are_checked_by_fit_naming_the_file(
    tmp_path: Path, old: str, new: str, match: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new, 1))
    exp = cfg.load_config(path)  # the reader passes [trainer] values on to fit
    with pytest.raises(ConfigError, match=match) as info:
        cfg.run_experiment(exp, verbose=False, progress=False)
    assert str(info.value).startswith(f"{path}: ")


def test_data_input_shape_needs_no_data(tmp_path: Path) -> None:
    exp = cfg.load_config(write(tmp_path, GOOD.replace('"digits"', '"mnist"', 1)))
    assert cfg.data_input_shape(exp) == (784,)


def test_a_validation_split_keeps_the_test_set_out_of_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With data.validation_split the model is chosen on held-out training data
    and the test set passes through the network once, after training."""
    text = GOOD.replace(
        "test_fraction = 0.25", "test_fraction = 0.25\nvalidation_split = 0.2"
    )
    path = write(tmp_path, text.replace("epochs = 2", "epochs = 3\neval_every = 1"))
    exp = cfg.load_config(path)
    X_test = cfg.load_data(exp, np.float64)[2]
    test_rows = {row.tobytes() for row in X_test}
    seen: list[bool] = []
    forward = NeuralNetwork.forward

    def recording(self, x, inference=False):  # type: ignore[no-untyped-def]
        rows = np.asarray(x, dtype=np.float64)
        seen.append(sum(r.tobytes() in test_rows for r in rows) > len(rows) // 2)
        return forward(self, x, inference)

    monkeypatch.setattr(NeuralNetwork, "forward", recording)
    history, metrics, _ = cfg.run_experiment(exp, verbose=False, progress=False)
    test_passes = [i for i, hit in enumerate(seen) if hit]
    assert test_passes and min(test_passes) > len(seen) - 5  # only at the very end
    assert metrics["selected_on"] == "validation_split"
    assert metrics["validation_split"] == 0.2
    assert metrics["best_val_loss"] == history.best_val_loss
    assert len(history.epochs) == 3  # evaluated on the validation share each epoch


def test_without_a_validation_split_metrics_say_the_test_set_chose(
    tmp_path: Path,
) -> None:
    _, metrics, _ = cfg.run_experiment(
        write(tmp_path, GOOD), verbose=False, progress=False
    )
    assert metrics["selected_on"] == "test" and metrics["validation_split"] is None
