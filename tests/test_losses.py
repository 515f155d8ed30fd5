"""Tests of lincoln.losses: values against direct formulas, targets, stability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lincoln.errors import ConfigError, DataError, ShapeError
from lincoln.gradcheck import check_loss
from lincoln.losses import (
    LOSSES,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    get_loss,
    loss_name,
)


def _softmax64(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _categorical_ce(x: np.ndarray, t: np.ndarray) -> float:
    """-mean over the batch of sum_k t_k log softmax(x)_k, directly, in float64."""
    return float(-np.mean(np.sum(t * np.log(_softmax64(x)), axis=1)))


def _book_ce(x: np.ndarray, t: np.ndarray) -> float:
    """The book's published loss: adds a binary (1 - t) log(1 - p) term."""
    p = _softmax64(x)
    return float(-np.mean(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p), axis=1)))


# -- SoftmaxCrossEntropy ---------------------------------------------------------------


def test_softmax_cross_entropy_is_the_categorical_cross_entropy(rng) -> None:
    x = 2 * rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    t = np.eye(4)[labels]
    loss = SoftmaxCrossEntropy()
    value = loss.forward(x, t)
    assert value == pytest.approx(_categorical_ce(x, t), rel=1e-12)
    assert abs(value - _book_ce(x, t)) > 0.1  # not the book's binary-term version
    np.testing.assert_allclose(loss.backward(), (_softmax64(x) - t) / 6, rtol=1e-12)


def test_one_hot_and_integer_labels_give_the_same_loss_and_gradient(rng) -> None:
    x = 3 * rng.standard_normal((7, 5))
    labels = rng.integers(0, 5, 7)
    by_label, by_one_hot = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    assert by_label.forward(x, labels) == pytest.approx(
        by_one_hot.forward(x, np.eye(5)[labels]), rel=1e-13
    )
    np.testing.assert_allclose(
        by_label.backward(), by_one_hot.backward(), rtol=1e-13, atol=1e-16
    )


@pytest.mark.parametrize(
    "labels",
    [np.array([[0], [2], [1]]), np.array([0.0, 2.0, 1.0])],
    ids=["column", "integral-floats"],
)
def test_label_columns_and_integral_float_labels_are_accepted(labels, rng) -> None:
    x = rng.standard_normal((3, 3))
    assert SoftmaxCrossEntropy().forward(x, labels) == pytest.approx(
        SoftmaxCrossEntropy().forward(x, np.array([0, 2, 1])), rel=1e-14
    )


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0, 10]])
def test_labels_out_of_range(labels) -> None:
    with pytest.raises(
        DataError, match=r"SoftmaxCrossEntropy: labels must be in \[0, 3\)"
    ):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array(labels))
    assert issubclass(DataError, ValueError)


@pytest.mark.parametrize("labels", [[0, 1.5], [0, np.nan], ["a", "b"]])
def test_labels_must_be_integers(labels) -> None:
    with pytest.raises(
        DataError, match=r"SoftmaxCrossEntropy: labels must be integers 0\.\.2"
    ):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array(labels))


def test_wrong_one_hot_width() -> None:
    with pytest.raises(
        ShapeError,
        match=r"SoftmaxCrossEntropy: target must be one-hot with "
        r"shape \(2, 3\) or integer labels with shape \(2,\), "
        r"received shape \(2, 4\)",
    ):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.eye(4)[:2])


def test_wrong_number_of_labels() -> None:
    with pytest.raises(
        ShapeError, match=r"SoftmaxCrossEntropy: 2 predictions but 3 labels"
    ):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_prediction_must_be_2d() -> None:
    with pytest.raises(ShapeError, match=r"prediction must be 2-D \(batch, classes\)"):
        SoftmaxCrossEntropy().forward(np.zeros(3), np.array([0]))


LARGE = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [-1e4, -1e4, 1e4]])
LARGE_LABELS = np.array([0, 0, 2])  # the middle row is badly wrong: loss 2e4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one-hot"])
def test_huge_logits_give_finite_loss_and_gradient_without_warnings(
    dtype, one_hot, no_warnings
) -> None:
    target = np.eye(3)[LARGE_LABELS] if one_hot else LARGE_LABELS
    loss = SoftmaxCrossEntropy()
    with no_warnings(underflow=True):  # np.errstate(all="raise")
        value = loss.forward(LARGE.astype(dtype), target)
        grad = loss.backward()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert value == pytest.approx(2e4 / 3, rel=1e-6)
    assert grad.dtype == dtype
    np.testing.assert_allclose(
        grad, (np.eye(3)[[0, 1, 2]] - np.eye(3)[LARGE_LABELS]) / 3, atol=1e-7
    )


