"""lincoln.onnx: exported graphs pass onnx's full check, and ONNX Runtime's
outputs equal ``net.predict`` on the bundled digits for every layer type,
activation, convolution geometry and shipped config (the character model on
the book's text)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from lincoln import (  # noqa: E402
    Adam,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    MeanSquaredError,
    NeuralNetwork,
    Operation,
    SoftmaxCrossEntropy,
    Trainer,
    load,
    load_digits,
)
from lincoln.config import build_network, load_config  # noqa: E402
from lincoln.config.text import text_data  # noqa: E402
from lincoln.datasets import Standardizer  # noqa: E402
from lincoln.datasets.idx import read_idx  # noqa: E402
from lincoln.onnx import (  # noqa: E402
    DEFAULT_OPSET,
    EMITTERS,
    ExportError,
    conv_pads,
    export,
    export_file,
    register_emitter,
    to_onnx,
)

# every experiment file (*_space.toml files are lincoln tune's search spaces)
CONFIGS = sorted(
    p
    for p in (Path(__file__).resolve().parent.parent / "configs").rglob("*.toml")
    if not p.stem.endswith("_space")
)

# outputs agree to float32 rounding: 1e-5, relative to the outputs' size when
# that is above 1 (logits of untrained N(0, 1) weights reach the hundreds)
TOL = 1e-5


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return load_digits(flatten=False)[0][:300]


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return load_digits()[0]


def session(model: Any) -> Any:
    return ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def randomize_statistics(net: NeuralNetwork, seed: int = 0) -> None:
    """Give batch norm non-trivial running statistics, gamma and beta."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            for name, b in layer.buffers().items():
                low = 0.5 if name == "running_var" else -1.0
                b[...] = rng.uniform(low, 2.0, b.shape)
            for p in layer.params:
                p[...] = rng.uniform(0.5, 1.5, p.shape)


def onnx_difference(net: NeuralNetwork, X: np.ndarray, **kwargs: Any) -> float:
    """Largest |ONNX Runtime - net.predict| on ``X`` (checked against TOL)."""
    model = to_onnx(net, X.shape[1:], **kwargs)
    onnx.checker.check_model(model, full_check=True)
    # integer ids (a network starting with an Embedding) go in as int64
    X_in = X.astype(np.int64 if X.dtype.kind in "iu" else np.float32)
    out = session(model).run(None, {"input": X_in})[0]
    expected = net.predict(X)
    if kwargs.get("softmax"):
        z = np.exp(expected - expected.max(axis=1, keepdims=True))
        expected = z / z.sum(axis=1, keepdims=True)
    assert out.shape == expected.shape
    diff = float(np.max(np.abs(out - expected)))
    assert diff <= TOL * max(1.0, float(np.max(np.abs(expected)))), diff
    return diff


def classifier(*layers: Layer, seed: int = 3) -> NeuralNetwork:
    return NeuralNetwork(list(layers), SoftmaxCrossEntropy(), seed=seed)


# -- every layer type and activation ------------------------------------------------

ACTIVATIONS = [
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    {"type": "leaky_relu", "alpha": 0.2},
]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_dense_with_each_activation(activation: Any, rows: np.ndarray) -> None:
    net = classifier(
        Dense(32, activation, weight_init="he"),
        Dense(10, activation, weight_init="glorot"),
    )
    onnx_difference(net, rows)


def test_dense_dropout_is_the_identity(rows: np.ndarray) -> None:
    net = classifier(Dense(32, "relu", dropout=0.5, weight_init="he"), Dense(10))
    model = to_onnx(net, (64,))
    assert "Dropout" not in {n.op_type for n in model.graph.node}
    onnx_difference(net, rows)


def test_regression_network_float64(rows: np.ndarray) -> None:
    net = NeuralNetwork(
        [Dense(16, "tanh"), Dense(3, "linear")], MeanSquaredError(), dtype=np.float64
    )
    onnx_difference(net, rows)


GEOMETRIES = [
    (k, stride, padding)
    for padding in ("same", "valid", 0, 1, 2)
    for stride in (1, 2, 3)
    for k in (1, 2, 3, 5)
    if not (padding == "valid" and k == 5 and stride == 3)
]


@pytest.mark.parametrize("k,stride,padding", GEOMETRIES)
def test_conv2d_geometry(k: int, stride: int, padding: Any, images: np.ndarray) -> None:
    net = classifier(
        Conv2D(
            4, k, weight_init="he", activation="relu", stride=stride, padding=padding
        ),
        Flatten(),
        Dense(10, "linear", weight_init="glorot"),
    )
    onnx_difference(net, images)


