"""The Embedding layer and its lookup operation: integer ids in (never cast to
floats), a float64 gradient check of the table, repeated ids, errors, saving."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.errors import ConfigError, DataError
from lincoln.gradcheck import check_network, numerical_gradient
from lincoln.layers.dense import Dense
from lincoln.layers.embedding import Embedding
from lincoln.layers.recurrent import LSTM
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.ops.embedding import EmbeddingLookup


def test_lookup_returns_rows(rng: np.random.Generator) -> None:
    W = rng.standard_normal((5, 3))
    ids = np.array([[0, 4, 4], [2, 1, 0]])
    out = EmbeddingLookup(W).forward(ids)
    assert out.shape == (2, 3, 3) and np.array_equal(out, W[ids])


def test_table_gradient_with_repeated_ids(rng: np.random.Generator) -> None:
    W = rng.standard_normal((5, 3))
    ids = np.array([[0, 4, 4, 4], [2, 1, 0, 4]])  # batch 2, sequence 4, repeats
    op = EmbeddingLookup(W)
    g = rng.standard_normal((2, 4, 3))

    def f(_: np.ndarray) -> float:
        return float(np.sum(g * op.forward(ids)))

    f(W)
    op.backward(g)
    assert np.allclose(op.param_grad, numerical_gradient(f, W), atol=1e-8)
    assert np.array_equal(op.param_grad[3], np.zeros(3))  # an id never seen


def test_table_gradient_matches_add_at(rng: np.random.Generator) -> None:
    # the sorted accumulation against the plain definition: add each row at its id
    W = rng.standard_normal((9, 4))
    ids = rng.integers(0, 9, (5, 7))
    g = rng.standard_normal((5, 7, 4))
    op = EmbeddingLookup(W)
    op.forward(ids)
    op.backward(g)
    expected = np.zeros_like(W)
    np.add.at(expected, ids.reshape(-1), g.reshape(-1, 4))
    assert np.allclose(op.param_grad, expected, rtol=1e-12, atol=1e-12)


def test_table_gradient_of_no_ids() -> None:
    op = EmbeddingLookup(np.ones((3, 2)))
    assert op.forward(np.zeros((0, 4), dtype=int)).shape == (0, 4, 2)
    op.backward(np.zeros((0, 4, 2)))
    assert np.array_equal(op.param_grad, np.zeros((3, 2)))


def test_network_keeps_integer_ids(rng: np.random.Generator) -> None:
    seen = []

    class Spy(EmbeddingLookup):
        def _output(self) -> np.ndarray:
            seen.append(self.input_.dtype)
            return super()._output()

    net = NeuralNetwork([Embedding(6, 4), Dense(6, "linear")], SoftmaxCrossEntropy())
    X = rng.integers(0, 6, (3, 5))
    net.forward(X)
    net.layers[0].operations[0].__class__ = Spy
    net.forward(X)
    assert seen == [X.dtype]  # the ids reached the lookup as integers


def test_network_gradient_check(rng: np.random.Generator) -> None:
    net = NeuralNetwork(
        [Embedding(6, 4), LSTM(5), Dense(6, "linear")],
        SoftmaxCrossEntropy(),
        dtype=np.float64,
    )
    X = rng.integers(0, 6, (3, 4))
    assert check_network(net, X, rng.integers(0, 6, (3, 4))).passed


def test_bad_ids_and_arguments() -> None:
    layer = Embedding(4, 2)
    with pytest.raises(DataError, match=r"ids must be in \[0, 4\)"):
        layer.forward(np.array([[0, 4]]))
    with pytest.raises(DataError, match="integer ids"):
        Embedding(4, 2).forward(np.array([[0.5, 1.0]]))
    with pytest.raises(ConfigError, match="dim"):
        Embedding(4, 0)
    with pytest.raises(ConfigError, match="distinct tokens"):
        Embedding(3, 2, vocab=["a", "a", "b"])


def test_config_and_repr() -> None:
    layer = Embedding(3, 2, vocab=["x", "y", "z"])
    assert layer.get_config() == {"vocab_size": 3, "dim": 2, "vocab": ["x", "y", "z"]}
    assert repr(layer) == "Embedding(vocab_size=3, dim=2, vocab=<3 tokens>)"
    assert layer.output_shape((7,)) == (7, 2)
    built = NeuralNetwork([layer, Dense(3, "linear")], SoftmaxCrossEntropy())
    built.build((4,))  # built from integer zeros
    assert built.forward(np.array([[2, 0]])).shape == (1, 2, 3)
