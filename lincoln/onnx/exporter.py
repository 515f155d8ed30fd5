"""The walk over a network's layers and operations, and the files it writes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from .._version import __version__
from ..config import PREPROCESS_FILE
from ..datasets import Standardizer
from ..network import NeuralNetwork
from ..registry import LOSSES
from ..serialization import load
from . import emitters  # noqa: F401  (registers the emitters of lincoln's operations)
from .graph import EMITTERS, ExportError, GraphBuilder

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "to_onnx", "export", "export_file"]

#: The opset written by default: understood by ONNX Runtime 1.12 and later.
DEFAULT_OPSET = 17
#: The oldest opset lincoln writes (Softmax over one axis needs 13).
MIN_OPSET = 13


def _trace(
    net: NeuralNetwork, input_shape: Sequence[int] | None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Run one zero sample through ``net`` in inference mode (building it if
    needed), so that every operation has seen an input of the right shape.

    Returns:
        The per-sample input and output shapes.
    """
    shape = net.input_shape if input_shape is None else tuple(input_shape)
    if shape is None:
        raise ExportError(
            "export: the network is not built yet; pass input_shape=(features,) "
            "or (channels, height, width), or train it first"
        )
    out = net.forward(np.zeros((1, *shape), dtype=net.dtype), inference=True)
    return tuple(int(n) for n in shape), tuple(int(n) for n in out.shape[1:])


def _emit_network(g: GraphBuilder, net: NeuralNetwork, x: str) -> str:
    for i, layer in enumerate(net.layers):
        for k, op in enumerate(layer.operations):
            emit = EMITTERS.get(type(op))
            if emit is None:
                raise ExportError(
                    f"export: layer {i} ({type(layer).__name__}) uses operation "
                    f"{type(op).__name__}, which has no ONNX form; give it one with "
                    f"lincoln.onnx.register_emitter({type(op).__name__})"
                )
            g.scope = f"layers.{i}.ops.{k}.{type(op).__name__}"
            x = emit(g, op, x)
    return x


def _emit_standardizer(g: GraphBuilder, scaler: Standardizer, x: str) -> str:
    g.scope = "preprocess"
    centered = g.node("Sub", [x, g.constant("mean", scaler.mean)])
    return g.node("Div", [centered, g.constant("std", scaler.std)])


def _check_opset(opset: Any) -> int:
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int | np.integer):
        opset = -1
    if not MIN_OPSET <= opset <= newest:
        raise ExportError(
            f"export: opset must be an integer from {MIN_OPSET} to {newest} (the "
            f"installed onnx's newest), received opset={opset!r}"
        )
    return int(opset)


def to_onnx(
    net: NeuralNetwork,
    input_shape: Sequence[int] | None = None,
    *,
    softmax: bool = False,
    opset: int = DEFAULT_OPSET,
    standardizer: Standardizer | None = None,
) -> onnx.ModelProto:
    """The network as an ONNX model (in memory; :func:`export` writes it).

    Args:
        net: the network; it is run once on a zero sample (in inference mode).
        input_shape: per-sample input shape, e.g. ``(64,)`` or ``(1, 8, 8)``;
            None takes the shape the network was built for.
        softmax: end with a softmax over the outputs (``"probabilities"``)
            instead of returning them as they are (``"output"``, the logits of
            a classifier).
        opset: the ONNX opset to write, from :data:`MIN_OPSET`.
        standardizer: prepare raw inputs in the graph: ``(x - mean) / std``
            before the first layer, as ``lincoln predict --raw-input`` does.

    Returns:
        A checked ``onnx.ModelProto``: float32 input ``"input"`` of shape
        ``(batch, *input_shape)``, float32 output of shape ``(batch, *out)``
        (a float64 network's parameters are written in float32).

    Raises:
        ExportError: an operation without an ONNX form (naming its layer), an
            unbuilt network without ``input_shape``, a bad opset,
            ``softmax`` for outputs that are not ``(batch, classes)``, or
            ``net`` that is not a NeuralNetwork.
    """
    if not isinstance(net, NeuralNetwork):
        hint = " (of a scikit-learn estimator, pass its network_)"
        raise ExportError(
            f"export: net must be a lincoln NeuralNetwork, received "
            f"{type(net).__name__}{hint if hasattr(net, 'network_') else ''}"
        )
    opset = _check_opset(opset)
    shape, out_shape = _trace(net, input_shape)
    if softmax and len(out_shape) != 1:
        raise ExportError(
            f"export: softmax needs outputs of shape (batch, classes); this "
            f"network's are (batch, {', '.join(map(str, out_shape))})"
        )
    g = GraphBuilder()
    x = (
        "input"
        if standardizer is None
        else _emit_standardizer(g, standardizer, "input")
    )
    x = _emit_network(g, net, x)
    name = "probabilities" if softmax else "output"
    g.scope = name
    if softmax:
        g.node("Softmax", [x], output=name, axis=1)
    else:
        g.node("Identity", [x], output=name)
    return _model(g, net, shape, out_shape, name, opset)


