"""Model files and training checkpoints: the format, its checks, the atomic write.

A **model file** is one NumPy ``.npz`` archive (a zip of ``.npy`` arrays), always
read with ``allow_pickle=False`` so that opening a file never runs code. It holds:

* ``layers.{i}.params.{j}``: parameter ``j`` of layer ``i``, as in
  ``net.named_params()``;
* ``layers.{i}.buffers.{name}``: the layer's non-trainable state
  (``layer.buffers()``, e.g. batch-norm running statistics);
* ``__lincoln_model__``: a uint8 array holding this UTF-8 JSON header::

    {"format": "lincoln", "format_version": 1, "kind": "model",
     "lincoln_version": "0.1.0",
     "network": {"type": "NeuralNetwork", "dtype": "float32", "seed": 1,
                 "input_shape": [13],
                 "layers": [{"type": "dense", "neurons": 13,
                             "activation": "sigmoid", "weight_init": "standard"}],
                 "loss": {"type": "mean_squared_error", "normalize": false}},
     "generators": {"layers.0.operations.3.rng": {"bit_generator": "PCG64", ...}},
     "arrays": {"layers.0.params.0": {"shape": [13, 13], "dtype": "float32"}, ...}}

  ``"type"`` of a layer is its name in :data:`lincoln.layers.LAYERS`, the rest its
  ``get_config()``; ``"generators"`` are the states of the random generators the
  layers own (dropout masks); ``"arrays"`` lists every other array of the archive,
  so a missing or altered one is noticed.

A **checkpoint** (``"kind": "checkpoint"``, conventionally ``*.ckpt.npz``) is a model
file plus the optimizer's state (arrays ``optimizer.state.{i}.{key}``: velocities,
moments; header entry ``"optimizer"``: type, config, learning rate, schedule, step
count), the best parameters seen so far (arrays ``best.layers...``), and a
``"training"`` header entry written by :class:`~lincoln.train.Trainer` (epoch reached,
shuffling generator state, best loss, history). :func:`load` reads either kind.

:func:`load_weights` (and :func:`load_checkpoint` given a network) fill a network
declared in code; they first compare its layers and loss with the header's
``"network"`` entry and refuse a different architecture, naming the first
difference (see :func:`load_weights` for what must match and what may differ).

Every write goes to a temporary file in the target's folder, is flushed to disk,
then renamed over the target (``os.replace``): an error or Ctrl-C half-way leaves
the previous file as it was and no temporary file behind. Every problem with a
file raises :class:`~lincoln.errors.ModelFileError` naming the file and what is
wrong with it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import atomic_write
from .base import Array
from .errors import ConfigError, LincolnError, ModelFileError
from .layers import LAYERS, Layer, layer_from_config
from .losses import LOSSES, Loss, get_loss, loss_name
from .optimizers import OPTIMIZERS, Optimizer
from .registry import NETWORKS

if TYPE_CHECKING:
    from .network import NeuralNetwork

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "MAY_DIFFER",
    "NETWORKS",
    "Checkpoint",
    "atomic_savez",
    "load",
    "load_checkpoint",
    "load_weights",
    "read_header",
    "register_network",
    "save",
    "save_checkpoint",
]

FORMAT = "lincoln"
FORMAT_VERSION = 1
RUN_DIR_MODEL = "model.npz"  # the model in a run directory of `lincoln train --out`
HEADER_KEY = "__lincoln_model__"
KINDS = ("model", "checkpoint")

PathLike = str | os.PathLike[str]


def register_network(name: str, cls: type[NeuralNetwork]) -> type[NeuralNetwork]:
    """Make a network class loadable by :func:`load` under ``name``."""
    return NETWORKS.register(name, cls)  # type: ignore[no-any-return]


def _lincoln_version() -> str:
    try:
        return importlib.metadata.version("lincoln")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


# -- writing ---------------------------------------------------------------------------


def atomic_savez(path: PathLike, arrays: Mapping[str, Array]) -> None:
    """Write ``arrays`` as an ``.npz`` archive at exactly ``path``, atomically.

    The archive is written to a temporary file in the same folder, flushed and
    fsynced, then renamed over ``path`` (see :func:`lincoln._files.atomic_write`).
    If anything fails (including KeyboardInterrupt) the previous file at ``path``
    is untouched and the temporary file is removed.

    Raises:
        OSError: the folder does not exist or is not writable, the disk is full, ...
    """
    with atomic_write(path) as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # no name is "allow_pickle"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encode_header(header: dict[str, Any]) -> Array:
    text = json.dumps(header, default=_json_default, sort_keys=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _registry_name(obj: Any, registry: Mapping[str, type]) -> str | None:
    for name, cls in registry.items():
        if type(obj) is cls:
            return name
    return None


def _layer_config(layer: Layer) -> dict[str, Any]:
    name = _registry_name(layer, LAYERS)
    try:
        config = layer.get_config()
    except ConfigError as exc:  # e.g. an activation that is not registered
        return {"type": name or type(layer).__name__, "unsupported": str(exc)}
    if name is None:
        return {
            "type": type(layer).__name__,
            "unsupported": (
                f"layer class {type(layer).__name__} is not registered; call "
                f"lincoln.layers.register_layer(name, {type(layer).__name__}) before "
                f"saving and loading"
            ),
        }
    return {"type": name, **config}


def _loss_config(loss: Loss) -> dict[str, Any]:
    try:
        return {"type": loss_name(loss), **loss.get_config()}
    except ConfigError as exc:
        return {"type": type(loss).__name__, "unsupported": str(exc)}


def _network_config(net: NeuralNetwork) -> dict[str, Any]:
    input_shape = net.input_shape
    return {
        "type": _registry_name(net, NETWORKS) or type(net).__name__,
        "dtype": net.dtype.name,
        "seed": None if net.seed is None else int(net.seed),
        "input_shape": None if input_shape is None else list(input_shape),
        "layers": [_layer_config(layer) for layer in net.layers],
        "loss": _loss_config(net.loss),
    }


def _generators(net: NeuralNetwork) -> dict[str, np.random.Generator]:
    """Every random generator the layers and their operations hold (dropout masks),
    by a name that says where it lives."""
    found: dict[str, np.random.Generator] = {}
    for i, layer in enumerate(net.layers):
        for attr, value in vars(layer).items():
            if isinstance(value, np.random.Generator):
                found[f"layers.{i}.{attr}"] = value
        for k, op in enumerate(layer.operations):
            for attr, value in vars(op).items():
                if isinstance(value, np.random.Generator):
                    found[f"layers.{i}.operations.{k}.{attr}"] = value
    return found


def _header(
    net: NeuralNetwork, kind: str, arrays: Mapping[str, Array]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "lincoln_version": _lincoln_version(),
        "network": _network_config(net),
        "generators": {
            name: gen.bit_generator.state for name, gen in _generators(net).items()
        },
        "arrays": {
            name: {"shape": list(a.shape), "dtype": a.dtype.name}
            for name, a in arrays.items()
        },
    }


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
    arrays = net.state_dict()
    header = _header(net, "model", arrays)
    atomic_savez(path, {HEADER_KEY: _encode_header(header), **arrays})


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
    extra: dict[str, Array] = {}
    if optimizer is not None:
        state = optimizer.state_dict()
        extra.update({f"optimizer.{k}": v for k, v in state["arrays"].items()})
    if best_state is not None:
        problems = _mismatches(arrays, best_state)
        if problems:
            raise ModelFileError(
                "save_checkpoint: best_state does not match the "
                "network: " + "; ".join(problems)
            )
        extra.update({f"best.{name}": value for name, value in best_state.items()})
    arrays.update(extra)
    header = _header(net, "checkpoint", arrays)
    if optimizer is not None:
        header["optimizer"] = {
            "type": _registry_name(optimizer, OPTIMIZERS) or type(optimizer).__name__,
            "config": optimizer.get_config(),
            **{k: v for k, v in state.items() if k != "arrays"},
        }
    header["best"] = best_state is not None
    header["training"] = dict(training or {})
    atomic_savez(path, {HEADER_KEY: _encode_header(header), **arrays})


# -- reading ---------------------------------------------------------------------------


@dataclass
class _File:
    path: Path
    header: dict[str, Any]
    arrays: dict[str, Array]

    def model_arrays(self) -> dict[str, Array]:
        return {k: v for k, v in self.arrays.items() if k.startswith("layers.")}

    def prefixed(self, prefix: str) -> dict[str, Array]:
        n = len(prefix)
        return {k[n:]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def error(self, message: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {message}")


def _names(names: Any, limit: int = 8) -> str:
    names = sorted(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError)


def _open(path: PathLike) -> Any:
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: no such file")
    if not p.is_file():
        raise ModelFileError(f"{p}: is not a file")
    try:
        obj = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):  # NumPy's word for "neither .npy nor .npz"
            raise ModelFileError(
                f"{p}: not a lincoln model file (it is neither an .npz archive nor a "
                f".npy array; a text or pickle file?)"
            ) from None
        raise ModelFileError(f"{p}: truncated or corrupt ({exc})") from None
    except EOFError:
        raise ModelFileError(f"{p}: empty or truncated file") from None
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        raise ModelFileError(
            f"{p}: truncated or corrupt .npz archive ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(obj, np.ndarray):
        raise ModelFileError(
            f"{p}: not a lincoln model file (a single .npy array, not an .npz archive)"
        )
    return obj


def _read_array(p: Path, npz: Any, name: str) -> Array:
    try:
        return np.asarray(npz[name])
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ModelFileError(
                f"{p}: array {name!r} holds Python objects (dtype=object); lincoln "
                f"never writes such arrays and does not unpickle them "
                f"(allow_pickle=False)"
            ) from None
        raise ModelFileError(
            f"{p}: array {name!r} is truncated or corrupt ({exc})"
        ) from None
    except _CORRUPT as exc:
        raise ModelFileError(
            f"{p}: array {name!r} is truncated or corrupt ({type(exc).__name__}: {exc})"
        ) from None


def _parse_header(p: Path, raw: Array) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(
            f"{p}: corrupt header ({HEADER_KEY!r} must be a 1-D uint8 "
            f"array, received dtype {raw.dtype}, shape {raw.shape})"
        )
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{p}: corrupt header (not valid JSON: {exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(
            f"{p}: not a lincoln model file (format {got!r}, expected {FORMAT!r})"
        )
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{p}: corrupt header (format_version={version!r})")
    if version > FORMAT_VERSION:
        writer = header.get("lincoln_version", "?")
        raise ModelFileError(
            f"{p}: written by a newer lincoln ({writer}, file format version "
            f"{version}); this lincoln ({_lincoln_version()}) reads format version "
            f"{FORMAT_VERSION} and older. Upgrade lincoln to read it"
        )
    if header.get("kind") not in KINDS:
        raise ModelFileError(
            f"{p}: corrupt header (kind={header.get('kind')!r}, expected one of "
            f"{', '.join(KINDS)})"
        )
    for key, kind in (("network", dict), ("arrays", dict), ("generators", dict)):
        if not isinstance(header.get(key), kind):
            raise ModelFileError(f"{p}: corrupt header (no {key!r} entry)")
    return header


def _read(path: PathLike) -> _File:
    p = Path(path)
    with _open(p) as npz:
        names = list(npz.files)
        if HEADER_KEY not in names:
            raise ModelFileError(
                f"{p}: not a lincoln model file (an .npz archive without the "
                f"{HEADER_KEY!r} header; it holds {_names(names) or 'no arrays'})"
            )
        header = _parse_header(p, _read_array(p, npz, HEADER_KEY))
        listed = header["arrays"]
        present = set(names) - {HEADER_KEY}
        missing, extra = set(listed) - present, present - set(listed)
        if missing:
            raise ModelFileError(
                f"{p}: truncated or corrupt: arrays listed in its header are "
                f"missing: {_names(missing)}"
            )
        if extra:
            raise ModelFileError(
                f"{p}: corrupt: arrays not listed in its header: {_names(extra)}"
            )
        arrays = {n: _read_array(p, npz, n) for n in names if n != HEADER_KEY}
    f = _File(p, header, arrays)
    for name, spec in listed.items():
        a = arrays[name]
        try:
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        except (KeyError, TypeError) as exc:
            raise f.error(f"corrupt header (entry of array {name!r}: {exc})") from None
        if a.shape != shape or a.dtype != dtype:
            raise f.error(
                f"corrupt: array {name!r} has shape {a.shape} and dtype "
                f"{a.dtype}, its header says shape {shape} and dtype {dtype}"
            )
    return f


def read_header(path: PathLike) -> dict[str, Any]:
    """The JSON header of a model file or checkpoint (see the module docstring).

    Raises:
        ModelFileError: the file is missing, corrupt, not lincoln's, or too new.
    """
    return _read(path).header


# -- filling a network ----------------------------------------------------------------


def _mismatches(
    expected: Mapping[str, Array], received: Mapping[str, Array]
) -> list[str]:
    """Every difference between two name -> array maps: names, shapes, dtypes."""
    problems = []
    missing = set(expected) - set(received)
    extra = set(received) - set(expected)
    if missing:
        problems.append(f"missing arrays {_names(missing)}")
    if extra:
        problems.append(f"unexpected arrays {_names(extra)}")
    for name in sorted(set(expected) & set(received)):
        want, got = expected[name], received[name]
        if want.shape != got.shape:
            problems.append(
                f"array {name!r} must have shape {want.shape}, received "
                f"shape {got.shape}"
            )
        elif want.dtype != got.dtype:
            problems.append(
                f"array {name!r} must have dtype {want.dtype}, received "
                f"dtype {got.dtype}"
            )
    return problems


# -- comparing the declared architecture with the file's ------------------------------

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

_UNSET: Any = object()


def _comparable(config: Mapping[str, Any]) -> dict[str, Any]:
    kind = config.get("type")
    skip = MAY_DIFFER[""] | MAY_DIFFER.get(kind if isinstance(kind, str) else "", set())
    return {k: v for k, v in config.items() if k != "type" and k not in skip}


def _normalized_layer(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A file's layer entry as this lincoln's ``get_config()`` writes it (defaults
    filled in or left out alike), or the entry as it is if it cannot be rebuilt."""
    try:
        return _layer_config(layer_from_config(dict(spec)))
    except (LincolnError, TypeError, ValueError):
        return dict(spec)


