"""Threads in training: ``Trainer(..., threads=N)``, ``[trainer] threads`` and
``lincoln train --threads N``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lincoln import Dense, NeuralNetwork, SoftmaxCrossEntropy, cli, threads
from lincoln import config as cfg
from lincoln.errors import ConfigError
from lincoln.optimizers import SGD
from lincoln.train import Trainer
from lincoln.training.callbacks import Callback

ROOT = Path(__file__).resolve().parent.parent


class _CountDuringFit(Callback):
    def on_epoch_begin(self, epoch: int) -> None:
        self.count = threads.get_threads()


def _train(digits: Any, n: int | None) -> tuple[NeuralNetwork, Trainer, int | None]:
    X_train, X_test, y_train, y_test = digits
    net = NeuralNetwork(
        [Dense(16, "tanh"), Dense(10, "linear")], SoftmaxCrossEntropy(), seed=0
    )
    trainer = Trainer(net, SGD(lr=0.1), threads=n)
    probe = _CountDuringFit()
    trainer.fit(
        X_train, y_train, X_test, y_test, epochs=2, eval_every=1,
        verbose=False, progress=False, callbacks=[probe],
    )  # fmt: skip
    return net, trainer, probe.count


def test_threads_1_gives_the_default_results_and_restores_the_count(
    digits: Any,
) -> None:
    before = threads.get_threads()
    default_net, _, _ = _train(digits, None)
    net, trainer, during = _train(digits, 1)
    assert during == 1 and threads.get_threads() == before
    for a, b in zip(net.params(), default_net.params(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert trainer.evaluate(digits[1], digits[3])["loss"] == pytest.approx(
        Trainer(default_net, SGD()).evaluate(digits[1], digits[3])["loss"], rel=1e-5
    )
    assert threads.get_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_trainer_refuses_a_bad_thread_count(bad: Any) -> None:
    net = NeuralNetwork([Dense(3, "linear")], SoftmaxCrossEntropy())
    with pytest.raises(ConfigError, match="Trainer: threads"):
        Trainer(net, SGD(), threads=bad)


def _config(tmp_path: Path, extra: str = "") -> Path:
    text = (ROOT / "configs" / "digits_mlp.toml").read_text()
    text = text.replace("[trainer]", "[trainer]\n" + extra, 1)
    if "epochs" in text:  # keep it quick
        text = "\n".join(
            "epochs = 2" if line.startswith("epochs") else line
            for line in text.splitlines()
        )
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


def test_config_threads_is_read(tmp_path: Path) -> None:
    exp = cfg.load_config(_config(tmp_path, "threads = 1"))
    assert cfg.trainer_options(exp) == {"threads": 1}
    assert "threads" not in cfg.fit_options(exp)
    _, _, trainer = cfg.run_experiment(exp, verbose=False, progress=False)
    assert trainer.threads == 1
    bad = cfg.load_config(_config(tmp_path, "threads = 0"))
    with pytest.raises(ConfigError, match=r"exp\.toml: trainer\.threads"):
        cfg.run_experiment(bad, verbose=False, progress=False)


def test_cli_threads_1_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = threads.get_threads()
    out = tmp_path / "run"
    config = _config(tmp_path, "threads = 2")
    code = cli.main(["train", str(config), "--threads", "1", "--out", str(out),
                     "--quiet", "--no-progress"])  # fmt: skip
    assert code == 0 and threads.get_threads() == before
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
    # the run directory keeps the file as written (--threads is not training)
    assert (out / "config.toml").read_text() == config.read_text()
    with pytest.raises(SystemExit):
        cli.main(["train", str(config), "--threads", "0"])
    assert "--threads" in capsys.readouterr().err
