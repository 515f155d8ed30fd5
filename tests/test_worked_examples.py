"""Worked figures of Saito's *Deep Learning from Scratch*, redone with lincoln.

- vol. 1 ch. 5: the apple-shopping graph (Mul and Add nodes), the batch bias
  gradient, ReLU's mask, Softmax-with-loss's gradient, the two-layer network's
  gradient check.
- vol. 2 ch. 1: Repeat/Sum nodes and MatMul (the BiasAdd and WeightMultiply
  gradients), SGD.
- vol. 1 ch. 4: sum of squares and cross-entropy of one prediction, numerical
  differentiation, the gradient of x0^2 + x1^2, gradient descent.
"""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.activations import ReLU
from lincoln.datasets import load_digits, one_hot
from lincoln.dense import BiasAdd, WeightMultiply
from lincoln.gradcheck import check_network, numerical_gradient
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD
from lincoln.train import Trainer

# vol. 1, 4.2.1: one prediction of a 10-class network, and its one-hot target "2"
Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])


def _s(value: float) -> np.ndarray:
    """A scalar as the (1, 1) batch an Operation takes."""
    return np.array([[float(value)]])


# -- vol. 1 ch. 5: computational graphs ------------------------------------------------


def test_apple_shopping_forward_and_backward() -> None:
    """100 won per apple, 2 apples, tax 1.1: price 220;
    d/dapple 2.2, d/dnum 110, d/dtax 200."""
    mul_apple = WeightMultiply(_s(2))  # apple price x apple count
    mul_tax = WeightMultiply(_s(1.1))  # x tax
    price = mul_tax.forward(mul_apple.forward(_s(100)))
    assert price[0, 0] == pytest.approx(220.0)

    d_apple_price = mul_tax.backward(_s(1))
    d_apple = mul_apple.backward(d_apple_price)
    assert d_apple[0, 0] == pytest.approx(2.2)
    assert mul_apple.param_grad[0, 0] == pytest.approx(110.0)  # d/d(apple count)
    assert mul_tax.param_grad[0, 0] == pytest.approx(200.0)  # d/d(tax)


def test_apple_and_orange_shopping_with_an_add_node() -> None:
    """Apples 100 x 2, oranges 150 x 3, tax 1.1: 200, 450, 650, 715 forward and
    dApple 2.2, dApple_num 110, dOrange 3.3, dOrange_num 165, dTax 650 backward."""
    mul_apple = WeightMultiply(_s(2))
    mul_orange = WeightMultiply(_s(3))
    apple_price = mul_apple.forward(_s(100))
    orange_price = mul_orange.forward(_s(150))
    add = BiasAdd(orange_price.copy())  # the add node: apple price + orange price
    all_price = add.forward(apple_price)
    mul_tax = WeightMultiply(_s(1.1))
    price = mul_tax.forward(all_price)
    assert [apple_price[0, 0], orange_price[0, 0], all_price[0, 0]] == [200, 450, 650]
    assert price[0, 0] == pytest.approx(715.0)

    d_all_price = mul_tax.backward(_s(1))
    d_apple_price = add.backward(d_all_price)  # an add node passes the gradient on
    d_orange_price = add.param_grad
    assert d_apple_price[0, 0] == d_orange_price[0, 0] == pytest.approx(1.1)
    d_apple = mul_apple.backward(d_apple_price)
    d_orange = mul_orange.backward(d_orange_price)
    assert d_apple[0, 0] == pytest.approx(2.2)
    assert mul_apple.param_grad[0, 0] == pytest.approx(110.0)
    assert d_orange[0, 0] == pytest.approx(3.3)
    assert mul_orange.param_grad[0, 0] == pytest.approx(165.0)
    assert mul_tax.param_grad[0, 0] == pytest.approx(650.0)