def test_conv2d_flatten_dropout_and_activations(images: np.ndarray) -> None:
    net = classifier(
        Conv2D(3, 3, activation="sigmoid", weight_init="glorot"),
        Conv2D(5, 3, 0.5, "he", "tanh", stride=2),
        Conv2D(6, 2, activation="leaky_relu", padding="valid", flatten=True),
        Dense(10, "linear", weight_init="glorot"),
    )
    onnx_difference(net, images)


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("size,stride", [(2, None), (3, None), (3, 1), (2, 3)])
def test_pooling(pool: type, size: int, stride: int | None, images: np.ndarray) -> None:
    net = classifier(
        Conv2D(4, 3, activation="relu", weight_init="he"),
        pool(size, stride),
        Flatten(),
        Dense(10, "linear", weight_init="glorot"),
    )
    onnx_difference(net, images)


def test_batchnorm_on_images_and_rows(images: np.ndarray) -> None:
    net = classifier(
        Conv2D(4, 3, weight_init="he"),
        BatchNorm(eps=1e-3),
        MaxPool2D(),
        Flatten(),
        Dense(16, "relu", weight_init="he"),
        BatchNorm(),
        Dense(10, weight_init="glorot"),
    )
    net.build(images.shape[1:])
    randomize_statistics(net)
    onnx_difference(net, images)


def test_trained_network_with_softmax(images: np.ndarray) -> None:
    X, y = load_digits(flatten=False)
    net = classifier(
        Conv2D(8, 3, activation="relu", weight_init="he"),
        BatchNorm(),
        AvgPool2D(),
        Flatten(),
        Dense(10, weight_init="glorot"),
    )
    Trainer(net, Adam(0.01)).fit(X, y, epochs=2, batch_size=64, verbose=False)
    onnx_difference(net, images)
    onnx_difference(net, images, softmax=True)


# -- the shipped configs --------------------------------------------------------------


@functools.cache
def mnist_like_images(name: str) -> np.ndarray:
    """256 test images (N, 1, 28, 28) of an MNIST-like data set from Debian's
    package where it is installed (CI installs Fashion-MNIST); else digits,
    each pixel a 3x3 block, padded to 28x28."""
    folder = Path("/usr/share/datasets") / name.replace("_", "-")
    path = folder / "t10k-images-idx3-ubyte.gz"
    if path.is_file():
        images = read_idx(path)[:256].astype(np.float32) / 255.0
        return images.reshape(len(images), 1, 28, 28)
    small = load_digits(flatten=False)[0][:256]
    big = np.kron(small, np.ones((1, 1, 3, 3), np.float32))
    return np.pad(big, [(0, 0), (0, 0), (2, 2), (2, 2)])


def config_inputs(path: Path) -> np.ndarray:
    """Real inputs of the shape the config's network takes."""
    exp = load_config(path)
    data = exp.config["data"]
    if data["name"] == "text":  # the text's held-out sequences of ids
        return text_data(exp).X_val[:16]
    image = data.get("shape") == "image"
    if data["name"] == "digits":
        return load_digits(flatten=not image)[0][:256]
    X = mnist_like_images(data["name"])
    return X if image else X.reshape(len(X), -1)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_networks(path: Path) -> None:
    net = build_network(load_config(path))
    X = config_inputs(path)
    net.build(X.shape[1:])
    randomize_statistics(net)
    onnx_difference(net, X)


# -- the graph, its interface and its errors -----------------------------------------


def test_dynamic_batch_and_names(rows: np.ndarray) -> None:
    net = classifier(Dense(8, "relu"), Dense(10))
    model = to_onnx(net, (64,), softmax=True)
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "probabilities")
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.opset_import[0].version == DEFAULT_OPSET
    s = session(model)
    for n in (1, 7, len(rows)):
        probs = s.run(None, {"input": rows[:n]})[0]
        assert probs.shape == (n, 10)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_built_network_needs_no_input_shape(rows: np.ndarray) -> None:
    net = classifier(Dense(8), Dense(10))
    with pytest.raises(ExportError, match="not built yet; pass input_shape"):
        to_onnx(net)
    net.predict(rows[:2])
    assert to_onnx(net).graph.input[0].type.tensor_type.shape.dim[1].dim_value == 64


class Swish(Operation):
    def _output(self) -> np.ndarray:
        return self.input_ / (1.0 + np.exp(-self.input_))

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def test_unsupported_operation_names_its_layer(rows: np.ndarray) -> None:
    net = classifier(Dense(8, Swish()), Dense(10))
    with pytest.raises(ExportError, match=r"layer 0 \(Dense\) uses operation Swish"):
        to_onnx(net, (64,))


def test_register_emitter_for_a_users_operation(rows: np.ndarray) -> None:
    @register_emitter(Swish)
    def emit_swish(g: Any, op: Operation, x: str) -> str:
        return g.node("Mul", [x, g.node("Sigmoid", [x])])

    try:
        onnx_difference(classifier(Dense(8, Swish()), Dense(10)), rows)
    finally:
        del EMITTERS[Swish]


@pytest.mark.parametrize("opset", [12, 10**6, "17", True])
def test_bad_opset(opset: Any) -> None:
    with pytest.raises(ExportError, match="opset must be an integer from 13"):
        to_onnx(classifier(Dense(10)), (4,), opset=opset)


