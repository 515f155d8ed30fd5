"""The data side of training: checks, batches, and the validation split.

:func:`check_data` validates and converts one (inputs, targets) pair once,
before training; :func:`batches` slices an epoch; :func:`split_validation`
holds out a seeded (and, for classifiers, stratified) share of the training
data, so that a separate test set need never be seen before the end.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base import Array, as_array, check_finite
from ..errors import ConfigError, DataError, ShapeError, check_labels
from ..losses import SoftmaxCrossEntropy

__all__ = [
    "FitData",
    "fit_data",
    "check_pairs",
    "check_data",
    "sample_shape_mismatch",
    "batches",
    "split_validation",
    "is_classifier",
    "evaluate_in_batches",
]


def is_classifier(net: Any) -> bool:
    """True when ``net`` is trained with lincoln's softmax cross-entropy."""
    return isinstance(net.loss, SoftmaxCrossEntropy)


def sample_shape_mismatch(net: Any, X: Array) -> tuple[int, ...] | None:
    """The per-sample shape ``net`` was built for, if ``X``'s samples (``X.shape[1:]``)
    have another; None when they fit or the network is not built yet (or does not
    say what it was built for, as the book's networks do not)."""
    built_for = getattr(net, "input_shape", None)
    if built_for is not None and tuple(X.shape[1:]) != tuple(built_for):
        return built_for
    return None


def _check_arrays(X: Array, y: Array, name: str) -> None:
    for arr, what in ((X, f"X_{name}"), (y, f"y_{name}")):
        if arr.dtype.kind not in "biuf":
            raise DataError(
                f"fit: {what} must be a numeric array, received dtype {arr.dtype}"
            )
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise DataError(f"fit: {what} is empty (shape {arr.shape})")
    if X.ndim < 2:
        raise ShapeError(
            f"fit: X_{name} must have shape (samples, features...), received shape "
            f"{X.shape}"
        )
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"fit: X_{name} has {X.shape[0]} samples but y_{name} has {y.shape[0]}"
        )


def check_data(net: Any, X: Any, y: Any, name: str) -> tuple[Array, Array]:
    """Validate and convert one (inputs, targets) pair for ``net``.

    Inputs become the network's dtype (integers and booleans are converted;
    float64 for a network without a ``dtype``); labels become int64 ``(N,)``
    (a ``(N, 1)`` label column is flattened); other targets become the
    network's dtype, ``(N,)`` becoming ``(N, 1)`` for a one-output network.
    The network is built by one sample, in inference mode, if it is not yet.

    Raises:
        DataError: non-numeric or empty arrays, mismatched sample counts,
            NaN or Inf values, labels that do not fit the network's outputs.
        ShapeError: targets whose shape does not fit the network's output.
    """
    X = as_array(X, f"fit: X_{name}")
    y = as_array(y, f"fit: y_{name}")
    _check_arrays(X, y, name)
    dtype = getattr(net, "dtype", np.float64)
    # integer ids stay integers for a network whose first layer looks them up
    X = np.ascontiguousarray(X, dtype=None if _keeps_ids(net, X) else dtype)
    check_finite(X, f"X_{name}", "fit")
    built_for = sample_shape_mismatch(net, X)
    if built_for is not None:
        raise ShapeError(
            f"fit: X_{name} has samples of shape {X.shape[1:]}, but the network "
            f"was built for samples of shape {built_for}"
            + (" (the shape of X_train)" if name != "train" else "")
        )
    try:  # one sample through the network: the shape of its output
        out_shape = net.forward(X[:1], inference=True).shape[1:]
    except ShapeError as error:  # the message shows that sample's shape
        raise ShapeError(f"fit: X_{name} of shape {X.shape}: {error}") from error
    if is_classifier(net) and (
        y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out_shape != (1,))
    ):
        y = check_labels(y.reshape(-1), out_shape[0], f"fit: y_{name}")
        return X, np.ascontiguousarray(y, dtype=np.int64)
    if is_classifier(net) and _sequence_labels(y, out_shape):
        # (N, T) next-token ids for (N, T, V) outputs: labels at every position
        y = check_labels(y.reshape(-1), out_shape[-1], f"fit: y_{name}")
        return X, np.ascontiguousarray(y.reshape(-1, *out_shape[:-1]), np.int64)
    y = np.ascontiguousarray(y, dtype=dtype)
    check_finite(y, f"y_{name}", "fit")
    if y.ndim == 1 and out_shape == (1,):
        y = y.reshape(-1, 1)
    if y.shape[1:] != out_shape:
        raise ShapeError(
            f"fit: y_{name} must have shape "
            f"(samples, {', '.join(map(str, out_shape))}) to "
            f"match the network's output, received shape {y.shape}"
        )
    if is_classifier(net):
        _check_distributions(y, f"y_{name}")
    return X, y


def _keeps_ids(net: Any, X: Array) -> bool:
    layers = getattr(net, "layers", None) or [None]
    return X.dtype.kind in "iu" and bool(getattr(layers[0], "takes_ids", False))


def _sequence_labels(y: Array, out_shape: tuple[int, ...]) -> bool:
    """Integer targets with one label per output position (all but the last
    axis of the output, which holds the classes), as a language model has."""
    return (
        y.dtype.kind in "iu"
        and len(out_shape) >= 2
        and tuple(y.shape[1:]) == tuple(out_shape[:-1])
    )


