"""Layers: a list of operations that builds itself on its first input.

A :class:`Layer` holds ``operations`` and, for the optimizer, ``params`` and
``param_grads`` (the arrays of its :class:`~lincoln.base.ParamOperation` s, by
reference). It is built lazily: the first ``forward`` calls
``_setup_layer(input_)``, which sees the input width and creates the parameters.
A subclass writes only ``_setup_layer``, exactly as in the book.

Every built-in layer describes itself with ``get_config()`` and is registered in
:data:`LAYERS`, so a network can be written to a file and rebuilt from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .activations import Sigmoid, activation_name, get_activation
from .base import Array, Operation, ParamOperation
from .conv import (
    BiasAdd2D,
    Conv2DOp,
    FlattenOp,
    check_images,
    check_padding,
    conv_output_size,
)
from .dense import BiasAdd, WeightMultiply
from .dropout import Dropout
from .errors import (
    ConfigError,
    ShapeError,
    check_positive_int,
    check_real,
    shape_error,
)
from .normalization import BatchNormalize, Scale, Shift, check_eps, check_momentum
from .pooling import AvgPool2DOp, MaxPool2DOp

__all__ = [
    "Layer",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "BatchNorm",
    "LAYERS",
    "WEIGHT_INITS",
    "layer_from_config",
    "register_layer",
]

WEIGHT_INITS = ("standard", "glorot", "he")

# what the image layers require of their input, in their error messages
_IMAGES = "be 4-D (batch, channels, height, width)"


def _keep_prob(owner: str, value: Any) -> float:
    return check_real(
        owner,
        "dropout",
        value,
        low=0,
        high=1,
        low_open=True,
        requirement="is the probability of keeping a unit and must be in (0, 1]",
    )


def _weight_init(owner: str, value: Any) -> str:
    if value not in WEIGHT_INITS:
        raise ConfigError(
            f"{owner}: unknown weight_init {value!r}; choose one of: "
            f"{', '.join(repr(w) for w in WEIGHT_INITS)}"
        )
    return str(value)


def _activation_spec(activation: Operation) -> str | dict[str, Any]:
    """An activation as a config entry: its name, or a dict with its arguments."""
    name = activation_name(activation)
    extra = activation.get_config()
    return {"type": name, **extra} if extra else name


def init_scale(weight_init: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the initial weights.

    ``"standard"`` is the book's N(0, 1); ``"glorot"`` is sqrt(2 / (fan_in +
    fan_out)) (Glorot & Bengio, 2010); ``"he"`` is sqrt(2 / fan_in) (He et al., 2015).
    """
    if weight_init == "glorot":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if weight_init == "he":
        return float(np.sqrt(2.0 / fan_in))
    return 1.0


