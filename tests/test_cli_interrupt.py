"""Ctrl-C during ``lincoln train --out DIR``: the run directory is still written,
with the best model, and the command exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lincoln
from lincoln import cli
from lincoln.network import NeuralNetwork
from lincoln.train import Trainer


def test_interrupted_training_still_writes_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_train_batch = NeuralNetwork.train_batch
    calls = {"n": 0}

    def train_batch_then_ctrl_c(self, X, y, inference=False):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        # part-way through epoch 12: 1,212 of the 1,347 training digits are
        # trained on (10% held out for validation), 38 batches an epoch
        if calls["n"] == 38 * 12:
            raise KeyboardInterrupt
        return real_train_batch(self, X, y, inference)

    monkeypatch.setattr(NeuralNetwork, "train_batch", train_batch_then_ctrl_c)
    out = tmp_path / "run"
    code = cli.main(["train", "--out", str(out), "--quiet"])

    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    history = json.loads((out / "history.json").read_text())
    assert history["stop_reason"] == "interrupted"
    assert history["stopped_epoch"] == 12
    assert history["best_epoch"] == 10  # evaluated every 5 epochs
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_reason"] == "interrupted" and metrics["test_accuracy"] > 0.9
    assert (out / "config.toml").is_file() and (out / "history.csv").is_file()
    # the saved model is the best one, and it loads
    net = lincoln.load(out / "model.npz")
    assert all(np.isfinite(p).all() for p in net.params())


def test_a_fit_that_reraises_ctrl_c_still_gets_its_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a Trainer.fit that restores the best parameters and then re-raises Ctrl-C
    real_fit = Trainer.fit

    def fit_then_ctrl_c(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["epochs"] = 2
        real_fit(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", fit_then_ctrl_c)
    out = tmp_path / "run"
    assert cli.main(["train", "--out", str(out), "--quiet"]) == 130
    assert "lincoln train: interrupted" in capsys.readouterr().err
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
    assert lincoln.load(out).params()
