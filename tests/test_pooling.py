"""Tests of lincoln.pooling: MaxPool2DOp and AvgPool2DOp against plain loops, and
how the max pool routes its gradient. The gradients themselves (in every geometry
of ``geometries.POOL_GEOMETRIES``) are checked against central differences in
float64 by test_gradcheck.py."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from geometries import POOL_GEOMETRIES, pool_id

from lincoln.errors import ConfigError, ShapeError
from lincoln.pooling import AvgPool2DOp, MaxPool2DOp


def naive_pool(x: np.ndarray, size: int, stride: int, reduce: Callable) -> np.ndarray:
    n, c, h, w = x.shape
    out_h, out_w = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.empty((n, c, out_h, out_w))
    for s, ch, i, j in itertools.product(
        range(n), range(c), range(out_h), range(out_w)
    ):
        out[s, ch, i, j] = reduce(
            x[s, ch, i * stride : i * stride + size, j * stride : j * stride + size]
        )
    return out


@pytest.mark.parametrize("case", POOL_GEOMETRIES, ids=pool_id)
@pytest.mark.parametrize(
    ("cls", "reduce"), [(MaxPool2DOp, np.max), (AvgPool2DOp, np.mean)]
)
def test_pool_forward_matches_naive_loop(cls, reduce, case, rng):
    shape, size, stride = case
    x = rng.standard_normal(shape)
    out = cls(size, stride).forward(x)
    np.testing.assert_allclose(
        out, naive_pool(x, size, stride or size, reduce), rtol=1e-12, atol=1e-15
    )


def test_maxpool_gradient_goes_to_the_maximum():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    op = MaxPool2DOp(2)
    assert op.forward(x).tolist() == [[[[5.0, 9.0]]]]
    dx = op.backward(np.array([[[[10.0, 20.0]]]]))
    assert dx.tolist() == [[[[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]]]


def test_maxpool_tie_sends_the_gradient_to_one_element():
    # a constant window: the gradient goes once, to its first element, so it
    # is never counted twice
    op = MaxPool2DOp(2)
    op.forward(np.ones((1, 1, 4, 4)))
    dx = op.backward(np.ones((1, 1, 2, 2)))
    assert dx.sum() == 4.0
    assert dx[0, 0, ::2, ::2].tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_overlapping_maxpool_accumulates(rng):
    # with stride 1, a pixel that is the maximum of several windows gets the
    # gradient of each
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    op = MaxPool2DOp(2, stride=1)
    op.forward(x)
    dx = op.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


@pytest.mark.parametrize("cls", [MaxPool2DOp, AvgPool2DOp])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_keeps_its_dtype(cls, dtype, rng):
    op = cls(2)
    out = op.forward(rng.standard_normal((2, 3, 6, 6)).astype(dtype))
    assert out.dtype == op.backward(np.ones_like(out)).dtype == dtype


@pytest.mark.parametrize("cls", [MaxPool2DOp, AvgPool2DOp])
def test_pool_shape_errors(cls):
    name = cls.__name__
    with pytest.raises(
        ShapeError, match=rf"{name}: input must have shape \(batch, channels"
    ):
        cls(2).forward(np.ones((2, 16)))
    with pytest.raises(ShapeError, match=rf"{name}: a 3x3 window does not fit"):
        cls(3).forward(np.ones((1, 1, 2, 5)))


@pytest.mark.parametrize("cls", [MaxPool2DOp, AvgPool2DOp])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"pool_size": 0},
            "pool_size must be a positive integer, received pool_size=0",
        ),
        (
            {"pool_size": 2.5},
            "pool_size must be a positive integer, received pool_size=2.5",
        ),
        ({"stride": 0}, "stride must be a positive integer, received stride=0"),
    ],
)
def test_pool_config_errors(cls, kwargs, message):
    with pytest.raises(ConfigError, match=f"{cls.__name__}: {message}"):
        cls(**kwargs)


def test_pool_repr():
    assert repr(MaxPool2DOp(2)) == "MaxPool2DOp(pool_size=2, stride=2)"
    assert repr(AvgPool2DOp(3, 1)) == "AvgPool2DOp(pool_size=3, stride=1)"


def test_maxpool_reuses_its_arrays_only_after_backward(rng):
    op = MaxPool2DOp(2)
    x1, x2 = rng.standard_normal((2, 2, 3, 4, 6))
    first = op.forward(x1)
    again = op.forward(x1)
    assert not np.shares_memory(first, again)
    g = rng.standard_normal(first.shape)
    op.backward(g)
    out2 = op.forward(x2)
    assert np.shares_memory(out2, again)
    fresh = MaxPool2DOp(2)
    np.testing.assert_array_equal(out2, fresh.forward(x2))
    np.testing.assert_array_equal(op.backward(g), fresh.backward(g))
    # an input the windows do not tile: the uncovered pixels get zero again
    x3 = rng.standard_normal((2, 3, 5, 7))
    op.forward(x3)
    dx3 = op.backward(np.ones((2, 3, 2, 3)))
    assert dx3[:, :, 4].max() == dx3[:, :, :, 6].max() == 0.0
    assert dx3.sum() == 2 * 3 * 2 * 3


def naive_max_route(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """2x2, stride 2: each window's gradient to its first maximum, row-major."""
    dx = np.zeros_like(x)
    n, c, out_h, out_w = g.shape
    for s, ch, i, j in itertools.product(
        range(n), range(c), range(out_h), range(out_w)
    ):
        window = x[s, ch, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        di, dj = np.unravel_index(np.argmax(window), (2, 2))  # first maximum
        dx[s, ch, 2 * i + di, 2 * j + dj] = g[s, ch, i, j]
    return dx


@pytest.mark.parametrize("shape", [(3, 2, 6, 8), (3, 2, 7, 5), (2, 1, 5, 6)])
def test_2x2_maxpool_routes_ties_and_odd_edges_like_a_loop(shape, rng):
    # values in {0, 1, 2} make ties in most windows; an odd last row or column
    # is in no window and gets no gradient, also when the op reuses its buffers
    op = MaxPool2DOp(2)
    for _ in range(2):
        x = rng.integers(0, 3, shape).astype(float)
        out = op.forward(x)
        g = rng.standard_normal(out.shape)
        np.testing.assert_array_equal(op.backward(g), naive_max_route(x, g))
