"""The book's API typed as a reader of *Deep Learning from Scratch* would type it.

The imports, the DESIGN.md example, the book's manual training loop, and a user's
own Operation, ParamOperation and Layer subclasses written in the book's style.
"""

from __future__ import annotations

import numpy as np
import pytest

import lincoln
from lincoln import activations, layers, losses, network, optimizers, train
from lincoln.base import Operation, ParamOperation
from lincoln.datasets import load_digits, one_hot, train_test_split
from lincoln.dense import BiasAdd, WeightMultiply
from lincoln.gradcheck import check_network


@pytest.fixture(scope="module")
def mnist_like():
    """The bundled digits, split and one-hot encoded as the book does for MNIST."""
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.3, seed=0)
    return X_train, X_test, one_hot(y_train, 10), one_hot(y_test, 10)


def test_the_design_example_runs_and_learns(mnist_like) -> None:
    X_train, X_test, y_train, y_test = mnist_like
    model = network.NeuralNetwork(
        layers=[
            layers.Dense(
                neurons=89, activation=activations.Sigmoid(), weight_init="glorot"
            ),
            layers.Dense(
                neurons=10, activation=activations.Linear(), weight_init="glorot"
            ),
        ],
        loss=losses.SoftmaxCrossEntropy(),
        seed=190119,
    )
    trainer = train.Trainer(
        model,
        optimizers.SGDMomentum(
            0.2, momentum=0.9, final_lr=0.05, decay_type="exponential"
        ),
    )
    history = trainer.fit(
        X_train,
        y_train,
        X_test,
        y_test,
        epochs=10,
        eval_every=5,
        seed=190119,
        batch_size=60,
        verbose=False,
    )
    assert history.epochs[0] == 5
    assert history.lr[0] == 0.2 and history.lr[-1] == pytest.approx(0.05, rel=1e-12)
    assert history.train_loss[-1] < history.train_loss[0]
    assert max(history.val_accuracy) > 0.9
    predicted = model.forward(X_test, inference=True).argmax(axis=1)
    assert np.mean(predicted == y_test.argmax(axis=1)) == pytest.approx(
        history.val_accuracy[history.epochs.index(history.best_epoch)]
    )


def test_the_books_manual_loop_after_creating_the_trainer(mnist_like) -> None:
    X_train, _, y_train, _ = mnist_like
    X_batch, y_batch = X_train[:128], y_train[:128]
    net = network.NeuralNetwork(
        layers=[
            layers.Dense(neurons=32, activation=activations.Tanh()),
            layers.Dense(neurons=10, activation=activations.Linear()),
        ],
        loss=losses.SoftmaxCrossEntropy(),
        seed=20190501,
    )
    optim = optimizers.SGD(lr=0.05)
    train.Trainer(net, optim)
    first = net.train_batch(X_batch, y_batch)
    optim.step()
    for _ in range(20):
        net.train_batch(X_batch, y_batch)
        optim.step()
    assert net.forward_loss(X_batch, y_batch) < 0.8 * first


def test_everything_public_is_importable_from_lincoln() -> None:
    for name in lincoln.__all__:
        assert hasattr(lincoln, name), name
    assert lincoln.Dense is layers.Dense and lincoln.Trainer is train.Trainer
    assert lincoln.SoftmaxCrossEntropy is losses.SoftmaxCrossEntropy


# -- a user's own operations and layer, in the book's style ----------------------------


class Square(Operation):
    def __init__(self) -> None:
        super().__init__()

    def _output(self) -> np.ndarray:
        return self.input_ * self.input_

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2.0 * self.input_ * output_grad


class Swish(Operation):
    """x * sigmoid(x)."""

    def _output(self) -> np.ndarray:
        self.sig = 1.0 / (1.0 + np.exp(-self.input_))
        return self.input_ * self.sig

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * (self.sig + self.input_ * self.sig * (1.0 - self.sig))


class Scale(ParamOperation):
    """Element-wise multiplication by a (1, neurons) parameter."""

    def __init__(self, S: np.ndarray) -> None:
        super().__init__(S)

    def _output(self) -> np.ndarray:
        return self.input_ * self.param

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.param

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.sum(output_grad * self.input_, axis=0, keepdims=True)


class Noise(Operation):
    """The published library's form ``_output(self, inference)``: a fixed shift
    that is applied only while training."""

    def _output(self, inference: bool) -> np.ndarray:
        return self.input_ if inference else self.input_ + 0.01

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad


