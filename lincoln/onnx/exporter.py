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
from ..layers.recurrent import recurrent_layers
from ..network import NeuralNetwork
from ..ops import FlattenOp
from ..ops.sequence import SequenceWeightMultiply
from ..registry import LOSSES
from ..serialization import load
from . import emitters, sequence  # noqa: F401  (register lincoln's emitters)
from .graph import EMITTERS, LAYER_EMITTERS, ExportError, GraphBuilder

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
    ids = _takes_ids(net)
    sample = np.zeros((1, *shape), dtype=np.intp if ids else net.dtype)
    # the trace must not replace a recurrent layer's carried state
    saved = [(layer, layer.state) for layer in recurrent_layers(net.layers)]
    try:
        out = net.forward(sample, inference=True)
    finally:
        for layer, state in saved:
            layer.state = state
    return tuple(int(n) for n in shape), tuple(int(n) for n in out.shape[1:])


def _takes_ids(net: NeuralNetwork) -> bool:
    # an Embedding first layer: the graph input is int64 ids (batch, steps)
    return bool(getattr(net.layers[0], "takes_ids", False))


def _takes_sequences(net: NeuralNetwork) -> bool:
    """True if the network takes sequences of any length: its first layer reads
    ``(batch, steps, ...)`` (Embedding, a recurrent layer, Dense over steps)
    and no layer flattens the steps away."""
    first = net.layers[0]
    ops = [op for layer in net.layers for op in layer.operations]
    return (
        _takes_ids(net)
        or type(first) in LAYER_EMITTERS
        or isinstance(next(iter(first.operations), None), SequenceWeightMultiply)
    ) and not any(isinstance(op, FlattenOp) for op in ops)


def _emit_network(g: GraphBuilder, net: NeuralNetwork, x: str) -> str:
    for i, layer in enumerate(net.layers):
        emit_layer = LAYER_EMITTERS.get(type(layer))
        if emit_layer is not None:
            g.scope = f"layers.{i}.{type(layer).__name__}"
            x = emit_layer(g, layer, x)
            continue
        for k, op in enumerate(layer.operations):
            emit = EMITTERS.get(type(op))
            if emit is None:
                raise ExportError(
                    f"export: layer {i} ({type(layer).__name__}) uses operation "
                    f"{type(op).__name__}, which has no ONNX form; give it one with "
                    f"lincoln.onnx.register_emitter({type(op).__name__})"
                    f"{_subclass_hint(type(layer))}"
                )
            g.scope = f"layers.{i}.ops.{k}.{type(op).__name__}"
            x = emit(g, op, x)
    return x


def _subclass_hint(cls: type) -> str:
    # a subclass of a layer exported whole is not exported as its parent (its
    # math may differ), but its author may say that it computes the same
    for base in cls.__mro__[1:]:
        if base in LAYER_EMITTERS:
            return (
                f"; or, if {cls.__name__} computes what {base.__name__} does, "
                f"register_layer_emitter({cls.__name__})(LAYER_EMITTERS"
                f"[{base.__name__}])"
            )
    return ""


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
        (a float64 network's parameters are written in float32). A network
        starting with Embedding takes int64 ids ``(batch, sequence)``; one
        that takes sequences of any length has a free ``sequence`` axis in
        its input (and in its output, if it returns every step). Recurrent
        layers run from a zero initial state (a carried state is not
        exported): the graph computes ``net.predict`` of a reset network.

    Raises:
        ExportError: an operation without an ONNX form (naming its layer), an
            unbuilt network without ``input_shape``, a bad opset,
            ``softmax`` for outputs that are not ``(batch, classes)`` or
            ``(batch, steps, classes)``, a ``standardizer`` for integer ids,
            or ``net`` that is not a NeuralNetwork.
    """
    if not isinstance(net, NeuralNetwork):
        hint = " (of a scikit-learn estimator, pass its network_)"
        raise ExportError(
            f"export: net must be a lincoln NeuralNetwork, received "
            f"{type(net).__name__}{hint if hasattr(net, 'network_') else ''}"
        )
    opset = _check_opset(opset)
    shape, out_shape = _trace(net, input_shape)
    sequences = _takes_sequences(net)
    _check_request(net, out_shape, sequences, softmax, standardizer)
    g = GraphBuilder()
    x = (
        "input"
        if standardizer is None
        else _emit_standardizer(g, standardizer, "input")
    )
    x = _emit_network(g, net, x)
    name = "probabilities" if softmax else "output"
    g.scope = name
    if softmax:  # over the classes: the last axis, of every step of a sequence
        g.node("Softmax", [x], output=name, axis=-1)
    else:
        g.node("Identity", [x], output=name)
    # a network that takes sequences of any length gets a free sequence axis
    dims_in: list[int | str] = ["batch", *shape]
    dims_out: list[int | str] = ["batch", *out_shape]
    if sequences:
        dims_in[1] = "sequence"
        if len(out_shape) == 2:  # (steps, features): every step's output
            dims_out[1] = "sequence"
    return _model(g, net, (dims_in, dims_out), name, opset)


def _check_request(
    net: NeuralNetwork,
    out_shape: tuple[int, ...],
    sequences: bool,
    softmax: bool,
    standardizer: Standardizer | None,
) -> None:
    if softmax and not (len(out_shape) == 1 or (sequences and len(out_shape) == 2)):
        raise ExportError(
            f"export: softmax needs outputs of shape (batch, classes) or (batch, "
            f"steps, classes); this network's are (batch, "
            f"{', '.join(map(str, out_shape))})"
        )
    if standardizer is not None:
        _check_standardizable(net)


def _check_standardizable(net: NeuralNetwork) -> None:
    if _takes_ids(net):
        raise ExportError(
            f"export: the network starts with {type(net.layers[0]).__name__}, "
            f"which takes integer ids: there is no input standardization to fold in"
        )


def _model(
    g: GraphBuilder,
    net: NeuralNetwork,
    dims: tuple[list[int | str], list[int | str]],
    output: str,
    opset: int,
) -> onnx.ModelProto:
    in_type = TensorProto.INT64 if _takes_ids(net) else TensorProto.FLOAT
    graph = helper.make_graph(
        g.nodes,
        "lincoln",
        [helper.make_tensor_value_info("input", in_type, dims[0])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, dims[1])],
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
            ``preprocess.npz`` beside the model, or for a network that takes
            integer ids.
    """
    source = Path(source)
    net = load(source)
    scaler = None
    if raw_input:
        _check_standardizable(net)
        run_dir = source if source.is_dir() else source.parent
        path = run_dir / PREPROCESS_FILE
        if not path.is_file():
            raise ExportError(
                f"export: raw_input needs {path}, which lincoln train --out writes "
                f"into the run directory"
            )
        scaler = Standardizer.load(path)
    return export(net, out, softmax=softmax, opset=opset, standardizer=scaler)
