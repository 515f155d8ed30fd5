"""Tests of the tolerances of the gradient checks: an entry fails when
``|a - n| > atol + rtol * max(|a|, |n|)``, ``error_ratio`` is that measure
(``|a - n| / (atol + rtol * max(|a|, |n|))``), and the relative and absolute
errors reported beside it do not depend on the tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.activations import Sigmoid
from lincoln.base import Operation
from lincoln.gradcheck import check_loss, check_network, check_operation
from lincoln.gradcheck.report import compare
from lincoln.layers import Dense
from lincoln.losses import MeanSquaredError
from lincoln.network import NeuralNetwork


class ScaledSigmoid(Sigmoid):
    """A sigmoid whose derivative is off by a relative 1e-4."""

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return super()._input_grad(output_grad) * (1.0 + 1e-4)


class TinyOffset(Operation):
    """x * 1e-9 (gradients far below the default atol) with a backward off by
    a relative 10%: only an absolute tolerance below 1e-10 can see it."""

    def _output(self) -> np.ndarray:
        return self.input_ * 1e-9

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * 1.1e-9


def test_compare_reports_the_measure_it_tests() -> None:
    a = np.array([1.0, 1e-3, 0.0, 2e-8])
    n = np.array([1.0 + 2e-6, 1e-3 + 5e-8, 0.0, 0.0])
    c = compare("g", a, n, rtol=1e-5, atol=1e-7)
    ratios = np.abs(a - n) / (1e-7 + 1e-5 * np.maximum(np.abs(a), np.abs(n)))
    assert c.error_ratio == pytest.approx(ratios.max(), rel=1e-12)
    assert c.index == (int(np.argmax(ratios)),) == (1,)
    assert c.passed == (ratios.max() <= 1.0)
    # tolerance-free: the entry 2e-8 against 0 is 100% off, but below atol
    assert c.max_rel_error == 1.0 and c.max_abs_diff == pytest.approx(2e-6)


def test_only_the_error_ratio_depends_on_the_tolerances(rng) -> None:
    x = rng.standard_normal((3, 4))
    loose = check_operation(ScaledSigmoid(), x, rtol=1e-3, atol=1e-6)
    tight = check_operation(ScaledSigmoid(), x, rtol=1e-5, raise_exception=False)
    a, b = loose.comparisons["input"], tight.comparisons["input"]
    assert a.passed and not b.passed
    assert (a.max_rel_error, a.max_abs_diff) == (b.max_rel_error, b.max_abs_diff)
    assert a.max_rel_error == pytest.approx(1e-4, rel=1e-3)
    assert a.error_ratio < 0.1 < 1.0 < b.error_ratio
    assert (loose.rtol, loose.atol, tight.rtol, tight.atol) == (1e-3, 1e-6, 1e-5, 1e-7)


def test_atol_decides_for_tiny_gradients(rng) -> None:
    x = rng.standard_normal((2, 3))
    assert check_operation(TinyOffset(), x).passed  # default atol=1e-7
    strict = check_operation(TinyOffset(), x, atol=1e-12, raise_exception=False)
    assert not strict.passed
    assert strict.comparisons["input"].max_rel_error == pytest.approx(0.1 / 1.1)


@pytest.mark.parametrize("check", ["loss", "network"])
def test_loss_and_network_checks_take_both_tolerances(check: str, rng) -> None:
    p, t = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    if check == "loss":
        report = check_loss(MeanSquaredError(), p, t, rtol=1e-4, atol=1e-9)
    else:
        net = NeuralNetwork(
            [Dense(3, "tanh"), Dense(2)], MeanSquaredError(), dtype=np.float64
        )
        report = check_network(net, p, t, rtol=1e-4, atol=1e-9)
    assert report.passed and (report.rtol, report.atol) == (1e-4, 1e-9)
    assert "rtol=0.0001, atol=1e-09" in repr(report)
    assert report.error_ratio == max(report.error_ratios.values()) <= 1.0
