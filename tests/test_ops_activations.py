"""Tests of lincoln.activations: values, gradients, stability, the name registry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lincoln.activations import (
    ACTIVATIONS,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
    activation_name,
    get_activation,
)
from lincoln.errors import ConfigError

ALL = [Linear, Sigmoid, Tanh, ReLU, LeakyReLU]


def test_relu_gradient_is_zero_where_the_input_is_negative() -> None:
    """Regression: the book's published ReLU passed every gradient through."""
    x = np.array([[-2.0, -0.1, 0.1, 3.0], [5.0, -7.0, 1e-3, -1e-3]])
    relu = ReLU()
    relu.forward(x)
    grad = relu.backward(np.full_like(x, 4.0))
    np.testing.assert_array_equal(grad[x < 0], 0.0)
    np.testing.assert_array_equal(grad[x > 0], 4.0)


def test_relu_gradient_at_zero_is_zero() -> None:
    relu = ReLU()
    relu.forward(np.zeros((1, 2)))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 2))), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_over_steps_in_any_memory_order_matches_numpy(rng, dtype) -> None:
    # the same op over several steps and shapes, on NCHW views of batch-last
    # memory and on plain arrays: the zeros it compares against stay zero and
    # its reused buffers never leak one step's values into the next
    relu = ReLU()
    for shape, batch_last in [
        ((4, 3, 5, 6), True),
        ((4, 3, 5, 6), False),
        ((4, 3, 5, 6), True),
        ((2, 7), False),
    ]:
        x = rng.standard_normal(shape).astype(dtype)
        if batch_last:
            x = np.ascontiguousarray(np.moveaxis(x, 0, -1))
            x = np.moveaxis(x, -1, 0)
        x.flat[:3] = [np.nan, -0.0, np.inf]
        kept = x.copy()
        g = rng.standard_normal(shape).astype(dtype)
        out = relu.forward(x)
        np.testing.assert_array_equal(out, np.maximum(x, 0))
        assert out.strides == x.strides  # in the input's memory order
        np.testing.assert_array_equal(relu.backward(g), g * (x > 0))
        np.testing.assert_array_equal(x, kept)  # the input is never written


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_relu_gradient_is_element_wise_for_numpy_matrices() -> None:
    x = np.matrix([[1.0, 2.0], [3.0, -4.0]])
    g = np.matrix([[10.0, 20.0], [30.0, 40.0]])
    relu = ReLU()
    relu.forward(x)
    np.testing.assert_array_equal(relu.backward(g), [[10.0, 20.0], [30.0, 0.0]])


def test_relu_keeps_no_zeros_for_prediction(rng) -> None:
    # prediction batches can be large: the array of zeros ReLU compares
    # against is kept in training only
    import tracemalloc

    x = rng.standard_normal((256, 1024))
    relu = ReLU()
    tracemalloc.start()
    out = relu.forward(x, inference=True)
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    assert kept < 1.5 * x.nbytes  # the output only
    relu.forward(x)
    relu.backward(np.ones_like(x))
    assert not relu._buffers.zeros_like(x).any()


def test_recycler_zeros_are_read_only_and_kept_per_layout() -> None:
    from lincoln.ops.buffers import Recycler

    bin = Recycler()
    x = np.ones((2, 3, 4), dtype=np.float32)
    zeros = bin.zeros_like(x)
    assert not zeros.any() and zeros.dtype == np.float32
    assert not zeros.flags.writeable
    with pytest.raises(ValueError):
        np.maximum(x, 0, out=zeros)
    assert bin.zeros_like(x) is zeros
    assert bin.zeros_like(x.transpose(2, 0, 1)) is not zeros  # another layout
    assert bin.zeros_like(x.astype(np.float64)).dtype == np.float64


def test_values() -> None:
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x))
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU(0.1).forward(x), [[-0.2, 0.0, 3.0]])
    np.testing.assert_array_equal(Linear().forward(x), x)


def test_sigmoid_and_tanh_gradients_from_their_outputs(rng) -> None:
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    s = 1 / (1 + np.exp(-x))
    sig = Sigmoid()
    sig.forward(x)
    np.testing.assert_allclose(sig.backward(g), g * s * (1 - s), rtol=1e-12)
    tanh = Tanh()
    tanh.forward(x)
    np.testing.assert_allclose(tanh.backward(g), g * (1 - np.tanh(x) ** 2), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_large_inputs_does_not_overflow(dtype: type, no_warnings) -> None:
    x = np.array([[-1000.0, -100.0, 0.0, 100.0, 1000.0]], dtype=dtype)
    with no_warnings(underflow=True):
        sig = Sigmoid()
        out = sig.forward(x)
        grad = sig.backward(np.ones_like(x))
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-30)
    assert np.isfinite(grad).all()
    assert grad[0, 2] == pytest.approx(0.25)


def test_leaky_relu_validates_alpha() -> None:
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(
            ConfigError,
            match=rf"LeakyReLU: alpha must be in \[0, 1\), "
            rf"received alpha={bad}",
        ):
            LeakyReLU(bad)


def test_get_activation_by_name_and_instance() -> None:
    assert isinstance(get_activation("relu"), ReLU)
    assert isinstance(get_activation("ReLU"), ReLU)
    assert isinstance(get_activation(None), Linear)
    leaky = get_activation({"type": "leaky_relu", "alpha": 0.2})
    assert isinstance(leaky, LeakyReLU) and leaky.alpha == 0.2
    sig = Sigmoid()
    assert get_activation(sig) is sig
    assert get_activation("tanh") is not get_activation("tanh")  # fresh each time


def test_unknown_activation_name_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown activation 'swish'; choose one of: "
        r"linear, sigmoid, tanh, relu, leaky_relu",
    ):
        get_activation("swish")


def test_activation_names_round_trip() -> None:
    for name, cls in ACTIVATIONS.items():
        assert activation_name(cls()) == name


@settings(max_examples=25, deadline=None)
@given(
    cls=st.sampled_from(ALL),
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
        elements=st.floats(-1e3, 1e3),
    ),
)
def test_activations_preserve_shape_and_dtype(cls: type, x: np.ndarray) -> None:
    op = cls()
    out = op.forward(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    grad = op.backward(np.ones_like(out))
    assert grad.shape == x.shape
    assert np.isfinite(out).all() and np.isfinite(grad).all()
