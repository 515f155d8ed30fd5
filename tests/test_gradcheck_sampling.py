"""Tests of ``max_checks`` in lincoln.gradcheck: checking a seeded sample of the
entries of each parameter (and of an operation's input) instead of all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lincoln.base import Array
from lincoln.dense import WeightMultiply
from lincoln.errors import ConfigError, GradientCheckError
from lincoln.gradcheck import check_network, check_operation
from lincoln.layers import Dense
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork


class WrongWeightMultiply(WeightMultiply):
    """``X @ W`` whose parameter gradient is 10% too large, everywhere."""

    def _param_grad(self, output_grad: Array) -> Array:
        return 1.1 * super()._param_grad(output_grad)


class WrongDense(Dense):
    """A Dense layer with a wrong weight gradient (its bias gradient is right)."""

    def _setup_layer(self, input_: Array) -> None:
        super()._setup_layer(input_)
        self.operations[0] = WrongWeightMultiply(self.params[0])


def small_net(first: type[Dense] = Dense) -> NeuralNetwork:
    """Parameters of 24, 6, 18 and 3 entries."""
    return NeuralNetwork(
        [first(6, "tanh"), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=3,
        dtype=np.float64,
    )


def mnist_sized(first: type[Dense] = Dense) -> NeuralNetwork:
    """784 -> 128 -> 10: 101,770 parameters, an MNIST classifier's size."""
    return NeuralNetwork(
        [
            first(128, "tanh", weight_init="glorot"),
            Dense(10, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=1,
        dtype=np.float64,
    )


def data(
    rng: np.random.Generator, n: int, features: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, features)), rng.integers(0, classes, n)


class Perturbations:
    """Wraps ``net.forward_loss`` to count the calls and (``record``) note which
    entry of which parameter was moved away from its value at wrapping time."""

    def __init__(self, net: NeuralNetwork, record: bool = True) -> None:
        self.params = [p for _, p in net.named_params()]
        self.originals = [p.copy() for p in self.params]
        self.calls = 0
        self.moved: list[set[tuple[int, ...]]] = [set() for _ in self.params]
        forward_loss: Callable[..., float] = net.forward_loss

        def counting(*args: Any, **kwargs: Any) -> float:
            self.calls += 1
            pairs = zip(self.params, self.originals, strict=True) if record else []
            for k, (p, o) in enumerate(pairs):
                for idx in zip(*np.nonzero(p != o), strict=True):
                    self.moved[k].add(tuple(int(i) for i in idx))
            return forward_loss(*args, **kwargs)

        net.forward_loss = counting  # type: ignore[method-assign]


def built(net: NeuralNetwork, X: np.ndarray) -> NeuralNetwork:
    net.forward(X[:1], inference=True)
    return net


# -- check_network --------------------------------------------------------------------


def test_sampling_checks_exactly_max_checks_entries_of_each_parameter(
    rng: np.random.Generator,
) -> None:
    X, y = data(rng, 5, 4, 3)
    net = built(small_net(), X)
    seen = Perturbations(net)
    report = check_network(net, X, y, max_checks=5)
    assert report.passed
    assert report.sizes == {
        "layers.0.params.0": 24,
        "layers.0.params.1": 6,
        "layers.1.params.0": 18,
        "layers.1.params.1": 3,
    }
    # at most 5 of each; the 3-entry bias is checked whole
    assert report.checked == {
        "layers.0.params.0": 5,
        "layers.0.params.1": 5,
        "layers.1.params.0": 5,
        "layers.1.params.1": 3,
    }
    assert [len(m) for m in seen.moved] == [5, 5, 5, 3]  # distinct entries
    assert seen.calls == 2 * (5 + 5 + 5 + 3)  # two forward passes per entry
    assert [c.sampled for c in report.comparisons.values()] == [True] * 3 + [False]
    assert "layers.0.params.0: " in repr(report) and "(5 of 24 entries)" in repr(report)
    # the reported entry is the parameter's own index, with its backprop value
    for grad, comparison in zip(
        net.param_grads(), report.comparisons.values(), strict=True
    ):
        assert comparison.analytic == grad[comparison.index]


def test_default_and_large_max_checks_check_everything(
    rng: np.random.Generator,
) -> None:
    X, y = data(rng, 5, 4, 3)
    full = check_network(built(small_net(), X), X, y)
    assert full.checked == full.sizes
    assert "entries" not in repr(full)
    everything = check_network(built(small_net(), X), X, y, max_checks=24)
    assert everything.comparisons == full.comparisons


def test_sampling_is_reproducible_for_a_seed(rng: np.random.Generator) -> None:
    X, y = data(rng, 5, 4, 3)
    chosen = []
    for seed in (7, 7, 8):
        net = built(small_net(), X)
        seen = Perturbations(net)
        check_network(net, X, y, max_checks=4, seed=seed)
        chosen.append(seen.moved)
    assert chosen[0] == chosen[1]
    assert chosen[0] != chosen[2]


def test_sampling_catches_a_wrong_gradient(rng: np.random.Generator) -> None:
    X, y = data(rng, 2, 784, 10)  # small products: OpenBLAS stays single-threaded
    with pytest.raises(
        GradientCheckError,
        match=r"the layers\.0\.params\.0 gradient disagrees.*"
        r"20 of its 100352 entries checked",
    ):
        check_network(mnist_sized(WrongDense), X, y, max_checks=20)
    report = check_network(
        mnist_sized(WrongDense), X, y, max_checks=20, raise_exception=False
    )
    assert [c.passed for c in report.comparisons.values()] == [False, True, True, True]
    worst = report.comparisons["layers.0.params.0"]
    assert worst.checked == 20
    assert worst.analytic == pytest.approx(1.1 * worst.numerical, rel=1e-4)


def test_sampling_needs_far_fewer_forward_passes_on_a_100k_parameter_network(
    rng: np.random.Generator,
) -> None:
    X, y = data(rng, 2, 784, 10)
    net = built(mnist_sized(), X)
    assert net.count_params() == 101_770
    seen = Perturbations(net, record=False)
    report = check_network(net, X, y, max_checks=32)
    assert report.passed
    assert seen.calls == 2 * (32 + 32 + 32 + 10)  # 212 forward passes
    full_calls = 2 * net.count_params()  # 203,540 without max_checks
    assert full_calls > 900 * seen.calls


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_max_checks_must_be_none_or_a_positive_integer(
    rng: np.random.Generator, bad: Any
) -> None:
    X, y = data(rng, 5, 4, 3)
    with pytest.raises(ConfigError, match="max_checks must be None"):
        check_network(small_net(), X, y, max_checks=bad)
    with pytest.raises(ConfigError, match="max_checks must be None"):
        check_operation(WeightMultiply(np.ones((4, 2))), X, max_checks=bad)


# -- check_operation ------------------------------------------------------------------


def test_check_operation_samples_input_and_param(rng: np.random.Generator) -> None:
    op = WeightMultiply(rng.standard_normal((30, 20)))
    x = rng.standard_normal((5, 30))
    report = check_operation(op, x, max_checks=7, seed=3)
    assert report.passed
    assert report.checked == {"input": 7, "param": 7}
    assert report.sizes == {"input": 150, "param": 600}
    worst = report.comparisons["input"]
    assert op.input_grad is not None
    assert worst.analytic == op.input_grad[worst.index]
    # the random output_grad does not depend on max_checks
    full = check_operation(WeightMultiply(op.param.copy()), x, seed=3)
    assert full.checked == full.sizes == {"input": 150, "param": 600}
    assert full.comparisons["input"].analytic == pytest.approx(
        float(op.input_grad[full.comparisons["input"].index]), abs=0
    )


def test_check_operation_sampling_catches_a_wrong_param_gradient(
    rng: np.random.Generator,
) -> None:
    op = WrongWeightMultiply(rng.standard_normal((30, 20)))
    x = rng.standard_normal((5, 30))
    with pytest.raises(
        GradientCheckError, match=r"the param gradient.*7 of its 600 entries checked"
    ):
        check_operation(op, x, max_checks=7)
    report = check_operation(op, x, max_checks=7, raise_exception=False)
    assert report.comparisons["input"].passed
    assert not report.comparisons["param"].passed
