"""Memory: training does not grow from epoch to epoch; evaluation and prediction
work in batches, so their peak does not grow with the size of the data set."""

from __future__ import annotations

import tracemalloc

import numpy as np

from lincoln import (
    Dense,
    Linear,
    NeuralNetwork,
    ReLU,
    SGDMomentum,
    SoftmaxCrossEntropy,
    Trainer,
)
from lincoln.layers import Conv2D, Flatten, MaxPool2D


def make_net() -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(32, ReLU(), weight_init="he"), Dense(10, Linear())],
        SoftmaxCrossEntropy(),
        seed=0,
    )


def data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, 64)).astype(np.float32), rng.integers(0, 10, n)


def traced(fn) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()  # (current, peak)
    finally:
        tracemalloc.stop()


def test_training_memory_does_not_grow_with_epochs(rng: np.random.Generator) -> None:
    X, y = data(2000, rng)
    Xv, yv = data(200, rng)

    def fit(epochs: int):  # type: ignore[no-untyped-def]
        trainer = Trainer(make_net(), SGDMomentum(0.05, momentum=0.9))
        return lambda: trainer.fit(
            X,
            y,
            Xv,
            yv,
            epochs=epochs,
            eval_every=1,
            early_stopping=False,
            verbose=False,
            progress=False,
        )

    _, peak_short = traced(fit(2))
    _, peak_long = traced(fit(12))
    # twelve epochs may not need more than two do (plus a little for the history)
    assert peak_long < peak_short * 1.10 + 64_000, (peak_short, peak_long)


def make_cnn() -> NeuralNetwork:
    """W4's shape (scripts/benchmark.py), smaller: conv, pool, conv, pool, dense."""
    return NeuralNetwork(
        [
            Conv2D(4, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Conv2D(8, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Flatten(),
            Dense(16, ReLU(), weight_init="he"),
            Dense(10, Linear(), weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=0,
    )


def test_cnn_training_memory_does_not_grow_with_epochs(
    rng: np.random.Generator,
) -> None:
    # the convolution and pooling keep scratch buffers between batches: they
    # must be reused, not piled up (the last batch is smaller: 300 = 4*64 + 44)
    X = rng.standard_normal((300, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    Xv, yv = X[:50], y[:50]

    def fit(epochs: int):  # type: ignore[no-untyped-def]
        trainer = Trainer(make_cnn(), SGDMomentum(0.01, momentum=0.9))
        return lambda: trainer.fit(
            X,
            y,
            Xv,
            yv,
            epochs=epochs,
            eval_every=1,
            batch_size=64,
            early_stopping=False,
            verbose=False,
            progress=False,
        )

    _, peak_short = traced(fit(2))
    _, peak_long = traced(fit(12))
    assert peak_long < peak_short * 1.10 + 64_000, (peak_short, peak_long)


def test_predict_and_evaluate_peak_does_not_grow_with_the_data(
    rng: np.random.Generator,
) -> None:
    net = make_net()
    trainer = Trainer(net, SGDMomentum(0.05))
    X_small, y_small = data(5_000, rng)
    X_big, y_big = data(50_000, rng)
    net.build((64,))

    def extra_peak(X: np.ndarray, y: np.ndarray) -> tuple[int, int]:
        # what prediction needs beyond the array it returns (10 floats a sample)
        _, peak_predict = traced(lambda: net.predict(X, batch_size=512))
        _, peak_eval = traced(lambda: trainer.evaluate(X, y, batch_size=512))
        return peak_predict - X.shape[0] * 10 * 4, peak_eval

    small_predict, small_eval = extra_peak(X_small, y_small)
    big_predict, big_eval = extra_peak(X_big, y_big)
    # ten times the data: the working memory stays that of one batch
    assert big_predict < small_predict + 200_000, (small_predict, big_predict)
    assert big_eval < small_eval + 600_000, (small_eval, big_eval)
    # and it is far below the size of the inputs themselves (12.8 MB)
    assert big_eval < X_big.nbytes / 4


def test_relu_reuses_its_arrays_only_after_backward(rng: np.random.Generator) -> None:
    # a training step's output and gradient are rewritten by the next step
    # (no new multi-megabyte array per batch); prediction gets new arrays
    relu = ReLU()
    x1, x2 = rng.standard_normal((2, 8, 5)).astype(np.float32)
    first = relu.forward(x1)
    again = relu.forward(x1)
    assert not np.shares_memory(first, again)
    g = rng.standard_normal((8, 5)).astype(np.float32)
    grad1 = relu.backward(g)
    np.testing.assert_array_equal(grad1, g * (x1 > 0))
    out2 = relu.forward(x2)
    assert np.shares_memory(out2, again)
    np.testing.assert_array_equal(out2, np.maximum(x2, 0))
    grad2 = relu.backward(g)
    assert np.shares_memory(grad2, grad1)
    np.testing.assert_array_equal(grad2, g * (x2 > 0))
    assert relu.forward(np.float32(-2.0)) == 0.0  # scalars still work