class Layer:
    """A "layer" of neurons: a sequence of operations built on the first input.

    Args:
        neurons: the number of outputs per sample (the layer's width).

    Attributes:
        operations: the operations, applied in order.
        params: the parameter arrays of those operations (shared, not copies).
        param_grads: their gradients after ``backward``.
        first: True until the layer is built; set it back to True to rebuild.
        seed: seed of the layer's random generator (a network sets it).
        dtype: floating type of the parameters (a network sets it).
    """

    def __init__(self, neurons: int) -> None:
        self.neurons = check_positive_int(type(self).__name__, "neurons", neurons)
        self.first = True
        self.params: list[Array] = []
        self.param_grads: list[Array] = []
        self.operations: list[Operation] = []
        self.seed: int | None = None
        self.dtype: np.dtype[Any] = np.dtype(np.float64)
        self.input_: Array | None = None
        self.output: Array | None = None
        self.input_grad: Array | None = None
        self._input_shape: tuple[int, ...] | None = None
        self.needs_input_grad = True

    # -- building -----------------------------------------------------------

    def _setup_layer(self, input_: Array) -> None:
        """Create ``self.params`` and ``self.operations`` for this input."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _setup_layer(self, input_)"
        )

    def rng(self) -> np.random.Generator:
        """A generator seeded from ``self.seed`` (fresh each call, so a rebuild
        draws the same initial weights)."""
        return np.random.default_rng(self.seed)

    def build(self, input_: Array) -> None:
        """Build the layer for inputs shaped like ``input_`` (done by ``forward``)."""
        self._setup_layer(input_)
        # Parameters live in the layer's dtype. Casting replaces the arrays, so
        # the operations are updated too and the lists rebuilt from them.
        for op in self.operations:
            if isinstance(op, ParamOperation) and op.param.dtype != self.dtype:
                op.param = np.ascontiguousarray(op.param, dtype=self.dtype)
        self._params()
        self._set_first_input_grad()
        self._input_shape = tuple(input_.shape[1:])
        self.first = False

    def _set_first_input_grad(self) -> None:
        first = self.operations[0] if self.operations else None
        if isinstance(first, ParamOperation):
            first.needs_input_grad = self.needs_input_grad

    # -- running ------------------------------------------------------------

    def forward(self, input_: Array, inference: bool = False) -> Array:
        """Pass ``input_`` through every operation (building the layer first).

        Raises:
            ShapeError: the input's shape differs from the one the layer was built for.
        """
        if self.first:
            self.build(input_)
        elif tuple(input_.shape[1:]) != self._input_shape:
            raise ShapeError(
                f"{type(self).__name__}: built for inputs of shape "
                f"(batch, {', '.join(map(str, self._input_shape or ()))}), received "
                f"shape {input_.shape} (a layer takes the shape of its first input; "
                f"set layer.first = True to rebuild it with new weights)"
            )
        self.input_ = input_
        batch = input_.shape[:1]
        for operation in self.operations:
            input_ = operation.forward(input_, inference)
        if input_.shape[:1] != batch:
            raise self._batch_error(batch)
        self.output = input_
        return self.output

    def _batch_error(self, batch: tuple[int, ...]) -> ShapeError:
        # name the first operation whose output lost the batch size
        culprit = next(op for op in self.operations if np.shape(op.output)[:1] != batch)
        return ShapeError(
            f"{type(self).__name__}: {type(culprit).__name__}._output must keep the "
            f"batch size; input shape {np.shape(culprit.input_)}, output shape "
            f"{np.shape(culprit.output)}"
        )

    def backward(self, output_grad: Array) -> Array:
        """Backpropagate through the operations in reverse; return dL/d(input).

        Raises:
            ShapeError: ``output_grad`` does not match the layer's output.
        """
        output = self.output
        if output is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        operations = self.operations
        # The layer's output is its last operation's, whose backward checks
        # output_grad against it: that is the one shape check. When it fails,
        # the error names the layer, which is what the caller handed the array to.
        grad = output_grad
        try:
            for operation in reversed(operations):
                grad = operation.backward(grad)
        except ShapeError:
            if getattr(output_grad, "shape", None) == output.shape:
                raise  # a gradient further down is wrong: its operation's message
            error = shape_error(self, "output_grad", output.shape, output_grad)
            raise error from None
        if not operations and getattr(output_grad, "shape", None) != output.shape:
            raise shape_error(self, "output_grad", output.shape, output_grad)
        self.input_grad = grad
        self._param_grads()
        return grad

    def _param_grads(self) -> None:
        self.param_grads = [
            op.param_grad for op in self.operations if isinstance(op, ParamOperation)
        ]

    def _params(self) -> None:
        self.params = [
            op.param for op in self.operations if isinstance(op, ParamOperation)
        ]

    def buffers(self) -> dict[str, Array]:
        """Non-trainable state saved with the model (e.g. batch-norm running
        statistics), by name; the arrays themselves, updated in place."""
        return {}

    # -- description ----------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer
        (see :func:`layer_from_config`)."""
        return {"neurons": self.neurons}

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape."""
        return (self.neurons,)

    def __repr__(self) -> str:
        try:
            config = self.get_config()
        except ConfigError:  # e.g. a user's own, unregistered activation
            config = {
                k: v
                for k, v in vars(self).items()
                if k in ("neurons", "activation", "weight_init")
            }
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """A fully connected layer: ``activation(X @ W + B)``, optionally with dropout.

    Args:
        neurons: number of outputs.
        activation: an activation instance, its class, or a name (``"relu"``);
            None gives a new :class:`~lincoln.activations.Sigmoid`, the book's
            default. Each layer needs its own instance: the network replaces
            one shared between layers by a copy.
        weight_init: ``"standard"`` (N(0, 1), the book's default), ``"glorot"`` or
            ``"he"``.
        dropout: probability of *keeping* a unit in training (the book's
            convention); 1.0 means no dropout.

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
        weight_init: str = "standard",
        dropout: float = 1.0,
    ) -> None:
        super().__init__(neurons)
        # the book's default activation, but a fresh instance for every layer
        self.activation = (
            Sigmoid() if activation is None else get_activation(activation)
        )
        self.weight_init = _weight_init("Dense", weight_init)
        self.dropout = _keep_prob("Dense", dropout)

    def _setup_layer(self, input_: Array) -> None:
        if input_.ndim != 2:
            raise ShapeError(
                f"Dense: input must be 2-D (batch, features), received shape "
                f"{input_.shape}; put a Flatten layer first for images"
            )
        num_in = input_.shape[1]
        rng = self.rng()
        scale = init_scale(self.weight_init, num_in, self.neurons)
        W = (rng.standard_normal((num_in, self.neurons)) * scale).astype(self.dtype)
        B = (rng.standard_normal((1, self.neurons)) * scale).astype(self.dtype)
        self.params = [W, B]
        self.operations = [WeightMultiply(W), BiasAdd(B), self.activation]
        if self.dropout < 1.0:
            self.operations.append(Dropout(self.dropout, seed=rng.integers(2**63)))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "neurons": self.neurons,
            "activation": _activation_spec(self.activation),
            "weight_init": self.weight_init,
        }
        if self.dropout < 1.0:
            config["dropout"] = self.dropout
        return config


