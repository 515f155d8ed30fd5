"""Preprocessing helpers: one-hot encoding, standardization, a seeded split."""

from __future__ import annotations

import numbers
import os
import zipfile
from typing import Any

import numpy as np

from .._files import atomic_write
from ..errors import ConfigError, DataError, check_positive_int, check_real

__all__ = ["one_hot", "standardize", "Standardizer", "train_test_split"]

# the figures of the raw training data a Standardizer keeps (and saves as raw_*)
_RAW = ("min", "max", "mean", "std")


def one_hot(
    labels: Any, num_classes: int | None = None, dtype: Any = np.float32
) -> np.ndarray:
    """Rows of zeros with a one at each label.

    Args:
        labels: integer labels ``(N,)``.
        num_classes: width of the encoding, a positive integer; default
            ``max(labels) + 1``.

    Raises:
        DataError: non-integer or negative labels, or a label >= ``num_classes``.
        ConfigError: ``num_classes`` is not a positive integer.
    """
    if num_classes is not None:
        num_classes = check_positive_int("one_hot", "num_classes", num_classes)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(
            f"one_hot: labels must be a 1-D integer array, received shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    if labels.size and labels.min() < 0:
        raise DataError(f"one_hot: labels must be >= 0, received {int(labels.min())}")
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and labels.max() >= k:
        raise DataError(
            f"one_hot: label {int(labels.max())} does not fit num_classes={k}"
        )
    out = np.zeros((labels.shape[0], k), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


class Standardizer:
    """``(x - mean) / std``, per feature (fitted on one array) or with one
    mean and spread for every value.

    Features with zero spread are divided by 1, not 0. A fitted standardizer
    can be saved (``save``) and read back (``Standardizer.load``) so that new
    inputs are prepared exactly as the training data was. It also keeps the
    range and scale of the raw data it was fitted on (``raw``: min, max,
    mean, std; see :meth:`record_raw`), so that :meth:`raw_mismatch` can tell
    inputs that look already prepared from raw ones.
    """

    def __init__(self, mean: Any = None, std: Any = None) -> None:
        self.mean: np.ndarray | None = None if mean is None else np.asarray(mean, float)
        self.std: np.ndarray | None = None if std is None else np.asarray(std, float)
        if self.std is not None and not np.all(self.std > 0):
            raise ConfigError("Standardizer: std must be positive")
        self.raw: dict[str, float] | None = None

    def record_raw(self, X: Any) -> Standardizer:
        """Remember the min, max, mean and std of the raw data ``X``."""
        X = np.asarray(X, dtype=np.float64)
        if X.size:
            self.raw = {
                "min": float(X.min()),
                "max": float(X.max()),
                "mean": float(X.mean()),
                "std": float(X.std()),
            }
        return self

    def raw_mismatch(self, X: Any) -> str | None:
        """Why ``X`` does not look like the raw data :meth:`record_raw` saw
        (already scaled or standardized, or of another scale), else None.

        Samples look prepared if they span under a tenth of the raw range, go
        below a raw range starting at 0 or more, or (for raw data whose mean is
        clearly above 0) have a mean near 0; they are of another scale if they
        reach half the raw range beyond it.
        """
        X = np.asarray(X, dtype=np.float64)
        if self.raw is None or X.size == 0 or not np.all(np.isfinite(X)):
            return None
        raw = self.raw
        span = raw["max"] - raw["min"]
        if not span > 0:
            return None
        low, high, mean = float(X.min()), float(X.max()), float(X.mean())
        seen = f"values in [{low:.4g}, {high:.4g}], but the training data's raw values "
        seen += f"were in [{raw['min']:.4g}, {raw['max']:.4g}]"
        positive = raw["min"] >= 0 and raw["mean"] > 0.5 * raw["std"]
        if (
            0 < high - low < 0.1 * span
            or (raw["min"] >= 0 and low < raw["min"] - 0.01 * span)
            or (positive and abs(mean) < 0.1 * raw["mean"])
        ):
            return f"{seen}: they look already prepared (scaled or standardized)"
        if low < raw["min"] - 0.5 * span or high > raw["max"] + 0.5 * span:
            return f"{seen}: they are not on the same scale"
        return None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``mean``, ``std`` (and ``raw``'s figures) to an ``.npz`` file,
        atomically."""
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.save called before fit")
        arrays: dict[str, Any] = {"mean": self.mean, "std": self.std}
        arrays.update({f"raw_{k}": np.float64(v) for k, v in (self.raw or {}).items()})
        with atomic_write(path) as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Standardizer:
        """Read what :meth:`save` wrote.

        Raises:
            DataError: the file is not a saved standardizer (missing entries,
                empty, truncated or corrupt); one line naming the file.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                scaler = cls(data["mean"], data["std"])
                if all(f"raw_{k}" in data for k in _RAW):
                    scaler.raw = {k: float(data[f"raw_{k}"]) for k in _RAW}
                return scaler
        except FileNotFoundError:
            raise DataError(
                f"{path}: not a saved Standardizer (no such file)"
            ) from None
        except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
            why = "empty file" if isinstance(exc, EOFError) else f"corrupt: {exc}"
            raise DataError(f"{path}: not a saved Standardizer ({why})") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(f"{path}: not a saved Standardizer ({exc})") from None

    def fit(self, X: Any) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim < 2 or X.shape[0] == 0:
            raise DataError(
                f"Standardizer.fit: expected (samples, features...), received shape "
                f"{X.shape}"
            )
        self.record_raw(X)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any, dtype: Any = np.float32) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform called before fit")
        if self.mean.ndim == 0:
            # one mean and spread: computed in the data's own floating type
            X = np.asarray(X)
            if X.dtype.kind != "f":
                X = X.astype(np.float64)
            return ((X - float(self.mean)) / float(self.std)).astype(dtype)
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1:] != self.mean.shape:
            raise DataError(
                f"Standardizer.transform: fitted on features of shape "
                f"{self.mean.shape}, received shape {X.shape[1:]}"
            )
        return ((X - self.mean) / self.std).astype(dtype)


def standardize(
    X_train: Any, *others: Any, dtype: Any = np.float32
) -> tuple[np.ndarray, ...]:
    """Standardize ``X_train`` and each of ``others`` with the training statistics.

    Example:
        >>> X_train, X_test = standardize(X_train, X_test)  # doctest: +SKIP
    """
    scaler = Standardizer().fit(X_train)
    return tuple(scaler.transform(X, dtype=dtype) for X in (X_train, *others))


def train_test_split(
    X: Any,
    y: Any,
    test_fraction: float = 0.2,
    seed: int | None = 0,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with a seeded generator and split into
    ``X_train, X_test, y_train, y_test``.

    Args:
        test_fraction: share of samples in the test part, in (0, 1).
        seed: seed of the shuffle, a non-negative integer (None: unseeded).
        stratify: keep each class's share the same in both parts (labels ``(N,)``).

    Raises:
        ConfigError: ``test_fraction`` is not a number in (0, 1), or ``seed`` is
            neither None nor a non-negative integer.
        DataError: X and y of different lengths, or too few samples to split.
    """
    X, y = np.asarray(X), np.asarray(y)
    test_fraction = check_real(
        "train_test_split",
        "test_fraction",
        test_fraction,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        requirement="must be in (0, 1)",
    )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
    ):
        raise ConfigError(
            f"train_test_split: seed must be a non-negative integer or None, "
            f"received seed={seed!r}"
        )
    if len(X) != len(y):
        raise DataError(f"train_test_split: X has {len(X)} samples but y has {len(y)}")
    n = len(X)
    n_test = int(round(n * float(test_fraction)))
    if n_test < 1 or n_test >= n:
        raise DataError(
            f"train_test_split: {n} samples cannot be split with "
            f"test_fraction={test_fraction}"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        test_idx_parts = []
        for cls in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == cls))
            test_idx_parts.append(idx[: int(round(len(idx) * float(test_fraction)))])
        test_idx = np.sort(np.concatenate(test_idx_parts))
        mask = np.zeros(n, dtype=bool)
        mask[test_idx] = True
        train_idx = rng.permutation(np.flatnonzero(~mask))
        test_idx = rng.permutation(test_idx)
    else:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
