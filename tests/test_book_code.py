"""The book's code beyond chapter 4's notebook: its positional argument orders, its
defaults and import paths, and classes of its library typed as printed.

What *Deep Learning from Scratch*'s library (SethHWeidman/DLFS_code, lincoln/ at
commit 6e6fa2a, September 2019) lets a reader write, and lincoln must accept:

- ``Dense(neurons, activation, conv_in, dropout, weight_init)`` and
  ``Conv2D(out_channels, param_size, dropout, weight_init, activation, flatten)``,
  positionally; ``Conv2D``'s default ``weight_init="normal"``; ``conv_in``;
- ``NeuralNetwork(layers)`` with the default loss, MeanSquaredError;
- ``lincoln.network.LayerBlock``, the base of NeuralNetwork;
- ``lincoln.reshape.Flatten`` and ``lincoln.conv.Conv2D_Op``;
- ``MeanSquaredError(normalize=True)``, which divides each row of predictions by
  its sum;
- the book's own operations (``_output(self, inference)``) and layers,
  tests/book_code/book_layers.py and book_conv.py, inside lincoln's networks;
- chapter 5's convolution notebook, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from book_code.book_layers import (
    BookDense,
    BookDropout,
    BookFlatten,
    BookLinear,
    BookSigmoid,
    BookTanh,
)
from book_code.notebook import accuracy_printed, read_cells, run_cells
from book_code.synthetic_mnist import write_synthetic_mnist

import lincoln
from lincoln import activations, layers, losses, network, optimizers, train
from lincoln.activations import Linear, Sigmoid, Tanh
from lincoln.base import Operation
from lincoln.layers import Conv2D, Dense, Layer
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, SGDMomentum
from lincoln.train import Trainer


@pytest.fixture(scope="module")
def three_classes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """96 training and 48 validation samples of three separable classes, one-hot."""
    rng = np.random.default_rng(20190119)
    centres = rng.normal(0.0, 2.0, (3, 8))
    y = np.arange(144) % 3
    X = centres[y] + rng.normal(0.0, 1.0, (144, 8))
    Y = np.eye(3)[y]
    return X[:96], Y[:96], X[96:], Y[96:]


def _accuracy(net: Any, X: np.ndarray, Y: np.ndarray) -> float:
    predictions = net.forward(X, inference=True)
    return float(np.mean(predictions.argmax(axis=1) == Y.argmax(axis=1)))


def _images(n: int = 4, channels: int = 1, side: int = 8) -> np.ndarray:
    return np.random.default_rng(3).normal(size=(n, channels, side, side))


# ------------------------------------------------------ positional argument orders


def test_dense_takes_the_books_positional_order() -> None:
    # Dense(neurons, activation, conv_in, dropout, weight_init)
    layer = Dense(3, Linear(), False, 1.0, "glorot")
    assert layer.neurons == 3
    assert isinstance(layer.activation, Linear)
    assert layer.conv_in is False
    assert layer.dropout == 1.0
    assert layer.weight_init == "glorot"
    layer = Dense(89, Tanh(), False, 0.8, "standard")
    assert isinstance(layer.activation, Tanh)
    assert layer.dropout == 0.8 and layer.weight_init == "standard"


def test_conv2d_takes_the_books_positional_order() -> None:
    # Conv2D(out_channels, param_size, dropout, weight_init, activation, flatten)
    layer = Conv2D(16, 5, 0.8, "glorot", Tanh(), True)
    assert layer.out_channels == 16 and layer.param_size == 5
    assert layer.dropout == 0.8
    assert layer.weight_init == "glorot"
    assert isinstance(layer.activation, Tanh)
    assert layer.flatten is True
    net = NeuralNetwork([layer, Dense(10, Linear())], SoftmaxCrossEntropy(), 1)
    assert net.forward(_images(2), inference=True).shape == (2, 10)
    assert layer.output.shape == (2, 16 * 8 * 8)


def test_the_book_models_positional_orders_work() -> None:
    # Optimizer(lr, final_lr, decay_type), SGDMomentum(lr, final_lr, decay_type,
    # momentum), NeuralNetwork(layers, loss, seed), MeanSquaredError(normalize),
    # SoftmaxCrossEntropy(eps)
    sgd = SGD(0.1, 0.05, "linear")
    assert (sgd.lr, sgd.final_lr, sgd.decay_type) == (0.1, 0.05, "linear")
    momentum = SGDMomentum(0.2, 0.05, "exponential", 0.8)
    assert (momentum.lr, momentum.final_lr) == (0.2, 0.05)
    assert (momentum.decay_type, momentum.momentum) == ("exponential", 0.8)
    assert MeanSquaredError(True).normalize
    assert SoftmaxCrossEntropy(1e-7).eps == 1e-7
    net = NeuralNetwork(
        [Dense(4, Sigmoid()), Dense(3, Linear())], SoftmaxCrossEntropy(), 7
    )
    assert net.seed == 7


def test_trainer_fit_takes_the_books_positional_order(three_classes) -> None:
    # fit(X_train, y_train, X_test, y_test, epochs, eval_every, batch_size, seed)
    X_train, y_train, X_test, y_test = three_classes
    net = NeuralNetwork(
        [Dense(6, Sigmoid()), Dense(3, Linear())], SoftmaxCrossEntropy(), 3
    )
    Trainer(net, SGDMomentum(0.1, momentum=0.9)).fit(
        X_train, y_train, X_test, y_test, 20, 10, 16, 190119
    )
    assert _accuracy(net, X_test, y_test) > 0.9


# ------------------------------------------------------------------- defaults


def test_neural_network_defaults_to_mean_squared_error() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    net = NeuralNetwork([Dense(1, Linear())])
    assert isinstance(net.loss, MeanSquaredError)  # an instance, not the class
    assert net.seed == 1  # the book's default seed
    first = net.train_batch(X, y)
    for _ in range(200):
        net.train_batch(X, y)
        for param, grad in zip(net.params(), net.param_grads(), strict=True):
            param -= 0.05 * grad
    assert net.forward_loss(X, y) < 1e-3 * first


def test_conv2d_accepts_the_books_default_weight_init_normal() -> None:
    layer = Conv2D(32, 3, weight_init="normal")
    net = NeuralNetwork(
        [layer, layers.Flatten(), Dense(2, Linear())], MeanSquaredError(), 5
    )
    net.forward(_images(2, channels=4))
    kernel = layer.params[0]
    assert kernel.shape == (4, 32, 3, 3)
    # "normal" (anything but "glorot" in the book) draws N(0, 1): scale 1.0
    assert 0.9 < float(np.std(kernel)) < 1.1
    assert Conv2D(8, 3).weight_init in ("normal", "standard")


def test_dense_accepts_conv_in_after_a_flattening_conv2d() -> None:
    dense = Dense(10, Linear(), conv_in=True)
    assert dense.conv_in is True
    assert Dense(10).conv_in is False
    net = NeuralNetwork(
        [Conv2D(4, 3, activation=Tanh(), flatten=True), dense],
        SoftmaxCrossEntropy(),
        2,
    )
    X = _images(6)
    Y = np.eye(10)[np.arange(6)]
    loss = net.train_batch(X, Y)
    assert np.isfinite(loss) and dense.params[0].shape == (4 * 8 * 8, 10)


# --------------------------------------------------------- MSE(normalize=True)


def _rowsum_mse(prediction: np.ndarray, target: np.ndarray) -> float:
    q = prediction / prediction.sum(axis=1, keepdims=True)
    return float(np.sum((q - target) ** 2) / prediction.shape[0])


def test_mse_normalize_divides_each_row_by_its_sum() -> None:
    prediction = np.array([[1.0, 3.0], [2.0, 2.0]])
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    # rows become [0.25, 0.75] and [0.5, 0.5]: (0.0625 + 0.0625 + 0.25 + 0.25) / 2
    assert MeanSquaredError(normalize=True).forward(
        prediction, target
    ) == pytest.approx(0.3125, rel=1e-12)
    assert MeanSquaredError(normalize=False).forward(
        prediction, target
    ) == pytest.approx((1 + 4 + 1 + 4) / 2, rel=1e-12)


def test_mse_normalize_gradient_is_that_of_the_row_sum_loss() -> None:
    rng = np.random.default_rng(1)
    prediction = rng.uniform(0.1, 1.0, (5, 4))
    target = np.eye(4)[rng.integers(0, 4, 5)]
    loss = MeanSquaredError(normalize=True)
    assert loss.forward(prediction, target) == pytest.approx(
        _rowsum_mse(prediction, target), rel=1e-12
    )
    grad = loss.backward()
    numeric = np.zeros_like(prediction)
    h = 1e-6
    for index in np.ndindex(prediction.shape):
        up, down = prediction.copy(), prediction.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (_rowsum_mse(up, target) - _rowsum_mse(down, target)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ LayerBlock


def test_layer_block_runs_its_layers_forward_and_backward() -> None:
    from lincoln.network import LayerBlock

    X = np.random.default_rng(2).normal(size=(5, 3))
    block = LayerBlock([Dense(4, Sigmoid()), Dense(2, Linear())])
    out = block.forward(X)
    assert out.shape == (5, 2)
    # the same as running its layers by hand
    manual = X
    for layer in block:
        manual = layer.forward(manual)
    np.testing.assert_array_equal(out, manual)
    grad = block.backward(np.ones((5, 2)))
    assert grad.shape == (5, 3)
    assert [p.shape for p in block.params()] == [(3, 4), (1, 4), (4, 2), (1, 2)]
    assert [g.shape for g in block.param_grads()] == [(3, 4), (1, 4), (4, 2), (1, 2)]
    assert list(block) == block.layers
    assert repr(block).startswith("LayerBlock(")


def test_neural_network_is_a_layer_block() -> None:
    from lincoln.network import LayerBlock

    assert issubclass(NeuralNetwork, LayerBlock)
    net = NeuralNetwork([Dense(2, Linear())], MeanSquaredError(), 1)
    assert isinstance(net, LayerBlock)


# ------------------------------------------------------- Flatten and Conv2D_Op


def test_lincoln_reshape_flatten_is_lincolns_flatten() -> None:
    from lincoln.reshape import Flatten

    assert Flatten is layers.Flatten
    assert lincoln.reshape.Flatten is Flatten


def test_reshape_flatten_as_a_layer_between_conv_and_dense() -> None:
    from lincoln.reshape import Flatten

    net = NeuralNetwork(
        [Conv2D(3, 3, activation=Tanh()), Flatten(), Dense(10, Linear())],
        SoftmaxCrossEntropy(),
        4,
    )
    X = _images(5, channels=2)
    Y = np.eye(10)[np.arange(5)]
    net.train_batch(X, Y)
    assert net.layers[1].output.shape == (5, 3 * 8 * 8)
    assert net.layers[1].backward(np.ones((5, 192))).shape == (5, 3, 8, 8)


def test_reshape_flatten_as_an_operation_in_a_book_style_layer() -> None:
    """The book's layers put ``Flatten()`` in their ``operations``."""
    from lincoln.dense import BiasAdd, WeightMultiply
    from lincoln.reshape import Flatten

    class FlatDense(Layer):
        def _setup_layer(self, input_: np.ndarray) -> None:
            num_in = int(np.prod(input_.shape[1:]))
            np.random.seed(self.seed)
            self.params = [
                np.random.randn(num_in, self.neurons),
                np.random.randn(1, self.neurons),
            ]
            self.operations = [
                Flatten(),
                WeightMultiply(self.params[0]),
                BiasAdd(self.params[1]),
                Sigmoid(),
            ]

    net = NeuralNetwork([FlatDense(4), Dense(3, Linear())], SoftmaxCrossEntropy(), 8)
    X = _images(6, channels=2, side=3)
    Y = np.eye(3)[np.arange(6) % 3]
    net.train_batch(X, Y)
    assert net.layers[0].output.shape == (6, 4)
    assert [p.shape for p in net.params()][:2] == [(18, 4), (1, 4)]
    assert all(g is not None for g in net.param_grads())


