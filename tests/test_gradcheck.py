"""Tests of lincoln.gradcheck: the central-difference reference and the checks
of operations, losses and networks built on it.

The single parametrized ``test_gradient_check`` is the suite's gradient check of
every built-in operation and loss, in float64, against central differences:
the dense and activation operations, Dropout (with its mask fixed), Conv2DOp in
every geometry of ``geometries.CONV_GEOMETRIES``, BiasAdd2D, FlattenOp, both
pooling operations in every geometry of ``geometries.POOL_GEOMETRIES``,
BatchNormalize (training and inference), Scale and Shift in dense and conv form,
and the losses. Whole networks are checked in test_network.py and
test_layers_conv.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from geometries import (
    CONV_GEOMETRIES,
    POOL_GEOMETRIES,
    ConvGeometry,
    PoolGeometry,
    conv_id,
    pool_id,
)

from lincoln.activations import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from lincoln.base import Operation, ParamOperation
from lincoln.conv import BiasAdd2D, Conv2DOp, FlattenOp
from lincoln.dense import BiasAdd, WeightMultiply
from lincoln.dropout import Dropout
from lincoln.errors import ConfigError, GradientCheckError, LincolnError
from lincoln.gradcheck import (
    GradientCheckReport,
    GradientComparison,
    check_loss,
    check_network,
    check_operation,
    numerical_gradient,
)
from lincoln.layers import Dense
from lincoln.losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.normalization import BatchNormalize, Scale, Shift
from lincoln.pooling import AvgPool2DOp, MaxPool2DOp

BATCH = 5

Factory = Callable[[np.random.Generator], Any]


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Both signs, every |x| >= 0.1: no element sits on the kink of ReLU."""
    magnitude = rng.uniform(0.1, 2.0, size=shape)
    signs = np.where(np.arange(np.prod(shape)).reshape(shape) % 2 == 0, 1.0, -1.0)
    return magnitude * rng.permutation(signs.ravel()).reshape(shape)


def _normal(*shape: int, loc: float = 0.0, scale: float = 1.0) -> Factory:
    return lambda r: loc + scale * r.standard_normal(shape)


class AtInference(Operation):
    """Runs ``op`` in inference mode (check_operation always trains)."""

    def __init__(self, op: Operation) -> None:
        super().__init__()
        self.op = op

    def _output(self) -> np.ndarray:
        return self.op.forward(self.input_, inference=True)

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return self.op.backward(output_grad)

    def __repr__(self) -> str:
        return f"AtInference({self.op!r})"


def case(name: str, target: Factory, *inputs: Factory) -> Any:
    """A gradient-check case: an Operation gets (input_,), a Loss (prediction,
    target). The factories draw from one seeded generator, target first."""
    return pytest.param(target, inputs, id=name)


# One function per kind of case, so that each lambda closes over its own values.


def conv_case(geometry: ConvGeometry) -> Any:
    n, c, o, (h, w), k, s, p = geometry
    return case(
        f"Conv2DOp-{conv_id(geometry)}",
        lambda r: Conv2DOp(r.standard_normal((c, o, k, k)), stride=s, padding=p),
        _normal(n, c, h, w),
    )


def pool_case(cls: type[Operation], geometry: PoolGeometry) -> Any:
    shape, size, stride = geometry
    # random floats: no ties, and no two values within the finite-difference step
    return case(
        f"{cls.__name__}-{pool_id(geometry)}",
        lambda r: cls(size, stride),
        _normal(*shape),
    )


def bias_add_2d_case(shape: tuple[int, ...]) -> Any:
    return case(
        f"BiasAdd2D-{_dims(shape)}",
        lambda r: BiasAdd2D(r.standard_normal((1, shape[1], 1, 1))),
        _normal(*shape),
    )


def flatten_case(shape: tuple[int, ...]) -> Any:
    return case(f"FlattenOp-{_dims(shape)}", lambda r: FlattenOp(), _normal(*shape))


def normalization_cases(form: str, shape: tuple[int, ...]) -> list[Any]:
    """BatchNormalize (training and inference), Scale and Shift on a dense
    ``(batch, features)`` or conv ``(batch, C, H, W)`` input."""
    stat = (1, shape[1]) + (1,) * (len(shape) - 2)
    return [
        case(
            f"BatchNormalize-{form}-training",
            lambda r: BatchNormalize(np.zeros(stat), np.ones(stat)),
            _normal(*shape, loc=3.0, scale=2.0),
        ),
        case(
            f"BatchNormalize-{form}-inference",
            lambda r: AtInference(
                BatchNormalize(r.standard_normal(stat), r.uniform(0.5, 2.0, stat))
            ),
            _normal(*shape),
        ),
        case(
            f"Scale-{form}", lambda r: Scale(r.standard_normal(stat)), _normal(*shape)
        ),
        case(
            f"Shift-{form}", lambda r: Shift(r.standard_normal(stat)), _normal(*shape)
        ),
    ]


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


