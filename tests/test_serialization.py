"""Model files, checkpoints and resuming: lincoln.serialization, fit(resume=)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lincoln import serialization
from lincoln.base import Operation
from lincoln.errors import ModelFileError
from lincoln.layers import LAYERS, Dense, layer_from_config
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, Adam, SGDMomentum
from lincoln.serialization import (
    HEADER_KEY,
    load,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from lincoln.train import LAST_CHECKPOINT_FILE, Trainer

HAS_CNN = {"conv2d", "batchnorm", "maxpool2d", "flatten"} <= set(LAYERS)


# -- helpers ---------------------------------------------------------------------------


def classification_data(
    n: int = 96, features: int = 6, classes: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = (X[:, :classes] + 0.3 * rng.normal(size=(n, classes))).argmax(axis=1)
    return X, y


def mlp(dtype: Any = np.float64, dropout: float = 1.0, seed: int = 7) -> NeuralNetwork:
    return NeuralNetwork(
        [
            Dense(8, "tanh", weight_init="glorot", dropout=dropout),
            Dense(3, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=seed,
        dtype=dtype,
    )


def trained_mlp(dtype: Any = np.float64, dropout: float = 0.8) -> NeuralNetwork:
    X, y = classification_data()
    net = mlp(dtype, dropout)
    Trainer(net, SGDMomentum(0.1)).fit(X, y, epochs=2, batch_size=32, verbose=False)
    return net


def rewrite(src: Path, dst: Path, header: Any = None, arrays: Any = None) -> Path:
    """Copy a lincoln file, letting ``header(dict)`` and ``arrays(dict)`` edit it."""
    with np.load(src, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    head = json.loads(data.pop(HEADER_KEY).tobytes())
    if header is not None:
        header(head)
    if arrays is not None:
        arrays(data)
    data[HEADER_KEY] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
    with open(dst, "wb") as fh:
        np.savez(fh, **data)
    return dst


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_round_trip_gives_identical_predictions(
    tmp_path: Path, dtype: Any
) -> None:
    net = trained_mlp(dtype)
    path = tmp_path / "model.npz"
    net.save(path)
    again = load(path)
    X, _ = classification_data(n=20, seed=1)
    assert again.dtype == np.dtype(dtype)
    assert all(p.dtype == np.dtype(dtype) for p in again.params())
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    assert repr(again) == repr(net)
    assert type(again.loss) is SoftmaxCrossEntropy
    assert [type(layer.activation).__name__ for layer in again.layers] == [  # type: ignore[attr-defined]
        "Tanh",
        "Linear",
    ]
    # the dropout generator continues where it was: the next training masks agree
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


def test_header_documents_the_model(tmp_path: Path) -> None:
    net = trained_mlp(np.float32)
    net.save(tmp_path / "m.npz")
    header = read_header(tmp_path / "m.npz")
    assert header["format"] == "lincoln" and header["format_version"] == 1
    assert header["kind"] == "model" and header["lincoln_version"]
    config = header["network"]
    assert config["dtype"] == "float32" and config["seed"] == 7
    assert config["input_shape"] == [6]
    assert config["layers"][0] == {
        "type": "dense",
        "neurons": 8,
        "activation": "tanh",
        "weight_init": "glorot",
        "dropout": 0.8,
    }
    assert config["loss"]["type"] == "softmax_cross_entropy"
    assert set(header["arrays"]) == {
        f"layers.{i}.params.{j}" for i in (0, 1) for j in (0, 1)
    }
    # the saved layer configs rebuild the layers
    assert isinstance(layer_from_config(config["layers"][0]), Dense)


def test_mse_network_round_trip(tmp_path: Path) -> None:
    net = NeuralNetwork(
        [Dense(5, "sigmoid"), Dense(1, "linear")],
        MeanSquaredError(normalize=True),
        seed=3,
        dtype=np.float64,
    )
    net.build((4,))
    net.save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    X = np.random.default_rng(0).normal(size=(9, 4))
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    assert again.loss.get_config() == net.loss.get_config()


def test_unbuilt_network_round_trips_as_unbuilt(tmp_path: Path) -> None:
    mlp().save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    assert not again.built and again.input_shape is None


@pytest.mark.skipif(not HAS_CNN, reason="Conv2D/BatchNorm layers not available")
def test_cnn_with_batchnorm_round_trip_keeps_running_statistics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 6, 6))
    y = rng.integers(0, 3, size=24)
    net = NeuralNetwork(
        [
            layer_from_config(
                {
                    "type": "conv2d",
                    "out_channels": 2,
                    "param_size": 3,
                    "activation": "relu",
                }
            ),
            layer_from_config({"type": "batchnorm"}),
            layer_from_config({"type": "maxpool2d", "pool_size": 2}),
            layer_from_config({"type": "flatten"}),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=2,
        dtype=np.float64,
    )
    Trainer(net, SGD(0.05)).fit(X, y, epochs=2, batch_size=8, verbose=False)
    buffers = dict(net.named_buffers())
    assert buffers and not np.allclose(buffers["layers.1.buffers.running_mean"], 0)
    net.save(tmp_path / "cnn.npz")
    again = load(tmp_path / "cnn.npz")
    for name, value in again.named_buffers():
        np.testing.assert_array_equal(value, buffers[name])
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    assert set(read_header(tmp_path / "cnn.npz")["arrays"]) >= set(buffers)


# -- load_weights ----------------------------------------------------------------------


def test_load_weights_builds_and_fills_a_declared_network(tmp_path: Path) -> None:
    net = trained_mlp()
    net.save(tmp_path / "m.npz")
    fresh = mlp(dropout=0.8, seed=99)  # other initial weights, not built yet
    fresh.load_weights(tmp_path / "m.npz")
    X, _ = classification_data(n=10, seed=2)
    np.testing.assert_array_equal(fresh.predict(X), net.predict(X))


def test_load_weights_names_array_expected_and_received_shape(tmp_path: Path) -> None:
    trained_mlp().save(tmp_path / "m.npz")  # built for 6 features
    other_inputs = mlp(dropout=0.8)
    other_inputs.build((7,))
    before = [p.copy() for p in other_inputs.params()]
    with pytest.raises(
        ModelFileError,
        match=r"'layers\.0\.params\.0' must have shape "
        r"\(7, 8\), received shape \(6, 8\)",
    ):
        other_inputs.load_weights(tmp_path / "m.npz")
    # nothing was copied
    assert all(
        np.array_equal(a, b) for a, b in zip(before, other_inputs.params(), strict=True)
    )


def test_load_weights_rejects_another_dtype(tmp_path: Path) -> None:
    trained_mlp(np.float64).save(tmp_path / "m.npz")
    with pytest.raises(
        ModelFileError, match="float64 parameters but this network is float32"
    ):
        mlp(np.float32).load_weights(tmp_path / "m.npz")


def test_array_dtype_differing_from_network_is_named(tmp_path: Path) -> None:
    net = mlp()
    net.build((6,))
    net.save(tmp_path / "m.npz")

    def to_float32(data: dict[str, np.ndarray]) -> None:
        data["layers.1.params.1"] = data["layers.1.params.1"].astype(np.float32)

    def header(h: dict[str, Any]) -> None:
        h["arrays"]["layers.1.params.1"]["dtype"] = "float32"

    rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", header, to_float32)
    with pytest.raises(
        ModelFileError,
        match=r"'layers\.1\.params\.1' must have dtype "
        r"float64, received dtype float32",
    ):
        mlp().load_weights(tmp_path / "bad.npz")


# -- load_weights: the declared architecture must be the saved one -------------------


def relu_net(loss: Any = None, **dense: Any) -> NeuralNetwork:
    spec = {"neurons": 16, "activation": "relu", **dense}
    return NeuralNetwork(
        [Dense(**spec), Dense(3, "linear")],
        loss if loss is not None else SoftmaxCrossEntropy(),
        seed=5,
        dtype=np.float64,
    )


@pytest.fixture
def relu_file(tmp_path: Path) -> Path:
    net = relu_net()
    net.build((4,))
    net.save(tmp_path / "model.npz")
    return tmp_path / "model.npz"


def refused(net: NeuralNetwork, path: Path, message: str) -> None:
    """``net.load_weights(path)`` raises ``message`` and changes nothing."""
    net.build((4,))
    before = {k: v.copy() for k, v in net.state_dict().items()}
    with pytest.raises(ModelFileError, match=message):
        net.load_weights(path)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_another_activation_is_refused_naming_the_layer(relu_file: Path) -> None:
    refused(
        relu_net(activation="sigmoid"),
        relu_file,
        "^" + re.escape(str(relu_file)) + r": layer 0 differs: the file "
        r"has Dense\(activation='relu'\), this network has "
        r"Dense\(activation='sigmoid'\)$",
    )


def test_activation_arguments_must_match(tmp_path: Path) -> None:
    leaky = relu_net(activation={"type": "leaky_relu", "alpha": 0.1})
    leaky.build((4,))
    leaky.save(tmp_path / "m.npz")
    refused(
        relu_net(activation={"type": "leaky_relu", "alpha": 0.3}),
        tmp_path / "m.npz",
        r"layer 0 differs: the file has Dense\(activation=\{'type': 'leaky_relu', "
        r"'alpha': 0\.1\}\), this network has Dense\(activation=\{'type': "
        r"'leaky_relu', 'alpha': 0\.3\}\)",
    )


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        pytest.param(
            MeanSquaredError(),
            r"the loss differs: the file has SoftmaxCrossEntropy\(\), this network "
            r"has MeanSquaredError\(\)",
            id="type",
        ),
        pytest.param(
            MeanSquaredError(normalize=True),
            r"the loss differs: the file has SoftmaxCrossEntropy\(\), this network "
            r"has MeanSquaredError\(normalize=True\)",
            id="type-and-arguments",
        ),
    ],
)
def test_another_loss_is_refused(relu_file: Path, loss: Any, message: str) -> None:
    refused(relu_net(loss=loss), relu_file, message)


def test_loss_arguments_must_match(tmp_path: Path) -> None:
    net = relu_net(loss=MeanSquaredError(normalize=True))
    net.build((4,))
    net.save(tmp_path / "m.npz")
    refused(
        relu_net(loss=MeanSquaredError()),
        tmp_path / "m.npz",
        r"the loss differs: the file has MeanSquaredError\(normalize=True\), this "
        r"network has MeanSquaredError\(normalize=False\)",
    )


def test_layer_sizes_and_count_must_match(relu_file: Path) -> None:
    refused(
        relu_net(neurons=17),
        relu_file,
        r"layer 0 differs: the file has Dense\(neurons=16\), this network has "
        r"Dense\(neurons=17\)",
    )
    deeper = NeuralNetwork(
        [Dense(16, "relu"), Dense(16, "linear"), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        dtype=np.float64,
    )
    refused(
        deeper,
        relu_file,
        r"the file has 2 layers \(Dense, Dense\), this network has 3 "
        r"\(Dense, Dense, Dense\)",
    )


@pytest.mark.skipif(not HAS_CNN, reason="Conv2D/BatchNorm layers not available")
def test_another_layer_type_is_refused(relu_file: Path) -> None:
    other = NeuralNetwork(
        [layer_from_config({"type": "batchnorm"}), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        dtype=np.float64,
    )
    refused(
        other,
        relu_file,
        r"layer 0 differs: the file has Dense\(neurons=16, activation='relu'\), "
        r"this network has BatchNorm\(eps=1e-05\)",
    )


def test_weight_init_and_dropout_may_differ(relu_file: Path) -> None:
    saved = load(relu_file)
    other = relu_net(weight_init="he", dropout=0.5)
    other.load_weights(relu_file)
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(other.predict(X), saved.predict(X))


@pytest.mark.skipif(not HAS_CNN, reason="Conv2D/BatchNorm layers not available")
def test_conv_and_batchnorm_arguments(tmp_path: Path) -> None:
    def cnn(padding: Any = "same", momentum: float = 0.9, eps: float = 1e-5) -> Any:
        return NeuralNetwork(
            [
                layer_from_config(
                    {
                        "type": "conv2d",
                        "out_channels": 2,
                        "param_size": 3,
                        "padding": padding,
                        "activation": "relu",
                    }
                ),
                layer_from_config(
                    {"type": "batchnorm", "momentum": momentum, "eps": eps}
                ),
                layer_from_config({"type": "flatten"}),
                Dense(3, "linear"),
            ],
            SoftmaxCrossEntropy(),
            seed=2,
            dtype=np.float64,
        )

    net = cnn()
    net.build((1, 5, 5))
    net.save(tmp_path / "cnn.npz")
    # a padding of 1 pixel is "same" for a 3x3 kernel: every array has the same
    # shape, only the declaration tells them apart
    with pytest.raises(
        ModelFileError,
        match=r"layer 0 differs: the file has Conv2D\(padding='same'\), this network "
        r"has Conv2D\(padding=1\)",
    ):
        cnn(padding=1).load_weights(tmp_path / "cnn.npz")
    with pytest.raises(
        ModelFileError,
        match=r"layer 1 differs: the file has BatchNorm\(eps=1e-05\), this network "
        r"has BatchNorm\(eps=0\.001\)",
    ):
        cnn(eps=1e-3).load_weights(tmp_path / "cnn.npz")
    faster = cnn(momentum=0.5)  # momentum only drives training: it may differ
    faster.load_weights(tmp_path / "cnn.npz")
    X = np.random.default_rng(1).normal(size=(3, 1, 5, 5))
    np.testing.assert_array_equal(faster.predict(X), net.predict(X))


def test_checkpoint_into_a_network_with_another_loss_is_refused(
    tmp_path: Path,
) -> None:
    net, opt = trained_mlp(), SGD(0.1)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)
    other = NeuralNetwork(
        [
            Dense(8, "tanh", weight_init="glorot", dropout=0.8),
            Dense(3, "linear", weight_init="glorot"),
        ],
        MeanSquaredError(),
        dtype=np.float64,
    )
    with pytest.raises(ModelFileError, match="the loss differs"):
        load_checkpoint(tmp_path / "c.ckpt.npz", net=other, optimizer=SGD(0.1))


class Square(Operation):
    """A user's activation, not registered: its layer cannot describe itself."""

    def _output(self) -> np.ndarray:
        return self.input_**2

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2 * self.input_ * output_grad