def test_the_same_shopping_as_one_matrix_product() -> None:
    """Prices [100, 150] @ counts [[2], [3]] = 650; the counts' gradient (110, 165)
    and the prices' (2.2, 3.3) come out of one WeightMultiply."""
    counts = WeightMultiply(np.array([[2.0], [3.0]]))
    tax = WeightMultiply(_s(1.1))
    price = tax.forward(counts.forward(np.array([[100.0, 150.0]])))
    assert price[0, 0] == pytest.approx(715.0)
    d_prices = counts.backward(tax.backward(_s(1)))
    np.testing.assert_allclose(d_prices, [[2.2, 3.3]])
    np.testing.assert_allclose(counts.param_grad, [[110.0], [165.0]])
    np.testing.assert_allclose(tax.param_grad, [[650.0]])


def test_batch_bias_add_forward_and_gradient() -> None:
    """X.W = [[0,0,0],[10,10,10]] + B = [1,2,3];
    dY = [[1,2,3],[4,5,6]] -> dB = [5,7,9]."""
    add = BiasAdd(np.array([[1.0, 2.0, 3.0]]))
    out = add.forward(np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]))
    np.testing.assert_array_equal(out, [[1, 2, 3], [11, 12, 13]])
    d_y = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(add.backward(d_y), d_y)
    np.testing.assert_array_equal(add.param_grad, [[5.0, 7.0, 9.0]])


def test_relu_backward_zeroes_where_the_input_was_not_positive() -> None:
    """The seed's Relu: mask = (x <= 0); backward sets d_out[mask] = 0."""
    x = np.array([[1.0, -0.5], [-2.0, 3.0]])
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(x), [[1.0, 0.0], [0.0, 3.0]])
    np.testing.assert_array_equal(
        relu.backward(np.full((2, 2), 7.0)), [[7.0, 0.0], [0.0, 7.0]]
    )


