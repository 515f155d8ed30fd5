"""Loss functions: a scalar from predictions and targets, and its gradient.

A :class:`Loss` caches ``prediction`` and ``target`` in ``forward`` and returns
dL/d(prediction) from ``backward``; subclasses write ``_output`` and
``_input_grad``, as operations do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, as_array
from .errors import ShapeError, check_labels, check_numeric, shape_error
from .registry import LOSSES

__all__ = [
    "Loss",
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
    "LOSSES",
    "get_loss",
    "loss_name",
]


class Loss:
    """Base class: ``forward(prediction, target) -> float``, ``backward() -> grad``."""

    # Trainer.fit validates all targets once, then turns the per-batch checks
    # off for the duration of the fit.
    check_targets = True

    def __init__(self) -> None:
        # None until the first forward call, which sets both before any hook runs.
        self.prediction: Array = None  # type: ignore[assignment]
        self.target: Array = None  # type: ignore[assignment]
        self.output: float | None = None
        self.input_grad: Array | None = None

    def forward(self, prediction: Array, target: Array) -> float:
        """Compute the loss of ``prediction`` against ``target``.

        Raises:
            ShapeError: the shapes do not fit each other.
        """
        prediction = (
            prediction if isinstance(prediction, np.ndarray) else np.asarray(prediction)
        )
        self.prediction = prediction
        self.target = self._check_target(prediction, target)
        self.output = float(self._output())
        return self.output

    def backward(self) -> Array:
        """dL/d(prediction) for the last ``forward`` call."""
        if self.prediction is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        self.input_grad = self._input_grad()
        if getattr(self.input_grad, "shape", None) != self.prediction.shape:
            raise shape_error(
                self,
                "gradient from _input_grad",
                self.prediction.shape,
                self.input_grad,
            )
        return self.input_grad

    def _check_target(self, prediction: Array, target: Any) -> Array:
        target = check_numeric(
            as_array(target, f"{type(self).__name__}: target"),
            f"{type(self).__name__}: target",
        )
        if target.shape != prediction.shape:
            raise ShapeError(
                f"{type(self).__name__}: target must have the prediction's shape "
                f"{prediction.shape}, received shape {target.shape}"
            )
        return target

    def _output(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement _output(self)")

    def _input_grad(self) -> Array:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _input_grad(self)"
        )

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@LOSSES.register("mean_squared_error")
class MeanSquaredError(Loss):
    """Squared error summed over outputs, averaged over the batch (the book's MSE).

    ``L = sum((prediction - target)^2) / batch``. A target of shape ``(N,)`` is
    accepted for a prediction of shape ``(N, 1)`` and reshaped.

    Args:
        normalize: divide each row of predictions by its sum first, as the
            book does (its option for classifiers trained with MSE). The
            gradient here runs through that division; the book's skipped it.
    """

    def __init__(self, normalize: bool = False) -> None:
        super().__init__()
        self.normalize = bool(normalize)

    def _check_target(self, prediction: Array, target: Any) -> Array:
        target = check_numeric(
            as_array(target, f"{type(self).__name__}: target"),
            f"{type(self).__name__}: target",
        )
        if target.ndim == 1 and prediction.ndim == 2 and prediction.shape[1] == 1:
            target = target.reshape(-1, 1)
        if target.dtype != prediction.dtype and target.dtype.kind in "biuf":
            target = target.astype(prediction.dtype)
        return super()._check_target(prediction, target)

    def _output(self) -> float:
        pred = self.prediction
        if self.normalize:
            self._row_sums = pred.sum(axis=1, keepdims=True)
            pred = pred / self._row_sums
        self._normalized = pred
        # kept for _input_grad, whose gradient is this difference scaled
        self._diff = diff = pred - self.target
        return float(np.vdot(diff, diff)) / self.prediction.shape[0]

    def _input_grad(self) -> Array:
        n = self.prediction.shape[0]
        grad = self._diff * (2.0 / n)
        if self.normalize:
            # through p = x / sum(x): dL/dx = (g - sum(g * p)) / sum(x), per row
            p = self._normalized
            grad = (grad - np.sum(grad * p, axis=1, keepdims=True)) / self._row_sums
        return grad.astype(self.prediction.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        return {"normalize": self.normalize} if self.normalize else {}


_EXP_FLOORS: dict[np.dtype[Any], float] = {}


def _exp_floor(dtype: np.dtype[Any]) -> float:
    """A value whose exp() stays a normal number of ``dtype`` even after the
    gradient divides it by a batch size (a margin of e^30, about 1e13)."""
    floor = _EXP_FLOORS.get(dtype)
    if floor is None:
        floor = (
            float(np.log(np.finfo(dtype).tiny)) + 30.0 if dtype.kind == "f" else -670.0
        )
        _EXP_FLOORS[dtype] = floor
    return floor


@LOSSES.register("softmax_cross_entropy")
class SoftmaxCrossEntropy(Loss):
    """Softmax followed by categorical cross-entropy, fused for stability and speed.

    ``L = mean over the batch of -sum_k t_k log softmax(x)_k``, computed with a
    log-sum-exp so logits of any size give a finite loss. The gradient is
    ``(softmax(x) - t) / batch``.

    Targets are one-hot rows ``(N, K)`` or integer labels ``(N,)`` (``(N, 1)``
    label columns are accepted and flattened).

    Args:
        eps: kept for the book's signature; the log-softmax needs no clipping.

    Raises:
        ShapeError / DataError: targets that do not fit the predictions, labels
            outside ``[0, K)``, or non-integer labels.
    """

    def __init__(self, eps: float = 1e-9) -> None:
        super().__init__()
        self.eps = eps
        self.softmax_preds: Array = None  # type: ignore[assignment]  # set by _output
        self._labels: Array | None = None
        self._rows = np.arange(0)

    def _check_target(self, prediction: Array, target: Any) -> Array:
        target = as_array(target, "SoftmaxCrossEntropy: target")
        if prediction.ndim != 2:
            raise ShapeError(
                f"SoftmaxCrossEntropy: prediction must be 2-D (batch, classes), "
                f"received shape {prediction.shape}"
            )
        n, k = prediction.shape
        if target.ndim == 2 and target.shape[1] == 1 and k != 1:
            target = target[:, 0]
        if target.ndim == 1:
            if target.shape[0] != n:
                raise ShapeError(
                    f"SoftmaxCrossEntropy: {n} predictions but {target.shape[0]} labels"
                )
            if self.check_targets or target.dtype.kind not in "iu":
                target = check_labels(target, k, "SoftmaxCrossEntropy")
            self._labels = target
            return target
        self._labels = None
        if target.shape != prediction.shape:
            raise ShapeError(
                f"SoftmaxCrossEntropy: target must be one-hot with shape "
                f"{prediction.shape} or integer labels with shape ({n},), "
                f"received shape {target.shape}"
            )
        if target.dtype != prediction.dtype:
            target = target.astype(prediction.dtype)
        return target

    def _output(self) -> float:
        x = self.prediction
        shifted = x - x.max(axis=1, keepdims=True)
        # Clipping far below the maximum changes no probability that the dtype
        # can tell from 0, and keeps exp() from underflowing.
        exp = np.maximum(shifted, _exp_floor(shifted.dtype))
        np.exp(exp, out=exp)
        sums = exp.sum(axis=1, keepdims=True)
        exp /= sums
        self.softmax_preds = exp
        log_sums = np.log(sums)  # log-softmax = shifted - log_sums
        n = x.shape[0]
        if self._labels is not None:
            if self._rows.shape[0] != n:
                self._rows = np.arange(n)
            picked = shifted[self._rows, self._labels]
            return float(log_sums.sum() - picked.sum()) / n
        t = self.target
        # -sum t (shifted - lse) = sum(t) * lse - sum(t * shifted), per row
        return float(np.vdot(t.sum(axis=1), log_sums[:, 0]) - np.vdot(t, shifted)) / n

    def _input_grad(self) -> Array:
        n = self.prediction.shape[0]
        if self._labels is not None:
            grad = self.softmax_preds.copy()
            grad[self._rows, self._labels] -= 1.0
        else:
            # d/dx of -sum t log softmax(x) is softmax(x) * sum(t) - t; sum(t) is
            # 1 for one-hot rows, but soft targets need not sum to exactly 1
            t = self.target
            grad = self.softmax_preds * t.sum(axis=1, keepdims=True)
            grad -= t
        grad *= np.asarray(1.0 / n, dtype=grad.dtype)
        return grad


LOSSES.register("mse", MeanSquaredError)


def loss_name(loss: Loss) -> str:
    """The registry name of a loss instance.

    Raises:
        ConfigError: its class is not registered.
    """
    return LOSSES.name_of(loss)


def get_loss(spec: str | dict[str, Any] | Loss) -> Loss:
    """A loss from a name, a ``{"type": name, **kwargs}`` dict, or an instance.

    Raises:
        ConfigError: unknown name (naming the valid choices) or bad arguments.
    """
    return LOSSES.create(spec, base=Loss)  # type: ignore[no-any-return]
