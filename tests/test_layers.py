"""Tests of lincoln.layers: lazy building, validation, shapes and initialization."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.activations import ReLU, Sigmoid
from lincoln.base import Operation
from lincoln.dense import BiasAdd, WeightMultiply
from lincoln.dropout import Dropout
from lincoln.errors import ConfigError, ShapeError
from lincoln.layers import LAYERS, Dense, Layer, layer_from_config
from lincoln.losses import MeanSquaredError
from lincoln.network import NeuralNetwork


class Cube(Operation):
    """A user's activation, not in the registry."""

    def _output(self) -> np.ndarray:
        return self.input_**3

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 3 * self.input_**2 * output_grad


@pytest.mark.parametrize("neurons", [0, -3, 2.5, "a", None, True])
def test_dense_neurons_must_be_a_positive_integer(neurons) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"Dense: neurons must be a positive integer, "
        rf"received neurons={neurons!r}",
    ):
        Dense(neurons=neurons)


def test_dense_accepts_numpy_integers() -> None:
    assert Dense(np.int64(3)).neurons == 3


def test_unknown_weight_init_lists_the_options() -> None:
    with pytest.raises(
        ConfigError,
        match=r"Dense: unknown weight_init 'xavier'; choose one of: "
        r"'standard', 'normal', 'glorot', 'he'",
    ):
        Dense(3, weight_init="xavier")


def test_unknown_activation_name() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown activation 'gelu'; choose one of: linear"
    ):
        Dense(3, activation="gelu")


@pytest.mark.parametrize("dropout", [0, -0.5, 1.5, "0.5"])
def test_dropout_must_be_a_keep_probability(dropout) -> None:
    with pytest.raises(
        ConfigError, match=r"Dropout: keep_prob \(the probability of keeping a unit"
    ):
        Dense(3, dropout=dropout)


def test_layer_is_built_on_its_first_forward(rng) -> None:
    layer = Dense(4, "sigmoid")
    assert layer.first and layer.params == [] and layer.operations == []
    out = layer.forward(rng.standard_normal((5, 3)))
    assert out.shape == (5, 4)
    assert not layer.first
    assert [p.shape for p in layer.params] == [(3, 4), (1, 4)]
    ops = layer.operations
    assert isinstance(ops[0], WeightMultiply) and isinstance(ops[1], BiasAdd)
    assert isinstance(ops[2], Sigmoid)
    assert ops[0].param is layer.params[0] and ops[1].param is layer.params[1]


def test_layer_fed_a_different_width_after_building(rng) -> None:
    layer = Dense(4)
    layer.forward(rng.standard_normal((5, 3)))
    with pytest.raises(
        ShapeError,
        match=r"Dense: built for inputs of shape \(batch, 3\), "
        r"received shape \(5, 6\) \(a layer takes the shape of its first input",
    ):
        layer.forward(rng.standard_normal((5, 6)))
    # a different batch size is fine
    assert layer.forward(rng.standard_normal((2, 3))).shape == (2, 4)


