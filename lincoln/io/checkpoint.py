"""Training checkpoints: a model file plus the optimizer's and the trainer's state.

A checkpoint (``"kind": "checkpoint"``, conventionally ``*.ckpt.npz``) is a model
file (:mod:`lincoln.io.model`; :func:`~lincoln.io.model.load` reads it as one)
with the optimizer's arrays ``optimizer.state.{i}.{key}`` (velocities, moments)
and header entry ``"optimizer"`` (type, config, learning rate, schedule, step
count), the best parameters so far ``best.layers...`` (``"best": true``), and the
``"training"`` entry of :class:`~lincoln.train.Trainer` (epoch reached, shuffling
generator state, best loss, history).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import Array
from ..errors import ModelFileError
from ..optimizers import Optimizer
from ..registry import OPTIMIZERS
from .format import ModelFile, PathLike, mismatches, names, read, write
from .model import apply, model_entries, plan_fill, rebuild, type_name

if TYPE_CHECKING:
    from ..network import NeuralNetwork

__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]

#: The optimizer's scalars a checkpoint restores (``Optimizer.load_state_dict``).
_SCALARS = ("lr", "decay_per_epoch", "max_epochs", "step_count")
_STATE_NAME = re.compile(r"state\.([0-9]+)\.(.+)")


def save_checkpoint(
    path: PathLike,
    net: NeuralNetwork,
    optimizer: Optimizer | None = None,
    training: Mapping[str, Any] | None = None,
    best_state: Mapping[str, Array] | None = None,
) -> None:
    """Write a training checkpoint: the model plus the optimizer's state.

    Args:
        path: where to write (atomically); ``*.ckpt.npz`` by convention.
        net: the network.
        optimizer: its optimizer; its full state (learning rate, schedule, step
            count, velocities or moments) is saved.
        training: JSON-serializable training state (the trainer's epoch, shuffling
            generator state, history, ...), returned as ``Checkpoint.training``.
        best_state: arrays named like ``net.state_dict()`` (the best parameters so
            far), returned as ``Checkpoint.best_state``.

    Raises:
        ModelFileError: ``best_state`` does not match the network's arrays.
        OSError: the file cannot be written (the previous one is kept).
    """
    arrays: dict[str, Array] = dict(net.state_dict())
    entries = model_entries(net)
    if optimizer is not None:
        state = optimizer.state_dict()
        arrays.update({f"optimizer.{k}": v for k, v in state.pop("arrays").items()})
        entries["optimizer"] = {
            "type": type_name(OPTIMIZERS, optimizer),
            "config": optimizer.get_config(),
            **state,
        }
    if best_state is not None:
        problems = mismatches(net.state_dict(), best_state)
        if problems:
            raise ModelFileError(
                "save_checkpoint: best_state does not match the network: "
                + "; ".join(problems)
            )
        arrays.update({f"best.{name}": value for name, value in best_state.items()})
    entries["best"] = best_state is not None
    entries["training"] = dict(training or {})
    write(path, "checkpoint", entries, arrays)


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read.

    Attributes:
        net: the network, holding the checkpoint's parameters.
        training: the ``training`` mapping given to :func:`save_checkpoint`.
        best_state: the best arrays by name (as ``net.state_dict()``), or None.
        optimizer: the optimizer entry of the header (type, config, lr, ...), or None.
        path: the file.
    """

    net: NeuralNetwork
    training: dict[str, Any]
    best_state: dict[str, Array] | None
    optimizer: dict[str, Any] | None
    path: Path


def _plan_optimizer(
    f: ModelFile, optimizer: Optimizer, net: NeuralNetwork
) -> dict[str, Any]:
    """The state to give ``optimizer.load_state_dict``, checked against ``net``."""
    entry = f.header.get("optimizer")
    if not isinstance(entry, dict):
        raise f.error("holds no optimizer state (saved without an optimizer)")
    mine = type_name(OPTIMIZERS, optimizer)
    if entry.get("type") != mine:
        raise f.error(
            f"holds the state of a {entry.get('type')!r} optimizer, not of "
            f"{mine!r} ({optimizer!r})"
        )
    try:
        num = int(entry["num_params"])
        state = {k: entry[k] for k in _SCALARS}
    except (KeyError, TypeError, ValueError) as exc:
        raise f.error(f"corrupt optimizer entry ({exc!r})") from None
    params = net.params()
    if num not in (0, len(params)):
        raise f.error(
            f"optimizer state is for {num} parameters, this network has {len(params)}"
        )
    arrays = f.prefixed("optimizer.")
    for name, value in arrays.items():
        match = _STATE_NAME.fullmatch(name)
        if match is None or int(match[1]) >= num:
            raise f.error(f"corrupt optimizer array name {'optimizer.' + name!r}")
        param = params[int(match[1])]
        if value.shape != param.shape or value.dtype != param.dtype:
            raise f.error(
                f"optimizer array {'optimizer.' + name!r} has shape {value.shape} "
                f"and dtype {value.dtype}; parameter {match[1]} has shape "
                f"{param.shape} and dtype {param.dtype}"
            )
    return {**state, "num_params": num, "arrays": arrays}


def load_checkpoint(
    path: PathLike,
    net: NeuralNetwork | None = None,
    optimizer: Optimizer | None = None,
    require: Iterable[str] = (),
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint file.
        net: a network to fill in place (built if needed); None rebuilds one
            from the file, as :func:`~lincoln.io.model.load` does.
        optimizer: an optimizer to restore (same type as the saved one): its
            learning rate, schedule, step count, velocities or moments.
        require: keys the ``training`` entry must hold (checked first).

    Returns:
        A :class:`Checkpoint`. Everything is checked before anything is changed.

    Raises:
        ModelFileError: the file is unreadable, is a model file and not a
            checkpoint, lacks a required training key, or does not fit ``net``
            or ``optimizer``.
    """
    f = read(path)
    if f.header["kind"] != "checkpoint":
        raise f.error(
            "is a model file, not a training checkpoint (it holds no optimizer or "
            "training state); load it with lincoln.load(path)"
        )
    training = f.header.get("training")
    if not isinstance(training, dict):
        raise f.error("corrupt header (no training entry)")
    missing = [key for key in require if key not in training]
    if missing:
        raise f.error(
            f"holds no training state {names(missing)} to resume from (written by "
            f"save_checkpoint, not by Trainer.fit?)"
        )
    if net is None:
        net = rebuild(f)
    plan = plan_fill(net, f, all_generators=True)
    opt_state = None if optimizer is None else _plan_optimizer(f, optimizer, net)
    best = f.prefixed("best.") if f.header.get("best") else None
    if best is not None:
        problems = mismatches(net.state_dict(), best)
        if problems:
            raise f.error("best arrays do not fit the network: " + "; ".join(problems))
    apply(plan)
    if optimizer is not None and opt_state is not None:
        optimizer.load_state_dict(opt_state)
    return Checkpoint(net, training, best, f.header.get("optimizer"), f.path)