LAYERS: dict[str, type[Layer]] = {"dense": Dense}


def register_layer(name: str, cls: type[Layer]) -> type[Layer]:
    """Make ``cls`` known to config files and saved models under ``name``."""
    LAYERS[name] = cls
    return cls


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Build a layer from ``{"type": name, **constructor_arguments}``.

    Raises:
        ConfigError: unknown type (naming the known ones) or bad arguments.
    """
    kwargs = dict(config)
    name = kwargs.pop("type", None)
    if name not in LAYERS:
        raise ConfigError(
            f"unknown layer type {name!r}; choose one of: {', '.join(LAYERS)}"
        )
    try:
        return LAYERS[name](**kwargs)
    except TypeError as exc:  # an unexpected or missing keyword
        raise ConfigError(f"layer {name!r}: {exc}") from None


# -- convolutional, pooling, reshaping and normalization layers --------------------


def _image_shape(owner: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ShapeError(
            f"{owner}: the per-sample input shape must be (channels, height, width), "
            f"received {tuple(input_shape)}"
        )
    c, h, w = (int(d) for d in input_shape)
    return c, h, w


class Conv2D(Layer):
    """A 2-D convolutional layer: ``activation(conv(X, W) + B)``, then optional
    dropout and flattening, in the book's signature.

    Args:
        out_channels: number of kernels, i.e. of output channels (the layer's
            ``neurons``, as in the book).
        param_size: side ``k`` of the square ``k x k`` kernels.
        activation: an activation instance, a name (``"relu"``), or None for Linear.
        flatten: reshape the output to ``(batch, out_channels * H_out * W_out)``,
            as the book does before a Dense layer.
        weight_init: ``"standard"`` (N(0, 1), the book's default), ``"glorot"``
            (std ``sqrt(2 / (fan_in + fan_out))``) or ``"he"`` (std
            ``sqrt(2 / fan_in)``), with ``fan_in = in_channels * k * k`` and
            ``fan_out = out_channels * k * k``. (The book's Conv2D "glorot" used
            ``2 / (in_channels + out_channels)``, ignoring the kernel area.)
        dropout: probability of *keeping* a unit in training; 1.0 means none.
        stride: step of the kernel over the image.
        padding: ``"same"`` (the default, as in the book: the output has the
            input's height and width for stride 1, ``ceil(size / stride)`` in
            general), ``"valid"`` (no padding) or a number of zero pixels added
            on every side.

    Parameters:
        ``params[0]``, the kernel: ``(in_channels, out_channels, k, k)`` (the
        book's layout), drawn from ``self.rng()``; ``params[1]``, one bias per
        output channel, ``(1, out_channels, 1, 1)``, starting at zero (the
        book's Conv2D has no bias).

    Shape:
        input_ ``(batch, in_channels, H, W)`` -> output ``(batch, out_channels,
        H_out, W_out)``, or ``(batch, out_channels * H_out * W_out)`` with
        ``flatten=True``.

    Raises:
        ConfigError: a non-positive ``out_channels``, ``param_size`` or ``stride``,
            a bad ``padding``, ``weight_init``, activation or ``dropout``.
        ShapeError: an input that is not 4-D, is too small for the kernel, or
            (once built) has a different shape.

    Example:
        >>> from lincoln.activations import Tanh
        >>> layer = Conv2D(out_channels=16, param_size=5, activation=Tanh(),
        ...                weight_init="glorot", flatten=True, dropout=0.8)
    """

    def __init__(
        self,
        out_channels: int,
        param_size: int,
        activation: Operation | str | None = None,
        flatten: bool = False,
        weight_init: str = "standard",
        dropout: float = 1.0,
        stride: int = 1,
        padding: str | int = "same",
    ) -> None:
        out_channels = check_positive_int("Conv2D", "out_channels", out_channels)
        super().__init__(out_channels)
        self.out_channels = out_channels
        self.param_size = check_positive_int("Conv2D", "param_size", param_size)
        self.activation = get_activation(activation)
        if not isinstance(flatten, (bool, np.bool_)):
            raise ConfigError(
                f"Conv2D: flatten must be True or False, received flatten={flatten!r}"
            )
        self.flatten = bool(flatten)
        self.weight_init = _weight_init("Conv2D", weight_init)
        self.dropout = _keep_prob("Conv2D", dropout)
        self.stride = check_positive_int("Conv2D", "stride", stride)
        self.padding = check_padding("Conv2D", padding)

    def _setup_layer(self, input_: Array) -> None:
        check_images("Conv2D", input_, requirement=_IMAGES)
        self.output_shape(tuple(input_.shape[1:]))  # raises if the kernel does not fit
        in_c, out_c, k = input_.shape[1], self.out_channels, self.param_size
        rng = self.rng()
        scale = init_scale(self.weight_init, in_c * k * k, out_c * k * k)
        W = (rng.standard_normal((in_c, out_c, k, k)) * scale).astype(self.dtype)
        B = np.zeros((1, out_c, 1, 1), dtype=self.dtype)
        self.params = [W, B]
        self.operations = [
            Conv2DOp(W, stride=self.stride, padding=self.padding),
            BiasAdd2D(B),
            self.activation,
        ]
        if self.dropout < 1.0:
            seed = int(rng.integers(2**63))
            self.operations.append(Dropout(self.dropout, seed=seed))
        if self.flatten:
            self.operations.append(FlattenOp())

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        _, h, w = _image_shape("Conv2D", input_shape)
        k = self.param_size
        out_h, out_w = conv_output_size(h, w, k, self.stride, self.padding)
        if out_h < 1 or out_w < 1:
            raise ShapeError(
                f"Conv2D: a {self.param_size}x{self.param_size} kernel with "
                f"stride={self.stride}, padding={self.padding!r} does not fit inputs "
                f"of shape (batch, {', '.join(map(str, input_shape))})"
            )
        if self.flatten:
            return (self.out_channels * out_h * out_w,)
        return (self.out_channels, out_h, out_w)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "out_channels": self.out_channels,
            "param_size": self.param_size,
            "activation": _activation_spec(self.activation),
            "weight_init": self.weight_init,
            "stride": self.stride,
            "padding": self.padding,
        }
        if self.flatten:
            config["flatten"] = True
        if self.dropout < 1.0:
            config["dropout"] = self.dropout
        return config


class _WidthlessLayer(Layer):
    """Base of the layers that have no width of their own to choose (pooling,
    Flatten, BatchNorm): their output size follows from their input.

    :class:`Layer` takes ``neurons``; these layers pass a placeholder of 1 and,
    once built, set ``neurons`` to the number of outputs per sample, which is
    what the attribute means for every layer. It is not a constructor argument
    and is not part of ``get_config()``.
    """

    def __init__(self) -> None:
        super().__init__(neurons=1)

    def build(self, input_: Array) -> None:
        super().build(input_)
        self.neurons = int(np.prod(self.output_shape(tuple(input_.shape[1:]))))

    def get_config(self) -> dict[str, Any]:
        return {}


class _Pool2D(_WidthlessLayer):
    """Shared by MaxPool2D and AvgPool2D."""

    _operation: type[MaxPool2DOp] | type[AvgPool2DOp]

    def __init__(self, pool_size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.pool_size = check_positive_int(name, "pool_size", pool_size)
        self.stride = (
            None if stride is None else check_positive_int(name, "stride", stride)
        )

    def _setup_layer(self, input_: Array) -> None:
        check_images(type(self).__name__, input_, requirement=_IMAGES)
        self.output_shape(tuple(input_.shape[1:]))  # raises if a window does not fit
        self.params = []
        self.operations = [self._operation(self.pool_size, self.stride)]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        c, h, w = _image_shape(type(self).__name__, input_shape)
        size = self.pool_size
        stride = self.pool_size if self.stride is None else self.stride
        if h < size or w < size:
            raise ShapeError(
                f"{type(self).__name__}: a {size}x{size} window does not fit inputs of "
                f"shape (batch, {c}, {h}, {w})"
            )
        return (c, (h - size) // stride + 1, (w - size) // stride + 1)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"pool_size": self.pool_size}
        if self.stride is not None:
            config["stride"] = self.stride
        return config


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

    Example:
        >>> MaxPool2D().output_shape((8, 28, 28))
        (8, 14, 14)
    """

    _operation = MaxPool2DOp


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


class Flatten(_WidthlessLayer):
    """Flatten each sample into a row, e.g. between convolutional and dense layers.

    Shape:
        input_ ``(batch, C, H, W)`` (or any ``(batch, *)``) -> output
        ``(batch, C * H * W)``.

    Example:
        >>> Flatten().output_shape((8, 4, 4))
        (128,)
    """

    def _setup_layer(self, input_: Array) -> None:
        self.params = []
        self.operations = [FlattenOp()]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape, dtype=np.int64)),)


