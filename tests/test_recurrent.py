"""Recurrent steps and layers: float64 gradient checks against central differences
(batch > 1, sequences > 1, every step or the last, with and without carried
state), carried-state policies, shapes, saving."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import lincoln
from lincoln.errors import ConfigError, ShapeError
from lincoln.gradcheck import check_network, check_operation, numerical_gradient
from lincoln.layers.dense import Dense
from lincoln.layers.embedding import Embedding
from lincoln.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    Recurrent,
    carrying_state,
    reset_states,
)
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.ops.recurrent import (
    GateBias,
    GateProjection,
    GRUStep,
    LSTMStep,
    RNNStep,
    gates_,
    tanh_into,
)
from lincoln.ops.step import StepOperation

LAYERS = [RNN, LSTM, GRU]
STEPS = [RNNStep, LSTMStep, GRUStep]


def assert_close(analytic: np.ndarray, numerical: np.ndarray, what: str) -> None:
    err = np.abs(analytic - numerical) / np.maximum(
        1e-7, np.abs(analytic) + np.abs(numerical)
    )
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    assert err.max() < 1e-5, (
        f"{what}: relative error {err.max():.2e} at {worst}: "
        f"{analytic[worst]} vs {numerical[worst]}"
    )


# -- the step operations --------------------------------------------------------------


@pytest.mark.parametrize("cls", STEPS)
def test_step_gradients(cls: type[StepOperation], rng: np.random.Generator) -> None:
    """Step 1 of a 2-step sequence: every input and the recurrent weights."""
    B, H = 3, 4
    step = cls(rng.standard_normal((cls.gates * H, H)) * 0.5)
    inputs = [rng.standard_normal((cls.gates * H, B))]
    inputs += [rng.standard_normal((H, B)) for _ in cls.input_names[1:]]
    gs = [rng.standard_normal((H, B)) for _ in cls.output_names]

    def f(_: np.ndarray) -> float:
        step.start(2, B)
        step.Hb[0] = 0.0  # step 0 is not run: its state takes no part
        outs = step.forward(1, *inputs)
        return float(sum(np.sum(g * o) for g, o in zip(gs, outs, strict=True)))

    f(inputs[0])
    grads = step.backward(1, *gs)
    step.dZ[0] = 0.0  # nor does its gradient share
    (w_grad,) = step.finish_backward()
    for name, x, g in zip(cls.input_names, inputs, grads, strict=True):
        assert_close(g, numerical_gradient(f, x), f"{cls.__name__} d{name}")
    assert_close(w_grad, numerical_gradient(f, step.params[0]), f"{cls.__name__} dW_h")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gate_nonlinearities_from_exp(dtype: type) -> None:
    """gates_ and tanh_into (one exp call) agree with the logistic function and
    np.tanh to a few units in the last place, saturate without an overflow
    warning, and keep the dtype."""
    x = np.linspace(-120, 120, 2401).astype(dtype).reshape(-1, 1)
    x = np.concatenate([x, np.array([[1e-9], [-1e-9], [0.0]], dtype=dtype)])
    eps = float(np.finfo(dtype).eps)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = gates_(np.concatenate([x, x]), len(x))
        out = np.empty_like(x)
        tanh_into(x, out)
    assert a.dtype == out.dtype == dtype
    x64 = x.astype(np.float64)
    sig = 0.5 * (1.0 + np.tanh(x64 / 2))
    assert np.max(np.abs(a[: len(x)] - sig)) < 4 * eps
    assert np.max(np.abs(a[len(x) :] - np.tanh(x64))) < 8 * eps
    assert np.max(np.abs(out - np.tanh(x64))) < 8 * eps
    # the saturated ends, where exp(-x) overflows or vanishes
    assert 0.0 <= a[0, 0] < 1e-30 and a[len(x) - 4, 0] == 1.0
    assert a[len(x), 0] == -1.0 and out[-4, 0] == 1.0


def test_step_checks_its_arguments(rng: np.random.Generator) -> None:
    step = LSTMStep(np.zeros((16, 4)))
    step.start(1, 2)
    with pytest.raises(ShapeError, match="expected 3 inputs"):
        step.forward(0, np.zeros((16, 2)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="z of shape"):
        step.forward(0, np.zeros((12, 2)), np.zeros((4, 2)), np.zeros((4, 2)))
    step.forward(0, np.zeros((16, 2)), np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="gradient of c"):
        step.backward(0, np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="W_h must have shape"):
        GRUStep(np.zeros((16, 4)))


def test_gate_projection_gradients(rng: np.random.Generator) -> None:
    check_operation(
        GateProjection(rng.standard_normal((6, 5))), rng.standard_normal((4, 2, 5))
    )


def test_gate_bias_gradients(rng: np.random.Generator) -> None:
    """GateBias adds in place, so each pass gets a fresh copy of the input."""
    op, x = GateBias(rng.standard_normal((6, 1))), rng.standard_normal((6, 4, 2))
    g = rng.standard_normal(x.shape)

    def f(_: np.ndarray) -> float:
        return float(np.sum(g * op.forward(x.copy())))

    f(x)
    assert np.array_equal(op.backward(g), g)
    assert_close(op.param_grad, numerical_gradient(f, op.param), "GateBias param")


# -- the layers -----------------------------------------------------------------------


def _net(cls: type[Recurrent], **options: object) -> NeuralNetwork:
    return NeuralNetwork(
        [Embedding(7, 5), cls(6, **options), Dense(7, "linear")],
        SoftmaxCrossEntropy(),
        seed=3,
        dtype=np.float64,
    )


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_layer_parameter_gradients(
    cls: type[Recurrent], return_sequences: bool, rng: np.random.Generator
) -> None:
    net = _net(cls, return_sequences=return_sequences)
    X = rng.integers(0, 7, (3, 5))
    y = rng.integers(0, 7, (3, 5) if return_sequences else (3,))
    report = check_network(net, X, y)
    assert report.passed and len(report.comparisons) == 6


def _layer_function(
    layer: Recurrent, x: np.ndarray, g: np.ndarray, state: tuple[np.ndarray, ...] | None
) -> Callable[[np.ndarray], float]:
    def f(_: np.ndarray) -> float:
        layer.state = None if state is None else tuple(s.copy() for s in state)
        return float(np.sum(g * layer.forward(x)))

    return f


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("carry", ["none", "last", "mean"])
def test_layer_gradients_with_carried_state(
    cls: type[Recurrent], return_sequences: bool, carry: str, rng: np.random.Generator
) -> None:
    """Input, every parameter and the initial state, starting from a carried state."""
    B, T, D, H = 3, 4, 2, 5
    layer = cls(H, return_sequences=return_sequences, carry_state=carry)
    layer.dtype, layer.seed = np.dtype(np.float64), 0
    x = rng.standard_normal((B, T, D))
    rows = 1 if carry == "mean" else B
    state = None
    if carry != "none":
        state = tuple(rng.standard_normal((rows, H)) for _ in range(layer.num_states))
    layer.forward(x)  # build
    g = rng.standard_normal(layer.output.shape)  # type: ignore[union-attr]
    f = _layer_function(layer, x, g, state)
    f(x)
    dx = layer.backward(g)
    for i, (p, dp) in enumerate(zip(layer.params, layer.param_grads, strict=True)):
        assert_close(dp, numerical_gradient(f, p), f"{cls.__name__} param {i}")
    assert_close(dx, numerical_gradient(f, x), f"{cls.__name__} input")
    if state is not None:  # the gradient reaching the carried state
        for s, ds in zip(state, layer.state_grads, strict=True):
            expected = ds.sum(axis=0, keepdims=True) if carry == "mean" else ds
            assert_close(expected, numerical_gradient(f, s), "initial state")


@pytest.mark.parametrize("cls", LAYERS)
def test_carried_state_policies(cls: type[Recurrent], rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4, 2))
    last = cls(5, return_sequences=False, carry_state="last")
    out1 = last.forward(x)
    assert last.state is not None and np.array_equal(last.state[0], out1)
    out2 = last.forward(x)
    assert not np.allclose(out1, out2)  # the second batch started elsewhere
    last.forward(x[:2])  # another batch size starts from zeros
    assert last.state[0].shape == (2, 5)
    reset_states([last])
    assert last.state is None
    assert np.allclose(last.forward(x), out1)
    mean = cls(5, return_sequences=False, carry_state="mean")
    out = mean.forward(x)
    assert mean.state is not None and np.allclose(mean.state[0], out.mean(0))
    mean.forward(x[:1])  # any batch size
    none = cls(5, return_sequences=False)
    assert np.allclose(none.forward(x), none.forward(x)) and none.state is None


def test_carrying_state_restores_policy(rng: np.random.Generator) -> None:
    layer = LSTM(4)
    x = rng.standard_normal((1, 3, 2))
    whole = layer.forward(x)
    with carrying_state([layer]):
        pieces = [layer.forward(x[:, t : t + 1]) for t in range(3)]
    assert np.allclose(np.concatenate(pieces, axis=1), whole, atol=1e-6)
    assert layer.carry_state == "none" and layer.state is None


def test_layer_shapes_and_errors(rng: np.random.Generator) -> None:
    layer = GRU(4)
    assert layer.forward(rng.standard_normal((2, 3, 5))).shape == (2, 3, 4)
    assert layer.forward(rng.standard_normal((2, 7, 5))).shape == (2, 7, 4)  # any T
    with pytest.raises(ShapeError, match=r"\(batch, steps >= 1, 5\)"):
        layer.forward(rng.standard_normal((2, 3, 6)))
    with pytest.raises(ShapeError, match="output_grad"):
        layer.backward(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="must be 3-D"):
        LSTM(3).forward(rng.standard_normal((2, 3)))
    with pytest.raises(ConfigError, match="carry_state"):
        LSTM(3, carry_state="always")
    with pytest.raises(ConfigError, match="neurons"):
        RNN(0)


def test_float32_end_to_end(rng: np.random.Generator) -> None:
    net = NeuralNetwork(
        [Embedding(7, 5), LSTM(6), Dense(7, "linear")], SoftmaxCrossEntropy()
    )
    X = rng.integers(0, 7, (2, 3))
    assert net.forward(X).dtype == np.float32
    net.train_batch(X, X)
    assert all(g.dtype == np.float32 for g in net.param_grads())


def test_save_and_load(tmp_path, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    net = NeuralNetwork(
        [
            Embedding(3, 4, vocab=["a", "b", "c"]),
            GRU(5, carry_state="last"),
            LSTM(6, return_sequences=False),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
    )
    X = rng.integers(0, 3, (2, 4))
    before = net.forward(X, inference=True)
    net.save(tmp_path / "m.npz")
    loaded = lincoln.load(tmp_path / "m.npz")
    assert loaded.layers[0].vocab == ["a", "b", "c"]
    assert loaded.layers[1].carry_state == "last"
    assert np.allclose(loaded.forward(X, inference=True), before)


# -- Dense and softmax cross-entropy over the last axis -----------------------------


def test_dense_over_the_last_axis(rng: np.random.Generator) -> None:
    layer = Dense(3, "linear")
    layer.dtype = np.dtype(np.float64)
    x = rng.standard_normal((2, 4, 5))
    out = layer.forward(x)
    W, B = layer.params
    assert np.allclose(out, x @ W + B[0])
    assert layer.forward(rng.standard_normal((2, 9, 5))).shape == (2, 9, 3)
    assert layer.output_shape((9, 5)) == (9, 3)
    net = NeuralNetwork(
        [Dense(4, "tanh"), Dense(3, "linear")], SoftmaxCrossEntropy(), dtype=np.float64
    )
    assert check_network(net, x, rng.integers(0, 3, (2, 4))).passed


@pytest.mark.parametrize("one_hot", [False, True])
def test_cross_entropy_over_the_last_axis(
    one_hot: bool, rng: np.random.Generator
) -> None:
    pred = rng.standard_normal((2, 3, 4))
    labels = rng.integers(0, 4, (2, 3))
    target = np.eye(4)[labels] if one_hot else labels
    loss = SoftmaxCrossEntropy()
    value = loss.forward(pred, target)
    flat = SoftmaxCrossEntropy().forward(pred.reshape(6, 4), labels.reshape(6))
    assert value == pytest.approx(flat)  # the mean over every step
    assert loss.backward().shape == (2, 3, 4)
    lincoln.check_loss(SoftmaxCrossEntropy(), pred, target)
    with pytest.raises(ShapeError, match=r"labels with shape \(2, 3\)"):
        loss.forward(pred, labels[:, :2])
