"""Exceptions raised by lincoln, and every check helper the modules share.

Every error a user can trigger is one of these named classes (all subclass a
builtin, so ``except ValueError`` keeps working) with a message that says what
was expected and what was received. The ``check_*`` helpers are the one place
each kind of value is checked; the object that owns a value calls them once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "LincolnError",
    "ShapeError",
    "ConfigError",
    "DataError",
    "DatasetNotFoundError",
    "ModelFileError",
    "GradientCheckError",
    "shape_error",
    "check_shape",
    "check_positive_int",
    "check_real",
    "check_choice",
    "check_seed",
    "as_array",
    "check_finite",
    "check_numeric",
    "check_float_dtype",
    "check_labels",
]


class LincolnError(Exception):
    """Base class of every error lincoln raises on purpose."""


class ShapeError(LincolnError, ValueError):
    """An array does not have the shape an operation, layer or loss expects."""


class ConfigError(LincolnError, ValueError):
    """An experiment file or a constructor argument is not valid."""


class DataError(LincolnError, ValueError):
    """Training or evaluation data is unusable: mismatched rows, NaN, wrong labels."""


class DatasetNotFoundError(LincolnError, FileNotFoundError):
    """A data set's files are nowhere lincoln looked and cannot be downloaded."""


class ModelFileError(LincolnError, ValueError):
    """A saved model or checkpoint is missing, truncated, or not lincoln's."""


class GradientCheckError(LincolnError, AssertionError):
    """Backpropagated gradients disagree with numerical ones."""


def shape_error(
    owner: Any, what: str, expected: tuple[int, ...], received: Any
) -> ShapeError:
    """The :class:`ShapeError` for an array that should have shape ``expected``.

    Only the message is built here; callers keep their own (fast) comparison and
    raise what this returns.

    Args:
        owner: the object doing the check (its class name leads the message), or
            that name as a string.
        what: the name of the array, e.g. ``"output_grad"``.
        expected: the shape it must have.
        received: the array (or anything else, named by its type).

    Returns:
        e.g. ``ShapeError("Dense: output_grad must have shape (5, 4), received
        shape (4, 5)")``.
    """
    name = owner if isinstance(owner, str) else type(owner).__name__
    shape = getattr(received, "shape", None)
    got = f"shape {shape}" if shape is not None else type(received).__name__
    return ShapeError(f"{name}: {what} must have shape {expected}, received {got}")


def check_shape(
    owner: Any, what: str, expected: tuple[int, ...], received: Any
) -> None:
    """Raise :class:`ShapeError` unless ``received.shape == expected``.

    Args:
        owner: the object doing the check; its class name leads the message.
        what: the name of the array, e.g. ``"output_grad"``.
        expected: the shape it must have.
        received: the array (or anything with ``.shape``).

    Raises:
        ShapeError: naming the owner, the array, the expected and received shapes
            (see :func:`shape_error`).
    """
    if getattr(received, "shape", None) != expected:
        raise shape_error(owner, what, expected, received)


