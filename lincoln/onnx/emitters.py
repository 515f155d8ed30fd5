"""The emitters of lincoln's own operations (see :mod:`lincoln.onnx.graph`).

Each maps one operation to ONNX nodes, as it computes at inference: dropout
and Linear are the identity, batch normalization uses its running statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import (
    AvgPool2DOp,
    BatchNormalize,
    BiasAdd,
    BiasAdd2D,
    Conv2DOp,
    Dropout,
    FlattenOp,
    LeakyReLU,
    Linear,
    MaxPool2DOp,
    ReLU,
    Scale,
    Shift,
    Sigmoid,
    Tanh,
    WeightMultiply,
)
from ..ops.conv import conv_output_size
from .graph import Emitter, GraphBuilder, register_emitter

__all__ = ["conv_pads"]


@register_emitter(Linear, Dropout)
def _identity(g: GraphBuilder, op: Any, x: str) -> str:
    # Linear is the identity; dropout is the identity at inference
    return x


@register_emitter(WeightMultiply)
def _matmul(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("MatMul", [x, g.constant("W", op.param)])


@register_emitter(BiasAdd, BiasAdd2D, Shift)
def _add(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("Add", [x, g.constant("B", op.param)])


@register_emitter(Scale)
def _mul(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("Mul", [x, g.constant("gamma", op.param)])


def _unary(op_type: str) -> Emitter:
    def emit(g: GraphBuilder, op: Any, x: str) -> str:
        return g.node(op_type, [x])

    return emit


register_emitter(ReLU)(_unary("Relu"))
register_emitter(Sigmoid)(_unary("Sigmoid"))
register_emitter(Tanh)(_unary("Tanh"))


@register_emitter(LeakyReLU)
def _leaky_relu(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("LeakyRelu", [x], alpha=float(op.alpha))


@register_emitter(FlattenOp)
def _flatten(g: GraphBuilder, op: Any, x: str) -> str:
    return g.node("Flatten", [x], axis=1)


def conv_pads(
    size: tuple[int, int], kernel: int, stride: int, padding: str | int
) -> list[int]:
    """ONNX ``pads`` (top, left, bottom, right) of lincoln's convolution padding.

    ``"same"`` follows TensorFlow's rule, as lincoln does: output
    ``ceil(size / stride)``, any odd pixel of padding after (bottom, right).
    """
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding != "same":
        return [int(padding)] * 4
    before, after = [], []
    outs = conv_output_size(*size, kernel, stride, "same")
    for n, out in zip(size, outs, strict=True):
        total = max((out - 1) * stride + kernel - n, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return before + after


@register_emitter(Conv2DOp)
def _conv(g: GraphBuilder, op: Any, x: str) -> str:
    W = op.param
    k, stride = int(W.shape[2]), int(op.stride)
    size = (int(op.input_.shape[2]), int(op.input_.shape[3]))
    # lincoln's kernel is (in, out, k, k); ONNX's is (out, in, k, k)
    kernel = g.constant("W", W.transpose(1, 0, 2, 3))
    return g.node(
        "Conv",
        [x, kernel],
        kernel_shape=[k, k],
        strides=[stride, stride],
        pads=conv_pads(size, k, stride, op.padding),
    )


def _pool(op_type: str) -> Emitter:
    def emit(g: GraphBuilder, op: Any, x: str) -> str:
        p, s = int(op.pool_size), int(op.stride)
        # "valid" windows: no padding, leftover rows and columns dropped (floor)
        return g.node(op_type, [x], kernel_shape=[p, p], strides=[s, s])

    return emit


register_emitter(MaxPool2DOp)(_pool("MaxPool"))
register_emitter(AvgPool2DOp)(_pool("AveragePool"))


@register_emitter(BatchNormalize)
def _batch_normalize(g: GraphBuilder, op: Any, x: str) -> str:
    # inference: the running statistics; lincoln's gamma and beta follow as the
    # Scale and Shift operations, so this node's own scale and bias are 1 and 0
    mean = np.reshape(op.running_mean, -1)
    var = np.reshape(op.running_var, -1)
    inputs = [
        x,
        g.constant("scale", np.ones_like(mean)),
        g.constant("bias", np.zeros_like(mean)),
        g.constant("running_mean", mean),
        g.constant("running_var", var),
    ]
    return g.node("BatchNormalization", inputs, epsilon=float(op.eps))
