"""The fully connected layer."""

from __future__ import annotations

from typing import Any

from ..base import Array, Operation
from ..errors import ShapeError
from ..ops.activations import ACTIVATIONS, Sigmoid, get_activation
from ..ops.dense import BiasAdd, WeightMultiply
from ..ops.dropout import Dropout
from ..registry import LAYERS
from .base import Layer
from .init import check_weight_init, child_generator, init_weights

__all__ = ["Dense"]


@LAYERS.register("dense")
class Dense(Layer):
    """A fully connected layer: ``activation(X @ W + B)``, optionally with dropout.

    Args:
        neurons: number of outputs.
        activation: an activation instance, its class, or a name (``"relu"``);
            None gives a new :class:`~lincoln.activations.Sigmoid`, the book's
            default. Each layer needs its own instance: the network replaces
            one shared between layers by a copy.
        conv_in: the book's flag for a layer after a convolution; accepted and
            not needed (put a Flatten layer, or ``Conv2D(flatten=True)``, first).
        dropout: probability of *keeping* a unit in training (the book's
            convention); 1.0 means no dropout.
        weight_init: ``"standard"`` (N(0, 1), the book's default), ``"glorot"`` or
            ``"he"``.

    Shape:
        input_ ``(batch, in_features)`` -> output ``(batch, neurons)``.

    Raises:
        ConfigError: a non-positive ``neurons``, an unknown ``weight_init`` or
            activation, or ``dropout`` outside (0, 1].

    Example:
        >>> from lincoln.activations import Sigmoid
        >>> layer = Dense(neurons=13, activation=Sigmoid(), weight_init="glorot")
    """

    def __init__(
        self,
        neurons: int,
        activation: Operation | str | None = None,
        conv_in: bool = False,
        dropout: float = 1.0,
        weight_init: str = "standard",
    ) -> None:
        super().__init__(neurons)
        # the book's default activation, but a fresh instance for every layer
        self.activation = (
            Sigmoid() if activation is None else get_activation(activation)
        )
        self.conv_in = conv_in
        self._dropout = Dropout(dropout)
        self.dropout = self._dropout.keep_prob
        self.weight_init = check_weight_init("Dense", weight_init)

    def _setup_layer(self, input_: Array) -> None:
        if input_.ndim != 2:
            raise ShapeError(
                f"Dense: input must be 2-D (batch, features), received shape "
                f"{input_.shape}; put a Flatten layer first for images"
            )
        num_in, rng = input_.shape[1], self.rng()
        shape = (num_in, self.neurons)
        W = init_weights(rng, shape, self.weight_init, num_in, self.neurons, self.dtype)
        B = init_weights(
            rng, (1, self.neurons), self.weight_init, num_in, self.neurons, self.dtype
        )
        self.params = [W, B]
        self.operations = [WeightMultiply(W), BiasAdd(B), self.activation]
        if self.dropout < 1.0:
            self._dropout.rng = child_generator(rng)
            self.operations.append(self._dropout)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "neurons": self.neurons,
            "activation": ACTIVATIONS.spec_of(self.activation),
            "weight_init": self.weight_init,
        }
        if self.dropout < 1.0:
            config["dropout"] = self.dropout
        return config
