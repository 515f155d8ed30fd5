"""lincoln.onnx on sequences: Embedding, RNN, LSTM, GRU, the book's recurrent
layers and Dense over steps export to graphs that pass onnx's full check, and
ONNX Runtime's outputs equal ``net.predict`` (from a zero initial state) at the
traced sequence length and at others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from lincoln import (
    Adam,
    Dense,
    Flatten,
    MeanSquaredError,
    NeuralNetwork,
    Trainer,
    load,
)
from lincoln.cli import main
from lincoln.config import build_network, load_config
from lincoln.config.text import text_data
from lincoln.datasets import Standardizer
from lincoln.layers import Embedding
from lincoln.layers.book import GRULayer, LSTMLayer, RNNLayer
from lincoln.layers.recurrent import GRU, LSTM, RNN, reset_states
from lincoln.onnx import (
    LAYER_EMITTERS,
    ONNX_GATE_ORDER,
    ExportError,
    export_file,
    register_layer_emitter,
    to_onnx,
)

CHARLM = Path(__file__).resolve().parent.parent / "configs" / "charlm_lstm.toml"

# float32 rounding, relative to the outputs' size when that is above 1 (as in
# test_onnx.py); the largest difference measured here is 1.4e-6 (an RNN's outputs)
TOL = 1e-5

DTYPES = [np.float32, np.float64]


def run(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return np.asarray(session.run(None, {"input": X})[0])


def check_difference(
    net: NeuralNetwork, X: np.ndarray, softmax: bool = False, **kwargs: Any
) -> float:
    """Largest |ONNX Runtime - net.predict| on ``X``, from a zero initial state
    (checked against TOL); ``X`` may have another length than the trace's."""
    model = to_onnx(net, softmax=softmax, **kwargs)
    onnx.checker.check_model(model, full_check=True)
    ids = X.dtype.kind in "iu"
    out = run(model, X.astype(np.int64 if ids else np.float32))
    reset_states(net.layers)
    expected = net.predict(X, batch_size=len(X))
    if softmax:
        z = np.exp(expected - expected.max(axis=-1, keepdims=True))
        expected = z / z.sum(axis=-1, keepdims=True)
    assert out.shape == expected.shape
    diff = float(np.max(np.abs(out - expected)))
    assert diff <= TOL * max(1.0, float(np.max(np.abs(expected)))), diff
    return diff


def sequences(steps: int, features: int = 5, batch: int = 6) -> np.ndarray:
    return np.random.default_rng(steps).standard_normal((batch, steps, features))


# -- RNN, LSTM, GRU ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequence", "last"])
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_recurrent_layer_equals_predict(
    cls: type, return_sequences: bool, dtype: Any
) -> None:
    net = NeuralNetwork(
        [cls(7, return_sequences=return_sequences), Dense(3, "linear")],
        MeanSquaredError(),
        seed=4,
        dtype=dtype,
    )
    net.build((9, 5))
    # weights away from lincoln's initialization, so that a gate mixed up with
    # another (an LSTM's forget bias of 1, zero biases) cannot go unnoticed
    rng = np.random.default_rng(1)
    for p in net.layers[0].params:
        p[...] = rng.normal(0.0, 0.6, p.shape)
    for steps in (9, 1, 23):
        check_difference(net, sequences(steps))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_recurrent_layer_becomes_onnx_operator(cls: type) -> None:
    net = NeuralNetwork([cls(4)], MeanSquaredError(), seed=0)
    net.build((3, 2))
    model = to_onnx(net)
    (node,) = [n for n in model.graph.node if n.op_type == cls.__name__.upper()]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["hidden_size"] == 4
    assert attrs.get("layout", 0) == 0  # ONNX Runtime runs time-major only
    if cls is GRU:  # lincoln resets h before the recurrent product
        assert attrs["linear_before_reset"] == 0
    dims = [
        d.dim_param or d.dim_value
        for d in model.graph.input[0].type.tensor_type.shape.dim
    ]
    assert dims == ["batch", "sequence", 2]


def test_gate_orders() -> None:
    # lincoln (i, f, o, g) -> ONNX (i, o, f, c); (r, u, n) -> (z, r, h)
    assert ONNX_GATE_ORDER == {"rnn": (0,), "lstm": (0, 2, 1, 3), "gru": (1, 0, 2)}


def test_carried_state_exports_the_zero_state_prediction() -> None:
    net = NeuralNetwork([LSTM(6, carry_state="last")], MeanSquaredError(), seed=2)
    X = sequences(8)
    carried = net.predict(X, batch_size=len(X))  # the layer now holds a state
    state = net.layers[0].state
    assert state is not None
    model = to_onnx(net)
    assert net.layers[0].state is state  # the trace left it as it was
    with_state = net.predict(X, batch_size=len(X))
    assert not np.allclose(with_state, carried)  # the state changes predictions
    out = run(model, X.astype(np.float32))
    assert np.max(np.abs(out - carried)) < TOL  # from zeros, as the first call
    check_difference(net, X)


