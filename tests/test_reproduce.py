"""The book's results on real data: Fashion-MNIST from the Debian package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lincoln import config as cfg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_glorot_recipe_reaches_87_percent_on_fashion_mnist() -> None:
    # the book's final chapter 4 network: 784-89-10 sigmoid, Glorot init, SGD with
    # momentum 0.9 and exponential decay 0.2 -> 0.05, batch 60, 10 epochs
    history, metrics, trainer = cfg.run_experiment(
        ROOT / "configs" / "book" / "ch4_6_glorot.toml", verbose=False, progress=False
    )
    assert metrics["train_samples"] == 60000 and metrics["test_samples"] == 10000
    assert metrics["test_accuracy"] >= 0.87
    assert len(history.train_loss) == 10
    assert history.train_loss[-1] < history.train_loss[0]


@pytest.mark.slow
def test_reproduce_script_prints_a_markdown_table() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "reproduce_book.py"),
            "--only",
            "ch4_2",
            "--epochs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(
        "| config | epochs | chosen on | held epoch | validation accuracy "
        "| Fashion-MNIST test accuracy"
    )
    row = [cell.strip() for cell in lines[2].split("|")]
    assert row[1] == "ch4_2_softmax_ce" and row[8] == "92.61%"
    assert row[3] == "10% of training data" and row[4] == "1"
    assert 50.0 < float(row[6].rstrip("%")) < 100.0


@pytest.mark.slow
def test_the_fashion_cnn_recipe_learns_from_a_fifth_of_the_data() -> None:
    # configs/fashion_cnn.toml as shipped (shifts, flips, batch normalization,
    # L2, the ReLUs applied after pooling), on 12,000 training images for 4
    # epochs: the full run is measured in docs/benchmarks.md
    exp = cfg.load_config(ROOT / "configs" / "fashion_cnn.toml")
    exp.config["data"].update(limit_train=12000, limit_test=2000)
    exp.config["trainer"].update(epochs=4, patience=4)
    history, metrics, trainer = cfg.run_experiment(exp, verbose=False, progress=False)
    assert metrics["train_samples"] == 12000 and metrics["test_samples"] == 2000
    assert [type(op).__name__ for op in trainer.net.layers[1].operations] == [
        "MaxPool2DOp",
        "ReLU",
    ]
    assert metrics["test_accuracy"] >= 0.84
    assert history.train_loss[-1] < history.train_loss[0]