def test_unregistered_activation_is_loaded_by_shapes_alone(tmp_path: Path) -> None:
    def make(activation: Any, seed: int) -> NeuralNetwork:
        return NeuralNetwork(
            [Dense(5, activation), Dense(3, "linear")],
            SoftmaxCrossEntropy(),
            seed=seed,
            dtype=np.float64,
        )

    net = make(Square(), 1)
    net.build((4,))
    net.save(tmp_path / "m.npz")
    assert "unsupported" in read_header(tmp_path / "m.npz")["network"]["layers"][0]
    X = np.random.default_rng(0).normal(size=(6, 4))
    again = make(Square(), 2)
    again.load_weights(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    # either side that cannot describe itself skips the comparison of that layer
    make("tanh", 3).load_weights(tmp_path / "m.npz")
    relu = make("relu", 4)
    relu.build((4,))
    relu.save(tmp_path / "relu.npz")
    make(Square(), 5).load_weights(tmp_path / "relu.npz")
    # ... but not the comparison of the other layers, nor the arrays' shapes
    with pytest.raises(
        ModelFileError,
        match=r"layer 1 differs: the file has Dense\(neurons=3\), this network has "
        r"Dense\(neurons=2\)",
    ):
        NeuralNetwork(
            [Dense(5, Square()), Dense(2, "linear")],
            SoftmaxCrossEntropy(),
            dtype=np.float64,
        ).load_weights(tmp_path / "m.npz")
    wide = make(Square(), 6)
    wide.build((7,))
    with pytest.raises(
        ModelFileError,
        match=r"'layers\.0\.params\.0' must have shape \(7, 5\), received "
        r"shape \(4, 5\)",
    ):
        wide.load_weights(tmp_path / "m.npz")


class MySquaredError(MeanSquaredError):
    """A user's loss, not registered."""


def test_unregistered_loss_is_not_compared(tmp_path: Path) -> None:
    net = relu_net(loss=MySquaredError())
    net.build((4,))
    net.save(tmp_path / "m.npz")
    relu_net(loss=SoftmaxCrossEntropy()).load_weights(tmp_path / "m.npz")
    relu_net(loss=MySquaredError()).load_weights(tmp_path / "m.npz")


# -- files that are not right ----------------------------------------------------------


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    trained_mlp().save(path)
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        load(tmp_path / "nope.npz")


def test_text_file_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.npz").write_text("these are not weights\n")
    with pytest.raises(ModelFileError, match="not a lincoln model file"):
        load(tmp_path / "notes.npz")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty or truncated"):
        load(tmp_path / "empty.npz")


def test_npy_file_is_not_a_model(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(ModelFileError, match="single .npy array"):
        load(tmp_path / "a.npy")


def test_npz_without_the_marker_names_its_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", weights=np.ones(3), bias=np.zeros(1))
    with pytest.raises(
        ModelFileError,
        match=r"without the '__lincoln_model__' header; "
        r"it holds 'bias', 'weights'",
    ):
        load(tmp_path / "other.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(model_file: Path, tmp_path: Path, keep: float) -> None:
    data = model_file.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load(tmp_path / "cut.npz")


def test_corrupted_bytes(model_file: Path, tmp_path: Path) -> None:
    data = bytearray(model_file.read_bytes())
    start = data.index(b"layers.0.params.0.npy") + 120  # inside that array's data
    data[start : start + 8] = b"\xff" * 8
    (tmp_path / "flip.npz").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt"):
        load(tmp_path / "flip.npz")


def test_object_array_is_refused_not_unpickled(
    model_file: Path, tmp_path: Path
) -> None:
    def header(h: dict[str, Any]) -> None:
        h["arrays"]["evil"] = {"shape": [1], "dtype": "object"}

    def arrays(d: dict[str, np.ndarray]) -> None:
        d["evil"] = np.array([{"run": "code"}], dtype=object)

    rewrite(model_file, tmp_path / "evil.npz", header, arrays)
    with pytest.raises(
        ModelFileError, match=r"'evil' holds Python objects \(dtype=object\)"
    ):
        load(tmp_path / "evil.npz")


@pytest.mark.parametrize(
    ("header", "arrays", "message"),
    [
        pytest.param(
            lambda h: h["network"]["layers"][0].update(type="capsule"),
            None,
            r"layer 0 has unknown type 'capsule'; known layer types: dense",
            id="unknown-layer-type-lists-the-known-ones",
        ),
        pytest.param(
            lambda h: h.update(format_version=99, lincoln_version="9.0"),
            None,
            r"newer lincoln \(9.0, file format version 99\).*Upgrade",
            id="newer-format-version",
        ),
        pytest.param(
            lambda h: h.update(format="keras"),
            None,
            "format 'keras'",
            id="other-format-name",
        ),
        pytest.param(
            None,
            lambda d: d.pop("layers.1.params.0"),
            r"missing: 'layers\.1\.params\.0'",
            id="array-missing-from-archive",
        ),
        pytest.param(
            None,
            lambda d: d.update({"layers.1.params.1": np.zeros((1, 4))}),
            r"'layers\.1\.params\.1' has shape \(1, 4\)",
            id="array-not-matching-its-header",
        ),
    ],
)
def test_an_edited_file_is_refused(
    model_file: Path, tmp_path: Path, header: Any, arrays: Any, message: str
) -> None:
    rewrite(model_file, tmp_path / "m.npz", header, arrays)
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "m.npz")


def test_corrupt_json_header(model_file: Path, tmp_path: Path) -> None:
    with np.load(model_file) as f:
        data = {k: f[k] for k in f.files}
    data[HEADER_KEY] = np.frombuffer(b"{not json", dtype=np.uint8)
    np.savez(tmp_path / "m.npz", **data)
    with pytest.raises(ModelFileError, match="corrupt header"):
        load(tmp_path / "m.npz")


def test_model_file_error_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load(tmp_path / "nope.npz")


# -- atomic writes ---------------------------------------------------------------------


class DiskFull(OSError):
    pass


def failing_savez(exc: BaseException):
    def savez(file: Any, *args: Any, **kwds: Any) -> None:
        file.write(b"PK\x03\x04 half an archive" * 100)  # some bytes reach the disk
        raise exc

    return savez


@pytest.mark.parametrize(
    "exc", [DiskFull("no space left on device"), KeyboardInterrupt()]
)
def test_failed_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    path = tmp_path / "model.npz"
    net = trained_mlp()
    net.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_savez(exc))
    with pytest.raises(type(exc)):
        net.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    load(path)  # still a valid model


def test_failed_first_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(np, "savez", failing_savez(DiskFull()))
    with pytest.raises(DiskFull):
        trained_mlp().save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_in_place_with_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "model"  # the name is kept as given: no extension is added
    net = trained_mlp()
    net.save(path)
    net.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


# -- checkpoints -----------------------------------------------------------------------


def test_checkpoint_round_trip_restores_optimizer_state(tmp_path: Path) -> None:
    X, y = classification_data()
    net, opt = mlp(), Adam(0.01, final_lr=0.001, decay_type="linear")
    Trainer(net, opt).fit(X, y, epochs=2, batch_size=32, verbose=False)
    best = {k: v + 1 for k, v in net.state_dict().items()}
    save_checkpoint(
        tmp_path / "c.ckpt.npz", net, opt, training={"epoch": 2}, best_state=best
    )
    net2, opt2 = mlp(seed=3), Adam(0.01, final_lr=0.001, decay_type="linear")
    Trainer(net2, opt2)
    ckpt = load_checkpoint(tmp_path / "c.ckpt.npz", net=net2, optimizer=opt2)
    assert ckpt.training == {"epoch": 2}
    assert ckpt.optimizer is not None and ckpt.optimizer["type"] == "adam"
    for name, value in best.items():
        np.testing.assert_array_equal(ckpt.best_state[name], value)  # type: ignore[index]
    for a, b in zip(net.params(), net2.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (opt2.lr, opt2.step_count, opt2.decay_per_epoch, opt2.max_epochs) == (
        opt.lr,
        opt.step_count,
        opt.decay_per_epoch,
        opt.max_epochs,
    )
    for s1, s2 in zip(opt.state, opt2.state, strict=True):
        assert s1.keys() == s2.keys() == {"m", "v"}
        for key in s1:
            np.testing.assert_array_equal(s1[key], s2[key])
    # a checkpoint is also a model file, and can rebuild its own network
    np.testing.assert_array_equal(
        load(tmp_path / "c.ckpt.npz").predict(X), net.predict(X)
    )
    assert load_checkpoint(tmp_path / "c.ckpt.npz").net.built


def test_checkpoint_for_another_optimizer_is_refused(tmp_path: Path) -> None:
    net, opt = trained_mlp(), SGDMomentum(0.1)
    Trainer(net, opt)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)
    with pytest.raises(
        ModelFileError, match="state of a 'sgd_momentum' optimizer, not of 'adam'"
    ):
        load_checkpoint(tmp_path / "c.ckpt.npz", net=mlp(dropout=0.8), optimizer=Adam())


def test_model_file_is_not_a_checkpoint(model_file: Path) -> None:
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        load_checkpoint(model_file)
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        Trainer(mlp(dropout=0.8), SGD()).fit(
            *classification_data(), epochs=2, verbose=False, resume=model_file
        )


# -- resuming training -----------------------------------------------------------------


def dense_bn(dtype: Any) -> NeuralNetwork:
    return NeuralNetwork(
        [
            Dense(8, "relu", weight_init="he"),
            layer_from_config({"type": "batchnorm"}),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=4,
        dtype=dtype,
    )


def run(
    make_net: Any,
    make_opt: Any,
    epochs: int,
    checkpoint_dir: Path | None = None,
    resume: Path | None = None,
    interrupt_at: int | None = None,
    **kwargs: Any,
) -> tuple[NeuralNetwork, Any]:
    X, y = classification_data(n=90)
    Xv, yv = classification_data(n=30, seed=5)
    net = make_net()
    trainer = Trainer(net, make_opt(), checkpoint_dir=checkpoint_dir)
    if interrupt_at is not None:
        calls = {"n": 0}
        step = net.train_batch

        def train_batch(
            xb: np.ndarray, yb: np.ndarray, inference: bool = False
        ) -> float:
            calls["n"] += 1
            if calls["n"] == interrupt_at:
                raise KeyboardInterrupt
            return step(xb, yb, inference)

        net.train_batch = train_batch  # type: ignore[method-assign]
    options: dict[str, Any] = dict(
        epochs=epochs, eval_every=1, batch_size=16, seed=11, verbose=False, patience=3
    )
    options.update(kwargs)
    try:
        history = trainer.fit(X, y, Xv, yv, resume=resume, **options)
    except KeyboardInterrupt:  # fit restores, keeps its history, raises again
        if interrupt_at is None:
            raise
        history = trainer.history
    return net, history


def same_run(a: tuple[NeuralNetwork, Any], b: tuple[NeuralNetwork, Any]) -> None:
    (net_a, hist_a), (net_b, hist_b) = a, b
    for (name, x), (_, z) in zip(
        net_a.state_dict().items(), net_b.state_dict().items(), strict=True
    ):
        assert np.array_equal(x, z), name  # bit-identical, not approximately equal
    da, db = hist_a.to_dict(), hist_b.to_dict()
    da.pop("epoch_time"), db.pop("epoch_time")
    assert da == db


@pytest.mark.parametrize(
    "make_net",
    [
        pytest.param(lambda: mlp(np.float64, dropout=0.8), id="dense-dropout-float64"),
        pytest.param(lambda: mlp(np.float32, dropout=0.8), id="dense-dropout-float32"),
        pytest.param(
            lambda: dense_bn(np.float64),
            id="batchnorm",
            marks=pytest.mark.skipif("batchnorm" not in LAYERS, reason="no BatchNorm"),
        ),
    ],
)
def test_three_epochs_then_resume_to_six_equals_six(
    tmp_path: Path, make_net: Any
) -> None:
    def make_opt() -> Adam:
        return Adam(0.01)

    uninterrupted = run(make_net, make_opt, 6)
    run(make_net, make_opt, 3, checkpoint_dir=tmp_path)
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 3
    resumed = run(
        make_net, make_opt, 6, resume=tmp_path / LAST_CHECKPOINT_FILE, seed=12345
    )  # the seed is ignored: the generator state is restored
    same_run(uninterrupted, resumed)


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """Momentum, exponential decay and dropout: Ctrl-C in epoch 4, resume to 6."""

    def make_opt() -> SGDMomentum:
        return SGDMomentum(0.1, momentum=0.9, final_lr=0.01, decay_type="exponential")

    def make_net() -> NeuralNetwork:
        return mlp(np.float64, dropout=0.8)

    uninterrupted = run(make_net, make_opt, 6)
    batches = 6  # 90 samples in batches of 16
    _, stopped = run(
        make_net, make_opt, 6, checkpoint_dir=tmp_path, interrupt_at=3 * batches + 2
    )
    assert (stopped.stop_reason, stopped.stopped_epoch, stopped.stopped_batch) == (
        "interrupted",
        4,
        1,
    )
    resumed = run(
        make_net,
        make_opt,
        6,
        checkpoint_dir=tmp_path,
        resume=tmp_path / LAST_CHECKPOINT_FILE,
    )
    same_run(uninterrupted, resumed)
    assert read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]["epoch"] == 6


def test_resume_with_early_stopping_matches(tmp_path: Path) -> None:
    """Early stopping's count and the best parameters survive the checkpoint."""

    def make_opt() -> SGD:
        return SGD(0.5)

    kwargs: dict[str, Any] = dict(patience=2, min_delta=0.05)
    uninterrupted = run(mlp, make_opt, 10, **kwargs)
    history = uninterrupted[1]
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch is not None and history.best_epoch < history.stopped_epoch
    stop = history.stopped_epoch
    # interrupted in the last epoch: the checkpoint holds one bad evaluation already
    run(
        mlp,
        make_opt,
        10,
        checkpoint_dir=tmp_path,
        interrupt_at=(stop - 1) * 6 + 1,
        **kwargs,
    )
    training = read_header(tmp_path / LAST_CHECKPOINT_FILE)["training"]
    assert (training["epoch"], training["bad_evals"]) == (stop - 1, 1)
    resumed = run(mlp, make_opt, 10, resume=tmp_path / LAST_CHECKPOINT_FILE, **kwargs)
    same_run(uninterrupted, resumed)


def test_checkpoint_dir_files(tmp_path: Path) -> None:
    net, history = run(mlp, lambda: SGD(0.1), 4, checkpoint_dir=tmp_path / "ckpt")
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["best.npz", "last.ckpt.npz"]
    best = load(tmp_path / "ckpt" / "best.npz")
    # fit ends holding the best evaluation's parameters: the ones in best.npz
    for a, b in zip(best.params(), net.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    training = read_header(tmp_path / "ckpt" / "last.ckpt.npz")["training"]
    assert (
        training["epoch"] == 4
        and training["history"]["best_epoch"] == history.best_epoch
    )


def test_resume_with_other_settings_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run(mlp, lambda: SGD(0.1), 2, checkpoint_dir=tmp_path)
    with caplog.at_level("WARNING", logger="lincoln.train"):
        run(
            mlp,
            lambda: SGD(0.2),
            3,
            resume=tmp_path / LAST_CHECKPOINT_FILE,
            batch_size=8,
        )
    assert "batch_size=16 -> 8" in caplog.text
    assert "optimizer {'lr': 0.1} -> {'lr': 0.2}" in caplog.text


def test_resume_into_another_architecture_fails_cleanly(tmp_path: Path) -> None:
    run(mlp, lambda: SGD(0.1), 2, checkpoint_dir=tmp_path)
    with pytest.raises(
        ModelFileError,
        match=r"layer 0 differs: the file has Dense\(neurons=8, activation='tanh'\), "
        r"this network has Dense\(neurons=5, activation='linear'\)",
    ):
        run(
            lambda: NeuralNetwork(
                [Dense(5, "linear"), Dense(3, "linear")],
                SoftmaxCrossEntropy(),
                dtype=np.float64,
            ),
            lambda: SGD(0.1),
            3,
            resume=tmp_path / LAST_CHECKPOINT_FILE,
        )


def test_serialization_module_exports() -> None:
    for name in serialization.__all__:
        assert hasattr(serialization, name)


def test_resume_from_a_checkpoint_without_training_state(tmp_path: Path) -> None:
    net, opt = trained_mlp(), SGD(0.1)
    save_checkpoint(tmp_path / "c.ckpt.npz", net, opt)  # no training entry
    fresh = mlp(dropout=0.8)
    fresh.build((6,))
    before = [p.copy() for p in fresh.params()]
    with pytest.raises(ModelFileError, match="holds no training state 'bad_evals'"):
        Trainer(fresh, SGD(0.1)).fit(
            *classification_data(),
            epochs=2,
            verbose=False,
            restart=False,
            resume=tmp_path / "c.ckpt.npz",
        )
    for got, want in zip(fresh.params(), before, strict=True):
        np.testing.assert_array_equal(got, want)  # nothing was changed


def test_save_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no folder"):
        mlp().save(tmp_path / "nowhere" / "m.npz")
    assert list(tmp_path.iterdir()) == []


class MyDense(Dense):
    """A user's layer, not registered in LAYERS."""


def test_unregistered_layer_saves_weights_but_cannot_be_rebuilt(tmp_path: Path) -> None:
    def make(seed: int) -> NeuralNetwork:
        layers = [MyDense(4, "tanh"), Dense(3, "linear")]
        return NeuralNetwork(layers, SoftmaxCrossEntropy(), seed=seed)

    net = make(1)
    net.build((6,))
    net.save(tmp_path / "m.npz")
    with pytest.raises(
        ModelFileError,
        match=r"layer 0 \(MyDense\) cannot be rebuilt.*"
        r"register_layer.*load_weights",
    ):
        load(tmp_path / "m.npz")
    again = make(2)  # other initial weights
    assert not np.array_equal(
        again.predict(np.ones((1, 6))), net.predict(np.ones((1, 6)))
    )
    again.load_weights(tmp_path / "m.npz")
    X, _ = classification_data(n=5)
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
