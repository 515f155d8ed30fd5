"""Tests of lincoln.registry: names for classes, specs, and a user's own classes
saved and loaded like built-in ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import lincoln
from lincoln import Dense, NeuralNetwork, Operation, SoftmaxCrossEntropy
from lincoln.errors import ConfigError
from lincoln.registry import ACTIVATIONS, LAYERS, LOSSES, NETWORKS, OPTIMIZERS, Registry


@pytest.fixture
def registry() -> Registry:
    return Registry("widget", "WIDGETS", what="widget type")


class Widget:
    def __init__(self, size: int = 1) -> None:
        self.size = size

    def get_config(self) -> dict[str, int]:
        return {"size": self.size} if self.size != 1 else {}


def test_register_create_and_name(registry: Registry) -> None:
    registry.register("widget", Widget)
    made = registry.create({"type": "widget", "size": 3})
    assert isinstance(made, Widget) and made.size == 3
    assert registry.create("widget").size == 1
    assert registry.name_of(made) == "widget"
    assert registry.spec_of(made) == {"type": "widget", "size": 3}
    assert registry.spec_of(Widget()) == "widget"
    assert registry.create(made, base=Widget) is made
    assert list(registry) == ["widget"] and "widget" in registry


def test_register_works_as_a_decorator(registry: Registry) -> None:
    @registry.register("gadget")
    class Gadget(Widget):
        pass

    assert registry["gadget"] is Gadget


def test_unknown_names_list_the_choices(registry: Registry) -> None:
    registry.register("widget", Widget)
    with pytest.raises(
        ConfigError, match=r"^unknown widget type 'wodget'; choose one of: widget$"
    ):
        registry.create("wodget")
    with pytest.raises(
        ConfigError,
        match=r"widget 'widget': .*colour.*arguments received: colour='red'",
    ):
        registry.create({"type": "widget", "colour": "red"})


def test_an_unregistered_class_says_how_to_register_it(registry: Registry) -> None:
    with pytest.raises(ConfigError, match=r"WIDGETS\.register\('name', Widget\)"):
        registry.name_of(Widget())


def test_names_must_be_strings(registry: Registry) -> None:
    with pytest.raises(ConfigError, match="a name must be a non-empty string"):
        registry.register("", Widget)


def test_activation_names_ignore_case() -> None:
    assert type(ACTIVATIONS.create("ReLU")).__name__ == "ReLU"


def test_the_built_in_registries_know_the_built_ins() -> None:
    assert {"dense", "conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm"} <= set(
        LAYERS
    )
    assert {"softmax_cross_entropy", "mean_squared_error"} <= set(LOSSES)
    assert {"sgd", "sgd_momentum", "adagrad", "rmsprop", "adam"} <= set(OPTIMIZERS)
    assert NETWORKS["NeuralNetwork"] is NeuralNetwork


@pytest.fixture
def registered_user_op(user_op: Operation) -> Iterator[type[Operation]]:
    cls = type(user_op)
    ACTIVATIONS.register("user_square", cls)
    yield cls
    del ACTIVATIONS["user_square"]


def test_a_users_registered_activation_saves_and_loads(
    registered_user_op: type[Operation], tmp_path: Path
) -> None:
    net = NeuralNetwork(
        [Dense(4, registered_user_op()), Dense(3, "linear")], SoftmaxCrossEntropy()
    )
    X = np.random.default_rng(0).standard_normal((6, 5))
    expected = net.predict(X)
    net.save(tmp_path / "m.npz")
    again = lincoln.load(tmp_path / "m.npz")
    assert isinstance(again.layers[0].activation, registered_user_op)
    np.testing.assert_array_equal(again.predict(X), expected)


def test_the_tiny_network_fixture_saves_and_loads_in_its_dtype(
    tiny_net: NeuralNetwork, tmp_path: Path
) -> None:
    tiny_net.save(tmp_path / "tiny.npz")
    again = lincoln.load(tmp_path / "tiny.npz")
    assert again.dtype == tiny_net.dtype
    X = np.ones((2, 5), dtype=tiny_net.dtype)
    np.testing.assert_array_equal(again.predict(X), tiny_net.predict(X))
