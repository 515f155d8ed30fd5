"""The 2-D convolutional layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation
from ..errors import ConfigError, check_positive_int
from ..ops.activations import ACTIVATIONS, get_activation
from ..ops.conv import (
    BiasAdd2D,
    Conv2DOp,
    check_images,
    check_padding,
    fitted_output_size,
)
from ..ops.dropout import Dropout
from ..ops.reshape import FlattenOp
from ..registry import LAYERS
from .base import Layer
from .init import check_weight_init, child_generator, init_weights

__all__ = ["Conv2D"]


@LAYERS.register("conv2d")
class Conv2D(Layer):
    """A 2-D convolutional layer: ``activation(conv(X, W) + B)``, then optional
    dropout and flattening, in the book's signature and argument order.

    Args:
        out_channels: number of kernels, i.e. of output channels (the layer's
            ``neurons``, as in the book).
        param_size: side ``k`` of the square ``k x k`` kernels.
        dropout: probability of *keeping* a unit in training; 1.0 means none.
        weight_init: ``"normal"`` or ``"standard"`` (N(0, 1), the book's
            default), ``"glorot"`` (std ``sqrt(2 / (fan_in + fan_out))``) or
            ``"he"`` (std ``sqrt(2 / fan_in)``), with ``fan_in = in_channels * k *
            k`` and ``fan_out = out_channels * k * k``. (The book's Conv2D
            "glorot" used ``2 / (in_channels + out_channels)``.)
        activation: an activation instance, a name (``"relu"``), or None for Linear.
        flatten: reshape the output to ``(batch, out_channels * H_out * W_out)``,
            as the book does before a Dense layer.
        stride: step of the kernel over the image.
        padding: ``"same"`` (the default, as in the book: the output has the
            input's height and width for stride 1, ``ceil(size / stride)`` in
            general), ``"valid"`` (no padding) or a number of zero pixels added
            on every side.

    Parameters:
        ``params[0]``, the kernel: ``(in_channels, out_channels, k, k)`` (the
        book's layout); ``params[1]``, one bias per output channel, ``(1,
        out_channels, 1, 1)``, starting at zero (the book's Conv2D has no bias).

    Shape:
        input_ ``(batch, in_channels, H, W)`` -> output ``(batch, out_channels,
        H_out, W_out)``, or ``(batch, out_channels * H_out * W_out)`` with
        ``flatten=True``.

    Raises:
        ConfigError: a non-positive ``out_channels``, ``param_size`` or ``stride``,
            a bad ``padding``, ``weight_init``, activation or ``dropout``.
        ShapeError: an input that is not 4-D, is too small for the kernel, or
            (once built) has a different shape.

    A ReLU followed, in a network, by a :class:`~lincoln.layers.MaxPool2D`
    layer is applied by that layer, after the pooling (the same function on a
    quarter of the values); the convolution's ``output`` is then ``conv(X, W) +
    B``.

    Example:
        >>> from lincoln.activations import Tanh
        >>> layer = Conv2D(16, 5, 0.8, "glorot", Tanh(), True)
    """

    # True when the max-pooling layer after it applies its activation
    activation_moved = False

    def __init__(
        self,
        out_channels: int,
        param_size: int,
        dropout: float = 1.0,
        weight_init: str = "normal",
        activation: Operation | str | None = None,
        flatten: bool = False,
        stride: int = 1,
        padding: str | int = "same",
    ) -> None:
        super().__init__(check_positive_int("Conv2D", "out_channels", out_channels))
        self.out_channels = self.neurons
        self.param_size = check_positive_int("Conv2D", "param_size", param_size)
        self._dropout = Dropout(dropout)
        self.dropout = self._dropout.keep_prob
        self.weight_init = check_weight_init("Conv2D", weight_init)
        self.activation = get_activation(activation)
        if not isinstance(flatten, (bool, np.bool_)):
            raise ConfigError(
                f"Conv2D: flatten must be True or False, received flatten={flatten!r}"
            )
        self.flatten = bool(flatten)
        self.stride = check_positive_int("Conv2D", "stride", stride)
        self.padding = check_padding("Conv2D", padding)

    def _setup_layer(self, input_: Array) -> None:
        check_images("Conv2D", input_)
        self.output_shape(tuple(input_.shape[1:]))  # raises if the kernel does not fit
        in_c, out_c, k = input_.shape[1], self.out_channels, self.param_size
        rng = self.rng()
        fans = (in_c * k * k, out_c * k * k)
        W = init_weights(rng, (in_c, out_c, k, k), self.weight_init, *fans, self.dtype)
        B = np.zeros((1, out_c, 1, 1), dtype=self.dtype)
        self.params = [W, B]
        self.operations = [Conv2DOp(W, self.stride, self.padding), BiasAdd2D(B)]
        if not self.activation_moved:
            self.operations.append(self.activation)
        if self.dropout < 1.0:
            self._dropout.rng = child_generator(rng)
            self.operations.append(self._dropout)
        if self.flatten:
            self.operations.append(FlattenOp())

    def follow(self, previous: Layer | None) -> None:
        # in a new network the activation is this layer's own again, until a
        # max-pooling layer after it takes it over (see MaxPool2D.follow)
        self.take_back_activation()

    def take_back_activation(self) -> None:
        """Apply the activation in this layer again if a max-pooling layer
        took it over. A layer built without it appends it; a pooling layer
        that still applies it (in another network) then applies ReLU to
        ReLU'd values, which changes nothing."""
        if self.activation_moved and not self.first:
            self.operations.append(self.activation)
        self.activation_moved = False

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        k, stride, padding = self.param_size, self.stride, self.padding
        out_h, out_w = fitted_output_size("Conv2D", input_shape, k, stride, padding)
        if self.flatten:
            return (self.out_channels * out_h * out_w,)
        return (self.out_channels, out_h, out_w)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "out_channels": self.out_channels,
            "param_size": self.param_size,
            "activation": ACTIVATIONS.spec_of(self.activation),
            "weight_init": self.weight_init,
            "stride": self.stride,
            "padding": self.padding,
        }
        if self.flatten:
            config["flatten"] = True
        if self.dropout < 1.0:
            config["dropout"] = self.dropout
        return config