class BatchNorm(_WidthlessLayer):
    """Batch normalization of each feature (dense inputs) or channel (images).

    In training, ``gamma * (x - batch_mean) / sqrt(batch_var + eps) + beta``; the
    running mean and variance follow the batch statistics with ``momentum``,
    and at inference (``forward(X, inference=True)``) replace them.

    Args:
        momentum: share of the running statistics kept at each training step,
            in [0, 1): ``running = momentum * running + (1 - momentum) * batch``.
        eps: added to the variance before the square root.

    Parameters:
        ``params[0]`` gamma (ones) and ``params[1]`` beta (zeros), of shape
        ``(1, features)`` or ``(1, C, 1, 1)``. Buffers (not trained, saved with
        the model): ``running_mean`` (zeros) and ``running_var`` (ones), of the
        same shape.

    Shape:
        input_ ``(batch, features)`` or ``(batch, C, H, W)`` -> the same shape.

    Raises:
        ConfigError: ``momentum`` outside [0, 1) or a non-positive ``eps``.
        ShapeError: an input that is neither 2-D nor 4-D or, once built, has a
            different shape.

    Example:
        >>> layer = BatchNorm(momentum=0.9)
    """

    def __init__(self, momentum: float = 0.9, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = check_momentum("BatchNorm", momentum)
        self.eps = check_eps("BatchNorm", eps)
        self._normalize: BatchNormalize | None = None  # holds the running statistics

    def _setup_layer(self, input_: Array) -> None:
        if input_.ndim not in (2, 4):
            raise ShapeError(
                f"BatchNorm: input must be (batch, features) or (batch, channels, "
                f"height, width), received shape {input_.shape}"
            )
        shape = (1, input_.shape[1]) + (1,) * (input_.ndim - 2)
        gamma = np.ones(shape, dtype=self.dtype)
        beta = np.zeros(shape, dtype=self.dtype)
        normalize = BatchNormalize(
            np.zeros(shape, dtype=self.dtype),
            np.ones(shape, dtype=self.dtype),
            momentum=self.momentum,
            eps=self.eps,
        )
        self._normalize = normalize
        self.params = [gamma, beta]
        self.operations = [normalize, Scale(gamma), Shift(beta)]

    def buffers(self) -> dict[str, Array]:
        """``running_mean`` and ``running_var`` (updated in place; empty before
        the layer is built)."""
        if self._normalize is None:
            return {}
        return {
            "running_mean": self._normalize.running_mean,
            "running_var": self._normalize.running_var,
        }

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) not in (1, 3):
            raise ShapeError(
                f"BatchNorm: the per-sample input shape must be (features,) or "
                f"(channels, height, width), received {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps}


register_layer("conv2d", Conv2D)
register_layer("maxpool2d", MaxPool2D)
register_layer("avgpool2d", AvgPool2D)
register_layer("flatten", Flatten)
register_layer("batchnorm", BatchNorm)
