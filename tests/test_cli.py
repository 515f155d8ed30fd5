"""The ``lincoln`` command: the main job, the run directory, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lincoln import cli
from lincoln.base import ParamOperation
from lincoln.layers import Layer

ROOT = Path(__file__).resolve().parent.parent


def test_default_config_reaches_95_percent_on_bundled_digits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = cli.main(["train", "--out", str(out), "--quiet"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.95
    assert metrics["train_seconds"] < 60
    history = json.loads((out / "history.json").read_text())
    assert (
        history["val_accuracy"] and len(history["train_loss"]) == metrics["epochs_run"]
    )
    assert (out / "config.toml").read_text() == (
        ROOT / "configs" / "digits_mlp.toml"
    ).read_text()
    assert (out / "history.csv").read_text().startswith("epoch,train_loss")
    assert "test accuracy" in capsys.readouterr().out


def test_console_script_runs_and_reports(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "lincoln"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lincoln.cli"]
    result = subprocess.run(
        cmd + ["train", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 0, result.stderr
    assert "digits_mlp.toml: test accuracy 0.9" in result.stdout


def test_bad_config_is_one_line_error_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (ROOT / "configs" / "digits_mlp.toml")
        .read_text()
        .replace('type = "sgd_momentum"', 'type = "sgdm"')
    )
    assert cli.main(["train", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.toml" in err and "optimizer.type" in err and "sgd_momentum" in err


def test_missing_config_file_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["train", str(tmp_path / "nope.toml")]) == 1
    assert "config file not found" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


# -- the other commands: help, summary, gradcheck, evaluate, predict, benchmark ------

COMMANDS = ("train", "evaluate", "predict", "summary", "plot", "gradcheck", "benchmark")
DIGITS = ROOT / "configs" / "digits_mlp.toml"


def write_config(
    path: Path,
    layers: str,
    data: str = 'name = "digits"',
    loss: str = "softmax_cross_entropy",
    trainer: str = "epochs = 3",
) -> Path:
    path.write_text(
        f'[data]\n{data}\n\n[model]\nloss = "{loss}"\nseed = 3\n\n{layers}\n'
        f'[optimizer]\ntype = "sgd"\nlr = 0.05\n\n[trainer]\n{trainer}\n'
    )
    return path


DENSE_LAYERS = (
    '[[model.layers]]\ntype = "dense"\nneurons = 16\nactivation = "tanh"\n\n'
    '[[model.layers]]\ntype = "dense"\nneurons = 10\n'
)


def test_help_lists_every_command_with_its_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for signature in (
        "train [CONFIG] [--out DIR]",
        "evaluate RUN_DIR_OR_MODEL [--data CONFIG_OR_NAME]",
        "predict MODEL INPUT.npy [--out OUT.npy]",
        "summary [CONFIG]",
        "plot RUN_DIR [--out FILE.png]",
        "gradcheck [CONFIG]",
        "benchmark",
    ):
        assert signature in out
    assert "exit codes" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: lincoln {command}")
    assert f"\n  lincoln {command}" in out.split("example")[1]


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["trian"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "shape"),
    [
        ('name = "digits"', (64,)),
        ('name = "digits"\nshape = "image"', (1, 8, 8)),
        ('name = "mnist"', (784,)),
        ('name = "fashion_mnist"\nshape = "image"', (1, 28, 28)),
    ],
)
def test_input_shape_comes_from_the_data_section(
    tmp_path: Path, data: str, shape: tuple[int, ...]
) -> None:
    exp = cli.cfg.load_config(write_config(tmp_path / "c.toml", DENSE_LAYERS, data))
    assert cli.data_input_shape(exp) == shape


def test_summary_prints_the_default_network(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summary", str(DIGITS)]) == 0
    out = capsys.readouterr().out
    assert "0  Dense(neurons=64, activation='relu'" in out
    assert "WeightMultiply(64x64) -> BiasAdd(1x64) -> ReLU" in out
    assert "Total params: 4,810" in out


def test_summary_of_mnist_config_loads_no_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("summary must not load the data set")

    monkeypatch.setattr(cli.cfg, "load_data", no_loading)
    assert cli.main(["summary", str(ROOT / "configs" / "two_layer_net.toml")]) == 0
    out = capsys.readouterr().out
    assert "input" in out and "(784,)" in out
    assert "Total params: 39,760" in out  # 784*50 + 50 + 50*10 + 10


def test_summary_of_image_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = '[[model.layers]]\ntype = "flatten"\n\n' + DENSE_LAYERS
    config = write_config(
        tmp_path / "img.toml", layers, 'name = "digits"\nshape = "image"'
    )
    assert cli.main(["summary", str(config)]) == 0
    out = capsys.readouterr().out
    assert "(1, 8, 8)" in out and "(64,)" in out


def test_summary_bad_data_name_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", DENSE_LAYERS, 'name = "digitz"')
    assert cli.main(["summary", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.name" in err and "digitz" in err


def test_gradcheck_default_network_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gradcheck", str(DIGITS)]) == 0
    out = capsys.readouterr().out
    assert "float64" in out
    for name in (
        "layers.0.params.0",
        "layers.0.params.1",
        "layers.1.params.0",
        "layers.1.params.1",
    ):
        assert name in out
    assert "FAILED" not in out and "passed: error ratio" in out


def test_gradcheck_reports_the_measure_it_tested(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A tolerance far below float64's central-difference error fails, with the
    ratio of the difference to the tolerance it exceeded (not a number that
    simply scales with --rtol)."""
    argv = ["gradcheck", str(DIGITS), "--rtol", "1e-12", "--atol", "1e-15"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    ratio = float(err.split("error ratio ")[1].split(" ")[0])
    assert ratio > 1 and "rtol 1e-12, atol 1e-15" in err


def test_gradcheck_regression_and_dropout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = (
        '[[model.layers]]\ntype = "dense"\nneurons = 8\nactivation = "sigmoid"\n'
        'dropout = 0.7\n\n[[model.layers]]\ntype = "dense"\nneurons = 3\n'
    )
    config = write_config(tmp_path / "r.toml", layers, loss="mean_squared_error")
    assert cli.main(["gradcheck", str(config), "--samples", "3"]) == 0
    assert "passed" in capsys.readouterr().out


class _WrongGradScale(ParamOperation):
    """x * w, whose parameter gradient is off by a factor of two."""

    def _output(self):  # type: ignore[override]
        return self.input_ * self.param

    def _input_grad(self, output_grad):  # type: ignore[override]
        return output_grad * self.param

    def _param_grad(self, output_grad):  # type: ignore[override]
        return 2.0 * (output_grad * self.input_).sum(axis=0, keepdims=True)


class _BrokenScale(Layer):
    def _setup_layer(self, input_):  # type: ignore[override]
        self.operations = [_WrongGradScale(np.ones((1, input_.shape[1])))]


def test_gradcheck_failure_exit_1_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.cfg.LAYERS, "broken_scale", _BrokenScale)
    layers = DENSE_LAYERS + '\n[[model.layers]]\ntype = "broken_scale"\nneurons = 10\n'
    config = write_config(tmp_path / "broken.toml", layers)
    assert cli.main(["gradcheck", str(config)]) == 1
    captured = capsys.readouterr()
    assert "layers.2.params.0  _BrokenScale  _WrongGradScale" in captured.out
    assert "FAILED" in captured.out
    assert captured.err.count("\n") == 1
    assert "gradient check failed for layers.2.params.0" in captured.err


