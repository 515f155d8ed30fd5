"""The files the commands read: the default config, saved models, input arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import PREPROCESS_FILE
from ..datasets import Standardizer
from ..errors import LincolnError
from ..network import NeuralNetwork
from ..serialization import load

__all__ = [
    "SOURCE_ROOT",
    "DEFAULT_CONFIG",
    "default_config_path",
    "load_model",
    "load_array",
    "prepare_like_training",
]

DEFAULT_CONFIG = "digits_mlp.toml"

# The source checkout this package sits in (configs/ and scripts/ live there,
# not in a wheel): lincoln/cli/files.py -> the folder holding lincoln/.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def default_config_path() -> Path:
    """``configs/digits_mlp.toml``: in the working folder, else beside the package."""
    candidates = [
        Path.cwd() / "configs" / DEFAULT_CONFIG,
        SOURCE_ROOT / "configs" / DEFAULT_CONFIG,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LincolnError(
        "no CONFIG given and the default configs/digits_mlp.toml was not found in "
        + " or ".join(str(c.parent) for c in candidates)
    )


def config_path(config: str | None) -> Path:
    """The CONFIG argument as a path, or the default config when not given."""
    return Path(config) if config else default_config_path()


def load_model(path: str | Path) -> NeuralNetwork:
    """The network saved at ``path``: a ``model.npz`` or a run directory holding one.

    Raises:
        FileNotFoundError: no such file, or no model.npz in the directory.
        ModelFileError: the file is not a lincoln model (see
            :func:`lincoln.serialization.load`).
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "model.npz").is_file():
            raise FileNotFoundError(
                f"{path}: no model.npz in this directory; 'lincoln train CONFIG --out "
                f"{path}' writes one"
            )
        path = path / "model.npz"
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such model file or run directory")
    return load(path)


def load_array(path: str | Path) -> np.ndarray:
    """The one array saved in a ``.npy`` file (no pickles).

    Raises:
        FileNotFoundError: no such file.
        LincolnError: not a ``.npy`` file, or an unreadable one.
    """
    path = Path(path)
    with open(path, "rb") as fh:  # FileNotFoundError is reported as it is
        magic = fh.read(6)
    if magic != b"\x93NUMPY":
        kind = "an .npz archive" if magic.startswith(b"PK") else "not a NumPy .npy file"
        raise LincolnError(f"{path}: {kind}; give one array saved with numpy.save")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise LincolnError(f"{path}: cannot read the array ({exc})") from None


def prepare_like_training(
    model: Path, X: np.ndarray, source: str = "INPUT"
) -> np.ndarray:
    """Raw samples prepared with the run directory's ``preprocess.npz``.

    Raw means as the data set's files hold them, before any scaling or
    standardizing (0-255 pixels for MNIST, 0-16 for digits). Samples whose
    values do not look like that (e.g. already scaled to [0, 1]) are refused.

    Raises:
        LincolnError: the run directory has no ``preprocess.npz``, or ``X``
            does not look like the raw training data.
        DataError: ``preprocess.npz`` is unreadable.
    """
    run_dir = model if model.is_dir() else model.parent
    path = run_dir / PREPROCESS_FILE
    if not path.is_file():
        raise LincolnError(
            f"--raw-input: {path} not found; it is written by lincoln train --out "
            f"into the run directory"
        )
    scaler = Standardizer.load(path)
    mismatch = scaler.raw_mismatch(X)
    if mismatch is not None:
        raise LincolnError(
            f"--raw-input: {source} has {mismatch} ({path}); give raw samples, or "
            f"leave out --raw-input for samples already prepared as the training "
            f"data was"
        )
    return scaler.transform(X)