def test_softmax_with_loss_gradient_is_y_minus_t_over_batch() -> None:
    """SoftmaxWithLoss.backward: (softmax(x) - t) / batch_size."""
    x = np.array([[0.3, 2.9, 4.0], [1.0, -1.0, 0.0]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    loss = SoftmaxCrossEntropy()
    loss.forward(x, t)
    softmax = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss.backward(), (softmax - t) / 2, rtol=1e-12)


def test_two_layer_network_backprop_matches_numerical_gradients() -> None:
    """Vol. 1 ch. 5's gradient check: TwoLayerNet(hidden 50, ReLU, 10 outputs)
    on 3 samples; the mean |backprop - numerical| per parameter is ~1e-10
    there. The bundled 8x8 digits stand in for MNIST (64 inputs instead of 784,
    for speed)."""
    X, y = load_digits(dtype=np.float64)
    X_batch, t_batch = X[:3], one_hot(y[:3], 10, dtype=np.float64)
    net = NeuralNetwork(
        [
            Dense(50, "relu", weight_init="he"),
            Dense(10, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=0,
        dtype=np.float64,
    )
    report = check_network(net, X_batch, t_batch)
    assert list(report.mean_abs_diffs) == [
        "layers.0.params.0",
        "layers.0.params.1",
        "layers.1.params.0",
        "layers.1.params.1",
    ]
    for name, diff in report.mean_abs_diffs.items():
        assert diff < 1e-7, name


# -- vol. 2 ch. 1: Repeat / Sum / MatMul nodes, SGD ------------------------------------


def test_repeat_node_gradient_is_a_sum_and_matmul_gradients(rng) -> None:
    """Repeating x over N rows (a bias added to a batch) sums dy back over the rows;
    MatMul: dx = dout W^T, dW = x^T dout."""
    D, N = 8, 7
    bias = BiasAdd(rng.standard_normal((1, D)))
    bias.forward(rng.standard_normal((N, D)))
    dy = rng.standard_normal((N, D))
    bias.backward(dy)
    np.testing.assert_allclose(bias.param_grad, np.sum(dy, axis=0, keepdims=True))

    W = rng.standard_normal((D, 3))
    x = rng.standard_normal((N, D))
    matmul = WeightMultiply(W)
    dout = rng.standard_normal((N, 3))
    matmul.forward(x)
    np.testing.assert_allclose(matmul.backward(dout), np.matmul(dout, W.T))
    np.testing.assert_allclose(matmul.param_grad, np.matmul(x.T, dout))


def test_sgd_updates_params_minus_lr_times_grads(rng) -> None:
    """SGD.update: params[i] -= lr * grads[i]."""
    net = NeuralNetwork(
        [Dense(3, "sigmoid"), Dense(2, "linear")],
        MeanSquaredError(),
        seed=0,
        dtype=np.float64,
    )
    optim = SGD(lr=0.01)
    Trainer(net, optim)
    net.train_batch(rng.standard_normal((4, 5)), rng.standard_normal((4, 2)))
    expected = [
        p - 0.01 * g for p, g in zip(net.params(), net.param_grads(), strict=True)
    ]
    optim.step()
    for p, e in zip(net.params(), expected, strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-15)


# -- vol. 1 ch. 4: losses and numerical differentiation --------------------------------


def test_sum_of_squares_error_of_the_example() -> None:
    """0.5 * sum((y - t)^2) = 0.0975; lincoln's MSE (no 1/2, mean over the batch of 1)
    gives twice that."""
    mse = MeanSquaredError().forward(Y[None, :], T[None, :].astype(float))
    assert 0.5 * mse == pytest.approx(0.0975)


def test_cross_entropy_of_the_example_through_softmax_cross_entropy() -> None:
    """-log(0.6) = 0.5108: feed log-probabilities as logits (log 0 -> a very negative
    number); softmax(log p) = p because p sums to 1."""
    assert Y.sum() == pytest.approx(1.0)
    logits = np.log(np.where(Y > 0, Y, 1.0))
    logits[Y == 0] = -1e4
    loss = SoftmaxCrossEntropy()
    from_label = loss.forward(logits[None, :], np.array([2]))
    assert round(from_label, 4) == 0.5108
    assert from_label == pytest.approx(-np.log(0.6), rel=1e-12)
    from_one_hot = loss.forward(logits[None, :], T[None, :])
    assert from_one_hot == pytest.approx(from_label, rel=1e-12)
    np.testing.assert_allclose(loss.softmax_preds[0], Y, atol=1e-15)


def test_numerical_diff_of_function_1() -> None:
    """f(x) = 0.01 x^2 + 0.1 x: f'(5) = 0.2, f'(10) = 0.3."""
    for x, slope in [(5.0, 0.2), (10.0, 0.3)]:
        grad = numerical_gradient(
            lambda v: float(0.01 * v[0] ** 2 + 0.1 * v[0]), np.array([x])
        )
        assert grad[0] == pytest.approx(slope, rel=1e-8)


@pytest.mark.parametrize(
    ("point", "expected"),
    [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))],
)
def test_numerical_gradient_of_function_2(point: tuple, expected: tuple) -> None:
    """f(x0, x1) = x0^2 + x1^2 has the gradient (2 x0, 2 x1)."""
    x = np.array(point)
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(x, point)


def test_gradient_descent_on_function_2() -> None:
    """gradient_descent(function_2, init_x=(-3, 4), lr=0.01, step_num=100): each step
    multiplies x by 1 - 2 lr, so x ends at 0.98^100 * (-3, 4)."""
    x = np.array([-3.0, 4.0])
    for _ in range(100):
        x -= 0.01 * numerical_gradient(lambda v: float(v[0] ** 2 + v[1] ** 2), x)
    np.testing.assert_allclose(x, 0.98**100 * np.array([-3.0, 4.0]), rtol=1e-8)
    # with lr = 0.1 it converges: 0.8^100 (-3, 4) ~ (-6.1e-10, 8.1e-10)
    x = np.array([-3.0, 4.0])
    for _ in range(100):
        x -= 0.1 * numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert np.all(np.abs(x) < 1e-9)
