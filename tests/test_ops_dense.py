"""Tests of lincoln.dense: WeightMultiply (X @ W) and BiasAdd (+ B)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lincoln.dense import BiasAdd, WeightMultiply
from lincoln.errors import ShapeError
from lincoln.gradcheck import check_operation


def test_weight_multiply_forward_and_gradients(rng) -> None:
    W = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 3))
    op = WeightMultiply(W)
    np.testing.assert_allclose(op.forward(x), x @ W)
    g = rng.standard_normal((4, 2))
    np.testing.assert_allclose(op.backward(g), g @ W.T)
    np.testing.assert_allclose(op.param_grad, x.T @ g)


def test_bias_add_forward_and_gradients(rng) -> None:
    B = rng.standard_normal((1, 3))
    x = rng.standard_normal((4, 3))
    op = BiasAdd(B)
    np.testing.assert_allclose(op.forward(x), x + B)
    g = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(op.backward(g), g)
    np.testing.assert_allclose(op.param_grad, g.sum(axis=0, keepdims=True))


@pytest.mark.parametrize("shape", [(2, 3), (3,), (1, 2, 3)])
def test_bias_must_be_one_row(shape: tuple[int, ...]) -> None:
    with pytest.raises(
        ShapeError,
        match=rf"BiasAdd: B must have shape \(1, features\), "
        rf"received shape {re.escape(str(shape))}",
    ):
        BiasAdd(np.zeros(shape))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_weights_must_be_a_matrix(shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError, match=r"WeightMultiply: W must be a 2-D array"):
        WeightMultiply(np.zeros(shape))


def test_weight_multiply_names_the_expected_input_width(rng) -> None:
    op = WeightMultiply(rng.standard_normal((3, 2)))
    with pytest.raises(
        ShapeError,
        match=r"WeightMultiply: input must have shape \(batch, 3\), "
        r"received shape \(4, 5\)",
    ):
        op.forward(rng.standard_normal((4, 5)))


def test_bias_add_with_needs_input_grad_false_skips_the_input_gradient(rng) -> None:
    op = BiasAdd(np.zeros((1, 2)))
    op.needs_input_grad = False
    op.forward(rng.standard_normal((3, 2)))
    assert op.backward(np.ones((3, 2))) is None
    np.testing.assert_array_equal(op.param_grad, [[3.0, 3.0]])


def test_gradients_keep_float32(rng) -> None:
    W = rng.standard_normal((3, 2)).astype(np.float32)
    op = WeightMultiply(W)
    op.forward(rng.standard_normal((4, 3)).astype(np.float32))
    grad = op.backward(np.ones((4, 2), dtype=np.float32))
    assert grad.dtype == op.param_grad.dtype == np.float32


@pytest.mark.parametrize("batch", [1, 7])
def test_gradient_check_for_any_batch(batch: int, rng) -> None:
    x = rng.standard_normal((batch, 3))
    assert check_operation(WeightMultiply(rng.standard_normal((3, 5))), x).passed
    assert check_operation(BiasAdd(rng.standard_normal((1, 3))), x).passed
