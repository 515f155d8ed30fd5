"""Export a network to ONNX, to serve it without lincoln.

The exported file runs in ONNX Runtime (Python, C++, C#, Java, JavaScript) and
every other ONNX consumer. Export is a walk over ``net.layers`` and each layer's
``operations``: every operation class has an *emitter*, a small function that
adds the ONNX nodes computing that operation at inference (:data:`EMITTERS`).
A user's own operation gets one with :func:`register_emitter`; an operation
without one stops the export with an :class:`ExportError` naming its layer.
A layer whose inference is not a chain of its operations (RNN, LSTM, GRU run
a step over the sequence) has a *layer emitter* instead
(:data:`LAYER_EMITTERS`, :func:`register_layer_emitter`).

The graph takes float32 inputs ``(batch, *input_shape)`` with a dynamic batch
dimension (int64 ids ``(batch, sequence)`` for a network that starts with an
Embedding; the sequence axis is dynamic too for a network that takes
sequences), and returns the network's outputs (``net.predict``: the logits of
a classifier), or with ``softmax=True`` the class probabilities. Recurrent
layers start from a zero state: a carried state is not exported.

Needs the optional ``onnx`` package: ``pip install 'lincoln[onnx]'``.

Example:
    >>> from lincoln.onnx import export                      # doctest: +SKIP
    >>> export(net, "model.onnx", softmax=True)              # doctest: +SKIP
"""

from __future__ import annotations

from .emitters import conv_pads
from .exporter import DEFAULT_OPSET, MIN_OPSET, export, export_file, to_onnx
from .graph import (
    EMITTERS,
    LAYER_EMITTERS,
    Emitter,
    ExportError,
    GraphBuilder,
    LayerEmitter,
    register_emitter,
    register_layer_emitter,
)
from .sequence import ONNX_GATE_ORDER

__all__ = [
    "ExportError",
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "GraphBuilder",
    "Emitter",
    "EMITTERS",
    "register_emitter",
    "LayerEmitter",
    "LAYER_EMITTERS",
    "register_layer_emitter",
    "ONNX_GATE_ORDER",
    "conv_pads",
    "to_onnx",
    "export",
    "export_file",
]