def _model(
    g: GraphBuilder,
    net: NeuralNetwork,
    shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    output: str,
    opset: int,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        g.nodes,
        "lincoln",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *shape])],
        [
            helper.make_tensor_value_info(
                output, TensorProto.FLOAT, ["batch", *out_shape]
            )
        ],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="lincoln",
        producer_version=__version__,
        doc_string=repr(net),
    )
    # the oldest IR version that holds this opset, so older runtimes load it
    model.ir_version = helper.find_min_ir_version_for(opsets)
    loss = LOSSES.name_of(net.loss) if type(net.loss) in LOSSES.values() else "custom"
    helper.set_model_props(model, {"lincoln.loss": loss, "lincoln.output": output})
    onnx.checker.check_model(model, full_check=True)
    return model


def export(
    net: NeuralNetwork,
    path: str | os.PathLike[str],
    input_shape: Sequence[int] | None = None,
    *,
    softmax: bool = False,
    opset: int = DEFAULT_OPSET,
    standardizer: Standardizer | None = None,
) -> Path:
    """Write the network to ``path`` as an ONNX model (see :func:`to_onnx`).

    Returns:
        The path written.

    Raises:
        ExportError: see :func:`to_onnx`.
        OSError: the file cannot be written.
    """
    model = to_onnx(
        net, input_shape, softmax=softmax, opset=opset, standardizer=standardizer
    )
    path = Path(path)
    onnx.save_model(model, path)
    return path


def export_file(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    softmax: bool = False,
    opset: int = DEFAULT_OPSET,
    raw_input: bool = False,
) -> Path:
    """``lincoln export``: write the model saved at ``source`` (a model file, or
    a run directory of ``lincoln train --out``) to ``out`` as ONNX.

    Args:
        source: a ``model.npz`` (or any file ``lincoln.load`` reads) or a run
            directory.
        out: the ``.onnx`` file to write.
        softmax: end the graph with a softmax (class probabilities).
        opset: the ONNX opset to write.
        raw_input: fold the run directory's input standardizer
            (``preprocess.npz``) into the graph, so it takes raw samples.

    Raises:
        ModelFileError: ``source`` is not a lincoln model or run directory.
        ExportError: see :func:`to_onnx`; or ``raw_input`` without a
            ``preprocess.npz`` beside the model.
    """
    source = Path(source)
    net = load(source)
    scaler = None
    if raw_input:
        run_dir = source if source.is_dir() else source.parent
        path = run_dir / PREPROCESS_FILE
        if not path.is_file():
            raise ExportError(
                f"export: raw_input needs {path}, which lincoln train --out writes "
                f"into the run directory"
            )
        scaler = Standardizer.load(path)
    return export(net, out, softmax=softmax, opset=opset, standardizer=scaler)
