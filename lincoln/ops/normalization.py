"""Batch normalization, as three operations: standardize, scale, shift.

The framework's :class:`~lincoln.base.ParamOperation` holds one parameter, so
batch norm ``gamma * (x - mean) / sqrt(var + eps) + beta`` (Ioffe & Szegedy,
2015) is split the way a dense layer is split into ``WeightMultiply`` and
``BiasAdd``: :class:`BatchNormalize` (no parameter; it owns the running
statistics), then :class:`Scale` by ``gamma`` and :class:`Shift` by ``beta``,
each checkable on its own.

Statistics are per feature for dense inputs ``(batch, features)`` and per
channel for images ``(batch, C, H, W)`` (over the batch and every pixel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation, ParamOperation
from ..errors import ShapeError, check_real

__all__ = ["BatchNormalize", "Scale", "Shift"]


def _stat_shape_ok(shape: tuple[int, ...]) -> bool:
    # (1, features) or (1, channels, 1, ..., 1)
    return len(shape) >= 2 and shape[0] == 1 and all(n == 1 for n in shape[2:])


def _check_broadcast(op: Operation, x: Array, shape: tuple[int, ...]) -> None:
    if x.ndim != len(shape) or x.shape[1] != shape[1]:
        expected = ", ".join(["batch", str(shape[1])] + ["*"] * (len(shape) - 2))
        raise ShapeError(
            f"{type(op).__name__}: input must have shape ({expected}), "
            f"received shape {x.shape}"
        )


class BatchNormalize(Operation):
    """Standardize each feature (or channel) to zero mean and unit variance.

    In training (``inference=False``) the statistics are those of the batch, and
    the running statistics move toward them::

        running_mean = momentum * running_mean + (1 - momentum) * batch_mean
        running_var  = momentum * running_var  + (1 - momentum) * batch_var_unbiased

    (in place, so the arrays a layer hands out as buffers stay current; a batch
    with one value per feature cannot estimate a variance and leaves them
    alone). At inference the running statistics are used instead, so the
    output of a sample does not depend on the rest of its batch.

    Args:
        running_mean: ``(1, features)`` or ``(1, C, 1, 1)``; None (default)
            starts from zeros shaped by the first input.
        running_var: same shape; None starts from ones.
        momentum: share of the running statistics kept at each step, in [0, 1).
        eps: added to the variance before the square root.

    Shape:
        input_ ``(batch, features)`` or ``(batch, C, H, W)`` -> the same shape.

    Raises:
        ShapeError: statistics of a bad shape, or an input that does not fit them.
        ConfigError: ``momentum`` or ``eps`` out of range.
    """

    def __init__(
        self,
        running_mean: Array | None = None,
        running_var: Array | None = None,
        momentum: float = 0.9,
        eps: float = 1e-5,
    ) -> None:
        self.momentum = check_real(
            "BatchNorm",
            "momentum",
            momentum,
            low=0,
            high=1,
            high_open=True,
            requirement="is the share of the running statistics kept at each step "
            "and must be in [0, 1)",
        )
        self.eps = check_real(
            "BatchNorm",
            "eps",
            eps,
            low=0,
            low_open=True,
            requirement="must be a positive number",
        )
        self.running_mean: Array = None  # type: ignore[assignment]
        self.running_var: Array = None  # type: ignore[assignment]
        if running_mean is not None or running_var is not None:
            self.set_statistics(running_mean, running_var)
        self._xhat: Array | None = None
        self._inv_std: Array | None = None

    def set_statistics(self, running_mean: Any, running_var: Any) -> None:
        """Use these arrays (updated in place) as the running statistics.

        Raises:
            ShapeError: they are not both ``(1, features)`` or ``(1, C, 1, 1)``.
        """
        shape = np.shape(running_mean)
        if not _stat_shape_ok(shape) or np.shape(running_var) != shape:
            raise ShapeError(
                f"BatchNormalize: running_mean and running_var must both have shape "
                f"(1, features) or (1, channels, 1, 1), received shapes {shape} and "
                f"{np.shape(running_var)}"
            )
        self.running_mean, self.running_var = running_mean, running_var
        # statistics over the batch axis and every axis after the features
        self._axes = (0,) + tuple(range(2, len(shape)))

    def buffers(self) -> dict[str, Array]:
        if self.running_mean is None:
            return {}
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def _output(self, inference: bool) -> Array:
        x = self.input_
        if self.running_mean is None:
            shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
            self.set_statistics(np.zeros(shape, x.dtype), np.ones(shape, x.dtype))
        _check_broadcast(self, x, self.running_mean.shape)
        if inference:
            self._inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            self._xhat = None
            return (x - self.running_mean) * self._inv_std
        mean = x.mean(axis=self._axes, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=self._axes, keepdims=True)
        self._inv_std = 1.0 / np.sqrt(var + self.eps)
        self._xhat = centered * self._inv_std
        count = x.size // mean.size
        if count > 1:
            keep = self.momentum
            self.running_mean *= keep
            self.running_mean += (1.0 - keep) * mean
            self.running_var *= keep
            self.running_var += ((1.0 - keep) * count / (count - 1)) * var
        return self._xhat

    def _input_grad(self, output_grad: Array) -> Array:
        if self._xhat is None:  # inference: an affine map with fixed statistics
            return output_grad * self._inv_std
        # The batch mean and variance depend on every input, hence the two
        # correction terms (the mean of the gradient, and its projection on xhat).
        xhat = self._xhat
        g_mean = output_grad.mean(axis=self._axes, keepdims=True)
        gx_mean = (output_grad * xhat).mean(axis=self._axes, keepdims=True)
        return (output_grad - g_mean - xhat * gx_mean) * self._inv_std

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps}

    def __repr__(self) -> str:
        return (
            f"BatchNormalize(stats shape={tuple(np.shape(self.running_mean))}, "
            f"momentum={self.momentum}, eps={self.eps})"
        )


class Scale(ParamOperation):
    """Multiply each feature (or channel) by its own factor ``gamma``.

    Args:
        gamma: ``(1, features)`` or ``(1, C, 1, 1)``.

    Shape:
        input_ ``(batch, features)`` or ``(batch, C, H, W)`` -> the same shape.
    """

    def __init__(self, gamma: Array) -> None:
        if not _stat_shape_ok(np.shape(gamma)):
            raise ShapeError(
                f"Scale: gamma must have shape (1, features) or (1, channels, 1, 1), "
                f"received shape {np.shape(gamma)}"
            )
        super().__init__(gamma)
        self._axes = (0,) + tuple(range(2, np.ndim(gamma)))

    def _output(self) -> Array:
        _check_broadcast(self, self.input_, self.param.shape)
        return self.input_ * self.param

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad * self.param

    def _param_grad(self, output_grad: Array) -> Array:
        return (output_grad * self.input_).sum(axis=self._axes, keepdims=True)


class Shift(ParamOperation):
    """Add to each feature (or channel) its own offset ``beta``.

    Args:
        beta: ``(1, features)`` or ``(1, C, 1, 1)``.

    Shape:
        input_ ``(batch, features)`` or ``(batch, C, H, W)`` -> the same shape.
    """

    def __init__(self, beta: Array) -> None:
        if not _stat_shape_ok(np.shape(beta)):
            raise ShapeError(
                f"Shift: beta must have shape (1, features) or (1, channels, 1, 1), "
                f"received shape {np.shape(beta)}"
            )
        super().__init__(beta)
        self._axes = (0,) + tuple(range(2, np.ndim(beta)))

    def _output(self) -> Array:
        _check_broadcast(self, self.input_, self.param.shape)
        return self.input_ + self.param

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        return output_grad.sum(axis=self._axes, keepdims=True)
