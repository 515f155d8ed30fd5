"""lincoln.summary: the table of layers, shapes and parameter counts."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lincoln import (
    ConfigError,
    Dense,
    NeuralNetwork,
    Operation,
    ShapeError,
    SoftmaxCrossEntropy,
)
from lincoln.summary import layer_rows, print_summary, summary


def mlp() -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(64, activation="relu", weight_init="he"), Dense(10, "linear")],
        SoftmaxCrossEntropy(),
        seed=190119,
    )


def test_table_lists_layers_operations_shapes_and_counts() -> None:
    text = summary(mlp(), input_shape=(64,))
    lines = text.splitlines()
    assert lines[0] == "NeuralNetwork: float32, loss SoftmaxCrossEntropy(), seed 190119"
    header = next(line for line in lines if line.startswith("#"))
    for column in ("Layer", "Output shape", "Params"):
        assert column in header
    row0 = next(line for line in lines if line.startswith("0  Dense(neurons=64"))
    assert "(64,)" in row0 and row0.endswith("4,160")  # 64*64 + 64
    row1 = next(line for line in lines if line.startswith("1  Dense(neurons=10"))
    assert "(10,)" in row1 and row1.endswith("650")  # 64*10 + 10
    assert "WeightMultiply(64x64) -> BiasAdd(1x64) -> ReLU" in text
    assert "WeightMultiply(64x10) -> BiasAdd(1x10) -> Linear" in text
    assert "Total params: 4,810 (18.8 KB)" in text  # float32: 4 bytes each
    assert "Trainable params: 4,810" in text
    assert "Non-trainable params: 0" in text


def test_unbuilt_network_is_built_from_input_shape() -> None:
    net = mlp()
    assert not net.built
    summary(net, input_shape=(64,))
    assert net.built and net.count_params() == 4810
    assert net.layers[0].params[0].shape == (64, 64)


def test_int_input_shape_means_one_axis() -> None:
    assert "Total params: 4,810" in summary(mlp(), 64)


def test_built_network_needs_no_input_shape() -> None:
    net = mlp()
    net.forward(np.zeros((3, 64)))
    assert summary(net) == summary(net, (64,))


def test_neither_built_nor_input_shape_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"not built yet.*input_shape=\(64,\)"):
        summary(mlp())


@pytest.mark.parametrize("bad", [(), (0,), (64, -1), "64", (2.5,), (True,)])
def test_bad_input_shape_is_rejected(bad: object) -> None:
    with pytest.raises(ConfigError, match="input_shape must be the per-sample shape"):
        summary(mlp(), bad)


def test_input_shape_other_than_the_built_one_is_a_shape_error() -> None:
    net = mlp()
    net.build((64,))
    with pytest.raises(ShapeError, match=r"built for inputs of shape \(64,\).*\(32,\)"):
        summary(net, (32,))


def test_image_input_into_dense_says_what_to_do() -> None:
    with pytest.raises(ShapeError, match="Flatten"):
        summary(mlp(), (1, 8, 8))


def test_not_a_network_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="NeuralNetwork"):
        summary("net")  # type: ignore[arg-type]


def test_float64_bytes_and_dropout_operation() -> None:
    net = NeuralNetwork(
        [Dense(10, "relu", dropout=0.8), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        dtype=np.float64,
    )
    text = summary(net, (4,))
    assert "Total params: 83 (664 B)" in text
    assert "ReLU -> Dropout" in text


def test_conv_net_shows_per_sample_image_shapes_and_buffers() -> None:
    from lincoln import layers

    net = NeuralNetwork(
        [
            layers.Conv2D(out_channels=4, param_size=3, activation="relu"),
            layers.BatchNorm(),
            layers.MaxPool2D(pool_size=2),
            layers.Flatten(),
            Dense(10, "linear"),
        ],
        SoftmaxCrossEntropy(),
    )
    assert not net.built
    text = summary(net, (1, 8, 8))
    rows = layer_rows(net)
    assert [r["output_shape"] for r in rows] == [
        (4, 8, 8),
        (4, 8, 8),
        (4, 4, 4),
        (64,),
        (10,),
    ]
    assert [r["params"] for r in rows] == [4 * 9 + 4, 8, 0, 0, 650]
    assert rows[1]["non_trainable"] == 8  # running mean and variance of 4 channels
    assert "   input" in text and "(1, 8, 8)" in text
    assert "Trainable params: 698" in text
    assert "Non-trainable params: 8" in text
    assert "Total params: 706" in text


class Softplus(Operation):
    def _output(self):  # type: ignore[override]
        return np.logaddexp(0.0, self.input_)

    def _input_grad(self, output_grad):  # type: ignore[override]
        return output_grad * np.exp(self.input_ - self.output)


def test_a_users_own_activation_still_prints() -> None:
    # Dense cannot name an unregistered activation in its config: still print
    net = NeuralNetwork(
        [Dense(5, activation=Softplus()), Dense(2, "linear")], SoftmaxCrossEntropy()
    )
    text = summary(net, (3,))
    assert "Dense(neurons=5, activation=Softplus()" in text
    assert "BiasAdd(1x5) -> Softplus" in text


def test_print_summary_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    net = mlp()
    print_summary(net, (64,))
    assert capsys.readouterr().out == summary(net) + "\n"
    buffer = io.StringIO()
    print_summary(net, file=buffer)
    assert buffer.getvalue() == summary(net) + "\n"


class Centered(Operation):
    """Subtracts a running mean it declares as a buffer (and never trains)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.mean = np.zeros((1, features))

    def _output(self) -> np.ndarray:
        return self.input_ - self.mean

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad

    def buffers(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean}


class CenteredDense(Dense):
    """A Dense with a user's Centered operation in front of its weights."""

    def _setup_layer(self, input_: np.ndarray) -> None:
        super()._setup_layer(input_)
        self.operations.insert(0, Centered(input_.shape[1]))


def test_non_trainable_counts_come_from_declared_buffers() -> None:
    net = NeuralNetwork([CenteredDense(5, "tanh"), Dense(2)], SoftmaxCrossEntropy())
    text = summary(net, (3,))
    assert "Centered -> WeightMultiply(3x5) -> BiasAdd(1x5) -> Tanh" in text
    assert "20 + 3" in text
    assert "Non-trainable params: 3 (buffers" in text
    assert [r["non_trainable"] for r in layer_rows(net)] == [3, 0]