def _normalized_loss(spec: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return _loss_config(get_loss(dict(spec)))
    except (LincolnError, TypeError, ValueError):
        return dict(spec)


def _default(cls: type | None, key: str) -> Any:
    """The default of the constructor argument ``key`` of ``cls``, or _UNSET."""
    if cls is None:
        return _UNSET
    try:
        parameter = inspect.signature(cls).parameters.get(key)
    except (TypeError, ValueError):
        return _UNSET
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return _UNSET
    return parameter.default


def _call(name: str, config: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in config.items() if v is not _UNSET)
    return f"{name}({args})"


def _difference(
    saved: Mapping[str, Any],
    mine: Mapping[str, Any],
    registry: Mapping[str, type],
    my_class: str,
) -> str | None:
    """``"the file has X(...), this network has Y(...)"`` for two configs
    (``"type"`` plus constructor arguments) that differ, else None. For one type,
    only the differing arguments are shown."""
    kind = saved.get("type")
    cls = registry.get(kind) if isinstance(kind, str) else None
    saved_class = cls.__name__ if cls is not None else str(kind)
    a, b = _comparable(saved), _comparable(mine)
    if kind != mine.get("type"):
        shown_a, shown_b = a, b
    else:
        keys = [k for k in {**a, **b} if a.get(k, _UNSET) != b.get(k, _UNSET)]
        if not keys:
            return None
        shown_a = {k: a.get(k, _default(cls, k)) for k in keys}
        shown_b = {k: b.get(k, _default(cls, k)) for k in keys}
    return (
        f"the file has {_call(saved_class, shown_a)}, this network has "
        f"{_call(my_class, shown_b)}"
    )


def _check_architecture(net: NeuralNetwork, f: _File) -> None:
    """Raise naming the first difference between ``net``'s declaration and the
    architecture in the file's header (see :func:`load_weights` for the rule)."""
    config = f.header["network"]
    specs = config.get("layers")
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise f.error("corrupt header (no list of layers)")
    if len(specs) != len(net.layers):

        def name(spec: dict[str, Any]) -> str:
            cls = LAYERS.get(spec.get("type"))  # type: ignore[arg-type]
            return cls.__name__ if cls is not None else str(spec.get("type"))

        raise f.error(
            f"the file has {len(specs)} layers ({', '.join(map(name, specs))}), "
            f"this network has {len(net.layers)} "
            f"({', '.join(type(layer).__name__ for layer in net.layers)})"
        )
    for i, (spec, layer) in enumerate(zip(specs, net.layers, strict=True)):
        mine = _layer_config(layer)
        if "unsupported" in spec or "unsupported" in mine:
            continue  # a layer that cannot describe itself: its shapes decide
        problem = _difference(
            _normalized_layer(spec), mine, LAYERS, type(layer).__name__
        )
        if problem:
            raise f.error(f"layer {i} differs: {problem}")
    loss_spec = config.get("loss")
    if not isinstance(loss_spec, dict):
        raise f.error("corrupt header (no loss)")
    my_loss = _loss_config(net.loss)
    if "unsupported" in loss_spec or "unsupported" in my_loss:
        return
    problem = _difference(
        _normalized_loss(loss_spec), my_loss, LOSSES, type(net.loss).__name__
    )
    if problem:
        raise f.error(f"the loss differs: {problem}")


def _build_for(net: NeuralNetwork, f: _File) -> None:
    """Build an unbuilt network for the input shape stored in the file."""
    if net.built:
        return
    shape = f.header["network"].get("input_shape")
    if shape is None:
        if f.model_arrays():
            raise f.error("corrupt header (arrays but no input_shape)")
        return
    try:
        net.build(tuple(int(s) for s in shape))
    except (LincolnError, TypeError, ValueError) as exc:
        raise f.error(
            f"this network cannot be built for the file's inputs of shape "
            f"{tuple(shape)}: {exc}"
        ) from None


def _plan_fill(net: NeuralNetwork, f: _File, all_generators: bool) -> list[Any]:
    """Check that the file fits ``net`` (building it if needed) and return the
    assignments to make; nothing is changed, so a failed load leaves ``net`` intact."""
    _check_architecture(net, f)
    saved_dtype = f.header["network"].get("dtype")
    if f.model_arrays() and saved_dtype != net.dtype.name:
        raise f.error(
            f"holds {saved_dtype} parameters but this network is {net.dtype.name}; "
            f"declare it with dtype={saved_dtype!r}, or use lincoln.load(path)"
        )
    _build_for(net, f)
    problems = _mismatches(net.state_dict(), f.model_arrays())
    if problems:
        raise f.error("does not fit this network: " + "; ".join(problems))
    assignments: list[Any] = [
        (dst, f.arrays[name]) for name, dst in net.state_dict().items()
    ]
    gens, saved = _generators(net), f.header["generators"]
    if all_generators and set(gens) != set(saved):
        raise f.error(
            f"does not fit this network: random generators "
            f"{_names(set(saved) ^ set(gens))} exist in only one of them"
        )
    for name in set(gens) & set(saved):
        assignments.append((gens[name], saved[name]))
    return assignments


def _apply(f: _File, assignments: list[Any]) -> None:
    for dst, src in assignments:
        if isinstance(dst, np.random.Generator):
            try:
                dst.bit_generator.state = src
            except (TypeError, ValueError, KeyError) as exc:
                raise f.error(f"corrupt random generator state ({exc})") from None
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
    user's layer class not in :data:`~lincoln.layers.LAYERS`, a layer whose
    activation is not registered so that ``get_config()`` raises ConfigError, a
    user's loss), is not compared: its arrays' shapes alone decide.

    Then the dtype must match, an unbuilt ``net`` is built for the saved input
    shape, and every array is checked (names, shapes, dtypes). On any error
    ``net`` is unchanged. Works with model files and checkpoints (and
    :func:`load_checkpoint` with a ``net`` checks it the same way).

    Raises:
        ModelFileError: the file is unreadable or does not fit ``net``; the message
            names the first architecture difference, e.g. ``model.npz: layer 0
            differs: the file has Dense(activation='relu'), this network has
            Dense(activation='sigmoid')``, or the missing, unexpected or
            mismatched arrays.
    """
    f = _read(path)
    _apply(f, _plan_fill(net, f, all_generators=False))


def _rebuild(f: _File) -> NeuralNetwork:
    config = f.header["network"]
    name = config.get("type", "NeuralNetwork")
    if name not in NETWORKS:
        raise f.error(f"unknown network type {name!r}; known: {', '.join(NETWORKS)}")
    specs = config.get("layers")
    if not isinstance(specs, list) or not specs:
        raise f.error("corrupt header (no layers)")
    layers = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise f.error(f"corrupt header (layer {i} is {spec!r})")
        if "unsupported" in spec:
            raise f.error(
                f"layer {i} ({spec.get('type')}) cannot be rebuilt: "
                f"{spec['unsupported']}. Declare the network in code and use "
                f"net.load_weights(path)"
            )
        if spec.get("type") not in LAYERS:
            raise f.error(
                f"layer {i} has unknown type {spec.get('type')!r}; known layer "
                f"types: {', '.join(LAYERS)} (register others with "
                f"lincoln.layers.register_layer)"
            )
        try:
            layers.append(layer_from_config(spec))
        except (LincolnError, TypeError, ValueError) as exc:
            raise f.error(f"layer {i}: {exc}") from None
    loss_spec = config.get("loss")
    if not isinstance(loss_spec, dict):
        raise f.error("corrupt header (no loss)")
    if "unsupported" in loss_spec or loss_spec.get("type") not in LOSSES:
        raise f.error(
            f"unknown loss {loss_spec.get('type')!r}; known: {', '.join(LOSSES)}"
        )
    try:
        loss = get_loss(loss_spec)
        net = NETWORKS[name](
            layers, loss, seed=config.get("seed"), dtype=config.get("dtype")
        )
    except (LincolnError, TypeError, ValueError) as exc:
        raise f.error(f"cannot rebuild the network: {exc}") from None
    return net


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
    f = _read(path)
    net = _rebuild(f)
    _apply(f, _plan_fill(net, f, all_generators=False))
    return net


# -- checkpoints ----------------------------------------------------------------------


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
    f: _File, optimizer: Optimizer, net: NeuralNetwork
) -> dict[str, Any]:
    entry = f.header.get("optimizer")
    if not isinstance(entry, dict):
        raise f.error("holds no optimizer state (saved without an optimizer)")
    mine = _registry_name(optimizer, OPTIMIZERS) or type(optimizer).__name__
    if entry.get("type") != mine:
        raise f.error(
            f"holds the state of a {entry.get('type')!r} optimizer, not of "
            f"{mine!r} ({optimizer!r})"
        )
    params = net.params()
    try:
        num = int(entry["num_params"])
        state = {
            k: entry[k] for k in ("lr", "decay_per_epoch", "max_epochs", "step_count")
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise f.error(f"corrupt optimizer entry ({exc!r})") from None
    if num not in (0, len(params)):
        raise f.error(
            f"optimizer state is for {num} parameters, this network has {len(params)}"
        )
    arrays = f.prefixed("optimizer.")
    for name, value in arrays.items():
        parts = name.split(".", 2)
        if (
            len(parts) != 3
            or parts[0] != "state"
            or not parts[1].isdigit()
            or (int(parts[1]) >= num)
        ):
            raise f.error(f"corrupt optimizer array name {'optimizer.' + name!r}")
        param = params[int(parts[1])]
        if value.shape != param.shape or value.dtype != param.dtype:
            raise f.error(
                f"optimizer array {'optimizer.' + name!r} has shape {value.shape} "
                f"and dtype {value.dtype}; parameter {int(parts[1])} has shape "
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
            from the file, as :func:`load` does.
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
    f = _read(path)
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
            f"holds no training state {_names(missing)} to resume from (written by "
            f"save_checkpoint, not by Trainer.fit?)"
        )
    if net is None:
        net = _rebuild(f)
    assignments = _plan_fill(net, f, all_generators=True)
    opt_state = _plan_optimizer(f, optimizer, net) if optimizer is not None else None
    best = f.prefixed("best.") if f.header.get("best") else None
    if best is not None:
        problems = _mismatches(net.state_dict(), best)
        if problems:
            raise f.error("best arrays do not fit the network: " + "; ".join(problems))
    _apply(f, assignments)
    if optimizer is not None and opt_state is not None:
        optimizer.load_state_dict(opt_state)
    return Checkpoint(
        net=net,
        training=training,
        best_state=best,
        optimizer=f.header.get("optimizer"),
        path=f.path,
    )