class ScaledLayer(layers.Layer):
    """X @ W + B, scaled element-wise, then an activation; built as the book
    builds Dense."""

    def __init__(self, neurons: int, activation: Operation | None = None) -> None:
        super().__init__(neurons)
        self.activation = activation if activation is not None else Swish()

    def _setup_layer(self, input_: np.ndarray) -> None:
        rng = np.random.default_rng(self.seed)
        self.params = []
        self.params.append(
            rng.standard_normal((input_.shape[1], self.neurons))
            / np.sqrt(input_.shape[1])
        )
        self.params.append(rng.standard_normal((1, self.neurons)))
        self.params.append(np.ones((1, self.neurons)))
        self.operations = [
            WeightMultiply(self.params[0]),
            BiasAdd(self.params[1]),
            Scale(self.params[2]),
            self.activation,
        ]


class BookSeededLayer(layers.Layer):
    """The book's Dense._setup_layer, word for word: the global np.random seeded
    by self.seed."""

    def __init__(self, neurons: int) -> None:
        super().__init__(neurons)

    def _setup_layer(self, input_: np.ndarray) -> None:
        if self.seed:
            np.random.seed(self.seed)
        self.params = []
        self.params.append(np.random.randn(input_.shape[1], self.neurons))
        self.params.append(np.random.randn(1, self.neurons))
        self.operations = [
            WeightMultiply(self.params[0]),
            BiasAdd(self.params[1]),
            activations.Sigmoid(),
        ]


@pytest.mark.parametrize("activation", [Swish, Square], ids=["Swish", "Square"])
def test_a_users_layer_of_user_operations_trains(activation, mnist_like) -> None:
    X_train, X_test, y_train, y_test = mnist_like
    net = network.NeuralNetwork(
        layers=[ScaledLayer(16, activation()), layers.Dense(10, "linear")],
        loss=losses.SoftmaxCrossEntropy(),
        seed=7,
    )
    trainer = train.Trainer(net, optimizers.SGD(lr=0.02))
    history = trainer.fit(
        X_train[:400],
        y_train[:400],
        X_test[:100],
        y_test[:100],
        epochs=4,
        eval_every=1,
        batch_size=32,
        verbose=False,
        early_stopping=False,
    )
    assert history.train_loss[-1] < 0.8 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]
    assert [p.shape for p in net.layers[0].params] == [(64, 16), (1, 16), (1, 16)]
    assert all(
        p.dtype == np.float32 for p in net.params()
    )  # cast to the network's dtype
    assert not np.array_equal(
        net.layers[0].params[2], np.ones((1, 16))
    )  # Scale learned


def test_a_users_layer_passes_the_gradient_check(rng) -> None:
    net = network.NeuralNetwork(
        [ScaledLayer(5), ScaledLayer(4, Square()), layers.Dense(3, "linear")],
        losses.SoftmaxCrossEntropy(),
        seed=1,
        dtype=np.float64,
    )
    report = check_network(net, rng.standard_normal((6, 4)), rng.integers(0, 3, 6))
    assert len(report.comparisons) == 3 + 3 + 2 and report.passed


def test_an_inference_aware_user_operation_inside_a_network(rng) -> None:
    class NoisyLayer(ScaledLayer):
        def _setup_layer(self, input_: np.ndarray) -> None:
            super()._setup_layer(input_)
            self.operations.append(Noise())

    net = network.NeuralNetwork(
        [NoisyLayer(3, Square()), layers.Dense(2, "linear")],
        losses.MeanSquaredError(),
        seed=0,
        dtype=np.float64,
    )
    X = rng.standard_normal((4, 5))
    hidden = net.layers[0]
    net.forward(X, inference=True)
    clean = hidden.output.copy()
    net.forward(X)
    np.testing.assert_allclose(hidden.output - clean, 0.01, rtol=1e-9)


def test_a_layer_seeded_the_books_way_builds() -> None:
    """Regression: 64-bit layer seeds made the book's np.random.seed(self.seed)
    raise ValueError; the seeds must fit 0..2**32-1 (and stay reproducible)."""
    state = np.random.get_state()
    try:
        weights = []
        for _ in range(2):
            net = network.NeuralNetwork(
                [BookSeededLayer(4), layers.Dense(2, "linear")],
                losses.MeanSquaredError(),
                seed=190119,
            )
            assert net.forward(np.ones((3, 5))).shape == (3, 2)
            weights.append(net.params()[0].copy())
        np.testing.assert_array_equal(weights[0], weights[1])
    finally:
        np.random.set_state(state)
