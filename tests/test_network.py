"""Tests of lincoln.network: construction checks, forward/backward, params, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.activations import Sigmoid
from lincoln.errors import ConfigError, DataError, ShapeError
from lincoln.gradcheck import check_network
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork


def _net(**kwargs) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(5, "sigmoid"), Dense(2, "linear")], MeanSquaredError(), **kwargs
    )


def test_empty_layers() -> None:
    with pytest.raises(
        ConfigError, match=r"NeuralNetwork: layers must be a non-empty list"
    ):
        NeuralNetwork([], MeanSquaredError())


@pytest.mark.parametrize("bad", [Sigmoid(), Dense, "dense"])
def test_layers_must_be_layer_instances(bad) -> None:
    with pytest.raises(
        ConfigError,
        match=r"NeuralNetwork: layers\[1\] must be a Layer, "
        rf"received {type(bad).__name__}",
    ):
        NeuralNetwork([Dense(3, "linear"), bad], MeanSquaredError())


@pytest.mark.parametrize("bad", ["mse", 3, Dense])
def test_loss_must_be_a_loss_instance(bad) -> None:
    with pytest.raises(
        ConfigError, match=r"NeuralNetwork: loss must be a Loss instance"
    ):
        NeuralNetwork([Dense(3, "linear")], bad)


@pytest.mark.parametrize("dtype", [int, np.int32, np.float16, "banana"])
def test_dtype_must_be_float32_or_float64(dtype) -> None:
    with pytest.raises(
        ConfigError, match=r"NeuralNetwork: dtype must be float32 or float64"
    ):
        NeuralNetwork([Dense(3, "linear")], MeanSquaredError(), dtype=dtype)


@pytest.mark.parametrize("seed", [1.5, "1", True, -1])
def test_seed_must_be_an_int_or_none(seed) -> None:
    with pytest.raises(
        ConfigError, match=r"NeuralNetwork: seed must be a non-negative integer or None"
    ):
        NeuralNetwork([Dense(3, "linear")], MeanSquaredError(), seed=seed)


def test_forward_backward_and_param_grads(rng) -> None:
    net = _net(dtype=np.float64)
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    assert net.params() == [] and not net.built
    loss = net.train_batch(X, y)
    assert net.built
    assert loss == pytest.approx(net.forward_loss(X, y))
    assert [p.shape for p in net.params()] == [(3, 5), (1, 5), (5, 2), (1, 2)]
    assert [g.shape for g in net.param_grads()] == [p.shape for p in net.params()]
    assert net.count_params() == 15 + 5 + 10 + 2
    assert check_network(net, X, y).passed


def test_params_are_the_arrays_themselves(rng) -> None:
    net = _net()
    net.forward(rng.standard_normal((2, 3)))
    net.params()[0][...] = 0.0
    assert not net.layers[0].params[0].any()
    assert not net.layers[0].operations[0].param.any()


def test_first_layer_does_not_compute_the_data_gradient(rng) -> None:
    net = _net(dtype=np.float64)
    net.train_batch(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))
    assert net.layers[0].operations[0].input_grad is None
    assert net.layers[1].operations[0].input_grad is not None


def test_same_seed_same_weights_different_seed_different_weights(rng) -> None:
    X = rng.standard_normal((2, 3))
    a, b, c = _net(seed=7), _net(seed=7), _net(seed=8)
    for net in (a, b, c):
        net.forward(X)
    for p, q in zip(a.params(), b.params(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.params()[0], c.params()[0])


def test_layers_of_one_network_get_different_streams(rng) -> None:
    net = NeuralNetwork(
        [Dense(4, "linear"), Dense(4, "linear")], MeanSquaredError(), seed=3
    )
    net.forward(rng.standard_normal((1, 4)))
    assert not np.array_equal(net.params()[0], net.params()[2])


def test_float32_network_computes_in_float32(rng) -> None:
    net = _net()
    out = net.forward(rng.standard_normal((3, 3)))  # float64 input is cast
    assert net.dtype == np.float32 and out.dtype == np.float32
    assert all(p.dtype == np.float32 for p in net.params())
    net.train_batch(rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))
    assert all(g.dtype == np.float32 for g in net.param_grads())


def test_one_activation_instance_shared_by_two_layers_is_unshared(rng) -> None:
    act = Sigmoid()
    net = NeuralNetwork(
        [Dense(4, act), Dense(4, act), Dense(1, "linear")],
        MeanSquaredError(),
        dtype=np.float64,
    )
    assert net.layers[0].activation is not net.layers[1].activation
    X, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 1))
    assert check_network(net, X, y).passed


def test_inputs_need_a_batch_axis_and_numbers(rng) -> None:
    net = _net()
    with pytest.raises(
        ShapeError, match=r"NeuralNetwork: inputs must have a batch axis"
    ):
        net.forward(np.zeros(3))
    with pytest.raises(DataError, match=r"NeuralNetwork: inputs must be numeric"):
        net.forward(np.array([["a", "b", "c"]]))


def test_predict_in_batches_equals_one_forward(rng) -> None:
    net = NeuralNetwork(
        [Dense(8, "relu", dropout=0.5), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        dtype=np.float64,
    )
    X = rng.standard_normal((10, 4))
    whole = net.predict(X)
    np.testing.assert_allclose(net.predict(X, batch_size=3), whole, rtol=1e-12)
    np.testing.assert_array_equal(net.forward(X, inference=True), whole)  # no dropout
    with pytest.raises(
        ConfigError, match=r"predict: batch_size must be a positive integer"
    ):
        net.predict(X, batch_size=0)


def test_build_and_repr(rng) -> None:
    net = _net()
    assert "not built" in repr(net)
    net.build((3,))
    assert net.built
    text = repr(net)
    assert text.splitlines()[0].startswith("NeuralNetwork(dtype=float32")
    assert "(0) Dense(neurons=5, activation='sigmoid'" in text
    assert "total: 32 parameters" in text