def test_mse_normalize_divides_each_row_by_its_sum_as_the_book_does(rng) -> None:
    x = rng.uniform(0.1, 2.0, size=(4, 3))
    t = np.eye(3)[[0, 1, 2, 0]]
    expected = np.sum((x / x.sum(axis=1, keepdims=True) - t) ** 2) / 4
    assert MeanSquaredError(normalize=True).forward(x, t) == pytest.approx(
        expected, rel=1e-13
    )
    # the gradient runs through the division (the book's stopped at it)
    assert check_loss(MeanSquaredError(normalize=True), x, t).passed


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.floats(-1e4, 1e4),
    )
)
def test_softmax_rows_sum_to_one(x: np.ndarray) -> None:
    loss = SoftmaxCrossEntropy()
    value = loss.forward(x, np.zeros(x.shape[0], dtype=np.int64))
    assert np.isfinite(value) and value >= 0
    np.testing.assert_allclose(loss.softmax_preds.sum(axis=1), 1.0, rtol=1e-12)
    assert (loss.softmax_preds >= 0).all()


# -- MeanSquaredError ------------------------------------------------------------------


def test_mse_value_and_gradient(rng) -> None:
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    mse = MeanSquaredError()
    assert mse.forward(p, t) == pytest.approx(np.sum((p - t) ** 2) / 4, rel=1e-14)
    np.testing.assert_allclose(mse.backward(), 2 * (p - t) / 4, rtol=1e-14)


@pytest.mark.parametrize("normalize", [False, True])
def test_mse_gradient_is_the_same_on_every_backward_call(rng, normalize) -> None:
    # _input_grad reuses the difference _output computed: it must not consume it
    p, t = rng.standard_normal((4, 3)), np.eye(3)[[0, 1, 2, 0]]
    mse = MeanSquaredError(normalize=normalize)
    mse.forward(p, t)
    first = mse.backward().copy()
    np.testing.assert_array_equal(mse.backward(), first)
    mse.forward(p + 1.0, t)  # a new forward pass: a new difference
    if not normalize:
        np.testing.assert_allclose(mse.backward(), 2 * (p + 1.0 - t) / 4, rtol=1e-14)


def test_a_wrong_loss_gradient_shape_is_named() -> None:
    class Flat(MeanSquaredError):
        def _input_grad(self) -> np.ndarray:
            return super()._input_grad().ravel()

    loss = Flat()
    loss.forward(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(
        ShapeError,
        match=r"^Flat: gradient from _input_grad must have shape \(2, 3\), "
        r"received shape \(6,\)$",
    ):
        loss.backward()


def test_mse_accepts_a_flat_target_for_one_output(rng) -> None:
    p, t = rng.standard_normal((5, 1)), rng.standard_normal(5)
    assert MeanSquaredError().forward(p, t) == pytest.approx(
        np.mean((p[:, 0] - t) ** 2)
    )


def test_mse_shape_mismatch() -> None:
    with pytest.raises(
        ShapeError,
        match=r"MeanSquaredError: target must have the prediction's "
        r"shape \(2, 3\), received shape \(2, 2\)",
    ):
        MeanSquaredError().forward(np.zeros((2, 3)), np.zeros((2, 2)))


def test_backward_before_forward() -> None:
    with pytest.raises(
        RuntimeError, match=r"MeanSquaredError.backward called before forward"
    ):
        MeanSquaredError().backward()


def test_float32_gradients_stay_float32(rng) -> None:
    p = rng.standard_normal((3, 2)).astype(np.float32)
    for loss, t in [
        (MeanSquaredError(), np.zeros((3, 2))),
        (MeanSquaredError(normalize=True), np.eye(2)[[0, 1, 0]]),
        (SoftmaxCrossEntropy(), np.array([0, 1, 1])),
        (SoftmaxCrossEntropy(), np.eye(2)[[0, 1, 1]]),
    ]:
        loss.forward(p, t)
        assert loss.backward().dtype == np.float32, loss


def test_registry() -> None:
    assert isinstance(get_loss("mse"), MeanSquaredError)
    assert get_loss({"type": "mean_squared_error", "normalize": True}).normalize
    assert loss_name(SoftmaxCrossEntropy()) == "softmax_cross_entropy"
    assert set(LOSSES) >= {"mse", "softmax_cross_entropy"}
    with pytest.raises(ConfigError, match=r"unknown loss 'hinge'; choose one of"):
        get_loss("hinge")