# Every operation and loss of the library, each on a batch of more than one sample.
CASES: list[Any] = [
    case(
        "WeightMultiply",
        lambda r: WeightMultiply(r.standard_normal((3, 4))),
        _normal(BATCH, 3),
    ),
    case("BiasAdd", lambda r: BiasAdd(r.standard_normal((1, 4))), _normal(BATCH, 4)),
    case("Linear", lambda r: Linear(), _normal(BATCH, 4)),
    case("Sigmoid", lambda r: Sigmoid(), _normal(BATCH, 4, scale=2.0)),
    case("Tanh", lambda r: Tanh(), _normal(BATCH, 4)),
    case("ReLU", lambda r: ReLU(), lambda r: _away_from_zero(r, (BATCH, 4))),
    case(
        "LeakyReLU", lambda r: LeakyReLU(0.1), lambda r: _away_from_zero(r, (BATCH, 4))
    ),
    case("Dropout-fixed-mask", lambda r: Dropout(0.6, seed=3), _normal(BATCH, 6)),
    case(
        "Dropout-fixed-mask-conv", lambda r: Dropout(0.6, seed=3), _normal(2, 3, 4, 5)
    ),
    *[conv_case(geometry) for geometry in CONV_GEOMETRIES],
    *[bias_add_2d_case(shape) for shape in [(2, 3, 4, 5), (3, 1, 2, 6)]],
    *[flatten_case(shape) for shape in [(2, 3, 4, 5), (3, 7), (2, 1, 3)]],
    *[pool_case(MaxPool2DOp, geometry) for geometry in POOL_GEOMETRIES],
    *[pool_case(AvgPool2DOp, geometry) for geometry in POOL_GEOMETRIES],
    *normalization_cases("dense", (5, 4)),
    *normalization_cases("conv", (3, 2, 4, 5)),
    case(
        "MeanSquaredError",
        lambda r: MeanSquaredError(),
        _normal(BATCH, 3),
        _normal(BATCH, 3),
    ),
    case(
        "MeanSquaredError-normalize",
        lambda r: MeanSquaredError(normalize=True),
        _normal(BATCH, 3),
        lambda r: np.eye(3)[r.integers(0, 3, BATCH)],
    ),
    case(
        "SoftmaxCrossEntropy-one-hot",
        lambda r: SoftmaxCrossEntropy(),
        _normal(BATCH, 4, scale=3.0),
        lambda r: np.eye(4)[r.integers(0, 4, BATCH)],
    ),
    case(
        "SoftmaxCrossEntropy-labels",
        lambda r: SoftmaxCrossEntropy(),
        _normal(BATCH, 4, scale=3.0),
        lambda r: r.integers(0, 4, BATCH),
    ),
]


@pytest.mark.parametrize(("target_factory", "input_factories"), CASES)
def test_gradient_check(
    target_factory: Factory, input_factories: tuple[Factory, ...]
) -> None:
    """Every operation and loss: backprop equals central differences in float64."""
    rng = np.random.default_rng(0)  # the data; the output_grad has its own seed
    target = target_factory(rng)
    inputs = [make(rng) for make in input_factories]
    if isinstance(target, Operation):
        # a seed of its own: an output_grad equal to the data (both drawn from
        # seed 0) is a stationary point of sum(g * BatchNormalize(x)), where
        # every input gradient is zero and any backward would pass
        report = check_operation(target, *inputs, seed=1)
        has_param = isinstance(target, ParamOperation)
        expected = {"input", "param"} if has_param else {"input"}
        # the gradients were computed in float64, not rounded through float32
        assert target.input_grad.dtype == np.float64
        # and the check was not made at a point where they all vanish
        assert np.abs(target.input_grad).max() > 1e-2
        if has_param:
            assert target.param_grad.dtype == np.float64
    else:
        report = check_loss(target, *inputs)
        expected = {"prediction"}
    assert set(report.comparisons) == expected
    assert report.passed
    # well inside the tolerance: under a tenth of atol + rtol * max(|a|, |n|)
    assert report.error_ratio < 0.1
    if isinstance(target, ReLU):  # the inputs really straddle the kink
        assert (inputs[0] < 0).any() and (inputs[0] > 0).any()
    if isinstance(target, Dropout):  # the mask really dropped something
        assert target.mask is not None and (target.mask == 0).any()
    if isinstance(target, AtInference):
        assert target.op.inference


