"""The character language model from the command line: ``[data] name = "text"``
in an experiment file, ``lincoln train`` and ``lincoln generate``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lincoln import cli
from lincoln import config as cfg
from lincoln.datasets.text import load_text
from lincoln.errors import DataError
from lincoln.layers import Dense, Embedding
from lincoln.layers.recurrent import LSTM
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import Adam
from lincoln.train import Trainer
from lincoln.training import ResetStates, check_data

LINES = [
    "THE KING SHALL SPEAK TO THEE, MY LORD.",
    "and the queen of rome shall hear him;",
    "what say you, good sir? speak again!",
]

CONFIG = """
[data]
name = "text"
path = "{path}"
seq_len = 16
val_fraction = 0.1

[model]
loss = "softmax_cross_entropy"
seed = 1

[[model.layers]]
type = "embedding"
vocab_size = 1          # replaced by the text's
dim = 8

[[model.layers]]
type = "lstm"
neurons = 16
return_sequences = true

[[model.layers]]
type = "dense"
neurons = 1             # replaced by the text's vocabulary size
activation = "linear"

[optimizer]
type = "adam"
lr = 0.01

[trainer]
epochs = 2
eval_every = 1
batch_size = 16
early_stopping = false
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("charlm")
    text = folder / "small.txt"
    rng = np.random.default_rng(0)
    text.write_text("\n".join(LINES[i] for i in rng.integers(0, 3, 100)) + "\n")
    config = folder / "small.toml"
    config.write_text(CONFIG.format(path=text.as_posix()))
    out = folder / "run"
    assert cli.main(["train", str(config), "--out", str(out), "--quiet"]) == 0
    return out


def test_train_reports_nats_per_char_and_perplexity(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    nats = metrics["nats_per_char"]
    assert 0 < nats < math.log(len(set("".join(LINES) + "\n"))) + 1
    assert metrics["perplexity"] == pytest.approx(math.exp(nats))
    assert metrics["selected_on"] == "validation"
    assert metrics["test_loss"] is None and metrics["val_samples"] > 0
    assert 0.0 <= metrics["val_accuracy"] <= 1.0


def test_saved_model_carries_the_texts_vocabulary(run_dir: Path) -> None:
    net = cli.load_model(run_dir)
    tokens = sorted(set("".join(LINES) + "\n"))
    assert net.layers[0].vocab == tokens
    assert net.layers[-1].neurons == len(tokens)


def test_train_line_names_the_validation_figures(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = run_dir.parent / "small.toml"
    assert cli.main(["train", str(config), "--quiet"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert "nats/char, perplexity" in line and "small.toml: validation" in line


def test_generate_is_seeded_and_made_of_the_texts_characters(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", str(run_dir), "--prompt", "KING", "--length", "80"]
    argv += ["--temperature", "0.8", "--seed", "1"]
    samples = []
    for _ in range(2):
        assert cli.main(argv) == 0
        samples.append(capsys.readouterr().out)
    assert samples[0] == samples[1]
    text = samples[0].rstrip("\n")
    assert text.startswith("KING") and len(text) == 84
    assert set(text) <= set("".join(LINES) + "\n")


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--prompt", "KING#"], "the character '#' is not in the vocabulary"),
        (["--temperature", "0"], "temperature must be > 0"),
    ],
)
def test_generate_errors_are_one_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    assert cli.main(["generate", str(run_dir), *extra]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and match in captured.err
    assert captured.err.startswith("lincoln generate: error: ")


def test_generate_needs_a_vocabulary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = NeuralNetwork(
        [Embedding(5, 4), LSTM(4, return_sequences=True), Dense(5, "linear")],
        SoftmaxCrossEntropy(),
    )
    net.forward(np.zeros((1, 3), np.int64))
    net.save(tmp_path / "model.npz")
    assert cli.main(["generate", str(tmp_path / "model.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no vocabulary" in err


def test_trainer_keeps_ids_checks_sequence_labels_and_resets_state() -> None:
    ids, vocab = load_text()
    X = ids[:320].reshape(20, 16)
    y = ids[1:321].reshape(20, 16)
    net = NeuralNetwork(
        [
            Embedding(len(vocab), 8),
            LSTM(8, return_sequences=True),
            Dense(len(vocab), "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=1,
    )
    X_checked, y_checked = check_data(net, X, y, "train")
    assert X_checked.dtype.kind == "i" and y_checked.shape == (20, 16)
    trainer = Trainer(net, Adam(lr=0.01))
    trainer.fit(X, y, X, y, epochs=1, eval_every=1, verbose=False)
    result = trainer.evaluate(X, y)
    pred = net.forward(X, inference=True)
    assert result["accuracy"] == pytest.approx(np.mean(pred.argmax(axis=-1) == y))
    with pytest.raises(DataError, match="labels must be in"):
        trainer.evaluate(X, np.full_like(y, len(vocab)))
    assert any(isinstance(cb, ResetStates) for cb in trainer.callbacks)


def test_shipped_config_reads_the_book_text() -> None:
    root = Path(__file__).resolve().parents[1]
    exp = cfg.load_config(root / "configs" / "charlm_lstm.toml")
    net = cfg.build_network(exp)
    assert net.layers[0].vocab_size == 62 and len(net.layers[0].vocab) == 62
    assert cfg.data_input_shape(exp) == (64,)
