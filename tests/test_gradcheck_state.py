"""Tests that gradient checks fix randomness and keep state through what the
operations declare (``generators()``, ``buffers()``; a network's
``named_generators()`` and ``named_buffers()``), not through attributes found
by name."""

from __future__ import annotations

import numpy as np

from lincoln.base import Operation
from lincoln.dropout import Dropout
from lincoln.gradcheck import check_network, check_operation
from lincoln.layers import BatchNorm, Dense
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.normalization import BatchNormalize


class Noise(Operation):
    """Multiplies by fresh random signs on every training pass; its generator is
    declared under a name other than ``rng``."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._signs_from = np.random.default_rng(seed)
        self.signs: np.ndarray | None = None

    def _output(self, inference: bool) -> np.ndarray:
        shape = self.input_.shape
        self.signs = self._signs_from.choice([-1.0, 1.0], size=shape)
        return self.input_ * self.signs

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.signs

    def generators(self) -> dict[str, np.random.Generator]:
        return {"signs": self._signs_from}


def test_a_declared_generator_of_any_name_is_frozen(rng) -> None:
    op = Noise(seed=5)
    x = rng.standard_normal((4, 3))
    assert check_operation(op, x).passed
    # every pass drew the first signs a fresh generator draws
    first = np.random.default_rng(5).choice([-1.0, 1.0], size=x.shape)
    np.testing.assert_array_equal(op.signs, first)


def test_undeclared_randomness_is_not_frozen(rng) -> None:
    """Without the declaration each pass draws new signs: the check sees a
    function that is not one, and says so."""

    class Undeclared(Noise):
        def generators(self) -> dict[str, np.random.Generator]:
            return {}

    report = check_operation(
        Undeclared(seed=5), rng.standard_normal((4, 3)), raise_exception=False
    )
    assert not report.passed


def test_batch_normalize_statistics_are_restored(rng) -> None:
    op = BatchNormalize(np.full((1, 3), 0.5), np.full((1, 3), 2.0))
    mean, var = op.running_mean.copy(), op.running_var.copy()
    assert check_operation(op, rng.standard_normal((6, 3)) + 4.0, seed=1).passed
    np.testing.assert_array_equal(op.running_mean, mean)
    np.testing.assert_array_equal(op.running_var, var)


def test_statistics_created_by_the_first_pass_stay_as_one_pass_left_them(
    rng,
) -> None:
    x = rng.standard_normal((6, 3)) + 4.0
    op = BatchNormalize(momentum=0.5)
    assert op.buffers() == {}
    assert check_operation(op, x, seed=1).passed
    once = BatchNormalize(momentum=0.5)
    once.forward(x)
    np.testing.assert_allclose(op.running_mean, once.running_mean, rtol=1e-15)
    np.testing.assert_allclose(op.running_var, once.running_var, rtol=1e-15)


def test_network_buffers_are_restored_and_dropout_masks_fixed(rng) -> None:
    net = NeuralNetwork(
        [Dense(6, "tanh", dropout=0.6), BatchNorm(), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=3,
        dtype=np.float64,
    )
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    net.forward(X)  # statistics away from their initial zeros and ones
    buffers = {name: b.copy() for name, b in net.named_buffers()}
    generators = dict(net.named_generators())
    assert set(buffers) == {
        "layers.1.buffers.running_mean",
        "layers.1.buffers.running_var",
    }
    assert list(generators) == ["layers.0.operations.3.rng"]
    assert check_network(net, X, y).passed
    for name, b in net.named_buffers():
        np.testing.assert_array_equal(b, buffers[name])
    dropout = net.layers[0].operations[3]
    assert isinstance(dropout, Dropout) and (dropout.mask == 0).any()
    assert generators["layers.0.operations.3.rng"] is dropout.rng


def test_an_unbuilt_network_is_built_before_its_generators_are_read(rng) -> None:
    net = NeuralNetwork(
        [Dense(5, "sigmoid", dropout=0.5), Dense(2, "linear")],
        SoftmaxCrossEntropy(),
        seed=1,
        dtype=np.float64,
    )
    assert not net.built and list(net.named_generators()) == []
    X, y = rng.standard_normal((4, 3)), rng.integers(0, 2, 4)
    assert check_network(net, X, y).passed