def test_rebuilding_with_first_true_gives_the_same_seeded_weights(rng) -> None:
    layer = Dense(4)
    layer.seed = 123
    layer.forward(rng.standard_normal((2, 3)))
    first = [p.copy() for p in layer.params]
    layer.first = True
    layer.forward(rng.standard_normal((2, 6)))
    assert layer.params[0].shape == (6, 4)
    layer.first = True
    layer.forward(rng.standard_normal((2, 3)))
    for a, b in zip(first, layer.params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dense_needs_2d_input(rng) -> None:
    with pytest.raises(
        ShapeError,
        match=r"Dense: input must be 2-D \(batch, features\), "
        r"received shape \(2, 1, 8, 8\)",
    ):
        Dense(3).forward(rng.standard_normal((2, 1, 8, 8)))


def test_layer_backward_checks_the_gradient_shape(rng) -> None:
    layer = Dense(4)
    layer.forward(rng.standard_normal((5, 3)))
    with pytest.raises(
        ShapeError,
        match=r"Dense: output_grad must have shape \(5, 4\), "
        r"received shape \(4, 5\)",
    ):
        layer.backward(np.ones((4, 5)))


def test_layer_backward_names_the_layer_for_any_wrong_output_grad(rng) -> None:
    layer = Dense(4)
    layer.forward(rng.standard_normal((5, 3)))
    with pytest.raises(
        ShapeError,
        match=r"^Dense: output_grad must have shape \(5, 4\), received list$",
    ):
        layer.backward([[1.0] * 4] * 5)
    assert layer.backward(np.ones((5, 4))).shape == (5, 3)  # and it still works


class WrongGrad(Operation):
    """A user's activation whose input gradient has the wrong shape."""

    def _output(self) -> np.ndarray:
        return self.input_

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad.T


def test_a_wrong_gradient_inside_a_layer_keeps_its_operations_message(rng) -> None:
    layer = Dense(4, WrongGrad())
    layer.forward(rng.standard_normal((5, 3)))
    with pytest.raises(
        ShapeError,
        match=r"^WrongGrad: the input gradient from _input_grad must have shape "
        r"\(5, 4\), received shape \(4, 5\)$",
    ):
        layer.backward(np.ones((5, 4)))


class Identity(Layer):
    """A layer without operations."""

    def _setup_layer(self, input_: np.ndarray) -> None:
        self.operations = []


def test_a_layer_without_operations_checks_output_grad(rng) -> None:
    layer = Identity(3)
    layer.forward(rng.standard_normal((2, 3)))
    with pytest.raises(ShapeError, match=r"^Identity: output_grad must have shape"):
        layer.backward(np.ones((3, 2)))
    g = np.ones((2, 3))
    assert layer.backward(g) is g


def test_layer_backward_fills_param_grads(rng) -> None:
    layer = Dense(4, "tanh")
    x = rng.standard_normal((5, 3))
    layer.forward(x)
    grad = layer.backward(np.ones((5, 4)))
    assert grad.shape == (5, 3)
    assert [g.shape for g in layer.param_grads] == [(3, 4), (1, 4)]


@pytest.mark.parametrize(
    ("init", "std"),
    [
        ("standard", lambda i, o: 1.0),
        ("glorot", lambda i, o: np.sqrt(2 / (i + o))),
        ("he", lambda i, o: np.sqrt(2 / i)),
    ],
)
def test_weight_init_scales(init: str, std, rng) -> None:
    layer = Dense(300, weight_init=init)
    layer.seed = 0
    layer.forward(rng.standard_normal((1, 200)))
    assert layer.params[0].std() == pytest.approx(std(200, 300), rel=0.02)


def test_parameters_take_the_layer_dtype(rng) -> None:
    layer = Dense(3)
    layer.dtype = np.dtype(np.float32)
    layer.forward(rng.standard_normal((2, 4)).astype(np.float32))
    assert all(p.dtype == np.float32 for p in layer.params)
    weights, bias = layer.operations[:2]
    assert weights.param is layer.params[0] and bias.param is layer.params[1]


def test_each_dense_gets_its_own_default_activation() -> None:
    # the book's default, Sigmoid, but never one instance shared by two layers
    a, b = Dense(2), Dense(2)
    assert isinstance(a.activation, Sigmoid) and a.activation is not b.activation


def test_dense_with_dropout_adds_a_dropout_operation(rng) -> None:
    layer = Dense(50, "relu", dropout=0.5)
    layer.forward(np.ones((4, 3)))
    assert isinstance(layer.operations[-1], Dropout)
    assert layer.operations[-1].keep_prob == 0.5
    train = layer.forward(np.ones((4, 3)))
    infer = layer.forward(np.ones((4, 3)), inference=True)
    assert (train == 0).sum() > (infer == 0).sum()


def test_layer_base_class_needs_setup_layer() -> None:
    class Bare(Layer):
        pass

    with pytest.raises(NotImplementedError, match=r"Bare must implement _setup_layer"):
        Bare(3).forward(np.ones((1, 2)))


def test_layer_from_config_round_trip_and_unknown_type() -> None:
    layer = Dense(7, "relu", weight_init="he", dropout=0.8)
    config = {"type": "dense", **layer.get_config()}
    rebuilt = layer_from_config(config)
    assert isinstance(rebuilt, Dense) and rebuilt.get_config() == layer.get_config()
    assert isinstance(rebuilt.activation, ReLU)
    with pytest.raises(
        ConfigError, match=r"unknown layer type 'conv'; choose one of: .*dense"
    ):
        layer_from_config({"type": "conv"})
    with pytest.raises(ConfigError, match=r"layer 'dense'"):
        layer_from_config({"type": "dense", "neurons": 3, "units": 3})
    assert LAYERS["dense"] is Dense


def test_repr() -> None:
    assert (
        repr(Dense(3, "relu"))
        == "Dense(neurons=3, activation='relu', weight_init='standard')"
    )


def test_repr_of_a_dense_with_a_user_activation_does_not_raise() -> None:
    """A user's (unregistered) activation must not break repr(layer) or repr(net)."""
    assert "Cube" in repr(Dense(3, activation=Cube()))
    net = NeuralNetwork([Dense(3, Cube()), Dense(2)], MeanSquaredError())
    assert "Cube" in repr(net)
