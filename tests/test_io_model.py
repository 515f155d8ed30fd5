"""Model files: lincoln.io.model (save, load, load_weights, the architecture check)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from io_helpers import classification_data, mlp, registered, rewrite, trained_mlp

from lincoln import serialization
from lincoln.base import Operation, ParamOperation
from lincoln.errors import ModelFileError
from lincoln.io import load, read_header
from lincoln.layers import LAYERS, Dense, layer_from_config
from lincoln.layers.base import Layer
from lincoln.layers.init import child_generator
from lincoln.losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD
from lincoln.registry import ACTIVATIONS, LOSSES
from lincoln.train import Trainer

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


def test_a_corrupt_generator_state_is_found_before_anything_changes(
    tmp_path: Path,
) -> None:
    """Every check, generator states included, comes before the first copy."""

    def corrupt(h: dict[str, Any]) -> None:
        h["generators"]["layers.0.operations.3.rng"]["state"] = 7

    trained_mlp().save(tmp_path / "model.npz")
    rewrite(tmp_path / "model.npz", tmp_path / "m.npz", corrupt)
    net = mlp(dropout=0.8, seed=3)
    net.build((6,))
    before = {k: v.copy() for k, v in net.state_dict().items()}
    gen_before = dict(net.named_generators())["layers.0.operations.3.rng"]
    state_before = gen_before.bit_generator.state
    with pytest.raises(ModelFileError, match="corrupt state of random generator"):
        net.load_weights(tmp_path / "m.npz")
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert gen_before.bit_generator.state == state_before


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
        r"network has MeanSquaredError\(\)$",
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
        r"LAYERS\.register\('name', MyDense\).*load_weights",
    ):
        load(tmp_path / "m.npz")
    again = make(2)  # other initial weights
    assert not np.array_equal(
        again.predict(np.ones((1, 6))), net.predict(np.ones((1, 6)))
    )
    again.load_weights(tmp_path / "m.npz")
    X, _ = classification_data(n=5)
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


def test_unknown_layer_type_lists_the_known_ones(tmp_path: Path) -> None:
    trained_mlp().save(tmp_path / "model.npz")
    rewrite(
        tmp_path / "model.npz",
        tmp_path / "m.npz",
        lambda h: h["network"]["layers"][0].update(type="capsule"),
    )
    with pytest.raises(
        ModelFileError,
        match=r"layer 0: unknown layer type 'capsule'; choose one of: .*dense",
    ):
        load(tmp_path / "m.npz")


def test_serialization_module_exports() -> None:
    for name in serialization.__all__:
        assert hasattr(serialization, name)


# -- files written by lincoln 0.1 ------------------------------------------------------

DATA = Path(__file__).parent / "data"  # written by tests/data/make_v01_files.py


def v01_cnn() -> NeuralNetwork:
    """The network of v0.1-cnn.npz, declared in code as 0.1 declared it."""
    conv = {"type": "conv2d", "out_channels": 2, "param_size": 3, "padding": "same"}
    return NeuralNetwork(
        [
            layer_from_config(
                {
                    **conv,
                    "dropout": 0.9,
                    "activation": {"type": "leaky_relu", "alpha": 0.2},
                }
            ),
            layer_from_config({"type": "batchnorm", "momentum": 0.8}),
            layer_from_config({"type": "maxpool2d", "pool_size": 2}),
            layer_from_config({"type": "flatten"}),
            Dense(4, "tanh", dropout=0.8, weight_init="glorot"),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=11,
        dtype=np.float32,
    )


def test_a_v0_1_model_file_loads_and_is_written_alike(tmp_path: Path) -> None:
    expected = np.load(DATA / "v0.1-expected.npz")
    X = expected["X_cnn"]
    for net in (load(DATA / "v0.1-cnn.npz"), v01_cnn()):
        net.load_weights(DATA / "v0.1-cnn.npz")
        # the running statistics and weights: 0.1's predictions
        np.testing.assert_allclose(
            net.predict(X), expected["cnn_predict"], rtol=1e-5, atol=1e-6
        )
        # the dropout generators continue where 0.1 left them: its next masks
        np.testing.assert_allclose(
            net.forward(X), expected["cnn_train"], rtol=1e-5, atol=1e-6
        )
    # saved again, the file has 0.1's layout: names of arrays and generators,
    # and the network entry
    v01 = read_header(DATA / "v0.1-cnn.npz")
    load(DATA / "v0.1-cnn.npz").save(tmp_path / "again.npz")
    again = read_header(tmp_path / "again.npz")
    for key in ("format", "format_version", "kind", "network", "arrays"):
        assert again[key] == v01[key], key
    assert again["generators"].keys() == v01["generators"].keys()


# -- a user's classes, registered, save and load like built-in ones --------------------


class Swish(Operation):
    """A user's activation with an argument: ``x * sigmoid(beta x)``."""

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = beta

    def _sigmoid(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.beta * self.input_))

    def _output(self) -> np.ndarray:
        return self.input_ * self._sigmoid()

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        s = self._sigmoid()
        return output_grad * (s + self.beta * self.input_ * s * (1.0 - s))

    def get_config(self) -> dict[str, Any]:
        return {"beta": self.beta}


def swish_net(beta: float) -> NeuralNetwork:
    layers = [Dense(5, Swish(beta=beta)), Dense(3, "linear")]
    return NeuralNetwork(layers, SoftmaxCrossEntropy(), seed=3, dtype=np.float64)


