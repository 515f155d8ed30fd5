"""``[data] name = "text"``: a character language model's data.

The text (``path``, default the book's chapter 6 text, bundled) is read with
``encoding``; its last ``val_fraction`` is the validation data (there is no
separate test set) and both parts are cut into sequences of ``seq_len``
characters (:func:`~lincoln.datasets.text.text_dataset`). The configured
network's Embedding layer gets ``vocab_size`` and ``vocab`` from the text, so
that the saved model carries its vocabulary, and a last dense layer gets one
output (``neurons``) per character.
"""

from __future__ import annotations

import math
from typing import Any

from ..datasets.text import TextDataset, text_dataset
from .experiment import Experiment

__all__ = [
    "is_text",
    "text_data",
    "text_metrics",
    "with_vocabulary",
    "TEXT_DEFAULTS",
]

#: the ``[data]`` keys of a text and their defaults
TEXT_DEFAULTS: dict[str, Any] = {
    "path": None,
    "seq_len": 64,
    "val_fraction": 0.1,
    "encoding": "utf-8",
}


def is_text(exp: Experiment) -> bool:
    """True for an experiment whose ``[data]`` is a text."""
    return bool(exp.config["data"].get("name") == "text")


def text_data(exp: Experiment) -> TextDataset:
    """The training and validation sequences and the vocabulary of the text.

    Raises:
        ConfigError, DataError, DatasetNotFoundError: from
            :func:`~lincoln.datasets.text.text_dataset` (naming the file and
            ``data``).
    """
    keys = {**TEXT_DEFAULTS, **exp.config["data"]}
    with exp.at("data"):
        return text_dataset(
            keys["path"], keys["seq_len"], keys["val_fraction"], keys["encoding"]
        )


def with_vocabulary(exp: Experiment, specs: list[Any]) -> list[Any]:
    """The layer tables, the Embedding's given the text's ``vocab_size`` and
    ``vocab``, and a last dense layer one output per character (as
    ``scripts/train_charlm.py`` builds it); other tables are left as they are."""
    tokens = text_data(exp).vocab.tokens
    specs = [
        {**spec, "vocab_size": len(tokens), "vocab": list(tokens)}
        if isinstance(spec, dict) and spec.get("type") == "embedding"
        else spec
        for spec in specs
    ]
    if specs and isinstance(specs[-1], dict) and specs[-1].get("type") == "dense":
        specs[-1] = {**specs[-1], "neurons": len(tokens)}
    return specs


def text_metrics(trainer: Any, X_val: Any, y_val: Any) -> dict[str, Any]:
    """What ``metrics.json`` reports of a language model: the validation
    cross-entropy in nats per character and its perplexity (``exp`` of it),
    with per-character accuracy; None for each without validation data."""
    result: dict[str, Any] = {"loss": None, "accuracy": None}
    if len(X_val):
        result = trainer.evaluate(X_val, y_val)
    nats = result["loss"]
    return {
        "test_loss": None,  # no test set: the text's end is the validation data
        "test_accuracy": None,
        "selected_on": "validation" if len(X_val) else "none",
        "nats_per_char": nats,
        "perplexity": None if nats is None else float(math.exp(nats)),
        "val_accuracy": result.get("accuracy"),
        "test_samples": 0,
        "val_samples": int(len(X_val)),
    }
