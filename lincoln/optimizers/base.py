"""Optimizers: update every parameter of a network in place from its gradient.

The classes hold hyperparameters and state (velocities, moments) and apply an
update rule from :mod:`lincoln.updates` to every parameter. The base class is
the book's: ``step(self)`` calls ``self._update_rule(param=..., grad=...,
state=...)`` for each pair of ``self.net.params()`` and ``param_grads()``, so
the book's own subclasses (overriding ``step`` or ``_update_rule(self,
**kwargs)``) work as printed. The rate can decay once per epoch as in the book
(``"linear"`` or ``"exponential"``, reaching ``final_lr`` at the last epoch),
and gradients can be clipped: each entry (``clip_value``; the book's
``gradient_clipping=True`` is ``clip_value=2``) or together by their global
norm (``clip_norm``).
"""

from __future__ import annotations

from typing import Any

from ..base import Array
from ..errors import ConfigError, check_choice, check_real
from ..updates import clip_by_global_norm, clip_by_value
from .schedule import RateSchedule
from .state import StateDict

__all__ = ["Optimizer", "DECAY_TYPES", "unit_interval", "positive"]

DECAY_TYPES = (None, "linear", "exponential")


def unit_interval(owner: str, name: str, value: Any) -> float:
    return check_real(owner, name, value, low=0.0, high=1.0, high_open=True)


def positive(owner: str, name: str, value: Any) -> float:
    return check_real(owner, name, value, low=0.0, low_open=True)


class Optimizer(RateSchedule, StateDict):
    """Base class: learning rate, its per-epoch decay, weight decay, clipping.

    Args:
        lr: initial learning rate (> 0).
        final_lr: learning rate at the last epoch when ``decay_type`` is set.
        decay_type: None, ``"linear"`` or ``"exponential"``.
        weight_decay: L2 penalty coefficient added to every gradient
            (``grad + weight_decay * param``); 0 disables it.
        clip_value: clip every gradient entry to ``[-clip_value, clip_value]``.
        clip_norm: scale all gradients together so that their global norm is at
            most ``clip_norm``.
        gradient_clipping: the book's switch: True clips every entry to [-2, 2].

    Raises:
        ConfigError: a non-positive ``lr`` or clipping limit, an unknown
            ``decay_type``, or a ``final_lr`` that the decay cannot reach.

    Subclasses implement ``_update_rule(self, param, grad, state)`` (``state``:
    a per-parameter dict the subclass fills on first use).
    """

    hyperparams: tuple[str, ...] = ()  # a subclass's own arguments, for get_config

    # Class-level defaults for what the base methods read, so that a book-style
    # subclass whose __init__ does not call super().__init__() still works.
    net: Any = None
    weight_decay = 0.0
    clip_value: float | None = None
    clip_norm: float | None = None
    first = True

    def __init__(
        self,
        lr: float = 0.01,
        final_lr: float = 0.0,
        decay_type: str | None = None,
        weight_decay: float = 0.0,
        *,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        gradient_clipping: bool = False,
    ) -> None:
        name = type(self).__name__
        self.lr = self.initial_lr = positive(name, "lr", lr)
        self.final_lr = check_real(name, "final_lr", final_lr, low=0.0)
        # the book's AdaGrad passes 0 for "no decay"
        decay_type = decay_type or None
        self.decay_type = check_choice(name, "decay_type", decay_type, DECAY_TYPES)
        if decay_type == "exponential" and self.final_lr <= 0.0:
            raise ConfigError(
                f"{name}: exponential decay needs final_lr > 0 (a constant factor "
                f"never reaches 0), received final_lr={final_lr!r}"
            )
        if decay_type is not None and self.final_lr > self.lr:
            raise ConfigError(
                f"{name}: final_lr must not exceed lr for a decay, received "
                f"lr={lr!r}, final_lr={final_lr!r}"
            )
        if decay_type is None and self.final_lr not in (0.0, self.lr):
            raise ConfigError(
                f"{name}: final_lr={final_lr!r} has no effect without a decay_type; "
                f"give decay_type='linear' or 'exponential'"
            )
        self.weight_decay = check_real(name, "weight_decay", weight_decay, low=0.0)
        if gradient_clipping and clip_value is None:
            clip_value = 2.0
        self.clip_value = (
            None if clip_value is None else positive(name, "clip_value", clip_value)
        )
        self.clip_norm = (
            None if clip_norm is None else positive(name, "clip_norm", clip_norm)
        )
        self.decay_per_epoch = 0.0 if decay_type == "linear" else 1.0
        self.reset_state()

    # -- wiring -----------------------------------------------------------------

    def bind(self, net: Any) -> None:
        """Attach the network whose parameters ``step()`` updates."""
        self.net = net
        self.reset_state()

    def reset_state(self) -> None:
        """Forget velocities and moments (after the network is re-initialized)."""
        self.state = []
        self.step_count = 0
        self.first = True  # the book's optimizers read it

    # -- the update ---------------------------------------------------------------

    def step(self) -> None:
        """Update every parameter of the bound network in place.

        Raises:
            RuntimeError: no network is bound (create a Trainer, or call ``bind``),
                or there is not one gradient per parameter yet (run
                ``net.train_batch`` first).
        """
        if self.net is None:
            raise RuntimeError(
                f"{type(self).__name__}.step: no network bound; create "
                f"Trainer(net, optimizer) or call optimizer.bind(net) first"
            )
        params, grads = list(self.net.params()), list(self.net.param_grads())
        if not params:
            raise RuntimeError(
                f"{type(self).__name__}.step: the network has no parameters yet (a "
                f"network is built by its first batch); run net.train_batch "
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
        for param, grad, state in zip(
            params, self.prepare_grads(params, grads), self.state, strict=True
        ):
            self._update_rule(param=param, grad=grad, state=state)

    def prepare_grads(self, params: list[Array], grads: list[Array]) -> list[Array]:
        """The gradients the update uses: with weight decay added, then clipped."""
        if self.weight_decay:
            grads = [
                g + self.weight_decay * p for p, g in zip(params, grads, strict=True)
            ]
        if self.clip_value is not None:
            grads = clip_by_value(grads, self.clip_value)
        if self.clip_norm is not None:
            grads = clip_by_global_norm(grads, self.clip_norm)
        return grads

    def _update_rule(
        self, param: Array, grad: Array, state: dict[str, Any], **kwargs: Any
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_rule")

    # -- saving -------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this optimizer."""
        config: dict[str, Any] = {"lr": self.initial_lr}
        if self.decay_type:
            config.update(final_lr=self.final_lr, decay_type=self.decay_type)
        for key in ("weight_decay", "clip_value", "clip_norm"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        return {**config, **{k: getattr(self, k) for k in self.hyperparams}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
