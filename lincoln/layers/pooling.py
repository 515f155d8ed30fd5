"""Max and average pooling layers."""

from __future__ import annotations

from typing import Any, cast

from ..base import Array, Operation
from ..errors import ConfigError
from ..ops.activations import ReLU
from ..ops.conv import check_images
from ..ops.pooling import AvgPool2DOp, MaxPool2DOp, pool_output_shape
from ..registry import LAYERS
from .base import Layer
from .conv import Conv2D

__all__ = ["MaxPool2D", "AvgPool2D"]


class _Pool2D(Layer):
    """Shared by MaxPool2D and AvgPool2D: one pooling operation, made (and its
    arguments checked) when the layer is."""

    width_from_input = True

    _operation: type[MaxPool2DOp] | type[AvgPool2DOp]

    def __init__(self, pool_size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self._op = self._operation(pool_size, stride)
        # a ReLU taken over from the layer before (MaxPool2D.follow), and that layer
        self.activation: Operation | None = None
        self._source: Conv2D | None = None
        self.pool_size = self._op.pool_size
        self.stride = stride if stride is None else self._op.stride

    def _setup_layer(self, input_: Array) -> None:
        check_images(type(self).__name__, input_)
        self.output_shape(tuple(input_.shape[1:]))  # raises if a window does not fit
        self.params = []
        self.operations = [self._op]
        if self.activation is not None:  # taken over from the layer before
            self.operations.append(self.activation)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        op = self._op
        return pool_output_shape(
            type(self).__name__, input_shape, op.pool_size, op.stride
        )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"pool_size": self.pool_size}
        if self.stride is not None:
            config["stride"] = self.stride
        return config


@LAYERS.register("maxpool2d")
class MaxPool2D(_Pool2D):
    """The maximum of each ``pool_size x pool_size`` window of every channel.

    Args:
        pool_size: side of the window.
        stride: step of the window; None (default) is ``pool_size``, so the
            windows tile the image without overlapping.

    Shape:
        input_ ``(batch, C, H, W)`` -> output ``(batch, C, (H - pool_size) //
        stride + 1, (W - pool_size) // stride + 1)``; rows and columns left over
        at the bottom and right are dropped.

    Raises:
        ConfigError: a non-positive ``pool_size`` or ``stride``.
        ShapeError: an input that is not 4-D or is smaller than a window.

    Right after a :class:`~lincoln.layers.Conv2D` whose activation is ReLU
    (without dropout or flattening), the layer applies that ReLU itself, after
    pooling: ReLU does not decrease, so the maximum of ReLU'd pixels is the
    ReLU of their maximum, and it is computed on a quarter of the values (for
    2x2 windows). The gradients are the same to the bit: either way a window's
    gradient reaches its first maximum, or nothing when that maximum is not
    positive.

    Example:
        >>> MaxPool2D().output_shape((8, 28, 28))
        (8, 14, 14)
    """

    _operation = MaxPool2DOp

    def follow(self, previous: Layer | None) -> None:
        takes = (
            isinstance(previous, Conv2D)
            and previous.first
            and type(previous.activation) is ReLU
            and previous.dropout == 1.0
            and not previous.flatten
        )
        if not self.first:  # built: its operations are fixed
            if self.activation is not None and previous is not self._source:
                raise ConfigError(
                    "MaxPool2D: this layer was built applying the ReLU of the "
                    "convolution before it, so it cannot follow another layer; "
                    "use a new MaxPool2D"
                )
            return
        if self._source is not None:  # from an earlier network: give it back
            self._source.take_back_activation()
        source = cast(Conv2D, previous) if takes else None
        self.activation = None if source is None else source.activation
        self._source = source
        if source is not None:
            source.activation_moved = True


@LAYERS.register("avgpool2d")
class AvgPool2D(_Pool2D):
    """The mean of each ``pool_size x pool_size`` window of every channel.

    Args:
        pool_size: side of the window.
        stride: step of the window; None (default) is ``pool_size``.

    Shape:
        as :class:`MaxPool2D`.

    Raises:
        ConfigError: a non-positive ``pool_size`` or ``stride``.
        ShapeError: an input that is not 4-D or is smaller than a window.
    """

    _operation = AvgPool2DOp
