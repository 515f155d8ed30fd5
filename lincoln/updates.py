"""Update rules and gradient clipping as plain functions, apart from the
stateful optimizer classes that apply them (:mod:`lincoln.optimizers`).

Every function modifies its arrays in place and returns nothing, except the
clipping functions, which return the (possibly new) gradients.
"""

from __future__ import annotations

import numpy as np

from .base import Array

__all__ = [
    "sgd_update",
    "momentum_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
    "clip_by_value",
    "clip_by_global_norm",
    "global_norm",
]


def sgd_update(param: Array, grad: Array, lr: float) -> None:
    """``param -= lr * grad``."""
    param -= lr * grad


def momentum_update(
    param: Array, grad: Array, velocity: Array, lr: float, momentum: float
) -> None:
    """The book's momentum: ``v = momentum * v + lr * grad; param -= v``."""
    velocity *= momentum
    velocity += lr * grad
    param -= velocity


def adagrad_update(
    param: Array, grad: Array, sum_sq: Array, lr: float, eps: float
) -> None:
    """``G += grad^2; param -= lr * grad / (sqrt(G) + eps)``."""
    sum_sq += grad * grad
    param -= lr * grad / (np.sqrt(sum_sq) + eps)


def rmsprop_update(
    param: Array, grad: Array, mean_sq: Array, lr: float, rho: float, eps: float
) -> None:
    """``E = rho * E + (1 - rho) grad^2; param -= lr * grad / (sqrt(E) + eps)``."""
    mean_sq *= rho
    mean_sq += (1.0 - rho) * grad * grad
    param -= lr * grad / (np.sqrt(mean_sq) + eps)


def adam_update(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """Adam (Kingma & Ba, 2015) with bias correction; ``step`` counts from 1.

    ``param -= lr m_hat / (sqrt(v_hat) + eps)``, computed in two scratch arrays
    rather than one temporary per operation.
    """
    m *= beta1
    a = np.multiply(grad, 1.0 - beta1)
    m += a
    v *= beta2
    b = np.multiply(grad, 1.0 - beta2)
    b *= grad
    v += b
    m_hat_scale = 1.0 / (1.0 - beta1**step)
    v_hat_scale = 1.0 / (1.0 - beta2**step)
    np.multiply(v, v_hat_scale, out=b)
    np.sqrt(b, out=b)
    b += eps
    np.multiply(m, lr * m_hat_scale, out=a)
    a /= b
    param -= a


def clip_by_value(grads: list[Array], limit: float) -> list[Array]:
    """Every gradient entry clipped to ``[-limit, limit]`` (new arrays)."""
    return [np.clip(g, -limit, limit) for g in grads]


def global_norm(grads: list[Array]) -> float:
    """The Euclidean norm of all gradients taken together, in float64."""
    return float(np.sqrt(sum(np.vdot(g, g).real for g in grads)))


def clip_by_global_norm(grads: list[Array], limit: float) -> list[Array]:
    """The gradients scaled together so their global norm is at most ``limit``.

    Gradients already within the limit are returned as they are. The scale is
    shrunk by a few units in the last place of the gradients' dtype, so the
    rounded result never exceeds the limit.
    """
    norm = global_norm(grads)
    if norm <= limit:
        return grads
    margin = 1.0 - 4.0 * float(np.finfo(np.result_type(*grads)).eps)
    scale = limit / norm * margin
    return [g * np.asarray(scale, dtype=g.dtype) for g in grads]
