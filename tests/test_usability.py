"""What a user meets when something is off: messages that name the problem,
conversions that are documented, and no silent successes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from lincoln import (
    SGD,
    ConfigError,
    DataError,
    Dense,
    Linear,
    MeanSquaredError,
    NeuralNetwork,
    Operation,
    ReLU,
    SGDMomentum,
    ShapeError,
    SoftmaxCrossEntropy,
    Trainer,
    __version__,
    cli,
)
from lincoln import config as cfg
from lincoln.datasets import load_digits, one_hot, train_test_split

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    X, y = load_digits()
    return tuple(train_test_split(X, y, test_fraction=0.25, seed=0))


def classifier(seed: int = 0) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(32, ReLU(), weight_init="he"), Dense(10, Linear())],
        SoftmaxCrossEntropy(),
        seed=seed,
    )


# -- operations written by users ------------------------------------------------------


def test_an_operation_that_forgets_super_init_still_works() -> None:
    class Double(Operation):
        def __init__(self) -> None:  # no super().__init__()
            self.factor = 2.0

        def _output(self):  # type: ignore[no-untyped-def]
            return self.input_ * self.factor

        def _input_grad(self, output_grad):  # type: ignore[no-untyped-def]
            return output_grad * self.factor

    op = Double()
    assert op.forward(np.ones((2, 3))).sum() == 12.0
    assert op.backward(np.ones((2, 3))).sum() == 12.0


def test_an_output_that_is_not_an_array_is_named() -> None:
    class Listy(Operation):
        def _output(self):  # type: ignore[no-untyped-def]
            return self.input_.tolist()

        def _input_grad(self, output_grad):  # type: ignore[no-untyped-def]
            return output_grad

    with pytest.raises(
        ShapeError, match=r"Listy\._output must return a NumPy array, returned list"
    ):
        Listy().forward(np.ones((2, 3)))


def test_an_output_that_loses_the_batch_is_blamed_on_its_operation() -> None:
    class Collapse(Operation):
        def _output(self):  # type: ignore[no-untyped-def]
            return self.input_.sum(axis=0)

        def _input_grad(self, output_grad):  # type: ignore[no-untyped-def]
            return output_grad

    net = NeuralNetwork(
        [Dense(3, Collapse()), Dense(2, "linear")], SoftmaxCrossEntropy()
    )
    with pytest.raises(
        ShapeError,
        match=r"Dense: Collapse\._output must keep the batch size; input "
        r"shape \(4, 3\), output shape \(3,\)",
    ):
        net.forward(np.ones((4, 5)))


def test_an_activation_class_is_accepted_as_well_as_an_instance() -> None:
    layer = Dense(3, activation=ReLU)
    assert isinstance(layer.activation, ReLU)
    assert Dense(3, activation=ReLU).activation is not layer.activation


# -- optimizers ----------------------------------------------------------------------


def test_final_lr_without_a_decay_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"final_lr=0\.01 has no effect without a decay_type"
    ):
        SGD(0.1, final_lr=0.01)


def test_final_lr_above_lr_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"final_lr must not exceed lr"):
        SGDMomentum(0.1, final_lr=0.5, decay_type="linear")


# -- data given to predict and fit ----------------------------------------------------


def test_predict_refuses_nan_inputs(digits) -> None:  # type: ignore[no-untyped-def]
    X_train = digits[0]
    net = classifier()
    net.build((64,))
    X = X_train[:10].copy()
    X[3, 5] = np.nan
    with pytest.raises(
        DataError, match=r"predict: the inputs contain 1 NaN or Inf values"
    ):
        net.predict(X)


def test_ragged_lists_give_a_data_error() -> None:
    net = classifier()
    with pytest.raises(DataError, match="cannot be made into one array"):
        net.forward([[1.0, 2.0], [3.0]])
    with pytest.raises(DataError, match="fit: X_train cannot be made into one array"):
        Trainer(net, SGD(0.1)).fit([[1.0, 2.0], [3.0]], [0, 1], epochs=1, verbose=False)


def test_test_inputs_of_another_width_name_x_test(digits) -> None:  # type: ignore[no-untyped-def]
    X_train, X_test, y_train, y_test = digits
    with pytest.raises(
        ShapeError,
        match=r"fit: X_test has samples of shape \(10,\), but the network was built "
        r"for samples of shape \(64,\) \(the shape of X_train\)",
    ):
        Trainer(classifier(), SGD(0.1)).fit(
            X_train, y_train, X_test[:, :10], y_test, epochs=1, verbose=False
        )


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t * -1.0, "cannot be negative"),
        (lambda t: t * 2.0, r"must each sum to 1; row 0 sums to 2"),
    ],
)
def test_one_hot_rows_must_be_distributions(digits, edit, match) -> None:  # type: ignore[no-untyped-def]
    X_train, _, y_train, _ = digits
    targets = edit(one_hot(y_train, 10))
    with pytest.raises(DataError, match=match):
        Trainer(classifier(), SGD(0.1)).fit(X_train, targets, epochs=1, verbose=False)


# -- training: what "best" means, and divergence -------------------------------------


def test_monitor_val_accuracy_keeps_the_most_accurate_evaluation(digits) -> None:  # type: ignore[no-untyped-def]
    X_train, X_test, y_train, y_test = digits
    trainer = Trainer(classifier(), SGDMomentum(0.2, momentum=0.9))
    history = trainer.fit(
        X_train,
        y_train,
        X_test,
        y_test,
        epochs=12,
        eval_every=1,
        early_stopping=True,
        patience=20,
        monitor="val_accuracy",
        verbose=False,
    )
    assert history.best_val_accuracy == max(history.val_accuracy)
    assert history.best_epoch == history.epochs[int(np.argmax(history.val_accuracy))]
    # the network holds that evaluation's parameters
    assert trainer.evaluate(X_test, y_test)["accuracy"] == history.best_val_accuracy


def test_monitor_is_validated(digits) -> None:  # type: ignore[no-untyped-def]
    X_train, X_test, y_train, y_test = digits
    with pytest.raises(
        ConfigError, match=r"monitor must be one of val_loss, val_accuracy"
    ):
        Trainer(classifier(), SGD(0.1)).fit(X_train, y_train, monitor="accuracy")
    regression = NeuralNetwork([Dense(1, "linear")], MeanSquaredError())
    with pytest.raises(ConfigError, match=r"monitor='val_accuracy' needs a classifier"):
        Trainer(regression, SGD(0.1)).fit(
            X_train, y_train.astype(float), monitor="val_accuracy"
        )


def test_best_val_accuracy_is_the_restored_models(digits) -> None:  # type: ignore[no-untyped-def]
    X_train, X_test, y_train, y_test = digits
    trainer = Trainer(classifier(), SGDMomentum(0.5, momentum=0.9))
    history = trainer.fit(
        X_train, y_train, X_test, y_test, epochs=15, eval_every=1, verbose=False
    )
    assert history.best_val_accuracy == trainer.evaluate(X_test, y_test)["accuracy"]


def test_divergence_stops_with_one_message_and_no_numpy_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # raw pixels (0..16), mean squared error and a large rate: the loss overflows
    X, y = load_digits(normalize=False)
    net = NeuralNetwork(
        [Dense(32, ReLU()), Dense(10, "linear")], MeanSquaredError(), seed=0
    )
    trainer = Trainer(net, SGD(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = trainer.fit(
            X[:1000], one_hot(y[:1000]), X[1000:], one_hot(y[1000:]), epochs=3
        )
    assert history.stop_reason == "non_finite_loss"
    assert history.stopped_epoch == 1 and history.stopped_batch is not None
    out = capsys.readouterr().out
    assert out.count("Training stopped: the loss became") == 1
    assert "the parameters training started from were restored" in out
    # those are the initial weights, exactly
    fresh = NeuralNetwork(
        [Dense(32, ReLU()), Dense(10, "linear")], MeanSquaredError(), seed=0
    )
    fresh.build((64,))
    for restored, initial in zip(net.params(), fresh.params(), strict=True):
        np.testing.assert_array_equal(restored, initial)


# -- experiment files and the command line ------------------------------------------


def config_text(**trainer: object) -> str:
    text = (ROOT / "configs" / "digits_mlp.toml").read_text()
    for key, value in trainer.items():
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}\n# was: ", 1)
    return text


def test_trainer_values_are_checked_by_fit_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(config_text(batch_size=0))
    with pytest.raises(
        ConfigError,
        match=r"bad\.toml: trainer: fit: batch_size must be a positive integer, "
        r"received batch_size=0",
    ):
        cfg.run_experiment(path, verbose=False, progress=False)
    path.write_text(config_text(early_stopping='"yes"'))
    with pytest.raises(
        ConfigError, match=r"trainer\.early_stopping: must be true or false"
    ):
        cfg.load_config(path)


def test_a_misspelt_layer_key_lists_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(config_text().replace("neurons = 64", "neuron = 64"))
    exp = cfg.load_config(path)
    with pytest.raises(
        ConfigError,
        match=r"model\.layers\[0\]\.neuron: unknown key for a "
        r"dense layer; valid keys: type, neurons, activation",
    ):
        cfg.build_network(exp)


def test_out_that_is_a_file_fails_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "metrics.json"
    existing.write_text("{}")
    assert cli.main(["train", "--out", str(existing), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "exists and is not a directory" in err
    assert existing.read_text() == "{}"


def test_diverging_training_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "diverge.toml"
    path.write_text(
        config_text()
        .replace("lr = 0.05", "lr = 500.0")
        .replace("final_lr = 0.005", "final_lr = 100.0")
    )
    out = tmp_path / "run"
    assert cli.main(["train", str(path), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the loss became NaN or Inf in epoch 1" in err
    assert (
        json.loads((out / "history.json").read_text())["stop_reason"]
        == "non_finite_loss"
    )


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lincoln {__version__}"


def test_predict_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli.main(["train", "--out", str(run), "--quiet"]) == 0
    X, _ = load_digits()
    np.save(tmp_path / "x.npy", X)
    script = (
        "import sys; from lincoln.cli import main; "
        f"sys.exit(main(['predict', {str(run)!r}, {str(tmp_path / 'x.npy')!r}]))"
    )
    result = subprocess.run(
        f'{sys.executable} -c "{script}" | head -2',
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert len(result.stdout.splitlines()) == 2
    assert "Broken pipe" not in result.stderr and "Traceback" not in result.stderr


def test_gradcheck_samples_entries_of_big_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["gradcheck", "--max-checks", "5", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    # digits_mlp: 64x64 + 64 + 64x10 + 10 entries; 5 of each checked
    assert "20 of 4,810 parameter entries" in out
    assert "passed: error ratio" in out


def test_the_books_conv_testing_option_reports_batch_losses(
    digits,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    X_train, X_test, y_train, y_test = digits
    Trainer(classifier(), SGD(0.1)).fit(
        X_train, y_train, X_test, y_test, epochs=1, batch_size=60, conv_testing=True
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if "batch" in line]
    assert [line.split()[1] for line in lines] == ["0", "10", "20"]  # 23 batches


def test_predict_prepares_raw_inputs_like_the_training_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert cli.main(["train", "--out", str(run), "--quiet"]) == 0
    assert (run / "preprocess.npz").is_file()
    exp = cfg.load_config(run / "config.toml")
    _, _, X_test, _, scaler = cfg.load_data_and_scaler(exp)
    # the raw pixels of the test images, recovered from the prepared ones
    raw = X_test.astype(np.float64) * scaler.std + scaler.mean
    np.save(tmp_path / "raw.npy", raw)
    np.save(tmp_path / "prepared.npy", X_test)
    capsys.readouterr()
    assert (
        cli.main(["predict", str(run), str(tmp_path / "raw.npy"), "--raw-input"]) == 0
    )
    from_raw = capsys.readouterr().out.split()
    assert cli.main(["predict", str(run), str(tmp_path / "prepared.npy")]) == 0
    from_prepared = capsys.readouterr().out.split()
    assert from_raw == from_prepared and len(from_raw) == len(X_test)
    (run / "preprocess.npz").unlink()
    assert (
        cli.main(["predict", str(run), str(tmp_path / "raw.npy"), "--raw-input"]) == 1
    )
    assert "preprocess.npz not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("mean", "std"), [(3.0, 2.0), (np.arange(4.0), np.ones(4) * 2)]
)
def test_a_standardizer_survives_saving(tmp_path: Path, mean, std) -> None:  # type: ignore[no-untyped-def]
    from lincoln.datasets import Standardizer

    X = np.arange(12.0).reshape(3, 4)
    scaler = Standardizer(mean, std)
    scaler.save(tmp_path / "s.npz")
    again = Standardizer.load(tmp_path / "s.npz")
    np.testing.assert_allclose(again.transform(X), (X - mean) / std, rtol=1e-6)
    with pytest.raises(DataError, match="not a saved Standardizer"):
        Standardizer.load(tmp_path / "missing.npz")


def test_load_accepts_a_run_directory(tmp_path: Path) -> None:
    import lincoln

    run = tmp_path / "run"
    assert cli.main(["train", "--out", str(run), "--quiet"]) == 0
    from_dir, from_file = lincoln.load(run), lincoln.load(run / "model.npz")
    for a, b in zip(from_dir.params(), from_file.params(), strict=True):
        np.testing.assert_array_equal(a, b)