def test_the_books_conv2d_op_is_importable_from_lincoln_conv() -> None:
    from lincoln.conv import Conv2D_Op

    W = np.random.default_rng(0).normal(size=(2, 3, 3, 3))
    op = Conv2D_Op(W)
    X = _images(4, channels=2, side=6)
    out = op.forward(X)
    assert out.shape == (4, 3, 6, 6)  # the book pads by param_size // 2
    assert op.backward(np.ones_like(out)).shape == X.shape
    assert op.param_grad.shape == W.shape


# ------------------------------------------------- the book's operations and layers


def test_the_books_activations_match_lincolns_inside_dense(three_classes) -> None:
    """Operations written ``_output(self, inference)`` train exactly as lincoln's."""
    X_train, y_train, X_test, y_test = three_classes

    def fit(hidden: Operation, out: Operation) -> NeuralNetwork:
        net = NeuralNetwork(
            layers=[
                Dense(neurons=6, activation=hidden),
                Dense(neurons=3, activation=out),
            ],
            loss=SoftmaxCrossEntropy(),
            seed=190119,
            dtype=np.float64,
        )
        trainer = Trainer(net, SGDMomentum(0.1, momentum=0.9))
        trainer.fit(
            X_train,
            y_train,
            X_test,
            y_test,
            epochs=6,
            eval_every=3,
            seed=5,
            batch_size=16,
            early_stopping=False,
        )
        return net

    for book, ours in ((BookTanh(), Tanh()), (BookSigmoid(), Sigmoid())):
        book_net = fit(book, BookLinear())
        lincoln_net = fit(ours, Linear())
        for a, b in zip(book_net.params(), lincoln_net.params(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        assert _accuracy(book_net, X_test, y_test) > 0.9


def test_the_books_dropout_and_flatten_operations() -> None:
    np.random.seed(0)
    x = np.ones((200, 50))
    dropout = BookDropout(0.8)
    train_out = dropout.forward(x)
    assert set(np.unique(train_out)) == {0.0, 1.0}
    assert 0.75 < train_out.mean() < 0.85
    np.testing.assert_array_equal(dropout.backward(np.ones_like(x)), dropout.mask)
    np.testing.assert_allclose(dropout.forward(x, inference=True), 0.8 * x)
    flatten = BookFlatten()
    images = _images(3, channels=2, side=4)
    assert flatten.forward(images).shape == (3, 32)
    assert flatten.backward(np.ones((3, 32))).shape == images.shape


def test_the_books_dense_layer_trains_under_trainer_fit(three_classes) -> None:
    X_train, y_train, X_test, y_test = three_classes
    model = NeuralNetwork(
        layers=[
            BookDense(
                neurons=8, activation=BookTanh(), weight_init="glorot", dropout=0.8
            ),
            BookDense(neurons=3, activation=BookLinear(), weight_init="glorot"),
        ],
        loss=SoftmaxCrossEntropy(),
        seed=20190119,
    )
    trainer = Trainer(
        model, SGDMomentum(0.2, momentum=0.9, final_lr=0.05, decay_type="exponential")
    )
    trainer.fit(
        X_train,
        y_train,
        X_test,
        y_test,
        epochs=20,
        eval_every=5,
        seed=20190119,
        batch_size=16,
    )
    assert [p.shape for p in model.params()] == [(8, 8), (1, 8), (8, 3), (1, 3)]
    assert isinstance(model.layers[0].operations[-1], BookDropout)
    assert _accuracy(model, X_test, y_test) > 0.9


def test_the_books_conv2d_layer_trains() -> None:
    from book_code.book_conv import Conv2D as BookConv2D

    rng = np.random.default_rng(11)
    y = np.arange(96) % 2
    X = rng.normal(0.0, 0.3, (96, 1, 6, 6))
    X[y == 1, 0, :, :3] += 1.0  # class 1: bright left half
    Y = np.eye(2)[y]
    model = NeuralNetwork(
        layers=[
            BookConv2D(
                out_channels=4,
                param_size=3,
                dropout=1.0,
                weight_init="glorot",
                flatten=True,
                activation=Tanh(),
            ),
            Dense(neurons=2, activation=Linear(), weight_init="glorot"),
        ],
        loss=SoftmaxCrossEntropy(),
        seed=20190402,
    )
    Trainer(model, SGDMomentum(lr=0.05, momentum=0.9)).fit(
        X[:64], Y[:64], X[64:], Y[64:], epochs=10, eval_every=5, seed=1, batch_size=8
    )
    assert _accuracy(model, X[64:], Y[64:]) > 0.75
    assert model.layers[0].params[0].shape == (1, 4, 3, 3)
    assert model.layers[0].output.shape == (32, 4 * 6 * 6)


# -------------------------------------------------------- chapter 5's notebook


def test_chapter5s_convolution_notebook_runs_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_synthetic_mnist(tmp_path / "mnist", n_train=300, n_test=100, seed=1)
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    run_cells(read_cells("chapter5_notebook.py"), namespace, "chapter5_notebook.py")
    printed = capsys.readouterr().out
    assert namespace["X_train_conv"].shape == (300, 1, 28, 28)
    # conv_testing=True prints the batch loss every 10 batches
    assert "batch 0 loss" in printed
    # one epoch of five batches: far from the book's 90%, but far above chance
    assert accuracy_printed(printed) > 40.0, printed


def test_everything_used_here_is_public() -> None:
    for module, name in (
        (activations, "Tanh"),
        (losses, "MeanSquaredError"),
        (optimizers, "SGDMomentum"),
        (network, "NeuralNetwork"),
        (train, "Trainer"),
    ):
        assert name in module.__all__
