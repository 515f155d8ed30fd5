"""Tests of lincoln.optimizers: validation, update rules, learning-rate decay."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lincoln.errors import ConfigError
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError
from lincoln.network import NeuralNetwork
from lincoln.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Optimizer,
    RMSProp,
    SGDMomentum,
    get_optimizer,
)
from lincoln.train import Trainer

ALL = [SGD, SGDMomentum, AdaGrad, RMSProp, Adam]


def _bound(optim: Optimizer, dtype=np.float64, seed: int = 0) -> NeuralNetwork:
    """A small network bound to ``optim``, with gradients from one batch."""
    net = NeuralNetwork(
        [Dense(4, "tanh"), Dense(2, "linear")],
        MeanSquaredError(),
        seed=seed,
        dtype=dtype,
    )
    Trainer(net, optim)
    data = np.random.default_rng(seed)
    net.train_batch(data.standard_normal((5, 3)), data.standard_normal((5, 2)))
    return net


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", None])
def test_lr_must_be_positive(cls, lr) -> None:
    with pytest.raises(
        ConfigError, match=rf"{cls.__name__}: lr must be a number in \(0\.0, "
    ):
        cls(lr)


def test_unknown_decay_type_lists_the_choices() -> None:
    with pytest.raises(
        ConfigError,
        match=r"SGD: unknown decay_type 'cosine'; choose one of: "
        r"None, 'linear', 'exponential'",
    ):
        SGD(0.1, decay_type="cosine")


@pytest.mark.parametrize("final_lr", [0, 0.0])
def test_exponential_decay_needs_a_positive_final_lr(final_lr) -> None:
    with pytest.raises(ConfigError, match=r"exponential decay needs final_lr > 0"):
        SGDMomentum(0.1, final_lr=final_lr, decay_type="exponential")


def test_final_lr_must_not_be_negative() -> None:
    with pytest.raises(ConfigError, match=r"final_lr must be a number in \[0\.0, "):
        SGD(0.1, final_lr=-0.01, decay_type="linear")


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5])
def test_momentum_must_be_in_0_1(momentum) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"SGDMomentum: momentum must be a number in "
        rf"\[0\.0, 1\.0\), received momentum={momentum}",
    ):
        SGDMomentum(0.1, momentum=momentum)


@pytest.mark.parametrize(
    ("name", "value"),
    [("beta1", 1.0), ("beta1", -0.1), ("beta2", 1.0), ("beta2", -0.1)],
)
def test_adam_betas(name, value) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"Adam: {name} must be a number in \[0\.0, 1\.0\), "
        rf"received {name}={value}",
    ):
        Adam(**{name: value})


def test_other_hyperparameters() -> None:
    with pytest.raises(ConfigError, match=r"RMSProp: rho must be"):
        RMSProp(rho=1.0)
    with pytest.raises(ConfigError, match=r"AdaGrad: eps must be"):
        AdaGrad(eps=0)
    with pytest.raises(ConfigError, match=r"Adam: eps must be"):
        Adam(eps=-1e-8)
    with pytest.raises(ConfigError, match=r"SGD: weight_decay must be"):
        SGD(0.1, weight_decay=-1)


# -- learning-rate decay ---------------------------------------------------------------


@pytest.mark.parametrize("decay_type", ["linear", "exponential"])
def test_setup_decay_for_one_epoch_keeps_the_rate(decay_type) -> None:
    optim = SGD(0.1, final_lr=0.01, decay_type=decay_type)
    optim.setup_decay(1)  # no ZeroDivisionError
    assert optim.lr == 0.1
    optim.decay_lr()
    assert optim.lr == 0.1


def test_setup_decay_restarts_from_the_initial_rate() -> None:
    optim = SGD(0.1, final_lr=0.01, decay_type="exponential")
    optim.setup_decay(3)
    optim.decay_lr()
    assert optim.lr < 0.1
    optim.setup_decay(3)
    assert optim.lr == 0.1


def _fit_lrs(
    decay_type: str, epochs: int, digits, lr: float = 0.2, final_lr: float = 0.05
) -> list[float]:
    X_train, X_test, y_train, y_test = digits
    net = NeuralNetwork([Dense(10, "linear")], MeanSquaredError(), seed=0)
    optim = SGDMomentum(lr, momentum=0.5, final_lr=final_lr, decay_type=decay_type)
    history = Trainer(net, optim).fit(
        X_train[:60],
        np.eye(10)[y_train[:60]],
        epochs=epochs,
        batch_size=30,
        verbose=False,
    )
    assert len(history.lr) == epochs
    return history.lr


@pytest.mark.parametrize("epochs", [2, 7])
def test_linear_decay_reaches_final_lr_at_the_last_epoch(epochs, digits) -> None:
    lrs = _fit_lrs("linear", epochs, digits)
    assert lrs[0] == 0.2
    np.testing.assert_allclose(np.diff(lrs), (0.05 - 0.2) / (epochs - 1), rtol=1e-9)
    assert lrs[-1] == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize("epochs", [2, 7])
def test_exponential_decay_reaches_final_lr_at_the_last_epoch(epochs, digits) -> None:
    lrs = _fit_lrs("exponential", epochs, digits)
    assert lrs[0] == 0.2
    ratio = (0.05 / 0.2) ** (1 / (epochs - 1))
    np.testing.assert_allclose(np.array(lrs[1:]) / lrs[:-1], ratio, rtol=1e-12)
    assert lrs[-1] == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize(
    ("decay_type", "lr", "final_lr", "epochs"),
    [("linear", 0.1, 0.01, 4), ("exponential", 0.2, 0.05, 7)],
)
def test_decay_ends_exactly_at_final_lr(
    decay_type, lr, final_lr, epochs, digits
) -> None:
    """Regression: accumulating epochs-1 rounded steps ended a few ulps off."""
    assert _fit_lrs(decay_type, epochs, digits, lr, final_lr)[-1] == final_lr


def test_no_decay_keeps_the_rate(digits) -> None:
    X_train, X_test, y_train, y_test = digits
    net = NeuralNetwork([Dense(10, "linear")], MeanSquaredError(), seed=0)
    history = Trainer(net, SGD(0.1)).fit(
        X_train[:30], np.eye(10)[y_train[:30]], epochs=3, verbose=False
    )
    assert history.lr == [0.1, 0.1, 0.1]


# -- updates ---------------------------------------------------------------------------


def test_step_without_a_network_is_a_runtime_error() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"SGD.step: no network bound; create "
        r"Trainer\(net, optimizer\)",
    ):
        SGD(0.1).step()


def test_step_before_backward_is_a_runtime_error() -> None:
    net = NeuralNetwork([Dense(2, "linear")], MeanSquaredError())
    optim = SGD(0.1)
    optim.bind(net)
    net.build((3,))
    with pytest.raises(RuntimeError, match=r"SGD.step: 2 parameters but 0 gradients"):
        optim.step()


def test_sgd_momentum_follows_the_book_formula() -> None:
    optim = SGDMomentum(0.1, momentum=0.9)
    net = _bound(optim)
    p0 = [p.copy() for p in net.params()]
    g = [x.copy() for x in net.param_grads()]
    optim.step()
    optim.step()  # same gradients twice: v1 = lr g, v2 = 0.9 v1 + lr g
    for p, q, grad in zip(net.params(), p0, g, strict=True):
        np.testing.assert_allclose(
            p, q - 0.1 * grad - (0.9 * 0.1 * grad + 0.1 * grad), rtol=1e-12
        )


def test_adam_first_step_moves_each_param_by_about_lr() -> None:
    optim = Adam(lr=0.01)
    net = _bound(optim)
    p0 = [p.copy() for p in net.params()]
    g = [x.copy() for x in net.param_grads()]
    optim.step()
    for p, q, grad in zip(net.params(), p0, g, strict=True):
        np.testing.assert_allclose(p - q, -0.01 * np.sign(grad), rtol=1e-4, atol=1e-9)


def test_weight_decay_adds_to_the_gradient() -> None:
    optim = SGD(0.1, weight_decay=0.5)
    net = _bound(optim)
    expected = [
        p - 0.1 * (g + 0.5 * p)
        for p, g in zip(net.params(), net.param_grads(), strict=True)
    ]
    optim.step()
    for p, e in zip(net.params(), expected, strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-12)


@pytest.mark.parametrize("cls", ALL)
def test_float32_params_stay_float32(cls) -> None:
    optim = cls(lr=0.01, weight_decay=0.1)
    net = _bound(optim, dtype=np.float32)
    params = net.params()
    optim.step()
    optim.step()
    assert all(p.dtype == np.float32 for p in net.params())
    assert all(
        p is q for p, q in zip(params, net.params(), strict=True)
    )  # updated in place
    assert all(v.dtype == np.float32 for st_ in optim.state for v in st_.values())


@pytest.mark.parametrize("cls", ALL)
def test_state_dict_round_trip_resumes_exactly(cls) -> None:
    a, b = cls(lr=0.01), cls(lr=0.01)
    net_a, net_b = _bound(a), _bound(b)
    a.step()
    b.step()
    b2 = cls(lr=0.01)
    b2.bind(net_b)
    b2.load_state_dict(b.state_dict())
    a.step()
    b2.step()
    for p, q in zip(net_a.params(), net_b.params(), strict=True):
        np.testing.assert_array_equal(p, q)


@settings(max_examples=25, deadline=None)
@given(
    cls=st.sampled_from(ALL),
    lr=st.floats(1e-4, 10.0),
    seed=st.integers(0, 2**16),
    steps=st.integers(1, 3),
)
def test_a_step_with_zero_gradient_changes_nothing(cls, lr, seed, steps) -> None:
    """From fresh state (zero velocity, zero moments), zero gradients leave every
    parameter exactly as it was."""
    optim = cls(lr=lr)
    net = _bound(optim, seed=seed)
    for grad in net.param_grads():
        grad[...] = 0.0
    before = [p.copy() for p in net.params()]
    for _ in range(steps):
        optim.step()
    for p, b in zip(net.params(), before, strict=True):
        np.testing.assert_array_equal(p, b)


def test_registry_and_repr() -> None:
    optim = get_optimizer(
        {
            "type": "sgd_momentum",
            "lr": 0.2,
            "momentum": 0.9,
            "final_lr": 0.05,
            "decay_type": "exponential",
        }
    )
    assert isinstance(optim, SGDMomentum) and optim.momentum == 0.9
    assert repr(optim) == (
        "SGDMomentum(lr=0.2, final_lr=0.05, decay_type='exponential', momentum=0.9)"
    )
    assert set(OPTIMIZERS) == {
        "sgd",
        "sgd_momentum",
        "adagrad",
        "rmsprop",
        "adam",
        "regularized_sgd",
    }
    with pytest.raises(ConfigError, match=r"unknown optimizer 'lbfgs'; choose one of"):
        get_optimizer({"type": "lbfgs"})
    with pytest.raises(ConfigError, match=r"optimizer 'sgd'"):
        get_optimizer({"type": "sgd", "momentum": 0.9})


# -- gradient clipping -------------------------------------------------------------


def _big_grads(dtype, scale: float = 1e3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(dtype) for s in [(3, 4), (1, 4)]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("limit", [1e-3, 0.5, 5.0, 123.0])
def test_clip_norm_leaves_a_global_norm_at_most_the_limit(dtype, limit) -> None:
    optim = SGD(0.1, clip_norm=limit)
    grads = _big_grads(dtype)
    clipped = optim.prepare_grads([np.zeros_like(g) for g in grads], grads)
    norm = np.sqrt(sum(float(np.vdot(g.astype(np.float64), g)) for g in clipped))
    assert norm <= limit
    assert norm == pytest.approx(limit, rel=1e-5)
    assert all(c.dtype == dtype for c in clipped)
    # the direction is kept: every gradient scaled by the same factor
    ratios = [c / g for c, g in zip(clipped, grads, strict=True)]
    np.testing.assert_allclose(
        np.concatenate([r.ravel() for r in ratios]), ratios[0][0, 0], rtol=1e-5
    )


def test_clip_norm_leaves_small_gradients_alone() -> None:
    grads = _big_grads(np.float64, scale=1e-3)
    optim = SGD(0.1, clip_norm=10.0)
    assert optim.prepare_grads([np.zeros_like(g) for g in grads], grads) is grads


def test_clip_value_bounds_every_entry_and_the_book_switch_is_two() -> None:
    grads = _big_grads(np.float64)
    params = [np.zeros_like(g) for g in grads]
    clipped = SGD(0.1, clip_value=0.25).prepare_grads(params, grads)
    assert max(float(np.abs(c).max()) for c in clipped) == 0.25
    book = SGD(0.1, gradient_clipping=True)
    assert book.clip_value == 2.0
    for c, g in zip(book.prepare_grads(params, grads), grads, strict=True):
        np.testing.assert_array_equal(c, np.clip(g, -2, 2))
    # the network's own gradients are never modified in place
    np.testing.assert_array_equal(grads[0], _big_grads(np.float64)[0])


def test_clipping_limits_the_size_of_a_step() -> None:
    optim = SGD(1.0, clip_value=1e-3)
    net = _bound(optim)
    before = [p.copy() for p in net.params()]
    for g in net.param_grads():
        g *= 1e6  # an exploding gradient
    optim.step()
    for p, b in zip(net.params(), before, strict=True):
        assert np.abs(p - b).max() <= 1e-3 + 1e-12


@pytest.mark.parametrize(
    "kwargs", [{"clip_value": 0}, {"clip_norm": -1.0}, {"clip_value": "x"}]
)
def test_clip_limits_must_be_positive(kwargs) -> None:
    with pytest.raises(ConfigError, match=r"^Adam: clip_(value|norm) must be"):
        Adam(**kwargs)


def test_clip_settings_are_part_of_the_config() -> None:
    optim = SGDMomentum(0.1, clip_norm=5.0, momentum=0.8)
    assert optim.get_config() == {"lr": 0.1, "clip_norm": 5.0, "momentum": 0.8}
    again = get_optimizer({"type": "sgd_momentum", **optim.get_config()})
    assert again.get_config() == optim.get_config()
