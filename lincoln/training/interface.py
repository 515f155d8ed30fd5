"""The book's interfaces: what ``Trainer`` needs of a network and an optimizer.

A network needs ``forward``, ``backward``, ``train_batch``, ``params()``,
``param_grads()``, ``layers`` and ``loss``; an optimizer ``step()`` and ``lr``.
lincoln's own classes have them, and so do classes written as in the book,
which ``Trainer`` trains too: nothing here asks for a lincoln class.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError

__all__ = ["check_interfaces", "bind", "restart"]

NET_METHODS = ("forward", "backward", "train_batch", "params", "param_grads")
NET_ATTRIBUTES = ("layers", "loss")
OPTIM_METHODS = ("step",)
OPTIM_ATTRIBUTES = ("lr",)


def _missing(obj: Any, methods: tuple[str, ...], attrs: tuple[str, ...]) -> list[str]:
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    return missing + [a for a in attrs if not hasattr(obj, a)]


def check_interfaces(net: Any, optim: Any) -> None:
    """Raise a ConfigError naming what ``net`` or ``optim`` lacks."""
    for what, obj, kind, missing in (
        ("net", net, "a NeuralNetwork", _missing(net, NET_METHODS, NET_ATTRIBUTES)),
        (
            "optim",
            optim,
            "an Optimizer",
            _missing(optim, OPTIM_METHODS, OPTIM_ATTRIBUTES),
        ),
    ):
        if missing:
            raise ConfigError(
                f"Trainer: {what} must be {kind} or have its interface (missing: "
                f"{', '.join(missing)}), received {obj!r}"
            )


def bind(optim: Any, net: Any) -> None:
    """Attach ``net`` to ``optim``: ``optim.bind(net)``, or, for an optimizer
    written as in the book, ``optim.net = net``."""
    method = getattr(optim, "bind", None)
    if callable(method):
        method(net)
    else:
        optim.net = net


def restart(net: Any, optim: Any) -> None:
    """Re-initialize the network (its layers rebuild on the next batch) and
    the optimizer's state (``reset_state()``, or the book's ``first = True``)."""
    for layer in net.layers:
        layer.first = True
    reset = getattr(optim, "reset_state", None)
    if callable(reset):
        reset()
    else:
        optim.first = True
