"""Optimizers: update every parameter of a network in place from its gradient.

Each update rule is a plain function (``sgd_update``, ``momentum_update``, ...)
that modifies its arrays in place; the classes hold hyperparameters and state
(velocities, moments) and apply the rule to every parameter.

The learning rate can decay once per epoch, as in the book: ``"linear"`` steps
from ``lr`` down to ``final_lr`` in equal steps, ``"exponential"`` multiplies by
a constant factor, reaching ``final_lr`` at the last epoch of ``fit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import Array
from .errors import ConfigError, check_real

if TYPE_CHECKING:
    from .network import NeuralNetwork

__all__ = [
    "Optimizer",
    "SGD",
    "SGDMomentum",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "OPTIMIZERS",
    "get_optimizer",
    "DECAY_TYPES",
]

DECAY_TYPES = (None, "linear", "exponential")


# -- update rules: plain functions, in place ----------------------------------------


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
    """Adam (Kingma & Ba, 2015) with bias correction; ``step`` counts from 1."""
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * grad * grad
    m_hat_scale = 1.0 / (1.0 - beta1**step)
    v_hat_scale = 1.0 / (1.0 - beta2**step)
    param -= (lr * m_hat_scale) * m / (np.sqrt(v * v_hat_scale) + eps)


# -- the classes ---------------------------------------------------------------------


class Optimizer:
    """Base class: learning rate, its per-epoch decay, weight decay, and state.

    Args:
        lr: initial learning rate (> 0).
        final_lr: learning rate at the last epoch when ``decay_type`` is set.
        decay_type: None, ``"linear"`` or ``"exponential"``.
        weight_decay: L2 penalty coefficient added to every gradient
            (``grad + weight_decay * param``); 0 disables it.

    Raises:
        ConfigError: a non-positive ``lr``, an unknown ``decay_type``, or
            ``final_lr <= 0`` with exponential decay (no factor reaches 0).

    Subclasses implement ``_update_rule(self, param, grad, state)``; ``state`` is
    a per-parameter dict the subclass fills on first use.
    """

    def __init__(
        self,
        lr: float = 0.01,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        name = type(self).__name__
        self.lr = check_real(name, "lr", lr, low=0.0, low_open=True)
        self.initial_lr = self.lr
        self.final_lr = check_real(name, "final_lr", final_lr, low=0.0)
        if decay_type not in DECAY_TYPES:
            raise ConfigError(
                f"{name}: unknown decay_type {decay_type!r}; choose one of: "
                f"None, 'linear', 'exponential'"
            )
        if decay_type == "exponential" and self.final_lr <= 0.0:
            raise ConfigError(
                f"{name}: exponential decay needs final_lr > 0 "
                f"(a constant factor never reaches 0), received final_lr={final_lr!r}"
            )
        if decay_type is None and self.final_lr not in (0.0, self.lr):
            raise ConfigError(
                f"{name}: final_lr={final_lr!r} has no effect without a decay_type; "
                f"give decay_type='linear' or 'exponential'"
            )
        if decay_type is not None and self.final_lr > self.lr:
            raise ConfigError(
                f"{name}: final_lr must not exceed lr for a decay, received "
                f"lr={lr!r}, final_lr={final_lr!r}"
            )
        self.decay_type = decay_type
        self.weight_decay = check_real(name, "weight_decay", weight_decay, low=0.0)
        self.decay_per_epoch = 0.0 if decay_type == "linear" else 1.0
        self.max_epochs = 1
        self.decay_steps = 0
        self.step_count = 0
        self.state: list[dict[str, Any]] = []
        self.net: NeuralNetwork | None = None

    # -- wiring -----------------------------------------------------------------

    def bind(self, net: NeuralNetwork) -> None:
        """Attach the network whose parameters ``step()`` updates."""
        self.net = net
        self.reset_state()

    def reset_state(self) -> None:
        """Forget velocities and moments (after the network is re-initialized)."""
        self.state = []
        self.step_count = 0

    # -- learning-rate schedule ---------------------------------------------------

    def setup_decay(self, max_epochs: int) -> None:
        """Start the schedule at ``initial_lr`` for a run of ``max_epochs`` epochs.

        With one epoch there is nothing to decay: the rate stays at ``lr``.
        """
        self.max_epochs = int(max_epochs)
        self.lr = self.initial_lr
        self.decay_steps = 0
        steps = self.max_epochs - 1
        if not self.decay_type or steps < 1:
            self.decay_per_epoch = 0.0 if self.decay_type == "linear" else 1.0
        elif self.decay_type == "exponential":
            self.decay_per_epoch = (self.final_lr / self.initial_lr) ** (1.0 / steps)
        else:
            self.decay_per_epoch = (self.initial_lr - self.final_lr) / steps

    # the book's private names, for readers who call them
    def _setup_decay(self) -> None:
        self.setup_decay(self.max_epochs)

    def decay_lr(self) -> None:
        """Move the learning rate one epoch along its schedule."""
        if not self.decay_type or self.max_epochs < 2:
            return
        # Computed from the step count, not accumulated, so the last epoch of
        # the schedule uses final_lr exactly rather than a rounded neighbour.
        self.decay_steps += 1
        if self.decay_steps >= self.max_epochs - 1:
            self.lr = self.final_lr
        elif self.decay_type == "exponential":
            self.lr = self.initial_lr * self.decay_per_epoch**self.decay_steps
        else:
            self.lr = self.initial_lr - self.decay_per_epoch * self.decay_steps

    _decay_lr = decay_lr

    # -- the update ---------------------------------------------------------------

    def step(self, epoch: int = 0) -> None:
        """Update every parameter of the bound network in place.

        Raises:
            RuntimeError: no network is bound (create a Trainer, or call ``bind``),
                or the gradients are missing: the network is not built yet (it
                has no parameters) or has no gradient for every parameter.
        """
        if self.net is None:
            raise RuntimeError(
                f"{type(self).__name__}.step: no network bound; create "
                f"Trainer(net, optimizer) or call optimizer.bind(net) first"
            )
        params = self.net.params()
        grads = self.net.param_grads()
        if not params and not self.net.built:
            raise RuntimeError(
                f"{type(self).__name__}.step: the network has no parameters yet "
                f"(a network is built by its first batch); run net.train_batch "
                f"(or forward and backward) first"
            )
        if len(grads) != len(params):
            raise RuntimeError(
                f"{type(self).__name__}.step: {len(params)} parameters but "
                f"{len(grads)} gradients; run net.train_batch "
                f"(or forward and backward) first"
            )
        if len(self.state) != len(params):
            self.state = [{} for _ in params]
        self.step_count += 1
        for param, grad, state in zip(params, grads, self.state, strict=True):
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            self._update_rule(param, grad, state)

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_rule")

    # -- saving -------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"lr": self.initial_lr}
        if self.decay_type:
            config.update(final_lr=self.final_lr, decay_type=self.decay_type)
        if self.weight_decay:
            config["weight_decay"] = self.weight_decay
        return config

    def state_dict(self) -> dict[str, Any]:
        """Scalars and arrays that resume the optimizer exactly
        (``load_state_dict``)."""
        arrays = {
            f"state.{i}.{key}": value
            for i, st in enumerate(self.state)
            for key, value in st.items()
        }
        return {
            "lr": self.lr,
            "initial_lr": self.initial_lr,
            "decay_per_epoch": self.decay_per_epoch,
            "decay_steps": self.decay_steps,
            "max_epochs": self.max_epochs,
            "step_count": self.step_count,
            "num_params": len(self.state),
            "arrays": arrays,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        ``initial_lr`` and ``decay_steps`` (where the schedule started and how
        far along it is) are optional: without them the optimizer keeps its own
        ``initial_lr`` and the schedule counts from 0 decays. (A checkpoint
        resumed by :class:`~lincoln.train.Trainer` replays the schedule from
        the optimizer's own settings anyway.)
        """
        self.lr = float(state["lr"])
        self.initial_lr = float(state.get("initial_lr", self.initial_lr))
        self.decay_per_epoch = float(state["decay_per_epoch"])
        self.decay_steps = int(state.get("decay_steps", 0))
        self.max_epochs = int(state["max_epochs"])
        self.step_count = int(state["step_count"])
        self.state = [{} for _ in range(int(state["num_params"]))]
        for name, value in state["arrays"].items():
            _, index, key = name.split(".", 2)
            self.state[int(index)][key] = np.array(value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``param -= lr * grad``."""

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        sgd_update(param, grad, self.lr)


class SGDMomentum(Optimizer):
    """SGD with momentum, in the book's form ``v = momentum v + lr g; p -= v``.

    Args:
        momentum: in ``[0, 1)``; 0.9 is usual.
    """

    def __init__(
        self,
        lr: float = 0.01,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, weight_decay)
        self.momentum = check_real(
            "SGDMomentum", "momentum", momentum, low=0.0, high=1.0, high_open=True
        )

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        if "velocity" not in state:
            state["velocity"] = np.zeros_like(param)
        momentum_update(param, grad, state["velocity"], self.lr, self.momentum)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum}


class AdaGrad(Optimizer):
    """AdaGrad: per-parameter rates shrinking with the sum of squared gradients."""

    def __init__(
        self,
        lr: float = 0.01,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, weight_decay)
        self.eps = check_real("AdaGrad", "eps", eps, low=0.0, low_open=True)

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        if "sum_sq" not in state:
            state["sum_sq"] = np.zeros_like(param)
        adagrad_update(param, grad, state["sum_sq"], self.lr, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "eps": self.eps}


class RMSProp(Optimizer):
    """RMSProp: rates scaled by a running mean of squared gradients.

    Args:
        rho: decay of the running mean, in ``[0, 1)``.
    """

    def __init__(
        self,
        lr: float = 0.001,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        rho: float = 0.9,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, weight_decay)
        self.rho = check_real("RMSProp", "rho", rho, low=0.0, high=1.0, high_open=True)
        self.eps = check_real("RMSProp", "eps", eps, low=0.0, low_open=True)

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        if "mean_sq" not in state:
            state["mean_sq"] = np.zeros_like(param)
        rmsprop_update(param, grad, state["mean_sq"], self.lr, self.rho, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam with bias-corrected first and second moments.

    Args:
        beta1, beta2: moment decays, each in ``[0, 1)``.
        eps: added to the denominator for stability.
    """

    def __init__(
        self,
        lr: float = 0.001,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, final_lr, decay_type, weight_decay)
        self.beta1 = check_real(
            "Adam", "beta1", beta1, low=0.0, high=1.0, high_open=True
        )
        self.beta2 = check_real(
            "Adam", "beta2", beta2, low=0.0, high=1.0, high_open=True
        )
        self.eps = check_real("Adam", "eps", eps, low=0.0, low_open=True)

    def _update_rule(self, param: Array, grad: Array, state: dict[str, Any]) -> None:
        if "m" not in state:
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
        adam_update(
            param,
            grad,
            state["m"],
            state["v"],
            self.step_count,
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
        }


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "sgd_momentum": SGDMomentum,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def get_optimizer(spec: dict[str, Any] | Optimizer) -> Optimizer:
    """An optimizer from ``{"type": name, **kwargs}`` or an instance.

    Raises:
        ConfigError: unknown type (naming the valid ones) or bad arguments.
    """
    if isinstance(spec, Optimizer):
        return spec
    kwargs = dict(spec)
    name = kwargs.pop("type", None)
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}"
        )
    try:
        return OPTIMIZERS[name](**kwargs)
    except TypeError as exc:
        raise ConfigError(f"optimizer {name!r}: {exc}") from None
