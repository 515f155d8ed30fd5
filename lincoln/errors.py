"""Exceptions raised by lincoln, and the shape-check helper the operations share.

Every error a user can trigger is one of these named classes (all subclass a
builtin, so ``except ValueError`` keeps working) with a message that says what
was expected and what was received.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = [
    "LincolnError",
    "ShapeError",
    "ConfigError",
    "DataError",
    "DatasetNotFoundError",
    "ModelFileError",
    "GradientCheckError",
    "check_shape",
    "check_positive_int",
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
        ShapeError: naming the owner, the array, the expected and received shapes.
    """
    shape = getattr(received, "shape", None)
    if shape != expected:
        got = f"shape {shape}" if shape is not None else f"{type(received).__name__}"
        raise ShapeError(
            f"{type(owner).__name__}: {what} must have shape {expected}, received {got}"
        )


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
