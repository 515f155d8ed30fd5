"""The book's NumPy helpers (``lincoln.utils.np_utils``), with named errors.

*Deep Learning from Scratch* imports these from ``lincoln.utils.np_utils``: shape
checks used throughout its library, ``softmax``, the data helpers ``to_2d``,
``permute_data`` and ``generate_batch``, and ``normalize``/``unnormalize``, which
turn a one-column probability into two complementary columns and back.

Where the book asserts, these raise :class:`~lincoln.errors.ShapeError` (or
:class:`~lincoln.errors.ConfigError` for a bad argument) with a message saying
what was expected and what was received. Two book bugs are fixed: ``unnormalize``
returns the first *column* (the book's ``a[np.newaxis, 0]`` took the first row), so
that ``unnormalize(normalize(a))`` gives back ``a``; and ``assert_same_shape``
names the two shapes in the right order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, ShapeError

__all__ = [
    "Batch",
    "to_2d",
    "normalize",
    "unnormalize",
    "permute_data",
    "generate_batch",
    "assert_same_shape",
    "assert_dim",
    "softmax",
    "logsumexp",
]

Array = NDArray[Any]

#: A pair ``(X_batch, y_batch)``, as the book's ``generate_batch`` returns it.
Batch = tuple[Array, Array]


def _shape_of(a: Any) -> str:
    shape = getattr(a, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else type(a).__name__


def to_2d(a: Array, type: str = "col") -> Array:
    """Turn a 1-D array into a column ``(N, 1)`` or a row ``(1, N)``.

    Args:
        a: a 1-D array.
        type: ``"col"`` (the default) or ``"row"``.

    Returns:
        A view of ``a`` of shape ``(N, 1)`` or ``(1, N)``.

    Raises:
        ShapeError: ``a`` is not 1-D.
        ConfigError: ``type`` is neither ``"col"`` nor ``"row"``.

    Example:
        >>> to_2d(np.array([1.0, 2.0])).shape
        (2, 1)
    """
    if getattr(a, "ndim", None) != 1:
        raise ShapeError(f"to_2d: expected a 1-D array, received {_shape_of(a)}")
    if type == "col":
        return a.reshape(-1, 1)
    if type == "row":
        return a.reshape(1, -1)
    raise ConfigError(f"to_2d: type must be 'col' or 'row', received type={type!r}")


def normalize(a: Array) -> Array:
    """Append the complement of a probability column: ``[a, 1 - a]``.

    The book uses it to turn a one-output binary classifier's probabilities into
    the two-class form softmax cross-entropy expects.

    Args:
        a: a 2-D array, usually ``(N, 1)``.

    Returns:
        ``np.concatenate([a, 1 - a], axis=1)``, shape ``(N, 2 * a.shape[1])``.

    Raises:
        ShapeError: ``a`` is not 2-D.
    """
    if getattr(a, "ndim", None) != 2:
        raise ShapeError(
            f"normalize: expected a 2-D array (batch, 1), received {_shape_of(a)}"
        )
    return np.concatenate([a, 1 - a], axis=1)


def unnormalize(a: Array) -> Array:
    """Undo :func:`normalize`: keep the first column, as ``(N, 1)``.

    Raises:
        ShapeError: ``a`` is not 2-D.
    """
    if getattr(a, "ndim", None) != 2:
        raise ShapeError(
            f"unnormalize: expected a 2-D array (batch, 2), received {_shape_of(a)}"
        )
    return a[:, :1]


def permute_data(
    X: Array, y: Array, rng: np.random.Generator | int | None = None
) -> tuple[Array, Array]:
    """Shuffle the rows of ``X`` and ``y`` with one shared permutation.

    Args:
        X: inputs, ``(N, ...)``.
        y: targets, ``(N, ...)``.
        rng: a ``np.random.Generator`` or a seed for one. None draws from NumPy's
            global random state, as the book does (so its ``np.random.seed(...)``
            reproduces its shuffles); pass a generator or seed to keep it local.

    Returns:
        ``(X[perm], y[perm])``, new arrays.

    Raises:
        ShapeError: ``X`` and ``y`` have different numbers of rows.
    """
    if len(X) != len(y):
        raise ShapeError(
            f"permute_data: X and y must have the same number of rows, received "
            f"{len(X)} and {len(y)}"
        )
    if rng is None:
        perm = np.random.permutation(len(X))
    else:
        perm = np.random.default_rng(rng).permutation(len(X))
    return X[perm], y[perm]


def generate_batch(X: Array, y: Array, start: int = 0, batch_size: int = 10) -> Batch:
    """Return rows ``start`` to ``start + batch_size`` of ``X`` and ``y``.

    The last batch is shorter when fewer rows remain.

    Args:
        X: 2-D inputs.
        y: 2-D targets with as many rows.
        start: first row.
        batch_size: number of rows (at most).

    Raises:
        ShapeError: ``X`` or ``y`` is not 2-D, or their row counts differ.
    """
    if getattr(X, "ndim", None) != 2 or getattr(y, "ndim", None) != 2:
        raise ShapeError(
            f"generate_batch: X and y must be 2-D, received X of {_shape_of(X)} and "
            f"y of {_shape_of(y)}"
        )
    if X.shape[0] != y.shape[0]:
        raise ShapeError(
            f"generate_batch: X and y must have the same number of rows, received "
            f"{X.shape[0]} and {y.shape[0]}"
        )
    stop = min(start + batch_size, X.shape[0])
    return X[start:stop], y[start:stop]


def assert_same_shape(output: Array, output_grad: Array) -> None:
    """Check that two arrays have the same shape (e.g. an output and its gradient).

    Raises:
        ShapeError: e.g. ``"assert_same_shape: the two arrays must have the same
            shape; the first has shape (2, 3), the second has shape (3, 2)"``.
    """
    first = getattr(output, "shape", None)
    second = getattr(output_grad, "shape", None)
    if first is None or first != second:
        raise ShapeError(
            f"assert_same_shape: the two arrays must have the same shape; the first "
            f"has {_shape_of(output)}, the second has {_shape_of(output_grad)}"
        )


def assert_dim(t: Array, dim: int) -> None:
    """Check that ``t`` has ``dim`` dimensions.

    Raises:
        ShapeError: e.g. ``"assert_dim: expected an array of dimension 4, received
            one of dimension 2 (shape (3, 5))"``.
    """
    ndim = getattr(t, "ndim", None)
    if ndim is None:
        raise ShapeError(
            f"assert_dim: expected an array of dimension {dim}, received "
            f"{type(t).__name__}"
        )
    if ndim != dim:
        raise ShapeError(
            f"assert_dim: expected an array of dimension {dim}, received one of "
            f"dimension {ndim} ({_shape_of(t)})"
        )


def logsumexp(x: Array, axis: int | None = None, keepdims: bool = False) -> Array:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    Args:
        x: any array.
        axis: the axis to reduce, or None for all elements.
        keepdims: keep the reduced axis with length 1.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    top = np.max(x, axis=axis, keepdims=True)
    # a row of -inf (or inf) would give inf - inf: shift by 0 there instead
    top = np.where(np.isfinite(top), top, 0.0)
    # log(0) = -inf for an all -inf row; exp of very negative numbers is 0, harmlessly
    with np.errstate(divide="ignore", under="ignore"):
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: Array, axis: int | None = None) -> Array:
    """Softmax of ``x`` over ``axis`` (all elements when None, as in the book).

    Computed as ``exp(x - logsumexp(x))``, so large inputs do not overflow.

    Args:
        x: any array; integers are converted to float64.
        axis: the axis whose entries sum to 1; the book passes ``axis=1`` for
            ``(batch, classes)`` scores.

    Example:
        >>> softmax(np.array([[1.0, 1.0]]), axis=1)
        array([[0.5, 0.5]])
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    with np.errstate(under="ignore"):  # a vanishing probability is 0, harmlessly
        return np.exp(x - logsumexp(x, axis=axis, keepdims=True))
