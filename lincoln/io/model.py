"""Model files: a network's architecture, loss, dtype and arrays.

A model file (:mod:`lincoln.io.format`) holds the arrays
``layers.{i}.params.{j}`` (``net.named_params()``) and ``layers.{i}.buffers.{name}``
(``net.named_buffers()``: batch-norm running statistics), and the header entries::

    "network": {"type": "NeuralNetwork", "dtype": "float32", "seed": 1,
                "input_shape": [13],
                "layers": [{"type": "dense", "neurons": 13,
                            "activation": "sigmoid", "weight_init": "standard"}],
                "loss": {"type": "mean_squared_error", "normalize": true}},
    "generators": {"layers.0.operations.3.rng": {"bit_generator": "PCG64", ...}}

A layer's ``"type"`` is its name in :data:`~lincoln.registry.LAYERS`, the rest
its ``get_config()``; the loss's likewise in :data:`~lincoln.registry.LOSSES`,
so a user's registered class is saved and loaded like a built-in one. A layer or
loss that cannot describe itself (its class, or its activation's, is not
registered) is written as ``{"type": class name, "unsupported": why}``: only
:func:`load_weights` reads its weights. ``"generators"`` holds the states of the
generators the operations declare (``net.named_generators()``: dropout masks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base import Array
from ..errors import ConfigError, LincolnError
from ..registry import LAYERS, LOSSES, NETWORKS, Registry
from .format import ModelFile, PathLike, mismatches, names, read, write

if TYPE_CHECKING:
    from ..network import NeuralNetwork

__all__ = ["MAY_DIFFER", "RUN_DIR_MODEL", "load", "load_weights", "save"]

RUN_DIR_MODEL = "model.npz"  # the model in a run directory of `lincoln train --out`

#: Constructor arguments that may differ between a file and the network it is
#: loaded into, by layer type ("" for every layer type). They shape training, not
#: the function the loaded weights compute: the initialization is overwritten by
#: the load, dropout is the identity at inference (inverted dropout), and batch
#: normalization's momentum only sets how fast its running statistics follow
#: training batches. Every other entry of a layer's ``get_config()`` must be equal.
MAY_DIFFER: dict[str, frozenset[str]] = {
    "": frozenset({"weight_init", "dropout"}),
    "batchnorm": frozenset({"momentum"}),
}


# -- describing and rebuilding a network -----------------------------------------------


def type_name(registry: Registry, obj: Any) -> str:
    """The name ``obj``'s class is registered under, else the class's name."""
    try:
        return registry.name_of(obj)
    except ConfigError:
        return type(obj).__name__


def _entry(registry: Registry, obj: Any) -> dict[str, Any]:
    """``{"type": name, **obj.get_config()}``, or what keeps it from describing
    itself (its class, or its activation's, is not registered)."""
    try:
        return {"type": registry.name_of(obj), **obj.get_config()}
    except ConfigError as exc:
        return {"type": type(obj).__name__, "unsupported": str(exc)}


def model_entries(net: NeuralNetwork) -> dict[str, Any]:
    """The header entries of a model file: ``"network"`` and ``"generators"``."""
    input_shape = net.input_shape
    network = {
        "type": type_name(NETWORKS, net),
        "dtype": net.dtype.name,
        "seed": None if net.seed is None else int(net.seed),
        "input_shape": None if input_shape is None else list(input_shape),
        "layers": [_entry(LAYERS, layer) for layer in net.layers],
        "loss": _entry(LOSSES, net.loss),
    }
    generators = {name: g.bit_generator.state for name, g in net.named_generators()}
    return {"network": network, "generators": generators}


def save(net: NeuralNetwork, path: PathLike) -> None:
    """Write ``net`` (architecture, loss, dtype, parameters, buffers) to ``path``.

    The file is written atomically at exactly ``path`` (no extension is added);
    ``.npz`` is the usual one. See the module docstring for the layout.

    Args:
        net: the network; an unbuilt one is saved without arrays.
        path: where to write.

    Raises:
        OSError: the file cannot be written (the previous one is kept).

    Example:
        >>> net.save("model.npz")                 # doctest: +SKIP
        >>> same = lincoln.load("model.npz")      # doctest: +SKIP
    """
    write(path, "model", model_entries(net), net.state_dict())


def _network_entry(f: ModelFile) -> dict[str, Any]:
    """The header's ``"network"`` entry, checked: a non-empty list of layer
    entries and a loss entry, each a dict with a ``"type"`` name."""
    config: dict[str, Any] = f.header["network"]
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise f.error("corrupt header (no layers)")
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            raise f.error(f"corrupt header (layer {i} is {spec!r})")
    loss = config.get("loss")
    if not isinstance(loss, dict) or not isinstance(loss.get("type"), str):
        raise f.error("corrupt header (no loss)")
    return config


def _create(f: ModelFile, what: str, registry: Registry, spec: dict[str, Any]) -> Any:
    if "unsupported" in spec:
        raise f.error(
            f"{what} ({spec['type']}) cannot be rebuilt: {spec['unsupported']}. "
            f"Declare the network in code and use net.load_weights(path)"
        )
    try:
        return registry.create(spec)
    except (LincolnError, TypeError, ValueError) as exc:
        raise f.error(f"{what}: {exc}") from None


def rebuild(f: ModelFile) -> NeuralNetwork:
    """A new, unbuilt network declared as the file's header says.

    Raises:
        ModelFileError: an unknown or unsupported layer, loss or network type, or
            arguments they do not take.
    """
    config = _network_entry(f)
    layers = [
        _create(f, f"layer {i}", LAYERS, spec)
        for i, spec in enumerate(config["layers"])
    ]
    loss = _create(f, "the loss", LOSSES, config["loss"])
    try:
        cls = NETWORKS.lookup(config.get("type", "NeuralNetwork"))
        net: NeuralNetwork = cls(
            layers, loss, seed=config.get("seed"), dtype=config.get("dtype")
        )
    except (LincolnError, TypeError, ValueError) as exc:
        raise f.error(f"cannot rebuild the network: {exc}") from None
    return net


# -- comparing the declared architecture with the file's -------------------------------


def _class_name(registry: Registry, kind: str) -> str:
    return registry[kind].__name__ if kind in registry else kind


def _normalized(registry: Registry, spec: dict[str, Any]) -> dict[str, Any]:
    """A file's entry as this lincoln writes it (rebuilt and described again, so
    that aliases, defaults and JSON's lists compare equal), else as it is."""
    try:
        return _entry(registry, registry.create(spec))
    except (LincolnError, TypeError, ValueError):
        return spec


_MISSING: Any = object()


def _comparable(entry: Mapping[str, Any]) -> dict[str, Any]:
    skip = MAY_DIFFER[""] | MAY_DIFFER.get(entry["type"], frozenset())
    return {k: v for k, v in entry.items() if k != "type" and k not in skip}


def _difference(
    registry: Registry, saved: dict[str, Any], mine: dict[str, Any]
) -> str | None:
    """``"the file has X(...), this network has Y(...)"`` for two entries that
    differ, else None. For one type, only the differing arguments are shown (an
    argument left out is the class's default)."""
    if "unsupported" in saved or "unsupported" in mine:
        return None  # a layer or loss that cannot describe itself: shapes decide
    saved = _normalized(registry, saved)
    a, b = _comparable(saved), _comparable(mine)
    if saved["type"] == mine["type"]:
        keys = {k for k in {**a, **b} if a.get(k, _MISSING) != b.get(k, _MISSING)}
        if not keys:
            return None
        a = {k: v for k, v in a.items() if k in keys}
        b = {k: v for k, v in b.items() if k in keys}

    def call(kind: str, args: dict[str, Any]) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{_class_name(registry, kind)}({shown})"

    return (
        f"the file has {call(saved['type'], a)}, "
        f"this network has {call(mine['type'], b)}"
    )


def _check_architecture(net: NeuralNetwork, f: ModelFile) -> None:
    """Raise naming the first difference between ``net``'s declaration and the
    architecture in the file's header (see :func:`load_weights` for the rule)."""
    config = _network_entry(f)
    specs = config["layers"]
    if len(specs) != len(net.layers):
        saved = ", ".join(_class_name(LAYERS, s["type"]) for s in specs)
        mine = ", ".join(type(layer).__name__ for layer in net.layers)
        raise f.error(
            f"the file has {len(specs)} layers ({saved}), this network has "
            f"{len(net.layers)} ({mine})"
        )
    for i, (spec, layer) in enumerate(zip(specs, net.layers, strict=True)):
        problem = _difference(LAYERS, spec, _entry(LAYERS, layer))
        if problem:
            raise f.error(f"layer {i} differs: {problem}")
    problem = _difference(LOSSES, config["loss"], _entry(LOSSES, net.loss))
    if problem:
        raise f.error(f"the loss differs: {problem}")


# -- filling a network -----------------------------------------------------------------


def _build_for(net: NeuralNetwork, f: ModelFile, arrays: Mapping[str, Array]) -> None:
    """Build an unbuilt network for the input shape stored in the file."""
    shape = f.header["network"].get("input_shape")
    if net.built or (shape is None and not arrays):
        return
    if shape is None:
        raise f.error("corrupt header (arrays but no input_shape)")
    try:
        net.build(tuple(int(s) for s in shape))
    except (LincolnError, TypeError, ValueError) as exc:
        raise f.error(
            f"this network cannot be built for the file's inputs of shape "
            f"{tuple(shape)}: {exc}"
        ) from None


def plan_fill(net: NeuralNetwork, f: ModelFile, all_generators: bool) -> list[Any]:
    """Check that the file fits ``net`` (building it if needed) and return the
    assignments to make; nothing is changed, so a failed load leaves ``net`` intact.

    Args:
        all_generators: the file and ``net`` must hold the same generators (to
            resume training exactly); else those of both are restored.
    """
    _check_architecture(net, f)
    arrays = {k: v for k, v in f.arrays.items() if k.startswith("layers.")}
    saved_dtype = f.header["network"].get("dtype")
    if arrays and saved_dtype != net.dtype.name:
        raise f.error(
            f"holds {saved_dtype} parameters but this network is {net.dtype.name}; "
            f"declare it with dtype={saved_dtype!r}, or use lincoln.load(path)"
        )
    _build_for(net, f, arrays)
    state = net.state_dict()
    problems = mismatches(state, arrays)
    if problems:
        raise f.error("does not fit this network: " + "; ".join(problems))
    gens, saved = dict(net.named_generators()), f.header["generators"]
    if all_generators and set(gens) != set(saved):
        raise f.error(
            f"does not fit this network: random generators "
            f"{names(set(saved) ^ set(gens))} exist in only one of them"
        )
    plan: list[Any] = [(dst, arrays[name]) for name, dst in state.items()]
    for name in sorted(set(gens) & set(saved)):
        # checked on a scratch generator of the same kind, so that apply cannot fail
        scratch = type(gens[name].bit_generator)()
        try:
            scratch.state = saved[name]
        except (TypeError, ValueError, KeyError) as exc:
            raise f.error(
                f"corrupt state of random generator {name!r} ({exc})"
            ) from None
        plan.append((gens[name], scratch.state))
    return plan


def apply(plan: list[Any]) -> None:
    """Make the assignments :func:`plan_fill` returned."""
    for dst, src in plan:
        if isinstance(dst, np.random.Generator):
            dst.bit_generator.state = src
        else:
            np.copyto(dst, src)


def load_weights(net: NeuralNetwork, path: PathLike) -> None:
    """Copy the parameters and buffers saved at ``path`` into ``net``, in place.

    ``net`` must be declared like the saved network. Before anything is copied,
    its declaration is compared with the architecture recorded in the file's
    header, and the first difference raises:

    * the number of layers;
    * each layer's type and every constructor argument in its ``get_config()``
      (sizes, kernel, stride, padding, flatten, the activation and the
      activation's own arguments, batch-norm ``eps``, ...), except those listed in
      :data:`MAY_DIFFER`, which do not change what the loaded weights compute:
      ``weight_init`` (the weights are overwritten), ``dropout`` (inverted
      dropout is the identity at inference) and batch normalization's
      ``momentum`` (how fast running statistics follow training batches);
    * the loss: its type and arguments (e.g. ``normalize`` of MeanSquaredError).

    A layer or loss that cannot describe itself, in the file or in ``net`` (a
    user's class not registered in :data:`~lincoln.registry.LAYERS` or
    :data:`~lincoln.registry.LOSSES`, a layer whose activation is not
    registered), is not compared: its arrays' shapes alone decide.

    Then the dtype must match, an unbuilt ``net`` is built for the saved input
    shape, and every array is checked (names, shapes, dtypes). On any error
    ``net`` is unchanged. Works with model files and checkpoints (and
    :func:`~lincoln.io.checkpoint.load_checkpoint` with a ``net`` checks it the
    same way).

    Raises:
        ModelFileError: the file is unreadable or does not fit ``net``; the message
            names the first architecture difference, e.g. ``model.npz: layer 0
            differs: the file has Dense(activation='relu'), this network has
            Dense(activation='sigmoid')``, or the missing, unexpected or
            mismatched arrays.
    """
    f = read(path)
    apply(plan_fill(net, f, all_generators=False))


def load(path: PathLike) -> NeuralNetwork:
    """Rebuild the network saved at ``path``: layers, activations, loss, dtype, weights.

    Reads model files (``net.save``), checkpoints (their current parameters) and
    run directories of ``lincoln train --out DIR`` (their ``model.npz``).

    Raises:
        ModelFileError: the file is missing, truncated or corrupt, not a lincoln
            model, written by a newer lincoln, or names an unknown layer type.

    Example:
        >>> net = lincoln.load("model.npz")      # doctest: +SKIP
        >>> net.predict(X_test).argmax(axis=1)   # doctest: +SKIP
    """
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, RUN_DIR_MODEL)):
        path = os.path.join(path, RUN_DIR_MODEL)
    f = read(path)
    net = rebuild(f)
    apply(plan_fill(net, f, all_generators=False))
    return net