def test_a_registered_user_activation_saves_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with registered(ACTIVATIONS, "swish", Swish):
        net = swish_net(1.5)
        net.build((4,))
        net.save(path)
        entry = read_header(path)["network"]["layers"][0]
        assert entry["activation"] == {"type": "swish", "beta": 1.5}
        again = load(path)
        activation = again.layers[0].activation  # type: ignore[attr-defined]
        assert type(activation) is Swish and activation.beta == 1.5
        X = np.random.default_rng(0).normal(size=(6, 4))
        np.testing.assert_array_equal(again.predict(X), net.predict(X))
        swish_net(1.5).load_weights(path)
        refused(
            swish_net(2.0),
            path,
            r"layer 0 differs: the file has Dense\(activation=\{'type': 'swish', "
            r"'beta': 1\.5\}\), this network has Dense\(activation=\{'type': "
            r"'swish', 'beta': 2\.0\}\)",
        )


class Scale(ParamOperation):
    """``x * w`` with one weight per feature."""

    def _output(self) -> np.ndarray:
        return self.input_ * self.param

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.param

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return (output_grad * self.input_).sum(axis=0, keepdims=True)


class Jitter(Operation):
    """Gaussian noise in training; declares its generator and a buffer."""

    def __init__(self, sigma: float, rng: np.random.Generator) -> None:
        self.sigma, self.rng = sigma, rng
        self.batches = np.zeros(1)

    def _output(self, inference: bool) -> np.ndarray:
        if inference:
            return self.input_
        self.batches += 1
        noise = self.rng.standard_normal(self.input_.shape)
        return self.input_ + (self.sigma * noise).astype(self.input_.dtype)

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad

    def buffers(self) -> dict[str, np.ndarray]:
        return {"batches": self.batches}

    def generators(self) -> dict[str, np.random.Generator]:
        return {"rng": self.rng}


class ScaleLayer(Layer):
    """A user's layer: a learned scale per feature, then noise in training."""

    width_from_input = True

    def __init__(self, sigma: float = 0.1) -> None:
        super().__init__()
        self.sigma = sigma

    def _setup_layer(self, input_: np.ndarray) -> None:
        rng = self.rng()
        w = (1.0 + 0.1 * rng.standard_normal((1, input_.shape[1]))).astype(self.dtype)
        self.params = [w]
        self.operations = [Scale(w), Jitter(self.sigma, child_generator(rng))]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {"sigma": self.sigma}


def scale_net(sigma: float, seed: int = 4) -> NeuralNetwork:
    layers = [ScaleLayer(sigma), Dense(3, "linear")]
    return NeuralNetwork(layers, SoftmaxCrossEntropy(), seed=seed)


def test_a_registered_user_layer_saves_and_loads_with_its_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.npz"
    X, y = classification_data(n=32)
    with registered(LAYERS, "scale", ScaleLayer):
        net = scale_net(0.5)
        Trainer(net, SGD(0.1)).fit(X, y, epochs=2, batch_size=8, verbose=False)
        net.save(path)
        header = read_header(path)
        assert header["network"]["layers"][0] == {"type": "scale", "sigma": 0.5}
        assert list(header["generators"]) == ["layers.0.operations.1.rng"]
        assert "layers.0.buffers.batches" in header["arrays"]
        for again in (load(path), scale_net(0.5, seed=9)):
            again.load_weights(path)
            assert type(again.layers[0]) is ScaleLayer
            np.testing.assert_array_equal(again.predict(X), net.predict(X))
            buffers = dict(again.named_buffers())
            np.testing.assert_array_equal(buffers["layers.0.buffers.batches"], [8])
        # the noise goes on where it was: the next training outputs agree
        np.testing.assert_array_equal(again.forward(X), net.forward(X))
        refused(
            scale_net(0.7),
            path,
            r"layer 0 differs: the file has ScaleLayer\(sigma=0\.5\), this network "
            r"has ScaleLayer\(sigma=0\.7\)",
        )


class Huber(Loss):
    """A user's loss with an argument."""

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        self.delta = delta

    def _output(self) -> float:
        d = np.abs(self.prediction - self.target)
        quadratic = np.minimum(d, self.delta)
        return float(np.sum(0.5 * quadratic**2 + self.delta * (d - quadratic))) / len(d)

    def _input_grad(self) -> np.ndarray:
        d = self.prediction - self.target
        return np.clip(d, -self.delta, self.delta) / len(d)

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta}


def huber_net(delta: float) -> NeuralNetwork:
    layers = [Dense(4, "tanh"), Dense(1, "linear")]
    return NeuralNetwork(layers, Huber(delta), seed=5, dtype=np.float64)


def test_a_registered_user_loss_saves_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with registered(LOSSES, "huber", Huber):
        net = huber_net(0.5)
        net.build((4,))
        net.save(path)
        loss_entry = read_header(path)["network"]["loss"]
        assert loss_entry == {"type": "huber", "delta": 0.5}
        again = load(path)
        assert type(again.loss) is Huber and again.loss.delta == 0.5
        X, y = np.random.default_rng(0).normal(size=(6, 4)), np.ones((6, 1))
        assert again.forward_loss(X, y) == net.forward_loss(X, y)
        refused(
            huber_net(2.0),
            path,
            r"the loss differs: the file has Huber\(delta=0\.5\), this network has "
            r"Huber\(delta=2\.0\)$",
        )
