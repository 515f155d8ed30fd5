"""Tests of argument validation shared across lincoln (``errors.check_real`` and
``errors.check_positive_int`` and their users), of the optimizer's saved
learning-rate schedule, of ``Optimizer.step`` on an unbuilt network, and of the
convolution's reused im2col buffer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lincoln import errors
from lincoln.activations import LeakyReLU, ReLU, get_activation
from lincoln.conv import Conv2DOp
from lincoln.datasets.preprocessing import one_hot, train_test_split
from lincoln.dropout import Dropout
from lincoln.errors import ConfigError, check_positive_int, check_real
from lincoln.layers import Dense, layer_from_config
from lincoln.losses import MeanSquaredError
from lincoln.network import NeuralNetwork
from lincoln.normalization import BatchNormalize
from lincoln.optimizers import SGD, AdaGrad, Adam, RMSProp, SGDMomentum

ALL_OPTIMIZERS = [SGD, SGDMomentum, AdaGrad, RMSProp, Adam]
NOT_NUMBERS = [None, "0.5", "x", True, False, [0.5], float("nan"), float("inf")]


def _net(seed: int = 0) -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(4, "tanh"), Dense(2, "linear")], MeanSquaredError(), seed=seed
    )


# -- errors.check_real -----------------------------------------------------------------


def test_check_real_is_public() -> None:
    assert "check_real" in errors.__all__
    assert "check_positive_int" in errors.__all__


@pytest.mark.parametrize(
    "value", [0.5, 1, np.float32(0.25), np.float64(0.75), np.int64(1)]
)
def test_check_real_returns_a_float(value) -> None:
    result = check_real("Owner", "x", value, low=0.0, high=1.0)
    assert type(result) is float and result == float(value)


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_check_real_refuses_what_is_not_a_finite_number(value) -> None:
    with pytest.raises(
        ConfigError, match=r"^Owner: x must be a number in \[0\.0, inf\], received x="
    ):
        check_real("Owner", "x", value, low=0.0)


@pytest.mark.parametrize(
    ("value", "low_open", "high_open", "ok"),
    [
        (0.0, False, False, True),
        (0.0, True, False, False),
        (1.0, False, False, True),
        (1.0, False, True, False),
        (-0.001, False, False, False),
        (1.001, False, False, False),
    ],
)
def test_check_real_bounds(value, low_open, high_open, ok) -> None:
    def call() -> float:
        return check_real(
            "O", "v", value, low=0, high=1, low_open=low_open, high_open=high_open
        )

    if ok:
        assert call() == value
    else:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        with pytest.raises(ConfigError) as info:
            call()
        assert (
            str(info.value)
            == f"O: v must be a number in {lo}0, 1{hi}, received v={value!r}"
        )


def test_check_real_requirement_replaces_the_default_wording() -> None:
    with pytest.raises(ConfigError) as info:
        check_real("O", "p", "a", low=0, high=1, requirement="must be a probability")
    assert str(info.value) == "O: p must be a probability, received p='a'"


def test_check_real_is_a_value_error_too() -> None:
    with pytest.raises(ValueError):
        check_real("O", "p", None, low=0)


@pytest.mark.parametrize("value", [0, -1, 1.0, "2", None, True])
def test_check_positive_int_refuses(value) -> None:
    with pytest.raises(
        ConfigError, match=r"^O: n must be a positive integer, received n="
    ):
        check_positive_int("O", "n", value)


def test_check_positive_int_accepts_numpy_integers() -> None:
    assert check_positive_int("O", "n", np.int32(3)) == 3


# -- Dropout, LeakyReLU, BatchNormalize, Dense(dropout=...) ---------------------------


@pytest.mark.parametrize("keep_prob", [None, "a", True, 0, 0.0, -0.5, 1.5, math.nan])
def test_dropout_keep_prob_is_checked(keep_prob) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Dropout: keep_prob \(the probability of keeping a unit; a layer's "
        r"dropout=\) must be in \(0, 1\], received keep_prob=",
    ):
        Dropout(keep_prob)


def test_dropout_keep_prob_accepts_numbers_in_range() -> None:
    assert Dropout(1).keep_prob == 1.0
    assert Dropout(np.float32(0.5)).keep_prob == 0.5


@pytest.mark.parametrize("alpha", [None, "x", True, -0.1, 1, 1.0, math.inf])
def test_leaky_relu_alpha_is_checked(alpha) -> None:
    with pytest.raises(
        ConfigError, match=r"^LeakyReLU: alpha must be in \[0, 1\), received alpha="
    ):
        LeakyReLU(alpha)


def test_leaky_relu_alpha_accepts_zero() -> None:
    assert LeakyReLU(0).alpha == 0.0


@pytest.mark.parametrize("momentum", [None, "x", True, -0.1, 1.0, math.nan])
def test_batchnorm_momentum_is_checked(momentum) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^BatchNorm: momentum is the share of the running statistics "
        r"kept at each step and must be in \[0, 1\), received momentum=",
    ):
        BatchNormalize(np.zeros((1, 3)), np.ones((1, 3)), momentum=momentum)


@pytest.mark.parametrize("eps", [None, "x", True, 0, -1e-5, math.inf, math.nan])
def test_batchnorm_eps_is_checked(eps) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^BatchNorm: eps must be a positive number, received eps=",
    ):
        BatchNormalize(np.zeros((1, 3)), np.ones((1, 3)), eps=eps)


def test_normalization_hyperparameters_become_floats() -> None:
    op = BatchNormalize(momentum=0, eps=1e-5)
    assert op.momentum == 0.0 and op.eps == 1e-5
    assert type(op.momentum) is float and type(op.eps) is float


@pytest.mark.parametrize("dropout", [None, "x", True, 0, 1.5])
def test_dense_dropout_is_checked(dropout) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Dropout: keep_prob \(the probability of keeping a unit; a layer's "
        r"dropout=\) must be in \(0, 1\], received keep_prob=",
    ):
        Dense(3, dropout=dropout)


# -- activations from a config entry ---------------------------------------------------


def test_activation_with_an_unknown_argument_names_it() -> None:
    with pytest.raises(ConfigError, match=r"^activation 'relu': .*foo=1"):
        Dense(3, activation={"type": "relu", "foo": 1})


def test_activation_argument_error_through_layer_from_config() -> None:
    with pytest.raises(ConfigError, match=r"activation 'leaky_relu': .*'beta'"):
        layer_from_config(
            {
                "type": "dense",
                "neurons": 3,
                "activation": {"type": "leaky_relu", "beta": 1},
            }
        )


def test_activation_with_a_bad_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^LeakyReLU: alpha must be in \[0, 1\)"):
        get_activation({"type": "leaky_relu", "alpha": "x"})


def test_activation_with_good_arguments_still_builds() -> None:
    assert isinstance(get_activation({"type": "relu"}), ReLU)
    act = get_activation({"type": "leaky_relu", "alpha": 0.2})
    assert isinstance(act, LeakyReLU) and act.alpha == 0.2


# -- optimizers ----------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
@pytest.mark.parametrize("value", [None, "x", True])
def test_optimizer_hyperparameters_are_config_errors(cls, value) -> None:
    with pytest.raises(ConfigError, match=rf"^{cls.__name__}: lr must be a number in"):
        cls(lr=value)
    with pytest.raises(
        ConfigError, match=rf"^{cls.__name__}: weight_decay must be a number in"
    ):
        cls(weight_decay=value)


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (SGDMomentum, "momentum"),
        (AdaGrad, "eps"),
        (RMSProp, "rho"),
        (RMSProp, "eps"),
        (Adam, "beta1"),
        (Adam, "beta2"),
        (Adam, "eps"),
    ],
)
def test_optimizer_specific_hyperparameters_are_config_errors(cls, name) -> None:
    for value in (None, "x", True, math.nan):
        with pytest.raises(
            ConfigError, match=rf"^{cls.__name__}: {name} must be a number in"
        ):
            cls(**{name: value})


# -- predict ------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, "8", None, True])
def test_predict_batch_size_is_checked(batch_size) -> None:
    net = _net()
    with pytest.raises(
        ConfigError,
        match=r"^predict: batch_size must be a positive integer, received batch_size=",
    ):
        net.predict(np.zeros((4, 3)), batch_size=batch_size)


def test_predict_accepts_a_numpy_batch_size() -> None:
    net = _net()
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(
        net.predict(X, batch_size=np.int64(2)), net.predict(X), rtol=1e-5, atol=1e-6
    )


# -- preprocessing -------------------------------------------------------------------


@pytest.mark.parametrize("test_fraction", [None, "x", True, 0, 1, math.nan])
def test_train_test_split_fraction_is_checked(test_fraction) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^train_test_split: test_fraction must be in \(0, 1\), "
        r"received test_fraction=",
    ):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_fraction)


@pytest.mark.parametrize("seed", ["x", 1.5, -1, True])
def test_train_test_split_seed_is_checked(seed) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^train_test_split: seed must be a non-negative integer or None, "
        r"received seed=",
    ):
        train_test_split(np.zeros((10, 2)), np.zeros(10), seed=seed)


def test_train_test_split_seed_accepts_numpy_ints_and_none() -> None:
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    a = train_test_split(X, y, seed=np.int64(3))
    b = train_test_split(X, y, seed=3)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    assert len(train_test_split(X, y, seed=None)[1]) == 2


@pytest.mark.parametrize("num_classes", ["x", 0, -2, 2.5, True])
def test_one_hot_num_classes_is_checked(num_classes) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^one_hot: num_classes must be a positive integer, "
        r"received num_classes=",
    ):
        one_hot(np.array([0, 1]), num_classes)


def test_one_hot_accepts_a_numpy_num_classes() -> None:
    np.testing.assert_array_equal(one_hot(np.array([1]), np.int64(3)), [[0, 1, 0]])


# -- the optimizer's learning-rate schedule survives state_dict ------------------------


@pytest.mark.parametrize(
    ("decay_type", "final_lr"), [("exponential", 0.01), ("linear", 0.1)]
)
def test_state_dict_restores_the_schedule(decay_type, final_lr) -> None:
    a = SGD(1.0, final_lr=final_lr, decay_type=decay_type)
    a.setup_decay(5)
    a.decay_lr()
    a.decay_lr()
    state = a.state_dict()
    assert state["initial_lr"] == 1.0 and state["decay_steps"] == 2

    b = SGD(1.0, final_lr=final_lr, decay_type=decay_type)  # a fresh optimizer
    b.load_state_dict(state)
    assert (b.lr, b.initial_lr, b.decay_steps) == (a.lr, a.initial_lr, a.decay_steps)
    for _ in range(3):  # the rest of the schedule, and one decay past its end
        a.decay_lr()
        b.decay_lr()
        assert b.lr == a.lr
    assert a.lr == final_lr


def test_state_dict_restores_the_schedule_of_another_initial_lr() -> None:
    a = Adam(0.5, final_lr=0.005, decay_type="exponential")
    a.setup_decay(4)
    a.decay_lr()
    b = Adam(0.5, final_lr=0.005, decay_type="exponential")
    b.initial_lr = 123.0  # whatever it was, load_state_dict restores it
    b.load_state_dict(a.state_dict())
    a.decay_lr()
    b.decay_lr()
    assert b.lr == a.lr == pytest.approx(0.5 * 0.01 ** (2 / 3))


def test_load_state_dict_accepts_a_dict_without_the_schedule_position() -> None:
    a = SGD(1.0, final_lr=0.01, decay_type="exponential")
    a.setup_decay(5)
    a.decay_lr()
    state = a.state_dict()
    del state["initial_lr"], state["decay_steps"]
    b = SGD(1.0, final_lr=0.01, decay_type="exponential")
    b.load_state_dict(state)
    assert b.lr == a.lr and b.initial_lr == 1.0 and b.decay_steps == 0


def test_decay_steps_is_set_in_init() -> None:
    opt = SGD(0.1)
    assert opt.decay_steps == 0
    assert opt.first  # the book's optimizers read it


# -- step on an unbuilt network --------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
def test_step_on_an_unbuilt_network_raises(cls) -> None:
    net = _net()
    opt = cls()
    opt.bind(net)
    assert not net.built
    with pytest.raises(
        RuntimeError,
        match=rf"^{cls.__name__}\.step: the network has no parameters yet .*"
        r"run net\.train_batch \(or forward and backward\) first",
    ):
        opt.step()
    assert opt.step_count == 0 and opt.state == []


def test_step_after_forward_only_still_reports_missing_gradients() -> None:
    net = _net()
    opt = SGD(0.1)
    opt.bind(net)
    net.forward(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match=r"parameters but 0 gradients; run net"):
        opt.step()
    assert opt.step_count == 0


def test_step_after_train_batch_works() -> None:
    net = _net()
    opt = SGD(0.1)
    opt.bind(net)
    net.train_batch(np.ones((2, 3)), np.ones((2, 2)))
    before = [p.copy() for p in net.params()]
    opt.step()
    assert opt.step_count == 1
    assert any(
        not np.array_equal(p, q) for p, q in zip(before, net.params(), strict=True)
    )


# -- the convolution's im2col buffer ---------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "padding"),
    [
        ((8, 8), (7, 7), "same"),  # both 4x4 out, padding on different sides
        ((7, 7), (8, 8), "same"),
        ((8, 7), (7, 8), "same"),
        ((9, 9), (10, 10), 1),  # both 5x5 out with one pixel of padding
    ],
)
def test_conv_buffer_follows_the_input_shape(first, second, padding) -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 3, 3, 3))
    x1 = rng.standard_normal((4, 2, *first))
    x2 = rng.standard_normal((4, 2, *second))
    reused = Conv2DOp(W, stride=2, padding=padding)
    out1 = reused.forward(x1)
    out2 = reused.forward(x2)
    assert out1.shape == out2.shape  # the same output size: the buffer case
    fresh = Conv2DOp(W, stride=2, padding=padding)
    np.testing.assert_array_equal(out2, fresh.forward(x2))
    g = rng.standard_normal(out2.shape)
    np.testing.assert_array_equal(reused.backward(g), fresh.backward(g))
    np.testing.assert_array_equal(reused.param_grad, fresh.param_grad)
    # and back to the first shape
    np.testing.assert_array_equal(
        reused.forward(x1), Conv2DOp(W, stride=2, padding=padding).forward(x1)
    )


def test_conv_buffer_is_still_reused_for_the_same_shape() -> None:
    rng = np.random.default_rng(1)
    op = Conv2DOp(rng.standard_normal((1, 2, 3, 3)), stride=2)
    op.forward(rng.standard_normal((2, 1, 8, 8)))
    cols = op._cols
    op.forward(rng.standard_normal((2, 1, 8, 8)))
    assert op._cols is cols
