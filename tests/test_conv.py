"""Tests of lincoln.conv: geometry, im2col/col2im, Conv2DOp, BiasAdd2D, FlattenOp.

The convolution is checked against a plain loop over samples, channels and
pixels; the gradients of every operation here (in every geometry of
``geometries.CONV_GEOMETRIES``) are checked against central differences in
float64 by test_gradcheck.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from geometries import CONV_GEOMETRIES, conv_id
from hypothesis import given, settings
from hypothesis import strategies as st

from lincoln.conv import (
    BiasAdd2D,
    Conv2D_Op,
    Conv2DOp,
    FlattenOp,
    batch_first,
    batch_last,
    col2im,
    conv_output_size,
    im2col,
    window_offsets,
)
from lincoln.errors import ConfigError, ShapeError
from lincoln.ops.pooling import MaxPool2DOp

# -- a naive reference ---------------------------------------------------------------


def naive_conv(
    x: np.ndarray, W: np.ndarray, stride: int, padding: str | int
) -> np.ndarray:
    """Cross-correlation by explicit loops; W is (in, out, k, k)."""
    n, c, h, w = x.shape
    _, o, k, _ = W.shape
    if padding == "same":
        out_h, out_w = -(-h // stride), -(-w // stride)
        pad_h = max((out_h - 1) * stride + k - h, 0)
        pad_w = max((out_w - 1) * stride + k - w, 0)
        pads = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    else:
        p = 0 if padding == "valid" else padding
        pads = ((p, p), (p, p))
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    out_h = (xp.shape[2] - k) // stride + 1
    out_w = (xp.shape[3] - k) // stride + 1
    out = np.zeros((n, o, out_h, out_w))
    for s, f, i, j in itertools.product(range(n), range(o), range(out_h), range(out_w)):
        window = xp[s, :, i * stride : i * stride + k, j * stride : j * stride + k]
        out[s, f, i, j] = np.sum(window * W[:, f])
    return out


# -- geometry --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        ((28, 28), 3, 1, "same", (28, 28)),
        ((7, 10), 5, 1, "same", (7, 10)),
        ((7, 10), 4, 1, "same", (7, 10)),  # even kernel: the odd pixel pads after
        ((28, 28), 3, 2, "same", (14, 14)),
        ((7, 10), 3, 2, "same", (4, 5)),
        ((7, 10), 3, 1, "valid", (5, 8)),
        ((7, 10), 3, 2, "valid", (3, 4)),
        ((7, 10), 3, 1, 1, (7, 10)),
        ((7, 10), 5, 2, 2, (4, 5)),
        ((3, 3), 5, 1, "valid", (-1, -1)),  # does not fit
    ],
)
def test_conv_output_size(size, kernel, stride, padding, expected):
    assert conv_output_size(*size, kernel, stride, padding) == expected


def test_taps_that_only_see_padding_are_skipped():
    # a 1x1 image with 2 pixels of padding: the one 5x5 window sees the pixel
    # through its centre tap only; the other 24 taps read padding alone
    out_h, out_w, offsets = window_offsets(1, 1, 5, 1, 2)
    assert (out_h, out_w) == (1, 1)
    assert [(o.i, o.j) for o in offsets] == [(2, 2)]
    # on a 3x3 image every tap sees some pixel of some window
    assert len(window_offsets(3, 3, 5, 1, 2)[2]) == 25


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["same", "valid", 0, 1, 2]),
    seed=st.integers(0, 2**16),
)
def test_im2col_and_col2im_are_adjoint(h, w, kernel, stride, padding, seed):
    # <im2col(x), c> == <x, col2im(c)>: col2im is the exact transpose of im2col
    out_h, out_w = conv_output_size(h, w, kernel, stride, padding)
    if out_h < 1 or out_w < 1:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, h, w))
    cols = im2col(x, kernel, stride, padding)
    assert cols.shape == (3, kernel, kernel, out_h, out_w, 2)
    c = rng.standard_normal(cols.shape)
    back = col2im(c, x.shape, stride, padding)
    assert back.shape == x.shape
    assert np.isclose(np.vdot(cols, c), np.vdot(x, back))


def test_im2col_into_a_reused_buffer_keeps_padding_zero(rng):
    a, b = rng.standard_normal((2, 2, 3, 6, 5))
    buffer = im2col(a, 3, 1, "same")
    np.testing.assert_array_equal(
        im2col(b, 3, 1, "same", out=buffer), im2col(b, 3, 1, "same")
    )


# -- Conv2DOp --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CONV_GEOMETRIES, ids=conv_id)
def test_conv_forward_matches_naive_loop(case, rng):
    n, c, o, (h, w), k, s, p = case
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((c, o, k, k))
    out = Conv2DOp(W, stride=s, padding=p).forward(x)
    expected = naive_conv(x, W, s, p)
    assert out.shape == expected.shape == (n, o, *conv_output_size(h, w, k, s, p))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv_gradient_is_not_the_books(rng):
    # The book's Conv2D_Op backpropagated with the unflipped kernel; an
    # asymmetric kernel tells the two apart (its gradient check would fail).
    W = np.zeros((1, 1, 3, 3))
    W[0, 0, 0, 2] = 1.0  # output(y, x) = input(y - 1, x + 1)
    op = Conv2DOp(W)
    x = rng.standard_normal((1, 1, 4, 4))
    op.forward(x)
    g = np.zeros((1, 1, 4, 4))
    g[0, 0, 2, 1] = 1.0  # output (2, 1) reads input (1, 2)
    dx = op.backward(g)
    assert dx[0, 0, 1, 2] == 1.0 and dx.sum() == 1.0


def test_conv_param_grad_sums_over_the_batch(rng):
    x = rng.standard_normal((3, 2, 5, 5))
    op = Conv2DOp(rng.standard_normal((2, 2, 3, 3)))
    g = rng.standard_normal((3, 2, 5, 5))
    op.forward(x)
    op.backward(g)
    total = op.param_grad.copy()
    per_sample = []
    for i in range(3):
        op.forward(x[i : i + 1])
        op.backward(g[i : i + 1])
        per_sample.append(op.param_grad.copy())
    np.testing.assert_allclose(total, sum(per_sample), rtol=1e-12, atol=1e-12)


def test_conv_scratch_reuse_does_not_leak_between_calls(rng):
    # the op reuses its im2col buffer; results must equal a fresh op's, also
    # when the batch size changes and comes back
    W = rng.standard_normal((2, 3, 3, 3))
    op = Conv2DOp(W, stride=2, padding=1)
    for n in (4, 4, 1, 4):
        x = rng.standard_normal((n, 2, 7, 6))
        first = op.forward(x)
        np.testing.assert_array_equal(first, Conv2DOp(W, 2, 1).forward(x))
        second = op.forward(rng.standard_normal((n, 2, 7, 6)))
        assert not np.shares_memory(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_keeps_its_dtype(dtype, rng):
    op = Conv2DOp(rng.standard_normal((2, 4, 3, 3)).astype(dtype), stride=2)
    out = op.forward(rng.standard_normal((3, 2, 8, 7)).astype(dtype))
    grad = op.backward(np.ones_like(out))
    assert out.dtype == grad.dtype == op.param_grad.dtype == dtype
    bias = BiasAdd2D(np.zeros((1, 4, 1, 1), dtype=dtype))
    out = bias.forward(out)
    bias.backward(np.ones_like(out))
    assert out.dtype == bias.param_grad.dtype == dtype


def test_conv_skips_the_input_gradient_when_not_needed(rng):
    op = Conv2DOp(rng.standard_normal((1, 2, 3, 3)))
    x = rng.standard_normal((2, 1, 5, 5))
    g = rng.standard_normal((2, 2, 5, 5))
    op.forward(x)
    op.backward(g)
    expected = op.param_grad.copy()
    op.needs_input_grad = False
    op.forward(x)
    assert op.backward(g) is None
    np.testing.assert_array_equal(op.param_grad, expected)


def test_conv_shape_errors(rng):
    op = Conv2DOp(rng.standard_normal((3, 2, 3, 3)))
    with pytest.raises(
        ShapeError, match=r"Conv2DOp: input must have shape \(batch, 3,"
    ):
        op.forward(rng.standard_normal((2, 1, 5, 5)))
    with pytest.raises(ShapeError, match="Conv2DOp: input must have shape"):
        op.forward(rng.standard_normal((2, 75)))
    with pytest.raises(ShapeError, match="does not fit"):
        Conv2DOp(np.ones((1, 1, 5, 5)), padding="valid").forward(np.ones((1, 1, 4, 9)))
    with pytest.raises(ShapeError, match="Conv2DOp: W must be a 4-D kernel"):
        Conv2DOp(np.ones((2, 3, 3)))
    with pytest.raises(ShapeError, match="Conv2DOp: W must be a 4-D kernel"):
        Conv2DOp(np.ones((2, 3, 3, 2)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"stride": 0},
            "Conv2DOp: stride must be a positive integer, received stride=0",
        ),
        ({"stride": 1.5}, "stride must be a positive integer"),
        (
            {"padding": "full"},
            "padding must be 'same', 'valid' or a non-negative integer",
        ),
        ({"padding": -1}, "received padding=-1"),
        ({"padding": True}, "received padding=True"),
    ],
)
def test_conv_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Conv2DOp(np.ones((1, 1, 3, 3)), **kwargs)


def test_conv_repr_and_book_alias():
    assert Conv2D_Op is Conv2DOp
    assert repr(Conv2DOp(np.ones((1, 2, 3, 3)), 2, "valid")) == (
        "Conv2DOp(W shape=(1, 2, 3, 3), stride=2, padding='valid')"
    )


# -- BiasAdd2D and FlattenOp -----------------------------------------------------------


def test_bias_add_2d_adds_per_channel(rng):
    B = np.arange(3.0).reshape(1, 3, 1, 1)
    out = BiasAdd2D(B).forward(np.zeros((2, 3, 2, 2)))
    assert out[:, 2].min() == out[:, 2].max() == 2.0
    with pytest.raises(
        ShapeError, match=r"BiasAdd2D: B must have shape \(1, channels, 1, 1\)"
    ):
        BiasAdd2D(np.zeros((1, 3)))
    with pytest.raises(
        ShapeError, match=r"BiasAdd2D: input must have shape \(batch, 3,"
    ):
        BiasAdd2D(B).forward(np.zeros((2, 4, 2, 2)))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 7), (2, 1, 3)])
def test_flatten_op(shape, rng):
    op = FlattenOp()
    x = rng.standard_normal(shape)
    out = op.forward(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(out[1], x[1].ravel())
    np.testing.assert_array_equal(op.backward(2 * out), 2 * x)


# -- reused arrays -----------------------------------------------------------------


def test_conv_reuses_its_arrays_only_after_backward(rng):
    # forward without backward (prediction) always gives a new array; after a
    # training step the next step writes into the same memory, with the same
    # results as a fresh operation
    W = rng.standard_normal((2, 3, 3, 3))
    op, bias = Conv2DOp(W), BiasAdd2D(rng.standard_normal((1, 3, 1, 1)))
    x1, x2 = rng.standard_normal((2, 4, 2, 6, 6))
    first = bias.forward(op.forward(x1))
    again = bias.forward(op.forward(x1))
    assert not np.shares_memory(first, again)
    g = rng.standard_normal(first.shape)
    dx1 = op.backward(bias.backward(g))
    out2 = bias.forward(op.forward(x2))
    assert np.shares_memory(out2, again)  # the finished step's output, reused
    fresh, fresh_bias = Conv2DOp(W), BiasAdd2D(bias.param)
    np.testing.assert_array_equal(out2, fresh_bias.forward(fresh.forward(x2)))
    dx2 = op.backward(bias.backward(g))
    np.testing.assert_array_equal(dx2, fresh.backward(fresh_bias.backward(g)))
    np.testing.assert_array_equal(op.param_grad, fresh.param_grad)
    assert np.shares_memory(dx1, dx2)  # the gradient's array is reused too


def test_im2col_copies_each_window_pixel_to_its_column(rng):
    # cols[c, i, j, y, x, n] is the padded input pixel (n, c, y*s + i - p, x*s + j - p)
    x = rng.standard_normal((2, 3, 5, 6))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = im2col(x, 3, 2, 1)
    for c, i, j, y, w, n in np.ndindex(cols.shape):
        assert cols[c, i, j, y, w, n] == padded[n, c, 2 * y + i, 2 * w + j]


@pytest.mark.parametrize("memory", ["nchw", "batch_last"])
def test_image_operations_hand_on_batch_last_memory(memory, rng):
    # whatever the input's memory order, each operation's output is NCHW-shaped
    # and its memory is (channels, height, width, batch), as is the input
    # gradient of the convolution and pooling
    x = rng.standard_normal((4, 2, 6, 6))
    if memory == "batch_last":
        x = batch_first(np.ascontiguousarray(batch_last(x)))
    conv, bias = (
        Conv2DOp(rng.standard_normal((2, 3, 3, 3))),
        BiasAdd2D(np.ones((1, 3, 1, 1))),
    )
    pool = MaxPool2DOp(2)
    out = pool.forward(bias.forward(conv.forward(x)))
    assert out.shape == (4, 3, 3, 3)
    for array in (conv.output, bias.output, out):
        assert batch_last(array).flags.c_contiguous
    g = pool.backward(np.ones_like(out))
    assert batch_last(g).flags.c_contiguous
    assert batch_last(conv.backward(bias.backward(g))).flags.c_contiguous
    fresh = Conv2DOp(conv.param)
    np.testing.assert_allclose(fresh.forward(np.ascontiguousarray(x)), conv.output)


def test_a_dense_layer_after_flattened_batch_last_images_keeps_their_order(rng):
    # Flatten of batch-last images is a view laid out (features, batch); the
    # dense input gradient and the flattened gradient come back in that order,
    # with the same values as for NCHW images in C order
    from lincoln.ops.dense import WeightMultiply

    images = rng.standard_normal((5, 3, 4, 4))
    x = batch_first(np.ascontiguousarray(batch_last(images)))
    W, g = rng.standard_normal((48, 7)), rng.standard_normal((5, 7))
    grads = []
    for inputs in (x, np.ascontiguousarray(images)):
        flatten, dense = FlattenOp(), WeightMultiply(W)
        out = dense.forward(flatten.forward(inputs))
        np.testing.assert_allclose(out, images.reshape(5, -1) @ W)
        grads.append(flatten.backward(dense.backward(g)))
    assert batch_last(grads[0]).flags.c_contiguous
    assert grads[1].flags.c_contiguous
    expected = (g @ W.T).reshape(images.shape)
    for grad in grads:
        np.testing.assert_allclose(grad, expected)


def test_recycler_reuses_an_array_only_in_the_memory_order_asked_for():
    from lincoln.ops.buffers import Recycler

    bin = Recycler()
    nchw = np.empty((2, 3, 4, 5), dtype=np.float32)
    batch_last_images = batch_first(np.empty((3, 4, 5, 2), dtype=np.float32))
    kept = bin.take_like("output", batch_last_images)
    assert batch_last(kept).flags.c_contiguous
    bin.give_back("output", kept)
    assert bin.take_like("output", nchw) is not kept  # another memory order
    bin.give_back("output", kept)
    assert bin.take_like("output", batch_last_images) is kept
    bin.give_back("output", kept)
    assert bin.take_like("output", batch_last_images, np.float64) is not kept


def test_dropout_after_a_convolution_keeps_batch_last_memory(rng):
    # the mask is drawn in its input's memory order: output and gradient stay
    # batch-last, so that the ReLU and pooling around it run along memory
    from lincoln.ops.dropout import Dropout

    conv = Conv2DOp(rng.standard_normal((2, 3, 3, 3)))
    drop = Dropout(0.5, seed=0)
    out = drop.forward(conv.forward(rng.standard_normal((4, 2, 6, 6))))
    assert batch_last(out).flags.c_contiguous
    assert batch_last(drop.backward(np.ones_like(out))).flags.c_contiguous
    kept = drop.mask != 0
    np.testing.assert_array_equal(out[kept], conv.output[kept] * 2)
    assert 0.3 < kept.mean() < 0.7


@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (1, 3, 5, 5), (4, 1, 5, 5)])
def test_relu_reuses_its_output_for_batch_last_images_of_any_size(shape, rng):
    # axes of length 1 never step, whatever their strides say
    from lincoln.ops.activations import ReLU

    relu, outputs = ReLU(), set()
    for _ in range(3):
        x = batch_first(rng.standard_normal((*shape[1:], shape[0])))
        out = relu.forward(x)
        relu.backward(np.ones_like(out))
        outputs.add(out.__array_interface__["data"][0])
    assert len(outputs) == 1


def test_a_convolution_pickled_between_forward_and_backward_stays_right(rng):
    # unpickling makes the output an ordinary array; the buffer it gives back
    # is not batch-last and must not be written through
    import pickle

    op = Conv2DOp(rng.standard_normal((2, 3, 3, 3)))
    x, y = rng.standard_normal((2, 4, 2, 6, 6))
    op.forward(x)
    op = pickle.loads(pickle.dumps(op))
    op.backward(np.ones((4, 3, 6, 6)))
    np.testing.assert_allclose(op.forward(y), Conv2DOp(op.param).forward(y))
