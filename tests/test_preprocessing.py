"""Tests of lincoln.datasets: the bundled digits and the preprocessing helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lincoln.datasets import (
    Standardizer,
    load_digits,
    one_hot,
    standardize,
    train_test_split,
)
from lincoln.errors import ConfigError, DataError


def test_load_digits_shapes_labels_and_range() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    assert X.min() == 0.0 and X.max() == 1.0
    images, _ = load_digits(flatten=False, normalize=False, dtype=np.float64)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    assert images.max() == 16.0
    np.testing.assert_array_equal(images.reshape(1797, 64) / 16.0, X)


def test_one_hot() -> None:
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 1])), np.eye(3)[[2, 0, 1]])
    encoded = one_hot(np.array([1]), num_classes=4, dtype=np.float64)
    assert encoded.dtype == np.float64 and encoded.tolist() == [[0, 1, 0, 0]]
    with pytest.raises(DataError, match=r"one_hot: labels must be a 1-D integer array"):
        one_hot(np.array([0.5, 1.0]))
    with pytest.raises(DataError, match=r"one_hot: labels must be >= 0, received -1"):
        one_hot(np.array([0, -1]))
    with pytest.raises(DataError, match=r"one_hot: label 5 does not fit num_classes=3"):
        one_hot(np.array([5]), num_classes=3)


def test_standardize_uses_the_training_statistics(rng) -> None:
    X_train = rng.normal(5.0, 3.0, size=(200, 3))
    X_train[:, 2] = 7.0  # a constant feature
    X_test = rng.normal(-1.0, 0.5, size=(50, 3))
    train, test = standardize(X_train, X_test, dtype=np.float64)
    np.testing.assert_allclose(train[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train[:, :2].std(axis=0), 1.0, rtol=1e-12)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    np.testing.assert_allclose(
        test[:, :2], (X_test[:, :2] - mean[:2]) / std[:2], rtol=1e-12
    )
    np.testing.assert_array_equal(train[:, 2], 0.0)  # divided by 1, not 0
    assert abs(test[:, 0].mean()) > 1  # not standardized with its own statistics


def test_standardizer_checks() -> None:
    with pytest.raises(RuntimeError, match=r"Standardizer.transform called before fit"):
        Standardizer().transform(np.zeros((2, 2)))
    scaler = Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(
        DataError,
        match=r"fitted on features of shape \(2,\), received shape "
        r"\(3,\)",
    ):
        scaler.transform(np.ones((1, 3)))


def test_train_test_split_is_seeded_and_a_partition() -> None:
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    a = train_test_split(X, y, test_fraction=0.2, seed=3)
    b = train_test_split(X, y, test_fraction=0.2, seed=3)
    c = train_test_split(X, y, test_fraction=0.2, seed=4)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[1], c[1])
    X_train, X_test, y_train, y_test = a
    assert len(X_test) == 10 and len(X_train) == 40
    np.testing.assert_array_equal(X_train[:, 0] // 2, y_train)  # rows stay paired
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))


def test_stratified_split_keeps_class_shares() -> None:
    X, y = load_digits()
    _, _, y_train, y_test = train_test_split(
        X, y, test_fraction=0.25, seed=0, stratify=True
    )
    all_counts = np.bincount(y, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    np.testing.assert_array_equal(test_counts, np.round(all_counts * 0.25).astype(int))
    np.testing.assert_array_equal(
        np.bincount(y_train, minlength=10), all_counts - test_counts
    )


def test_train_test_split_errors() -> None:
    with pytest.raises(ConfigError, match=r"test_fraction must be in \(0, 1\)"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_fraction=1.0)
    with pytest.raises(DataError, match=r"X has 10 samples but y has 9"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(DataError, match=r"2 samples cannot be split"):
        train_test_split(np.zeros((2, 2)), np.zeros(2), test_fraction=0.1)


# -- the raw data's range, kept for predict --raw-input --------------------------------


def _mnist_like(rng: np.random.Generator, n: int = 200) -> np.ndarray:
    """Mostly-zero 0..255 pixels, as MNIST's raw files hold them."""
    X = rng.integers(0, 256, size=(n, 784)).astype(np.float64)
    X[rng.random(X.shape) < 0.8] = 0
    return X


def test_raw_mismatch_accepts_raw_samples_and_refuses_prepared_ones(
    rng: np.random.Generator,
) -> None:
    X = _mnist_like(rng)
    per_feature = Standardizer().fit(X)
    assert per_feature.raw is not None and per_feature.raw["max"] == 255
    new = _mnist_like(rng, 5)
    assert per_feature.raw_mismatch(new) is None
    assert per_feature.raw_mismatch(new - 1e-7) is None  # rounding is not preparing
    scaled = new / 255
    standardized = per_feature.transform(new)
    global_std = (new - X.mean()) / X.std()
    for prepared in (scaled, standardized, global_std):
        message = per_feature.raw_mismatch(prepared)
        assert message is not None and "look already prepared" in message
    other_scale = per_feature.raw_mismatch(new * 256)
    assert other_scale is not None and "not on the same scale" in other_scale
    assert Standardizer(0.0, 1.0).raw_mismatch(scaled) is None  # nothing recorded


def test_the_raw_range_survives_saving(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    scaler = Standardizer(0.0, 255.0).record_raw(_mnist_like(rng))
    scaler.save(tmp_path / "preprocess.npz")
    again = Standardizer.load(tmp_path / "preprocess.npz")
    assert again.raw == scaler.raw
    # a file written before the range was kept loads, without it
    np.savez(tmp_path / "old.npz", mean=np.float64(0), std=np.float64(255))
    assert Standardizer.load(tmp_path / "old.npz").raw is None