def test_oldest_opset_and_ir_version(images: np.ndarray) -> None:
    net = classifier(Conv2D(2, 3, stride=2), BatchNorm(), MaxPool2D(), Flatten())
    model = to_onnx(net, (1, 8, 8), opset=13)
    assert model.ir_version == 7
    onnx_difference(net, images, opset=13)


def test_softmax_needs_rows(images: np.ndarray) -> None:
    with pytest.raises(ExportError, match="softmax needs outputs of shape"):
        to_onnx(classifier(Conv2D(2, 3)), (1, 8, 8), softmax=True)


def test_same_padding_puts_the_odd_pixel_after() -> None:
    assert conv_pads((8, 8), 4, 1, "same") == [1, 1, 2, 2]
    assert conv_pads((8, 7), 3, 2, "same") == [0, 1, 1, 1]
    assert conv_pads((8, 8), 3, 1, "valid") == [0, 0, 0, 0]
    assert conv_pads((8, 8), 3, 1, 2) == [2, 2, 2, 2]


# -- files: export and export_file ----------------------------------------------------


def test_export_writes_a_loadable_file(tmp_path: Path, rows: np.ndarray) -> None:
    net = classifier(Dense(8, "relu"), Dense(10))
    path = export(net, tmp_path / "m.onnx", (64,))
    out = ort.InferenceSession(str(path)).run(None, {"input": rows})[0]
    np.testing.assert_allclose(out, net.predict(rows), atol=TOL)


@pytest.mark.parametrize("per_feature", [True, False], ids=["standardize", "global"])
def test_export_file_from_model_and_run_directory(
    tmp_path: Path, per_feature: bool
) -> None:
    X, _ = load_digits(normalize=False)
    # per feature (preprocess = "standardize") or one mean and spread ("global")
    scaler = Standardizer().fit(X) if per_feature else Standardizer(X.mean(), X.std())
    net = classifier(Dense(16, "relu", weight_init="he"), BatchNorm(), Dense(10))
    net.build((64,))
    randomize_statistics(net)
    run = tmp_path / "run"
    run.mkdir()
    net.save(run / "model.npz")
    scaler.save(run / "preprocess.npz")

    expected = net.predict(scaler.transform(X))
    for source in (run, run / "model.npz"):
        out = export_file(source, tmp_path / "raw.onnx", raw_input=True, softmax=False)
        got = ort.InferenceSession(str(out)).run(None, {"input": X})[0]
        np.testing.assert_allclose(got, expected, atol=1e-4)
    plain = export_file(run / "model.npz", tmp_path / "m.onnx", softmax=True)
    got = ort.InferenceSession(str(plain)).run(None, {"input": scaler.transform(X)})[0]
    z = np.exp(expected - expected.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, z / z.sum(axis=1, keepdims=True), atol=TOL)


def test_export_file_raw_input_needs_preprocess(tmp_path: Path) -> None:
    net = classifier(Dense(10))
    net.build((64,))
    net.save(tmp_path / "model.npz")
    with pytest.raises(ExportError, match="preprocess.npz"):
        export_file(tmp_path / "model.npz", tmp_path / "m.onnx", raw_input=True)


def test_without_onnx_the_import_error_says_what_to_install() -> None:
    code = "import sys; sys.modules['onnx'] = None; import lincoln.onnx"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: lincoln.onnx needs the onnx package: pip install 'lincoln[onnx]'"
    )


def test_lincoln_does_not_import_the_extras() -> None:
    code = "import sys, lincoln; print(sorted({'onnx', 'sklearn'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_net_must_be_a_network() -> None:
    class Fitted:
        network_ = None

    with pytest.raises(ExportError, match="pass its network_"):
        to_onnx(Fitted(), (4,))  # type: ignore[arg-type]


def test_run_directory_of_lincoln_train(tmp_path: Path) -> None:
    from lincoln.cli import main

    config = tmp_path / "tiny.toml"
    config.write_text(
        '[data]\nname = "digits"\npreprocess = "standardize"\n\n'
        '[model]\nseed = 1\n\n[[model.layers]]\ntype = "dense"\nneurons = 16\n'
        'activation = "relu"\n\n[[model.layers]]\ntype = "dense"\nneurons = 10\n'
        'activation = "linear"\n\n[optimizer]\ntype = "adam"\nlr = 0.01\n\n'
        "[trainer]\nepochs = 3\n"
    )
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 0
    out = export_file(tmp_path / "run", tmp_path / "raw.onnx", raw_input=True)
    X = load_digits()[0]  # what the config's data section loads, unprepared
    scaler = Standardizer.load(tmp_path / "run" / "preprocess.npz")
    expected = load(tmp_path / "run").predict(scaler.transform(X))
    got = ort.InferenceSession(str(out)).run(None, {"input": X})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4)
