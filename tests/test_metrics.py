"""Tests of lincoln.metrics: accuracy from labels, one-hot rows or logits; MAE; RMSE."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.errors import ShapeError
from lincoln.metrics import accuracy, mae, rmse, to_labels

LABELS = np.array([0, 2, 1, 2])
LOGITS = np.array(
    [
        [3.0, 0.1, -1.0],  # 0: right
        [0.0, 0.5, 2.0],  # 2: right
        [1.0, 0.9, -5.0],  # 0: wrong (label 1)
        [-1.0, -2.0, 0.0],
    ]
)  # 2: right


def test_accuracy_from_labels_one_hot_and_logits() -> None:
    one_hot = np.eye(3)[LABELS]
    assert accuracy(LABELS, LOGITS) == 0.75
    assert accuracy(one_hot, LOGITS) == 0.75
    assert accuracy(LABELS, np.array([0, 2, 1, 2])) == 1.0
    assert accuracy(one_hot, one_hot) == 1.0
    assert accuracy(LABELS[:, None], LOGITS) == 0.75  # a label column


def test_accuracy_shape_mismatch_and_empty() -> None:
    with pytest.raises(ShapeError, match=r"accuracy: 4 targets but 3 predictions"):
        accuracy(LABELS, LOGITS[:3])
    with pytest.raises(ShapeError, match=r"accuracy: received empty arrays"):
        accuracy(np.zeros(0, dtype=int), np.zeros((0, 3)))


def test_to_labels() -> None:
    np.testing.assert_array_equal(to_labels(LOGITS), [0, 2, 0, 2])
    with pytest.raises(
        ShapeError, match=r"to_labels: expected shape \(N,\) or \(N, K\)"
    ):
        to_labels(np.zeros((2, 3, 4)))


def test_mae_and_rmse() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([2.0, 2.0, 1.0, 4.0])
    assert mae(t, p) == pytest.approx(0.75)
    assert rmse(t, p) == pytest.approx(np.sqrt(5 / 4))
    assert mae(t, t) == rmse(t, t) == 0.0
    # a (N,) target against a one-output network's (N, 1) prediction
    assert mae(t, p[:, None]) == pytest.approx(0.75)
    assert rmse(t[:, None], p) == pytest.approx(np.sqrt(5 / 4))
    with pytest.raises(
        ShapeError, match=r"mae: y_true has shape \(4,\), y_pred has shape \(2, 2\)"
    ):
        mae(t, p.reshape(2, 2))


def test_rmse_is_at_least_mae(rng) -> None:
    for _ in range(5):
        t, p = rng.standard_normal(10), rng.standard_normal(10)
        assert rmse(t, p) >= mae(t, p)