def check_positive_int(owner: str, name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a whole number >= 1 (not a bool).

    Raises:
        ConfigError: e.g. ``Dense: neurons must be a positive integer, received
            neurons=-3``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(
            f"{owner}: {name} must be a positive integer, received {name}={value!r}"
        )
    return int(value)


def check_real(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    requirement: str | None = None,
) -> float:
    """``value`` as a ``float`` if it is a finite real number (not a bool) in the
    interval from ``low`` to ``high``.

    Args:
        owner: what is being configured; it leads the message, e.g. ``"Adam"``.
        name: the argument's name.
        value: what was received.
        low, high: the bounds, printed as given (``0`` or ``0.0``).
        low_open, high_open: True to exclude that bound.
        requirement: the words after ``name`` in the message; default
            ``"must be a number in [low, high]"`` (brackets per the openness).

    Raises:
        ConfigError: e.g. ``Adam: beta1 must be a number in [0.0, 1.0), received
            beta1=1.5``. Strings, None, bools, NaN and infinities are refused.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (
            math.isfinite(v)
            and (v > low if low_open else v >= low)
            and (v < high if high_open else v <= high)
        )
    if not ok:
        if requirement is None:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            requirement = f"must be a number in {lo}{low}, {high}{hi}"
        raise ConfigError(f"{owner}: {name} {requirement}, received {name}={value!r}")
    return float(value)


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``.

    Raises:
        ConfigError: e.g. ``Dense: unknown weight_init 'x'; choose one of:
            'standard', 'glorot', 'he'``.
    """
    if isinstance(value, (str, type(None), bool, numbers.Number)) and value in choices:
        return value
    raise ConfigError(
        f"{owner}: unknown {name} {value!r}; choose one of: "
        f"{', '.join(repr(c) for c in choices)}"
    )


def check_seed(owner: str, seed: Any) -> int | None:
    """``seed`` as an int if it is a non-negative integer, or None.

    Raises:
        ConfigError: e.g. ``fit: seed must be a non-negative integer or None,
            received seed=-1``.
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(
            f"{owner}: seed must be a non-negative integer or None, received "
            f"seed={seed!r}"
        )
    return int(seed)


def as_array(x: Any, what: str = "input") -> np.ndarray:
    """``np.asarray`` that leaves arrays alone (the common, fast case).

    Raises:
        DataError: ``x`` cannot be one array (e.g. rows of different lengths).
    """
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} cannot be made into one array: {exc}") from None


def check_finite(
    array: np.ndarray,
    what: str,
    owner: str,
    *,
    plural: bool = False,
    locate: bool = True,
) -> None:
    """Raise :class:`DataError` if a floating ``array`` holds NaN or Inf values.

    The fast path sums the array: the sum is finite exactly when every value is
    (barring overflow, which the full count then sorts out), and needs no
    array-sized mask.

    Args:
        array: the array (non-floating arrays pass unchecked).
        what: its name in the message, e.g. ``"X_train"`` or ``"the inputs"``.
        owner: what is checking; it leads the message, e.g. ``"fit"``.
        plural: ``what`` takes "contain" rather than "contains".
        locate: add the index of the first bad value.

    Raises:
        DataError: e.g. ``fit: X_train contains 2 NaN or Inf values (first at
            index (0, 3))``.
    """
    if array.dtype.kind != "f" or np.isfinite(np.sum(array, dtype=np.float64)):
        return
    bad = ~np.isfinite(array)
    count = int(np.count_nonzero(bad))
    if not count:
        return
    message = (
        f"{owner}: {what} {'contain' if plural else 'contains'} {count} NaN or Inf "
        f"values"
    )
    if locate:
        first = np.unravel_index(int(np.argmax(bad)), bad.shape)
        message += f" (first at index {tuple(int(i) for i in first)})"
    raise DataError(message)


def check_numeric(array: np.ndarray, what: str) -> np.ndarray:
    """``array`` if its dtype is numeric (bool, int or float).

    Raises:
        DataError: e.g. ``MeanSquaredError: target must be numeric, received
            dtype <U1``.
    """
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what} must be numeric, received dtype {array.dtype}")
    return array


def check_labels(labels: np.ndarray, num_classes: int, owner: str) -> np.ndarray:
    """Class labels as integers in ``[0, num_classes)`` (whole floats are
    converted).

    Raises:
        DataError: non-integer labels, or labels outside the range, naming it.
    """
    if labels.dtype.kind not in "iu":
        if (
            labels.dtype.kind == "f"
            and np.all(np.isfinite(labels))
            and np.all(labels == np.round(labels))
        ):
            labels = labels.astype(np.int64)
        else:
            raise DataError(
                f"{owner}: labels must be integers 0..{num_classes - 1}, received "
                f"dtype {labels.dtype}"
            )
    if labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise DataError(
                f"{owner}: labels must be in [0, {num_classes}) to fit the network's "
                f"{num_classes} outputs, received labels from {lo} to {hi}"
            )
    return labels


def check_float_dtype(owner: str, dtype: Any) -> np.dtype[Any]:
    """``dtype`` as a NumPy dtype if it is float32 or float64.

    Raises:
        ConfigError: e.g. ``NeuralNetwork: dtype must be float32 or float64,
            received dtype='int8'``.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    # (compared by kind and size: np.dtype(None) == None would say float64)
    if dt is None or dt.kind != "f" or dt.itemsize not in (4, 8):
        raise ConfigError(
            f"{owner}: dtype must be float32 or float64, received dtype={dtype!r}"
        )
    return dt
