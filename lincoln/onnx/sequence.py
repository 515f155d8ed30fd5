"""The emitters of the sequence layers: Embedding, RNN, LSTM, GRU, the book's
recurrent layers, and Dense over the last axis of ``(batch, steps, features)``.

A recurrent layer becomes ONNX's own ``RNN``, ``LSTM`` or ``GRU`` operator
(https://onnx.ai/onnx/operators/onnx__LSTM.html and its siblings), one
direction, run from a zero initial state: what ``net.predict`` computes from a
reset state. A layer's carried state (``carry_state="last"`` or ``"mean"``) is
not exported.

The operators take time-major ``(steps, batch, features)`` inputs (``layout=0``;
ONNX Runtime's CPU kernels do not run ``layout=1``), so the layer's input and
output are transposed around them. Their weights are lincoln's, the gate blocks
reordered:

* LSTM: lincoln's gates are input, forget, output, candidate; ONNX's are
  ``i, o, f, c``.
* GRU: lincoln's are reset, update, new with ``h = u * h_prev + (1 - u) * n``;
  ONNX's are ``z, r, h`` with ``H = (1 - z) * h + z * H_prev``, so lincoln's
  update gate is ONNX's ``z``. lincoln applies the reset gate before the
  recurrent product, ``n = tanh(z_n + W_n (r * h_prev))``: ONNX's
  ``linear_before_reset=0``.

``W`` is lincoln's ``W_x (gates * hidden, features)`` and ``R`` its ``W_h
(gates * hidden, hidden)`` (ONNX multiplies ``X W^T``, lincoln ``W x`` on
feature-major states: the same matrix). ``B`` is lincoln's bias followed by
zeros, the recurrent bias ONNX adds and lincoln has not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..layers.book import GRULayer, LSTMLayer, RNNLayer
from ..layers.recurrent import GRU, LSTM, RNN, Recurrent
from ..ops.embedding import EmbeddingLookup
from ..ops.sequence import SequenceBiasAdd, SequenceWeightMultiply
from .graph import EMITTERS, GraphBuilder, register_emitter, register_layer_emitter

__all__ = ["ONNX_GATE_ORDER", "onnx_gates"]

#: for each recurrent kind, lincoln's gate blocks in ONNX's order
ONNX_GATE_ORDER: dict[str, tuple[int, ...]] = {
    "rnn": (0,),
    "lstm": (0, 2, 1, 3),  # (i, f, o, g) -> (i, o, f, c)
    "gru": (1, 0, 2),  # (r, u, n) -> (z, r, h), z being lincoln's u
}

_OP_TYPES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def onnx_gates(kind: str, array: Array) -> Array:
    """``array`` (gate blocks stacked on axis 0) with its blocks in ONNX's order."""
    blocks = np.split(np.asarray(array), len(ONNX_GATE_ORDER[kind]), axis=0)
    return np.concatenate([blocks[k] for k in ONNX_GATE_ORDER[kind]], axis=0)


@register_emitter(EmbeddingLookup)
def _gather(g: GraphBuilder, op: Any, x: str) -> str:
    # the ids are the graph's int64 input: row ids[...] of the table
    return g.node("Gather", [g.constant("W", op.param), x], axis=0)


@register_emitter(SequenceWeightMultiply)
def _matmul(g: GraphBuilder, op: Any, x: str) -> str:
    # MatMul multiplies the last axis of an N-D input (Gemm takes 2-D only)
    return g.node("MatMul", [x, g.constant("W", op.param)])


@register_emitter(SequenceBiasAdd)
def _add(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("Add", [x, g.constant("B", op.param)])


@register_layer_emitter(RNN, LSTM, GRU)
def _recurrent(g: GraphBuilder, layer: Recurrent, x: str) -> str:
    kind, H = layer.kind, layer.neurons
    W_x, b, W_h = layer.params  # (G, features), (G, 1), (G, hidden)
    W = g.constant("W", onnx_gates(kind, W_x)[None])
    R = g.constant("R", onnx_gates(kind, W_h)[None])
    bias = onnx_gates(kind, b).reshape(-1)
    B = g.constant("B", np.concatenate([bias, np.zeros_like(bias)])[None])
    attrs: dict[str, Any] = {"hidden_size": H}
    if kind == "gru":
        attrs["linear_before_reset"] = 0
    steps = g.node("Transpose", [x], perm=[1, 0, 2])  # (steps, batch, features)
    if layer.return_sequences:
        # Y: (steps, directions = 1, batch, hidden) -> (batch, steps, hidden)
        y = g.node(_OP_TYPES[kind], [steps, W, R, B], **attrs)
        y = g.node("Squeeze", [y, g.ints("axes", [1])])
        return g.node("Transpose", [y], perm=[1, 0, 2])
    # Y_h, the last step's state: (directions = 1, batch, hidden) -> (batch, hidden)
    last = g.node(_OP_TYPES[kind], [steps, W, R, B], position=1, **attrs)
    return g.node("Squeeze", [last, g.ints("axes", [0])])


@register_layer_emitter(RNNLayer, LSTMLayer, GRULayer)
def _book_layer(g: GraphBuilder, layer: Any, x: str) -> str:
    # the book's layers: a recurrent layer, then a projection of every step
    x = _recurrent(g, layer.recurrent, x)
    for op in layer.operations:
        x = EMITTERS[type(op)](g, op, x)
    return x
