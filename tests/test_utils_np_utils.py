"""Tests of lincoln.utils.np_utils: the book's helpers, with named errors."""

from __future__ import annotations

import typing

import numpy as np
import pytest

from lincoln.errors import ConfigError, ShapeError
from lincoln.utils import np_utils
from lincoln.utils.np_utils import (
    assert_dim,
    assert_same_shape,
    generate_batch,
    logsumexp,
    normalize,
    permute_data,
    softmax,
    to_2d,
    unnormalize,
)

# ------------------------------------------------------------------------ to_2d


def test_to_2d_makes_a_column_by_default_and_a_row_on_request() -> None:
    a = np.arange(4.0)
    assert to_2d(a).shape == (4, 1)
    assert to_2d(a, "col").shape == (4, 1)
    assert to_2d(a, type="row").shape == (1, 4)
    np.testing.assert_array_equal(to_2d(a)[:, 0], a)


@pytest.mark.parametrize("shape", [(), (2, 2), (1, 3, 1)])
def test_to_2d_refuses_an_array_that_is_not_1d(shape) -> None:
    with pytest.raises(ShapeError, match=r"to_2d: expected a 1-D array, received"):
        to_2d(np.zeros(shape))


def test_to_2d_refuses_an_unknown_type() -> None:
    with pytest.raises(ConfigError, match=r"'col' or 'row', received type='column'"):
        to_2d(np.zeros(3), type="column")


# ------------------------------------------------------- normalize / unnormalize


def test_normalize_appends_the_complement() -> None:
    p = np.array([[0.25], [1.0], [0.0]])
    np.testing.assert_array_equal(
        normalize(p), np.array([[0.25, 0.75], [1.0, 0.0], [0.0, 1.0]])
    )


def test_unnormalize_undoes_normalize() -> None:
    p = np.random.default_rng(0).random((5, 1))
    back = unnormalize(normalize(p))
    assert back.shape == (5, 1)
    np.testing.assert_array_equal(back, p)


@pytest.mark.parametrize("func", [normalize, unnormalize])
def test_normalize_and_unnormalize_need_2d(func) -> None:
    with pytest.raises(
        ShapeError, match=r"expected a 2-D array .*received shape \(3,\)"
    ):
        func(np.zeros(3))


# ------------------------------------------------------------------ permute_data


def test_permute_data_shuffles_rows_together() -> None:
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    Xp, yp = permute_data(X, y, rng=0)
    assert sorted(yp.tolist()) == list(range(10))
    assert yp.tolist() != list(range(10))
    np.testing.assert_array_equal(Xp[:, 0] // 2, yp)  # rows kept with their labels


def test_permute_data_with_a_seed_is_reproducible() -> None:
    X, y = np.arange(50.0).reshape(25, 2), np.arange(25)
    a = permute_data(X, y, rng=3)
    b = permute_data(X, y, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_permute_data_without_rng_follows_numpys_global_seed_as_the_book() -> None:
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    np.random.seed(190119)
    first = permute_data(X, y)[1]
    np.random.seed(190119)
    second = permute_data(X, y)[1]
    np.testing.assert_array_equal(first, second)
    np.random.seed(190119)
    np.testing.assert_array_equal(first, y[np.random.permutation(20)])


def test_permute_data_refuses_mismatched_rows() -> None:
    with pytest.raises(ShapeError, match=r"same number of rows, received 4 and 3"):
        permute_data(np.zeros((4, 2)), np.zeros(3))


# ---------------------------------------------------------------- generate_batch


def test_generate_batch_slices_and_shortens_the_last_batch() -> None:
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7.0).reshape(7, 1)
    xb, yb = generate_batch(X, y, start=2, batch_size=3)
    np.testing.assert_array_equal(yb[:, 0], [2, 3, 4])
    np.testing.assert_array_equal(xb, X[2:5])
    xb, yb = generate_batch(X, y, start=5, batch_size=10)
    assert xb.shape == (2, 2) and yb.shape == (2, 1)


def test_generate_batch_needs_2d_arrays_with_matching_rows() -> None:
    with pytest.raises(ShapeError, match=r"must be 2-D, received X of shape \(4,\)"):
        generate_batch(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ShapeError, match=r"same number of rows, received 4 and 5"):
        generate_batch(np.zeros((4, 1)), np.zeros((5, 1)))


def test_batch_is_the_books_type_alias() -> None:
    assert typing.get_origin(np_utils.Batch) is tuple
    assert len(typing.get_args(np_utils.Batch)) == 2


# --------------------------------------------------------------- shape assertions


def test_assert_same_shape_passes_silently_on_equal_shapes() -> None:
    assert assert_same_shape(np.zeros((2, 3)), np.ones((2, 3))) is None


def test_assert_same_shape_names_both_shapes_in_order() -> None:
    with pytest.raises(
        ShapeError,
        match=r"the first has shape \(2, 3\), the second has shape \(3, 2\)",
    ):
        assert_same_shape(np.zeros((2, 3)), np.zeros((3, 2)))


def test_assert_same_shape_refuses_a_non_array() -> None:
    with pytest.raises(ShapeError, match=r"the second has list"):
        assert_same_shape(np.zeros(2), [0.0, 0.0])


def test_assert_dim() -> None:
    assert assert_dim(np.zeros((1, 2, 3, 4)), 4) is None
    with pytest.raises(
        ShapeError, match=r"dimension 4, received one of dimension 2 \(shape \(3, 5\)\)"
    ):
        assert_dim(np.zeros((3, 5)), 4)


def test_the_checks_are_not_asserts() -> None:
    # they must still fire under python -O: a ShapeError is a ValueError, not an
    # AssertionError
    with pytest.raises(ValueError):
        assert_dim(np.zeros(3), 2)
    assert not issubclass(ShapeError, AssertionError)


# ---------------------------------------------------------------------- softmax


def test_softmax_rows_sum_to_one_and_match_the_definition(rng) -> None:
    x = rng.normal(size=(6, 4))
    p = softmax(x, axis=1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_softmax_without_axis_normalizes_over_all_elements(rng) -> None:
    x = rng.normal(size=(3, 4))
    p = softmax(x)
    assert p.shape == (3, 4)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum(), rtol=1e-12)


def test_softmax_does_not_overflow_on_large_scores() -> None:
    with np.errstate(all="raise"):
        p = softmax(np.array([[1000.0, 1000.0, -1000.0]]), axis=1)
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]], atol=1e-300)


def test_softmax_of_integers_is_float() -> None:
    p = softmax(np.array([[0, 0]]), axis=1)
    assert p.dtype == np.float64
    np.testing.assert_array_equal(p, [[0.5, 0.5]])


def test_softmax_keeps_float32() -> None:
    assert softmax(np.zeros((2, 3), np.float32), axis=1).dtype == np.float32


def test_logsumexp_matches_the_definition_and_handles_minus_infinity(rng) -> None:
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(
        logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1)), rtol=1e-12
    )
    assert logsumexp(x, axis=0, keepdims=True).shape == (1, 5)
    assert np.isclose(logsumexp(x), np.log(np.exp(x).sum()))
    assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


def test_assert_dim_refuses_a_non_array() -> None:
    with pytest.raises(ShapeError, match=r"dimension 1, received list"):
        assert_dim([1.0, 2.0], 1)