# -- checks that must fail -----------------------------------------------------------


class BookReLU(Operation):
    """The book's published ReLU: masks with ``output >= 0``, always true."""

    def _output(self) -> np.ndarray:
        return np.maximum(self.input_, 0)

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * (self.output >= 0)


class WrongSigmoid(Sigmoid):
    """A sigmoid with the derivative s (1 + s) instead of s (1 - s)."""

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.output * (1.0 + self.output)


class MeanBiasAdd(BiasAdd):
    """Averages the bias gradient over the batch instead of summing it."""

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad.mean(axis=0, keepdims=True)


class HalfMSE(MeanSquaredError):
    """Forgets the factor 2 of the squared error's derivative."""

    def _input_grad(self) -> np.ndarray:
        return (self.prediction - self.target) / self.prediction.shape[0]


@pytest.mark.parametrize(
    "op", [BookReLU(), WrongSigmoid()], ids=["BookReLU", "WrongSigmoid"]
)
def test_check_operation_raises_on_a_wrong_input_gradient(op: Operation, rng) -> None:
    x = _away_from_zero(rng, (4, 3))
    quiet = check_operation(op, x, raise_exception=False)
    assert not quiet.passed
    worst = quiet.comparisons["input"]
    name = type(op).__name__
    with pytest.raises(
        GradientCheckError, match=rf"^{name}\(\).*input gradient"
    ) as info:
        check_operation(op, x)
    message = str(info.value)
    assert "largest relative error" in message
    assert f"{worst.max_rel_error:.3e}" in message
    assert f"index {worst.index}" in message
    assert repr(worst.analytic) in message and repr(worst.numerical) in message
    # the measure tested and the tolerances it was tested against
    difference = abs(worst.analytic - worst.numerical)
    assert f"|difference| {difference:.3e} > atol + rtol * max(" in message
    assert "(rtol=1e-05, atol=1e-07)" in message
    # the reported index is the entry furthest outside its tolerance
    assert worst.analytic != pytest.approx(worst.numerical)
    assert worst.error_ratio == quiet.error_ratio > 1.0


def test_book_relu_fails_exactly_where_the_input_is_negative(rng) -> None:
    x = _away_from_zero(rng, (4, 3))
    report = check_operation(BookReLU(), x, raise_exception=False)
    worst = report.comparisons["input"]
    assert x[worst.index] < 0
    assert worst.numerical == pytest.approx(0.0, abs=1e-9)
    assert report.comparisons["input"].max_rel_error > 0.5


def test_check_operation_raises_on_a_wrong_param_gradient(rng) -> None:
    op = MeanBiasAdd(rng.standard_normal((1, 3)))
    with pytest.raises(GradientCheckError, match=r"MeanBiasAdd.*the param gradient"):
        check_operation(op, rng.standard_normal((4, 3)))
    report = check_operation(op, rng.standard_normal((4, 3)), raise_exception=False)
    assert report.comparisons["input"].passed
    assert not report.comparisons["param"].passed


def test_check_loss_raises_on_a_wrong_gradient(rng) -> None:
    with pytest.raises(
        GradientCheckError,
        match=r"HalfMSE.*prediction gradient.*"
        r"largest relative error",
    ):
        check_loss(HalfMSE(), rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))


def test_gradient_check_error_is_an_assertion_error_and_a_lincoln_error() -> None:
    assert issubclass(GradientCheckError, AssertionError)
    assert issubclass(GradientCheckError, LincolnError)


# -- what a check leaves behind ------------------------------------------------------


def test_check_operation_changes_neither_input_nor_param(rng) -> None:
    W = rng.standard_normal((3, 2)).astype(np.float32)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    W_before, x_before = W.copy(), x.copy()
    op = WeightMultiply(W)
    report = check_operation(op, x)
    assert report.passed
    assert op.param is W and W.dtype == np.float32
    np.testing.assert_array_equal(W, W_before)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("with_param", [True, False], ids=["BiasAdd", "Tanh"])
def test_check_operation_restores_needs_input_grad(with_param: bool, rng) -> None:
    # a network's first operation skips its input gradient; the check needs it
    op = BiasAdd(rng.standard_normal((1, 3))) if with_param else Tanh()
    op.needs_input_grad = False
    assert check_operation(op, rng.standard_normal((2, 3))).passed
    assert op.needs_input_grad is False


