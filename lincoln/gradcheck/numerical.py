"""The trusted reference: central differences, and the checks of their arguments.

    df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / 2h

needs nothing but the forward pass (*Deep Learning from Scratch* vol. 1 ch. 4).
:func:`numerical_gradient` computes it for every element of an array;
:func:`numerical_at` for every element or a seeded sample of them
(:func:`sample_entries`), which is what the checks use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..base import Array
from ..errors import ConfigError, check_real

__all__ = [
    "numerical_gradient",
    "numerical_at",
    "sample_entries",
    "check_step",
    "check_max_checks",
    "check_tolerances",
]


def numerical_gradient(
    f: Callable[[Array], float], x: Array, eps: float = 1e-6
) -> Array:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    Each element of ``x`` is moved to ``x_i + eps`` and ``x_i - eps`` in place,
    ``f(x)`` is evaluated at both, and the element is restored (also when ``f``
    raises). The divisor is the difference of the two values actually stored,
    which is ``2 * eps`` up to rounding. Because ``x`` is changed in place, ``f``
    may ignore its argument and read ``x`` through a reference it already holds,
    e.g. a network parameter, as in ``lambda W: net.forward_loss(X, y)``.

    Args:
        f: maps ``x`` to a number.
        x: the point, a float64 array of any shape (modified during the call,
            restored before it returns).
        eps: the step ``h``.

    Returns:
        A float64 array shaped like ``x``.

    Raises:
        TypeError: ``x`` is not a float64 ndarray (a float32 or integer array
            cannot hold ``x_i +- 1e-6`` exactly enough, or at all).
        ConfigError: ``eps`` is not a finite positive number.

    Example:
        >>> numerical_gradient(lambda x: float(np.sum(x**2)), np.array([3.0, 4.0]))
        array([6., 8.])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        received = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"numerical_gradient: x must be a float64 ndarray (it is perturbed in "
            f"place), received {received}; use np.asarray(x, dtype=np.float64)"
        )
    eps = check_step("numerical_gradient", "eps", eps)
    grad = np.empty(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        grad[idx] = _central_difference(f, x, idx, eps)
    return grad


def _central_difference(
    f: Callable[[Array], float], x: Array, idx: tuple[int, ...], eps: float
) -> float:
    """The central difference of ``f`` along element ``idx`` of ``x`` (moved in
    place and restored, also when ``f`` raises)."""
    original = float(x[idx])
    try:
        x[idx] = original + eps
        plus_at = float(x[idx])
        f_plus = float(f(x))
        x[idx] = original - eps
        minus_at = float(x[idx])
        f_minus = float(f(x))
    finally:
        x[idx] = original
    return (f_plus - f_minus) / (plus_at - minus_at)


def sample_entries(
    size: int, max_checks: int | None, rng: np.random.Generator
) -> Array | None:
    """Sorted flat indices of ``max_checks`` distinct entries out of ``size``, drawn
    from ``rng``; None (every entry) when ``max_checks`` is None or >= ``size``."""
    if max_checks is None or max_checks >= size:
        return None
    return np.sort(rng.choice(size, size=max_checks, replace=False))


def numerical_at(
    f: Callable[[Array], float], x: Array, eps: float, flat: Array | None
) -> Array:
    """The numerical gradient of ``f`` at ``x``: every entry (``flat`` None), or
    only the entries at the flat indices ``flat``, as a 1-D array."""
    if flat is None:
        return numerical_gradient(f, x, eps)
    values = np.empty(len(flat), dtype=np.float64)
    for k, i in enumerate(flat):
        idx = tuple(int(j) for j in np.unravel_index(int(i), x.shape))
        values[k] = _central_difference(f, x, idx, eps)
    return values


# -- arguments ------------------------------------------------------------------------


def check_step(owner: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a finite number > 0 (a step or a tolerance).

    Raises:
        ConfigError: e.g. ``check_operation: eps must be a finite number > 0,
            received eps=0``.
    """
    return check_real(
        owner,
        name,
        value,
        low=0,
        low_open=True,
        requirement="must be a finite number > 0",
    )


def check_max_checks(owner: str, value: Any) -> int | None:
    """``max_checks`` as given: None (every entry) or an int >= 1.

    Raises:
        ConfigError: anything else, booleans included.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"{owner}: max_checks must be None (check every entry) or an integer "
            f">= 1, received max_checks={value!r}"
        )
    return int(value)


def check_tolerances(
    owner: str, eps: float, rtol: float, atol: float
) -> tuple[float, float, float]:
    """``(eps, rtol, atol)`` as floats, each a finite number > 0."""
    return (
        check_step(owner, "eps", eps),
        check_step(owner, "rtol", rtol),
        check_step(owner, "atol", atol),
    )
