"""A Keras-like table of a network: its layers, their operations, shapes and sizes.

:func:`summary` returns the table as a string, :func:`print_summary` prints it::

    NeuralNetwork: float32, loss SoftmaxCrossEntropy(), seed 190119
    ====================================================================
    #  Layer                                            Output shape  Params
    --------------------------------------------------------------------
       input                                            (64,)
    0  Dense(neurons=64, activation='relu', ...)        (64,)          4,160
         WeightMultiply(64x64) -> BiasAdd(1x64) -> ReLU
    1  Dense(neurons=10, activation='linear', ...)      (10,)            650
         WeightMultiply(64x10) -> BiasAdd(1x10) -> Linear
    ====================================================================
    Total params: 4,810 (18.8 KB)
    Trainable params: 4,810
    Non-trainable params: 0

Each layer is followed by its operations in the order data flows through
them, with the shape of each operation's parameter.

Shapes are per sample (the batch axis is left out). Parameters exist only once
a network is built, so an unbuilt network needs the per-sample ``input_shape``,
with which it is built (``net.build(input_shape)``) before it is described.
Trainable parameters are the arrays the optimizer updates (``net.params()``);
non-trainable ones are a layer's ``buffers()``, such as batch-norm running
statistics, which are saved with the model but not trained.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .base import Array, ParamOperation
from .errors import ConfigError, LincolnError, ShapeError
from .layers import Layer

if TYPE_CHECKING:  # only for annotations: network.py imports this module, so that
    # NeuralNetwork.summary can delegate here without an import inside a method
    from .network import NeuralNetwork

__all__ = ["summary", "print_summary", "layer_rows"]

_HEADERS = ("#", "Layer", "Output shape", "Params")
# what summary reads of a network: anything else is not one
_NETWORK_API = ("layers", "built", "build", "input_shape", "dtype", "loss", "seed")


def _as_input_shape(input_shape: Any) -> tuple[int, ...]:
    """``64`` or ``(1, 8, 8)`` as a tuple of positive ints, else ConfigError."""
    shape = (input_shape,) if isinstance(input_shape, numbers.Integral) else input_shape
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if not dims or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1
        for d in dims
    ):
        raise ConfigError(
            "summary: input_shape must be the per-sample shape, a tuple of positive "
            f"integers such as (64,) or (1, 8, 8), received input_shape={input_shape!r}"
        )
    return tuple(int(d) for d in dims)


def _shape_text(shape: Sequence[int] | None) -> str:
    if shape is None:
        return "?"
    return (
        "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def _layer_text(layer: Layer) -> str:
    # A user's layer whose get_config cannot describe it must still print; its
    # operations (an activation among them) are listed on the next line anyway.
    try:
        return repr(layer)
    except LincolnError:
        return f"{type(layer).__name__}(neurons={layer.neurons})"


def _output_shape(
    layer: Layer, input_shape: tuple[int, ...] | None
) -> tuple[int, ...] | None:
    # The output cached by the last forward pass is the ground truth; a layer
    # that never ran (a network rebuilt from a file, say) is asked instead.
    if layer.output is not None:
        return tuple(int(d) for d in layer.output.shape[1:])
    if input_shape is None:
        return None
    try:
        return tuple(layer.output_shape(input_shape))
    except Exception:  # a user's layer whose output_shape does not fit: show "?"
        return None


def _op_text(op: object) -> str:
    """``WeightMultiply(64x10)``: the operation's type and its parameter's shape."""
    if not isinstance(op, ParamOperation):
        return type(op).__name__
    return f"{type(op).__name__}({'x'.join(str(d) for d in op.param.shape)})"


def _count(arrays: Iterable[Array]) -> int:
    return int(sum(a.size for a in arrays))


def layer_rows(net: NeuralNetwork) -> list[dict[str, Any]]:
    """One dict per layer of a built network: index, layer, operations,
    input and output shape (per sample), trainable and non-trainable counts."""
    rows = []
    shape: tuple[int, ...] | None = net.input_shape
    for i, layer in enumerate(net.layers):
        in_shape = layer.input_shape or shape
        out_shape = _output_shape(layer, in_shape)
        rows.append(
            {
                "index": i,
                "layer": _layer_text(layer),
                "operations": [_op_text(op) for op in layer.operations],
                "input_shape": in_shape,
                "output_shape": out_shape,
                "params": _count(layer.params),
                "non_trainable": _count(layer.buffers().values()),
            }
        )
        shape = out_shape
    return rows


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _build_for(net: NeuralNetwork, input_shape: Any) -> None:
    """Build ``net`` for ``input_shape`` if needed; refuse a shape it was not
    built for, and an unbuilt network without one."""
    if input_shape is None:
        if not net.built:
            raise ConfigError(
                "summary: the network is not built yet, so its parameters do not "
                "exist; pass the per-sample input_shape, e.g. summary(net, "
                "input_shape=(64,)) for the flat digits or (1, 8, 8) for digit images"
            )
        return
    shape = _as_input_shape(input_shape)
    built_for = net.input_shape
    if net.built and built_for is not None and built_for != shape:
        raise ShapeError(
            f"summary: the network is built for inputs of shape "
            f"{_shape_text(built_for)}, received input_shape={shape}"
        )
    if not net.built:
        net.build(shape)


def _table(rows: list[dict[str, Any]], input_shape: Any) -> list[str]:
    """The header and one line per layer plus one of its operations, aligned."""
    cells = [_HEADERS, ("", "input", _shape_text(input_shape), "")]
    for row in rows:
        params = f"{row['params']:,}"
        if row["non_trainable"]:
            params += f" + {row['non_trainable']:,}"
        cells.append(
            (str(row["index"]), row["layer"], _shape_text(row["output_shape"]), params)
        )
    widths = [max(len(r[c]) for r in cells) for c in range(len(_HEADERS))]
    width = sum(widths) + 2 * (len(widths) - 1)

    def fmt(r: Sequence[str]) -> str:
        aligned = [r[0].rjust(widths[0]), r[1].ljust(widths[1])]
        aligned += [r[2].ljust(widths[2]), r[3].rjust(widths[3])]
        return "  ".join(aligned).rstrip()

    body = [fmt(cells[1])]
    indent = " " * (widths[0] + 4)
    for row, line in zip(rows, cells[2:], strict=True):
        # the layer is a list of operations; show them as the data flows
        body += [fmt(line), indent + " -> ".join(row["operations"])]
    return ["=" * width, fmt(cells[0]), "-" * width, *body, "=" * width]


def summary(net: NeuralNetwork, input_shape: Any = None) -> str:
    """The network as a table of layers, operations, output shapes and parameters.

    Args:
        net: the network.
        input_shape: per-sample input shape, e.g. ``(64,)`` for flat digits or
            ``(1, 8, 8)`` for digit images (an int ``n`` means ``(n,)``). Needed
            when the network is not built yet: it is then built with
            ``net.build(input_shape)``, which creates its parameters.

    Returns:
        The table, lines joined by newlines (no trailing newline).

    Raises:
        ConfigError: the network is not built and no ``input_shape`` was
            given, or ``input_shape`` is not a tuple of positive integers.
        ShapeError: the network is built for another input shape, or cannot
            be built for this one (e.g. images into a Dense layer).
        TypeError: ``net`` is not a NeuralNetwork.

    Example:
        >>> from lincoln import Dense, NeuralNetwork, SoftmaxCrossEntropy
        >>> net = NeuralNetwork([Dense(10, "relu"), Dense(3)], SoftmaxCrossEntropy())
        >>> print(summary(net, input_shape=(4,)).splitlines()[-3])
        Total params: 83 (332 B)
    """
    if not all(hasattr(net, a) for a in _NETWORK_API) or not all(
        isinstance(layer, Layer) for layer in net.layers
    ):
        raise TypeError(f"summary: net must be a NeuralNetwork, received {net!r}")
    _build_for(net, input_shape)
    rows = layer_rows(net)
    trainable = sum(r["params"] for r in rows)
    frozen = sum(r["non_trainable"] for r in rows)
    total = trainable + frozen
    return "\n".join(
        [
            f"NeuralNetwork: {net.dtype.name}, loss {net.loss!r}, seed {net.seed}",
            *_table(rows, net.input_shape),
            f"Total params: {total:,} ({_human_bytes(total * net.dtype.itemsize)})",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {frozen:,}"
            + (" (buffers, e.g. running statistics)" if frozen else ""),
        ]
    )


def print_summary(
    net: NeuralNetwork, input_shape: Any = None, file: TextIO | None = None
) -> None:
    """Print :func:`summary` (to ``file``, default standard output)."""
    print(summary(net, input_shape), file=file if file is not None else sys.stdout)
