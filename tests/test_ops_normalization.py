"""Tests of lincoln.normalization and the BatchNorm layer in dense and
convolutional form: training and inference mode, the running statistics, and
the whole layer's gradients. The gradients of BatchNormalize (training and
inference), Scale and Shift are checked against central differences in float64
by test_gradcheck.py."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.errors import ConfigError, ShapeError
from lincoln.gradcheck import numerical_gradient
from lincoln.layers import BatchNorm
from lincoln.normalization import BatchNormalize, Scale, Shift


def stats(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(shape), np.ones(shape)


DENSE, CONV = (5, 4), (3, 2, 4, 5)
STAT_SHAPE = {DENSE: (1, 4), CONV: (1, 2, 1, 1)}


# -- operations ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_training_output_is_standardized(shape, rng):
    x = 5.0 + 3.0 * rng.standard_normal(shape)
    out = BatchNormalize(*stats(STAT_SHAPE[shape])).forward(x)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-4)


def test_running_statistics_follow_the_batches(rng):
    mean, var = stats((1, 3))
    op = BatchNormalize(mean, var, momentum=0.5)
    x = rng.standard_normal((10, 3))
    op.forward(x)
    np.testing.assert_allclose(mean, 0.5 * x.mean(axis=0, keepdims=True))
    # the variance is the unbiased estimate
    np.testing.assert_allclose(var, 0.5 + 0.5 * x.var(axis=0, ddof=1, keepdims=True))
    op.forward(x, inference=True)  # inference leaves them alone
    np.testing.assert_allclose(mean, 0.5 * x.mean(axis=0, keepdims=True))


def test_momentum_zero_keeps_the_last_batch(rng):
    mean, var = stats((1, 2, 1, 1))
    x = rng.standard_normal((4, 2, 3, 3))
    BatchNormalize(mean, var, momentum=0.0).forward(x)
    np.testing.assert_allclose(mean.ravel(), x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(var.ravel(), x.var(axis=(0, 2, 3), ddof=1))


def test_a_single_sample_leaves_the_running_statistics_alone(rng):
    mean, var = stats((1, 3))
    out = BatchNormalize(mean, var).forward(rng.standard_normal((1, 3)))
    assert np.all(np.isfinite(out))
    assert mean.tolist() == [[0.0, 0.0, 0.0]] and var.tolist() == [[1.0, 1.0, 1.0]]


def test_operation_errors():
    with pytest.raises(
        ShapeError, match="BatchNormalize: running_mean and running_var"
    ):
        BatchNormalize(np.zeros((1, 3)), np.ones((1, 4)))
    with pytest.raises(
        ShapeError, match="BatchNormalize: running_mean and running_var"
    ):
        BatchNormalize(np.zeros(3), np.ones(3))
    with pytest.raises(
        ShapeError, match=r"BatchNormalize: input must have shape \(batch, 3\)"
    ):
        BatchNormalize(*stats((1, 3))).forward(np.ones((2, 4)))
    with pytest.raises(
        ShapeError, match=r"Scale: input must have shape \(batch, 2, \*, \*\)"
    ):
        Scale(np.ones((1, 2, 1, 1))).forward(np.ones((2, 3, 4, 4)))
    with pytest.raises(ShapeError, match="Shift: beta must have shape"):
        Shift(np.ones((2, 3)))
    with pytest.raises(ConfigError, match="BatchNorm: momentum"):
        BatchNormalize(*stats((1, 3)), momentum=1.0)


# -- the layer -------------------------------------------------------------------------


def built(layer: BatchNorm, x: np.ndarray, dtype=np.float64) -> BatchNorm:
    layer.dtype = np.dtype(dtype)
    layer.forward(x.astype(dtype))
    return layer


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_layer_gradients(shape, rng):
    # the whole layer (normalize, scale, shift) with non-trivial gamma and beta
    x = 1.0 + rng.standard_normal(shape)
    layer = built(BatchNorm(), x)
    for p in layer.params:
        p[...] = rng.standard_normal(p.shape)
    out = layer.forward(x)
    g = rng.standard_normal(out.shape)
    input_grad = layer.backward(g).copy()
    param_grads = [p.copy() for p in layer.param_grads]

    def f(_: np.ndarray) -> float:
        return float(np.sum(g * layer.forward(x)))

    assert [p.shape for p in layer.params] == [STAT_SHAPE[shape]] * 2
    wrt = {"input": x, "gamma": layer.params[0], "beta": layer.params[1]}
    for (name, point), grad in zip(
        wrt.items(), [input_grad, *param_grads], strict=True
    ):
        np.testing.assert_allclose(
            grad, numerical_gradient(f, point), rtol=1e-5, atol=1e-7, err_msg=name
        )


def test_running_mean_converges_to_the_data_mean(rng):
    layer = BatchNorm(momentum=0.9)
    data_mean = np.array([3.0, -2.0, 0.5])
    data_std = np.array([2.0, 0.5, 1.0])
    for _ in range(200):
        layer.forward(data_mean + data_std * rng.standard_normal((32, 3)))
    buffers = layer.buffers()
    np.testing.assert_allclose(buffers["running_mean"].ravel(), data_mean, atol=0.15)
    np.testing.assert_allclose(buffers["running_var"].ravel(), data_std**2, rtol=0.15)


def test_inference_uses_the_running_statistics(rng):
    layer = BatchNorm()
    for _ in range(100):
        layer.forward(rng.standard_normal((16, 2, 3, 3)))
    shifted = 4.0 + rng.standard_normal((16, 2, 3, 3))
    training = layer.forward(shifted)  # standardized by its own statistics
    inference = layer.forward(shifted, inference=True)
    # the running statistics (mean about 0) leave the shift of about 4 in place
    assert abs(training.mean()) < 1e-6
    assert 3.0 < inference.mean() < 5.0
    mean, var = layer.buffers()["running_mean"], layer.buffers()["running_var"]
    np.testing.assert_allclose(inference, (shifted - mean) / np.sqrt(var + layer.eps))
    # and a sample's output does not depend on its batch
    np.testing.assert_allclose(
        layer.forward(shifted[:1], inference=True), inference[:1]
    )


def test_buffers_are_the_arrays_updated_in_place(rng):
    layer = BatchNorm()
    assert layer.buffers() == {}
    built(layer, rng.standard_normal((8, 3)), np.float32)
    buffers = layer.buffers()
    assert set(buffers) == {"running_mean", "running_var"}
    before = {k: v.copy() for k, v in buffers.items()}
    layer.forward(rng.standard_normal((8, 3)).astype(np.float32))
    after = layer.buffers()
    for name in buffers:
        assert after[name] is buffers[name]
        assert not np.array_equal(after[name], before[name])
        assert after[name].dtype == np.float32 and after[name].shape == (1, 3)


@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_layer_keeps_float32(shape, rng):
    layer = built(BatchNorm(), rng.standard_normal(shape), np.float32)
    for inference in (False, True):
        out = layer.forward(rng.standard_normal(shape).astype(np.float32), inference)
        grad = layer.backward(np.ones_like(out))
        assert out.dtype == grad.dtype == np.float32
        assert all(g.dtype == np.float32 for g in layer.param_grads)


def test_layer_shapes_and_config(rng):
    layer = BatchNorm(momentum=0.8, eps=1e-3)
    assert layer.get_config() == {"momentum": 0.8, "eps": 1e-3}
    assert repr(layer) == "BatchNorm(momentum=0.8, eps=0.001)"
    assert layer.output_shape((3, 5, 5)) == (3, 5, 5)
    assert layer.output_shape((7,)) == (7,)
    built(layer, rng.standard_normal((4, 3, 5, 5)))
    assert layer.neurons == 75
    with pytest.raises(ShapeError, match="BatchNorm: built for inputs of shape"):
        layer.forward(rng.standard_normal((4, 2, 5, 5)))
    with pytest.raises(ShapeError, match="BatchNorm: input must be"):
        BatchNorm().forward(rng.standard_normal((4, 3, 5)))
    with pytest.raises(
        ShapeError, match=r"BatchNorm: input must be \(batch, features\)"
    ):
        BatchNorm().output_shape((3, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"momentum": 1.0},
            "BatchNorm: momentum .* must be in \\[0, 1\\), received momentum=1.0",
        ),
        ({"momentum": -0.1}, "received momentum=-0.1"),
        ({"momentum": "high"}, "received momentum='high'"),
        ({"eps": 0}, "BatchNorm: eps must be a positive number, received eps=0"),
        ({"eps": float("nan")}, "received eps=nan"),
    ],
)
def test_layer_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BatchNorm(**kwargs)
