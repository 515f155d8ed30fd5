"""Reading an experiment file and checking its structure.

The reader checks what only it interprets: the sections and keys a file may
have, the ``[data]`` choices (which data set, its shape, its preprocessing),
and that switches are true or false. Every other value goes to the object it
configures, which checks it; :meth:`Experiment.at` adds the file and key to
that object's :class:`~lincoln.errors.ConfigError`.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

__all__ = [
    "Experiment",
    "load_config",
    "config_copy",
    "DATASETS",
    "SHAPES",
    "PREPROCESS",
    "SECTIONS",
]

DATASETS = ("digits", "mnist", "fashion_mnist", "text")
SHAPES = ("flat", "image")
PREPROCESS = ("standardize", "global", "scale", "none")

# every key each section accepts, with its meaning; [optimizer] takes the
# optimizer's own arguments besides "type", so its keys are the optimizer's to check
SECTIONS: dict[str, dict[str, str]] = {
    "data": {
        "name": f"one of {', '.join(DATASETS)}",
        "path": 'folder holding the data set\'s files (name = "text": a text '
        "file, by default the book's chapter 6 text)",
        "seq_len": "characters per sequence (text only; default 64)",
        "val_fraction": "share at the end of the text held out as the validation "
        "data (text only; default 0.1; a text has no test set)",
        "encoding": "the text file's encoding (text only; default utf-8)",
        "shape": "'flat' (samples, features) or 'image' (samples, 1, H, W)",
        "preprocess": "standardize (per feature), global (one mean and std over "
        "all pixels, the book's), scale (to [0, 1]) or none",
        "test_fraction": "share held out for testing (digits only)",
        "split_seed": "seed of the train/test split (digits only)",
        "validation_split": "share of the training data held out for validation "
        "(early stopping and model selection); the test set is then used once, "
        "after training. Without it the test set is the validation set, as in "
        "the book",
        "one_hot": "true to give targets as one-hot rows "
        "(needed by mean squared error)",
        "limit_train": "use only the first N training samples",
        "limit_test": "use only the first N test samples",
        "shift": "images only: shift training batches by up to N pixels (blank fill)",
        "flip": "images only: true to mirror half of each training batch left-right",
    },
    "model": {
        "layers": "list of [[model.layers]] tables",
        "loss": "a loss name (lincoln.registry.LOSSES)",
        "seed": "seed of the initial weights",
        "dtype": "float32 or float64",
    },
    "optimizer": {"type": "an optimizer name (lincoln.registry.OPTIMIZERS)"},
    "trainer": {
        "epochs": "passes over the training data",
        "eval_every": "evaluate every N epochs",
        "batch_size": "samples per batch",
        "seed": "seed of the shuffling",
        "early_stopping": "true/false",
        "patience": "evaluations without improvement before stopping",
        "min_delta": "smallest improvement that counts",
        "monitor": "val_loss or val_accuracy: what early stopping calls best",
        "restart": "true/false",
        "threads": "most BLAS/OpenMP threads (lincoln train --threads overrides it)",
    },
}
REQUIRED_SECTIONS = ("data", "model", "optimizer")

# the values the reader itself interprets, so that no constructor checks them:
# [data]'s choices, the sample limits it slices with, and switches (which
# Trainer.fit would take as truthy, "no" included)
_CHOICES = {
    "data.name": ("data set", DATASETS),
    "data.shape": ("shape", SHAPES),
    "data.preprocess": ("preprocessing", PREPROCESS),
}
_COUNTS = ("data.limit_train", "data.limit_test")
_SWITCHES = ("data.one_hot", "trainer.early_stopping", "trainer.restart", "data.flip")


@dataclass
class Experiment:
    """A parsed experiment file: where it came from and its contents."""

    path: Path
    config: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError naming this file and ``key``."""
        return ConfigError(f"{self.path}: {key}: {message}")

    @contextmanager
    def at(self, key: str) -> Iterator[None]:
        """Re-raise a ConfigError of the block as one naming this file and ``key``.

        The check belongs to whatever the block creates; this only says where
        the value came from::

            with exp.at("model.loss"):
                loss = get_loss(spec)
        """
        try:
            yield
        except ConfigError as exc:
            raise self.error(key, str(exc)) from None


def load_config(path: str | Path) -> Experiment:
    """Read an experiment file and check its structure.

    Raises:
        ConfigError: the file is missing, is not valid TOML, has an unknown
            section or key, or a ``[data]`` choice or a switch that is not one
            (the message names the file, key and valid choices).
    """
    path = Path(path)
    exp = Experiment(path=path, config=_read_toml(path))
    _check_sections(exp)
    _check_reader_values(exp)
    _check_augment(exp)
    return exp


def config_copy(exp: Experiment) -> dict[str, Any]:
    """A deep copy of the parsed configuration."""
    return copy.deepcopy(exp.config)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read config file: {exc.strerror or exc}"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: not a UTF-8 text file (byte 0x{raw[exc.start]:02x} on line "
            f"{line}); TOML files are UTF-8: save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _check_sections(exp: Experiment) -> None:
    """Known sections, each a table; the required ones present; known keys."""
    for section, value in exp.config.items():
        if section not in SECTIONS:
            valid = ", ".join(SECTIONS)
            raise exp.error(section, f"unknown section; valid sections: {valid}")
        if not isinstance(value, dict):
            raise exp.error(section, f"must be a table, e.g. [{section}]")
    for section in REQUIRED_SECTIONS:
        if section not in exp.config:
            raise exp.error(section, "missing section")
    for section in ("data", "model", "trainer"):
        for key in exp.config.get(section, {}):
            if key not in SECTIONS[section]:
                valid = ", ".join(SECTIONS[section])
                raise exp.error(f"{section}.{key}", f"unknown key; valid keys: {valid}")


def _check_reader_values(exp: Experiment) -> None:
    given = {
        f"{section}.{key}": value
        for section in ("data", "trainer")
        for key, value in exp.config.get(section, {}).items()
    }
    given.setdefault("data.name", None)  # no default: a missing name is unknown
    for key, (what, choices) in _CHOICES.items():
        if key in given and given[key] not in choices:
            raise exp.error(
                key,
                f"unknown {what} {given[key]!r}; choose one of: {', '.join(choices)}",
            )
    for key in _COUNTS:
        count = given.get(key, 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise exp.error(key, f"must be a positive integer, received {count!r}")
    for key in _SWITCHES:
        if not isinstance(given.get(key, False), bool):
            raise exp.error(key, f"must be true or false, received {given[key]!r}")


def _check_augment(exp: Experiment) -> None:
    """``[data]`` shift and flip augment images: refused for flat data."""
    data = exp.config["data"]
    for key in ("shift", "flip"):
        if key in data and data.get("shape", "flat") != "image":
            raise exp.error(
                f"data.{key}",
                'augmentation needs images: set shape = "image" in [data]',
            )
