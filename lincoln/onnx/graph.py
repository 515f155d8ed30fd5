"""The graph being built, and the table of emitters that extend it.

An *emitter* adds the ONNX nodes that compute one operation at inference.
:data:`EMITTERS` holds one per operation class; :func:`register_emitter` adds
a user's own. Importing this module needs the optional ``onnx`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "lincoln.onnx needs the onnx package: pip install 'lincoln[onnx]'"
    ) from None

from ..base import Operation
from ..errors import LincolnError

__all__ = [
    "ExportError",
    "GraphBuilder",
    "Emitter",
    "EMITTERS",
    "register_emitter",
    "LAYER_EMITTERS",
    "register_layer_emitter",
    "LayerEmitter",
]


class ExportError(LincolnError, ValueError):
    """A network cannot be written as ONNX (an operation without an ONNX form,
    an unbuilt network without ``input_shape``, an unsupported opset)."""


class GraphBuilder:
    """The nodes and initializers of the graph being built.

    Emitters call :meth:`constant` and :meth:`node`; names are made unique by
    the ``scope`` the exporter sets for each operation
    (``layers.{i}.ops.{k}.{OperationClass}``).
    """

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.scope = "graph"
        self._names: set[str] = {"input"}  # the graph input's name

    def _fresh(self, name: str) -> str:
        candidate, k = name, 0
        while candidate in self._names:
            k += 1
            candidate = f"{name}_{k}"
        self._names.add(candidate)
        return candidate

    def constant(self, name: str, array: Any) -> str:
        """Add ``array`` (as float32) as an initializer; return its name."""
        value = np.ascontiguousarray(array, dtype=np.float32)
        full = self._fresh(f"{self.scope}.{name}")
        self.initializers.append(numpy_helper.from_array(value, full))
        return full

    def ints(self, name: str, values: Sequence[int]) -> str:
        """Add ``values`` as an int64 initializer (axes, shapes); return its name."""
        full = self._fresh(f"{self.scope}.{name}")
        array = np.asarray(values, dtype=np.int64)
        self.initializers.append(numpy_helper.from_array(array, full))
        return full

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str | None = None,
        position: int = 0,
        **attrs: Any,
    ) -> str:
        """Add one node and return the name of its one used output.

        ``position`` picks which of the node's outputs is used (the optional
        outputs before it are left unnamed, as ONNX allows): the last hidden
        state of an ``LSTM`` is its output 1, after the sequence ``Y``.
        """
        out = self._fresh(output or self.scope)
        outputs = [""] * position + [out]
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outputs, name=out, **attrs)
        )
        return out


#: An emitter adds the nodes computing one operation: ``emit(graph, op, x)``
#: with ``x`` the name of the operation's input; it returns the output's name.
#: ``op.input_`` holds an input of the right per-sample shape (the exporter
#: runs one sample through the network first). ``op`` is typed ``Any`` so that
#: an emitter may read its own class's attributes (``op.param``, ``op.stride``).
Emitter = Callable[[GraphBuilder, Any, str], str]

#: The emitter of each operation class (looked up by exact class, so a
#: subclass with other math is never exported as its parent).
EMITTERS: dict[type[Operation], Emitter] = {}


def register_emitter(*classes: type[Operation]) -> Callable[[Emitter], Emitter]:
    """Register a function as the ONNX emitter of these operation classes.

    Example:
        >>> @register_emitter(Swish)                         # doctest: +SKIP
        ... def emit_swish(g, op, x):
        ...     return g.node("Mul", [x, g.node("Sigmoid", [x])])
    """

    def add(emit: Emitter) -> Emitter:
        for cls in classes:
            EMITTERS[cls] = emit
        return emit

    return add


#: A layer emitter adds the nodes computing a whole layer whose inference is not
#: a chain of its ``operations`` (a recurrent layer runs a step over the
#: sequence): ``emit(graph, layer, x)``, returning its output's name.
LayerEmitter = Callable[[GraphBuilder, Any, str], str]

#: The emitter of each layer class that needs one, looked up by exact class
#: before the layer's operations are walked.
LAYER_EMITTERS: dict[type, LayerEmitter] = {}


def register_layer_emitter(*classes: type) -> Callable[[LayerEmitter], LayerEmitter]:
    """Register a function as the ONNX emitter of these layer classes (whole
    layers, instead of one emitter per operation)."""

    def add(emit: LayerEmitter) -> LayerEmitter:
        for cls in classes:
            LAYER_EMITTERS[cls] = emit
        return emit

    return add