def test_check_operation_is_reproducible_for_a_seed(rng) -> None:
    x = rng.standard_normal((3, 4))
    a = check_operation(Tanh(), x, seed=5).comparisons["input"]
    b = check_operation(Tanh(), x, seed=5).comparisons["input"]
    assert a == b


def test_dropout_check_uses_one_mask_for_every_forward_pass(rng) -> None:
    op = Dropout(0.5, seed=11)
    x = rng.standard_normal((6, 5))
    check_operation(op, x)
    first_mask = op.mask.copy()
    # a fresh Dropout with the same seed draws the same first mask as the check saw
    fresh = Dropout(0.5, seed=11)
    fresh.forward(x.copy())
    np.testing.assert_array_equal(first_mask, fresh.mask)


def test_check_network_two_layers_dropout_and_report(rng) -> None:
    net = NeuralNetwork(
        [Dense(6, "tanh", dropout=0.7), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=4,
        dtype=np.float64,
    )
    X, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    report = check_network(net, X, y)
    names = [name for name, _ in net.named_params()]
    assert (
        list(report.comparisons)
        == names
        == [
            "layers.0.params.0",
            "layers.0.params.1",
            "layers.1.params.0",
            "layers.1.params.1",
        ]
    )
    assert set(report.max_rel_errors) == set(report.mean_abs_diffs) == set(names)
    assert set(report.error_ratios) == set(names)
    assert all(e < 0.1 for e in report.error_ratios.values())
    assert all(d < 1e-8 for d in report.mean_abs_diffs.values())
    dropout = net.layers[0].operations[-1]
    assert isinstance(dropout, Dropout) and (dropout.mask == 0).any()


def test_check_network_leaves_params_and_grads_consistent(rng) -> None:
    net = NeuralNetwork(
        [Dense(5, "sigmoid"), Dense(2, "linear")],
        MeanSquaredError(),
        seed=2,
        dtype=np.float64,
    )
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    net.forward(X)
    before = [p.copy() for p in net.params()]
    check_network(net, X, y)
    for p, b in zip(net.params(), before, strict=True):
        np.testing.assert_array_equal(p, b)
    grads = [g.copy() for g in net.param_grads()]
    net.train_batch(X, y)
    for g, h in zip(grads, net.param_grads(), strict=True):
        np.testing.assert_array_equal(g, h)


def test_check_network_finds_a_wrong_layer_gradient(rng) -> None:
    net = NeuralNetwork(
        [Dense(6, BookReLU()), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=0,
        dtype=np.float64,
    )
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    with pytest.raises(GradientCheckError, match=r"layers\.0\.params\.\d gradient"):
        check_network(net, X, y)
    report = check_network(net, X, y, raise_exception=False)
    assert not report.comparisons["layers.0.params.0"].passed
    assert report.comparisons["layers.1.params.0"].passed  # the layer above is right


def test_check_network_refuses_float32(rng) -> None:
    net = NeuralNetwork([Dense(2, "linear")], MeanSquaredError(), dtype=np.float32)
    with pytest.raises(ConfigError, match=r"float32.*dtype=np\.float64"):
        check_network(net, rng.standard_normal((2, 3)), rng.standard_normal((2, 2)))


@pytest.mark.parametrize("func", [check_operation, check_loss, check_network])
def test_checks_reject_the_wrong_kind_of_object(func: Callable) -> None:
    args: tuple = (object(), np.zeros((2, 2)))
    if func is not check_operation:
        args += (np.zeros((2, 2)),)
    with pytest.raises(TypeError, match=func.__name__):
        func(*args)


@pytest.mark.parametrize("bad", [0, -1e-6, float("nan"), "1e-6"])
def test_tolerances_are_validated(bad: Any) -> None:
    with pytest.raises(ConfigError, match="eps"):
        check_operation(Tanh(), np.zeros((2, 2)), eps=bad)
    with pytest.raises(ConfigError, match="rtol"):
        check_loss(MeanSquaredError(), np.zeros((2, 2)), np.zeros((2, 2)), rtol=bad)
    with pytest.raises(ConfigError, match="atol must be a finite number > 0"):
        check_operation(Tanh(), np.zeros((2, 2)), atol=bad)


def test_report_types_and_repr(rng) -> None:
    report = check_operation(Sigmoid(), rng.standard_normal((2, 3)))
    assert isinstance(report, GradientCheckReport)
    assert isinstance(report.comparisons["input"], GradientComparison)
    assert re.match(r"GradientCheckReport\(Sigmoid\(\) passed", repr(report))
    failing = check_operation(
        WrongSigmoid(), rng.standard_normal((2, 3)), raise_exception=False
    )
    assert "FAILED" in repr(failing)


def test_non_finite_gradients_fail_the_check() -> None:
    class NaNGrad(Linear):
        def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
            grad = output_grad.copy()
            grad[0, 1] = np.nan
            return grad

    report = check_operation(NaNGrad(), np.ones((2, 2)), raise_exception=False)
    worst = report.comparisons["input"]
    assert not report.passed and worst.max_rel_error == np.inf and worst.index == (0, 1)


# -- the reference itself --------------------------------------------------------------


def test_numerical_gradient_of_a_quadratic_in_any_shape(rng) -> None:
    A = rng.standard_normal((2, 3, 4))
    x = rng.standard_normal((2, 3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(A * v**2)), x)
    np.testing.assert_allclose(grad, 2 * A * before, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored


def test_numerical_gradient_agrees_with_an_independent_reference(
    rng, central_difference
) -> None:
    """Against the suite's own minimal central differences (conftest.py), on a
    function of every element of a convolution's input and kernel."""
    op = Conv2DOp(rng.standard_normal((2, 3, 3, 3)), stride=2, padding=1)
    x = rng.standard_normal((2, 2, 5, 4))
    g = rng.standard_normal(op.forward(x).shape)

    def f() -> float:
        return float(np.sum(g * np.tanh(op.forward(x))))

    for point in (x, op.param):
        np.testing.assert_allclose(
            numerical_gradient(lambda _: f(), point),
            central_difference(f, point),
            rtol=1e-6,
            atol=1e-9,
        )


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([1.0, 2.0])

    def f(v: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_of_a_scalar_array() -> None:
    grad = numerical_gradient(lambda v: float(v) ** 3, np.array(2.0))
    assert grad.shape == () and float(grad) == pytest.approx(12.0, rel=1e-8)


def test_numerical_gradient_works_on_a_view_in_place() -> None:
    big = np.zeros((3, 4))
    view = big[:, 1]
    grad = numerical_gradient(lambda v: float(np.sum((big - 1.0) ** 2)), view)
    np.testing.assert_allclose(grad, [-2.0, -2.0, -2.0], rtol=1e-7)
    assert not big.any()


@pytest.mark.parametrize(
    "x",
    [np.array([3, 4]), np.array([3.0, 4.0], dtype=np.float32), [3.0, 4.0]],
    ids=["int", "float32", "list"],
)
def test_numerical_gradient_needs_float64(x: Any) -> None:
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: float(np.sum(v**2)), x)


def test_numerical_gradient_validates_eps() -> None:
    with pytest.raises(
        ConfigError, match=r"eps must be a finite number > 0, received eps=0"
    ):
        numerical_gradient(lambda v: 0.0, np.zeros(2), eps=0)


def test_a_loss_base_class_subclass_can_be_checked(rng) -> None:
    class L1(Loss):
        def _output(self) -> float:
            return float(np.sum(np.abs(self.prediction - self.target)))

        def _input_grad(self) -> np.ndarray:
            return np.sign(self.prediction - self.target)

    pred = _away_from_zero(rng, (3, 2))
    assert check_loss(L1(), pred, np.zeros((3, 2))).passed


def test_state_updated_in_place_by_forward_is_restored(rng) -> None:
    """Declared buffers (running statistics, as batch norm keeps) must not drift
    over the check's thousands of forward passes."""

    class RunningMean(Operation):
        def __init__(self) -> None:
            super().__init__()
            self.running = np.zeros((1, 3))

        def buffers(self) -> dict[str, np.ndarray]:
            return {"running": self.running}

        def _output(self) -> np.ndarray:
            self.running *= 0.9
            self.running += 0.1 * self.input_.mean(axis=0, keepdims=True)
            return self.input_ - self.input_.mean(axis=0, keepdims=True)

        def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
            return output_grad - output_grad.mean(axis=0, keepdims=True)

    op = RunningMean()
    op.forward(rng.standard_normal((4, 3)) + 5.0)
    running = op.running.copy()
    assert check_operation(op, rng.standard_normal((4, 3))).passed
    np.testing.assert_array_equal(op.running, running)

    class MeanLayer(Dense):
        def _setup_layer(self, input_: np.ndarray) -> None:
            super()._setup_layer(input_)
            self.operations.insert(2, RunningMean())

    net = NeuralNetwork(
        [MeanLayer(3, "tanh"), Dense(2, "linear")],
        MeanSquaredError(),
        seed=0,
        dtype=np.float64,
    )
    X, y = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    net.forward(X)
    running = net.layers[0].operations[2].running.copy()
    assert check_network(net, X, y).passed
    np.testing.assert_array_equal(net.layers[0].operations[2].running, running)
