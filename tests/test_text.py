"""Text data: the bundled book text, a deterministic vocabulary, sequences, sampling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lincoln
from lincoln.datasets.text import (
    Vocabulary,
    load_text,
    make_sequences,
    sample,
    split_text,
    text_dataset,
    vocab_of,
)
from lincoln.errors import ConfigError, DataError, DatasetNotFoundError
from lincoln.layers.dense import Dense
from lincoln.layers.embedding import Embedding
from lincoln.layers.recurrent import LSTM
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork


def test_bundled_book_text() -> None:
    ids, vocab = load_text()
    assert len(ids) == 99_993 and len(vocab) == 62 and ids.dtype == np.int32
    assert vocab.tokens == sorted(vocab.tokens)
    assert vocab.decode(ids[:5]) == "That,"


def test_vocabulary_is_the_same_in_every_process() -> None:
    code = "from lincoln.datasets.text import load_text; print(load_text()[1].tokens)"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1


def test_encode_decode(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("héllo wörld\n", encoding="utf-8")
    ids, vocab = load_text(path)
    assert vocab.decode(ids) == "héllo wörld\n"
    assert Vocabulary.from_text("hello").tokens == ["e", "h", "l", "o"]
    with pytest.raises(DataError, match="'z' is not in the vocabulary"):
        vocab.encode("z")
    with pytest.raises(DataError, match="not in the vocabulary"):
        load_text(path, vocab=["h", "e"])
    with pytest.raises(DatasetNotFoundError):
        load_text(tmp_path / "missing.txt")
    with pytest.raises(ConfigError, match="distinct"):
        Vocabulary(["a", "a"])


def test_split_and_sequences() -> None:
    ids = np.arange(101)
    train, val = split_text(ids, 0.1)
    assert len(train) == 91 and len(val) == 10 and train[-1] + 1 == val[0]
    X, y = make_sequences(train, 8)
    assert X.shape == y.shape == (11, 8)
    assert np.array_equal(y[:, :-1], X[:, 1:]) and y[0, -1] == X[1, 0]
    with pytest.raises(DataError, match="too short"):
        make_sequences(ids[:5], 8)
    with pytest.raises(ConfigError, match="val_fraction"):
        split_text(ids, 1.0)
    data = text_dataset(seq_len=64)
    assert data.X_train.shape == (1406, 64) and data.X_val.shape == (156, 64)


def _model(vocab: Vocabulary) -> NeuralNetwork:
    return NeuralNetwork(
        [Embedding(len(vocab), 8, vocab=vocab.tokens), LSTM(16), Dense(len(vocab))],
        SoftmaxCrossEntropy(),
        seed=2,
    )


def test_sample_is_seeded_and_keeps_the_model(tmp_path: Path) -> None:
    _, vocab = load_text()
    net = _model(vocab)
    text = sample(net, vocab, prompt="KING", length=30, temperature=0.8, seed=1)
    assert text.startswith("KING") and len(text) == 34
    assert set(text) <= set(vocab.tokens)
    assert sample(net, prompt="KING", length=30, temperature=0.8, seed=1) == text
    assert net.layers[1].carry_state == "none" and net.layers[1].state is None
    net.save(tmp_path / "m.npz")
    loaded = lincoln.load(tmp_path / "m.npz")
    assert vocab_of(loaded) == vocab
    assert sample(loaded, prompt="KING", length=30, temperature=0.8, seed=1) == text
    assert sample(net, length=5, seed=3) != ""
    with pytest.raises(ConfigError, match="temperature"):
        sample(net, vocab, temperature=0)
    with pytest.raises(DataError, match="not in the vocabulary"):
        sample(net, vocab, prompt="@")


def test_vocab_of_needs_a_vocabulary() -> None:
    net = NeuralNetwork([Embedding(3, 2), Dense(3)], SoftmaxCrossEntropy())
    with pytest.raises(ConfigError, match="holds no vocabulary"):
        vocab_of(net)