def _check_distributions(y: Array, what: str) -> None:
    """One-hot (or soft) targets: each row non-negative and summing to 1."""
    if y.min() < 0:
        raise DataError(
            f"fit: {what} holds one-hot rows, which cannot be negative; received a "
            f"minimum of {float(y.min())}"
        )
    sums = y.sum(axis=1, dtype=np.float64)
    off = np.flatnonzero(np.abs(sums - 1.0) > 1e-3)
    if off.size:
        raise DataError(
            f"fit: {what} holds one-hot rows, which must each sum to 1; row "
            f"{int(off[0])} sums to {float(sums[off[0]]):.4g} ({off.size} rows do not)"
        )


def batches(
    X: Array, y: Array, size: int, augment: Callable[[Array], Array] | None = None
) -> Iterator[tuple[Array, Array]]:
    """Consecutive ``(X, y)`` slices of ``size`` rows; the last may be shorter.
    With ``augment`` (an :class:`~lincoln.augment.Augment`, say), each ``X``
    slice is replaced by ``augment(slice)``: ``fit`` gives it training batches
    only."""
    if X.shape[0] != y.shape[0]:
        raise DataError(f"batches: X has {X.shape[0]} rows, y has {y.shape[0]}")
    for start in range(0, X.shape[0], size):
        xb = X[start : start + size]
        yield (xb if augment is None else augment(xb)), y[start : start + size]


def check_fraction(value: Any) -> float:
    """``validation_split`` as a float strictly between 0 and 1."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 < float(value) < 1.0
    ):
        raise ConfigError(
            "fit: validation_split must be a fraction between 0 and 1 (exclusive), "
            f"received validation_split={value!r}"
        )
    return float(value)


def split_validation(
    y: Array, fraction: float, seed: int | None, stratify: bool
) -> tuple[Array, Array]:
    """Indices ``(train, validation)`` holding out ``fraction`` of the samples.

    Args:
        y: the targets (labels ``(N,)`` or one-hot rows when ``stratify``).
        fraction: share of the samples to hold out, in (0, 1); at least one
            sample goes to each side.
        seed: seeds the choice (the same seed gives the same split).
        stratify: keep each class's share: the validation set holds, of every
            class, its share of the whole to within one sample (largest
            remainders), and so does what is left for training.

    Returns:
        Two sorted, disjoint int64 index arrays covering ``range(len(y))``.

    Raises:
        DataError: fewer than 2 samples.
    """
    n = y.shape[0]
    if n < 2:
        raise DataError(f"fit: validation_split needs at least 2 samples, got {n}")
    n_val = min(max(int(round(n * fraction)), 1), n - 1)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    if not stratify:
        val = rng.permutation(n)[:n_val]
    else:
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        quota = n_val * counts / n
        take = np.floor(quota).astype(np.int64)
        short = n_val - int(take.sum())
        take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
        val = np.concatenate(
            [
                rng.permutation(np.flatnonzero(inverse == c))[:k]
                for c, k in enumerate(take)
            ]
        )
    mask = np.zeros(n, dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


@dataclass
class FitData:
    """Checked training data and validation data (None: no evaluation)."""

    X: Array
    y: Array
    X_val: Array | None = None
    y_val: Array | None = None


def check_pairs(val: tuple[Any, Any], validation_split: float | None) -> None:
    """Validation data comes as both halves or none, and not with a split.

    Raises:
        DataError: one half of the validation data without the other.
        ConfigError: validation data and a ``validation_split``.
    """
    X_val, y_val = val
    if (X_val is None) != (y_val is None):
        raise DataError("fit: give both X_test and y_test, or neither")
    if validation_split is not None and X_val is not None:
        raise ConfigError(
            "fit: give validation_split or validation data (X_test, y_test or "
            "validation_data), not both"
        )


def fit_data(
    net: Any,
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    validation_split: float | None,
    seed: int | None,
) -> FitData:
    """Check ``train`` and ``val`` for ``net`` (:func:`check_data`), or hold
    out ``validation_split`` of ``train`` (:func:`split_validation`, seeded by
    ``seed``, stratified for a classifier)."""
    X, y = check_data(net, *train, "train")
    if validation_split is not None:
        kept, held = split_validation(y, validation_split, seed, is_classifier(net))
        return FitData(X[kept], y[kept], X[held], y[held])
    if val[0] is None:
        return FitData(X, y)
    return FitData(X, y, *check_data(net, *val, "test"))


def evaluate_in_batches(
    net: Any, X: Array, y: Array, batch_size: int
) -> dict[str, float]:
    """Loss (and accuracy for classifiers) of ``net`` on checked ``(X, y)`` in
    inference mode, in batches so memory does not grow with the data set."""
    total_loss, correct, counted = 0.0, 0, 0
    classify = is_classifier(net)
    for xb, yb in batches(X, y, batch_size):
        pred = net.forward(xb, inference=True)
        total_loss += net.loss.forward(pred, yb) * xb.shape[0]
        if classify:  # labels, or one-hot rows; per position for sequences
            labels = yb if yb.ndim == pred.ndim - 1 else yb.argmax(axis=-1)
            correct += int(np.count_nonzero(pred.argmax(axis=-1) == labels))
            counted += labels.size
    result = {"loss": total_loss / X.shape[0]}
    if classify:
        result["accuracy"] = correct / max(counted, 1)
    return result