@pytest.mark.parametrize(
    "cls", [RNNLayer, LSTMLayer, GRULayer], ids=lambda c: c.__name__
)
def test_book_recurrent_layers(cls: type) -> None:
    net = NeuralNetwork([cls(6, 4, weight_scale=0.5)], MeanSquaredError(), seed=5)
    net.build((7, 3))
    check_difference(net, sequences(7, 3))
    check_difference(net, sequences(12, 3))


def test_subclass_of_a_recurrent_layer_is_not_taken_for_it() -> None:
    class MyGRU(GRU):
        pass

    net = NeuralNetwork([MyGRU(4)], MeanSquaredError(), seed=0)
    net.build((3, 2))
    with pytest.raises(
        ExportError,
        match=r"layer 0 \(MyGRU\) uses operation GateProjection, .*; or, if MyGRU "
        r"computes what GRU does, register_layer_emitter\(MyGRU\)"
        r"\(LAYER_EMITTERS\[GRU\]\)",
    ):
        to_onnx(net)
    register_layer_emitter(MyGRU)(LAYER_EMITTERS[GRU])
    try:
        check_difference(net, sequences(5, 2))
    finally:
        del LAYER_EMITTERS[MyGRU]


# -- Embedding and Dense over steps -------------------------------------------------


def test_dense_over_steps() -> None:
    net = NeuralNetwork(
        [Dense(8, "tanh", weight_init="glorot"), Dense(3, "linear")],
        MeanSquaredError(),
        seed=1,
    )
    net.build((4, 5))
    model = to_onnx(net)
    assert "Gemm" not in {n.op_type for n in model.graph.node}
    out_dims = [
        d.dim_param or d.dim_value
        for d in model.graph.output[0].type.tensor_type.shape.dim
    ]
    assert out_dims == ["batch", "sequence", 3]
    check_difference(net, sequences(4))
    check_difference(net, sequences(11))


def test_embedding_takes_int64_ids() -> None:
    net = NeuralNetwork(
        [Embedding(11, 4), GRU(5, return_sequences=False)], MeanSquaredError(), seed=3
    )
    net.build((6,))
    model = to_onnx(net)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert model.graph.node[0].op_type == "Gather"
    ids = np.random.default_rng(0).integers(0, 11, (5, 9))
    check_difference(net, ids)


def test_embedding_has_no_standardization() -> None:
    net = NeuralNetwork([Embedding(11, 4), LSTM(5)], MeanSquaredError(), seed=3)
    net.build((6,))
    scaler = Standardizer(np.zeros(6), np.ones(6))
    with pytest.raises(ExportError, match="takes integer ids: there is no input"):
        to_onnx(net, standardizer=scaler)


def test_flattened_steps_keep_a_fixed_length() -> None:
    net = NeuralNetwork(
        [Embedding(11, 4), Flatten(), Dense(3)], MeanSquaredError(), seed=3
    )
    net.build((6,))
    model = to_onnx(net)
    dims = [
        d.dim_param or d.dim_value
        for d in model.graph.input[0].type.tensor_type.shape.dim
    ]
    assert dims == ["batch", 6]
    check_difference(net, np.random.default_rng(0).integers(0, 11, (5, 6)))


# -- the character language model ---------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_charlm_config_trained_a_few_steps(dtype: str) -> None:
    exp = load_config(CHARLM)
    exp.config["model"]["dtype"] = dtype
    net = build_network(exp)
    data = text_data(exp)
    X, y = data.X_train[:96], data.y_train[:96]
    Trainer(net, Adam(0.002)).fit(X, y, epochs=1, batch_size=32, verbose=False)
    assert isinstance(net.layers[1], LSTM) and net.layers[1].neurons == 256
    check_difference(net, data.X_val[:4], softmax=True)
    check_difference(net, data.X_val[:4, :20])


def test_lincoln_export_of_a_trained_charlm_run(tmp_path: Path) -> None:
    config = CHARLM.read_text(encoding="utf-8")
    text = tmp_path / "small.txt"
    text.write_text("the king shall speak to thee, my lord.\n" * 40, encoding="utf-8")
    for old, new in [
        ('# path = "my_text.txt"', f'path = "{text.as_posix()}"'),
        ("seq_len = 64", "seq_len = 16"),
        ("dim = 64", "dim = 8"),
        ("neurons = 256", "neurons = 16"),
        ("epochs = 12", "epochs = 1"),
    ]:
        assert old in config
        config = config.replace(old, new)
    (tmp_path / "charlm.toml").write_text(config, encoding="utf-8")
    run_dir = tmp_path / "run"
    assert (
        main(["train", str(tmp_path / "charlm.toml"), "--out", str(run_dir), "--quiet"])
        == 0
    )
    out = tmp_path / "charlm.onnx"
    assert main(["export", str(run_dir), str(out), "--softmax"]) == 0
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    net = load(run_dir)
    ids = np.array([[net.layers[0].vocab.index(c) for c in "the king sh"]])
    probabilities = ort.InferenceSession(str(out)).run(None, {"input": ids})[0]
    logits = net.predict(ids)
    expected = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    assert probabilities.shape == (1, 11, len(net.layers[0].vocab))
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    with pytest.raises(ExportError, match="takes integer ids"):
        export_file(run_dir, tmp_path / "raw.onnx", raw_input=True)
