"""Metrics computed from predictions and targets: accuracy, MAE, RMSE."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError

__all__ = ["accuracy", "mae", "rmse", "to_labels"]


def to_labels(y: Any) -> np.ndarray:
    """Class labels from integer labels ``(N,)``, a label column ``(N, 1)``, or
    scores/one-hot rows ``(N, K)`` (argmax)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0].astype(np.int64)
    if y.ndim == 2:
        return y.argmax(axis=1)
    if y.ndim == 1:
        return y.astype(np.int64)
    raise ShapeError(
        f"to_labels: expected shape (N,) or (N, K), received shape {y.shape}"
    )


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted class matches the true one.

    Args:
        y_true: labels ``(N,)`` or one-hot ``(N, K)``.
        y_pred: labels ``(N,)`` or scores/logits/probabilities ``(N, K)``.
    """
    t, p = to_labels(y_true), to_labels(y_pred)
    if t.shape != p.shape:
        raise ShapeError(f"accuracy: {t.shape[0]} targets but {p.shape[0]} predictions")
    if t.size == 0:
        raise ShapeError("accuracy: received empty arrays")
    return float(np.mean(t == p))


def _pair(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape:
        if t.size == p.size and t.size == len(t) == len(p):
            t, p = t.reshape(-1), p.reshape(-1)
        else:
            raise ShapeError(
                f"{name}: y_true has shape {t.shape}, y_pred has shape {p.shape}"
            )
    return t, p


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _pair("mae", y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    t, p = _pair("rmse", y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))