def test_benchmark_without_script_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "SOURCE_ROOT", tmp_path)
    assert cli.main(["benchmark"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scripts/benchmark.py" in err


def test_benchmark_runs_the_script_with_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "benchmark.py").write_text(
        "import sys\nprint('benchmark args', sys.argv[1:])\nsys.exit(3)\n"
    )
    monkeypatch.setattr(cli, "SOURCE_ROOT", tmp_path)
    assert cli.main(["benchmark", "--quick", "-n", "2"]) == 3  # the script's exit code
    assert "benchmark args ['--quick', '-n', '2']" in capfd.readouterr().out
    assert cli.main(["benchmark", "--", "--help"]) == 3
    assert "benchmark args ['--help']" in capfd.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "nope.toml"],
        ["gradcheck", "nope.toml"],
        ["evaluate", "no_such_run"],
        ["predict", "no_such_model.npz", "x.npy"],
        ["plot", "no_such_run"],
    ],
)
def test_user_mistakes_are_one_line_without_traceback(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lincoln {argv[0]}: error: ") and "Traceback" not in err


def test_run_dir_without_model_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["evaluate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model.npz" in err


# -- evaluate and predict, end to end on a saved model -----------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory from ``lincoln train --out`` with a small, quick config."""
    folder = tmp_path_factory.mktemp("run")
    config = write_config(
        folder / "small.toml",
        DENSE_LAYERS,
        trainer="epochs = 5\neval_every = 5\nbatch_size = 32",
    )
    run = folder / "run"
    assert (
        cli.main(["train", str(config), "--out", str(run), "--quiet", "--no-progress"])
        == 0
    )
    if not (run / "model.npz").is_file():
        pytest.fail(
            "lincoln train --out wrote no model.npz (NeuralNetwork.save missing?)"
        )
    return run


def _test_data(run: Path) -> tuple[np.ndarray, np.ndarray]:
    exp = cli.cfg.load_config(run / "config.toml")
    _, _, X_test, y_test = cli.cfg.load_data(exp)
    return X_test, y_test


def test_evaluate_run_dir_matches_the_metrics_of_training(
    trained_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli.main(["evaluate", str(trained_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert result["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-12)
    assert result["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-6)
    assert result["test_samples"] == metrics["test_samples"] == 450


def test_evaluate_model_file_with_config_or_data_name(
    trained_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(trained_run / "model.npz")
    accuracy = json.loads((trained_run / "metrics.json").read_text())["test_accuracy"]
    capsys.readouterr()
    assert (
        cli.main(["evaluate", model, "--data", str(trained_run / "config.toml")]) == 0
    )
    assert f"test accuracy {accuracy:.4f}" in capsys.readouterr().out
    # the config's data settings are digits' defaults, so the name gives the same split
    assert cli.main(["evaluate", model, "--data", "digits"]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy {accuracy:.4f}" in out and "on 450 samples" in out


def test_evaluate_model_file_needs_data(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a model inside a run directory uses the config.toml beside it
    assert cli.main(["evaluate", str(trained_run / "model.npz")]) == 0
    assert "test accuracy" in capsys.readouterr().out
    # a model on its own needs --data
    alone = tmp_path / "alone.npz"
    alone.write_bytes((trained_run / "model.npz").read_bytes())
    assert cli.main(["evaluate", str(alone)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data" in err
    assert cli.main(["evaluate", str(trained_run), "--data", "digitz"]) == 1
    assert "neither an experiment file nor a data set name" in capsys.readouterr().err


def test_predict_prints_classes_and_saves_outputs(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lincoln.serialization import load

    X_test, _ = _test_data(trained_run)
    net = load(trained_run / "model.npz")
    expected = net.predict(X_test[:6])
    samples = tmp_path / "samples.npy"
    np.save(samples, X_test[:6])
    capsys.readouterr()

    assert cli.main(["predict", str(trained_run), str(samples)]) == 0
    printed = [int(line) for line in capsys.readouterr().out.split()]
    assert printed == list(expected.argmax(axis=1))

    out = tmp_path / "pred.npy"
    assert (
        cli.main(
            ["predict", str(trained_run / "model.npz"), str(samples), "--out", str(out)]
        )
        == 0
    )
    np.testing.assert_array_equal(np.load(out), expected.argmax(axis=1))
    assert (
        cli.main(
            ["predict", str(trained_run), str(samples), "--out", str(out), "--raw"]
        )
        == 0
    )
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-6)
    assert "wrote outputs of 6 samples, shape (6, 10)" in capsys.readouterr().out

    one = tmp_path / "one.npy"
    np.save(one, X_test[0])  # a single sample, no batch axis
    assert cli.main(["predict", str(trained_run), str(one)]) == 0
    assert capsys.readouterr().out.split() == [str(expected[0].argmax())]


def test_predict_bad_input_one_line_exit_1(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 5)))
    assert cli.main(["predict", str(trained_run), str(wrong)]) == 1
    # the network's own check, with the file it is about
    err = capsys.readouterr().err
    assert "wrong.npy: Dense: built for inputs of shape (batch, 64)" in err
    assert "received shape (3, 5)" in err and err.count("\n") == 1
    text = tmp_path / "x.npy"
    text.write_text("1,2,3\n")
    assert cli.main(["predict", str(trained_run), str(text)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a NumPy .npy file" in err
    assert cli.main(["predict", str(trained_run / "config.toml"), str(wrong)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_evaluate_on_data_of_another_shape_names_the_config(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = write_config(
        tmp_path / "image.toml", DENSE_LAYERS, 'name = "digits"\nshape = "image"'
    )
    assert cli.main(["evaluate", str(trained_run), "--data", str(image)]) == 1
    err = capsys.readouterr().err
    # the trainer's check, with the file the data came from
    assert err.startswith(f"lincoln evaluate: error: {image} test data: ")
    assert "(64,)" in err and err.count("\n") == 1


def test_console_script_evaluate(trained_run: Path) -> None:
    exe = Path(sys.executable).parent / "lincoln"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lincoln.cli"]
    result = subprocess.run(
        cmd + ["evaluate", str(trained_run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


def test_export_writes_an_onnx_file_that_predicts_like_the_run(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnxruntime as ort

    from lincoln import load, load_digits

    out = tmp_path / "digits.onnx"
    assert cli.main(["export", str(trained_run), str(out), "--softmax"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    X = load_digits()[0][:20]
    net = load(trained_run)
    probs = ort.InferenceSession(str(out)).run(None, {"input": X})[0]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probs.argmax(axis=1), net.predict(X).argmax(axis=1))


def test_export_of_a_missing_model_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", str(tmp_path / "nothing.npz"), str(tmp_path / "m.onnx")]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.count("\n") == 1
