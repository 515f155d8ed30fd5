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

import numbers
from typing import Any

import numpy as np

from .activations import activation_name, get_activation
from .base import Array, Operation, ParamOperation
from .dense import BiasAdd, WeightMultiply
from .dropout import Dropout
from .errors import ConfigError, ShapeError

__all__ = ["Layer", "Dense", "LAYERS", "WEIGHT_INITS", "layer_from_config", "register_layer"]

WEIGHT_INITS = ("standard", "glorot", "he")


def _positive_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(
            f"{owner}: {name} must be a positive integer, received {name}={value!r}"
        )
    return int(value)


def _keep_prob(owner: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        0.0 < float(value) <= 1.0
    ):
        raise ConfigError(
            f"{owner}: dropout is the probability of keeping a unit and must be in "
            f"(0, 1], received dropout={value!r}"
        )
    return float(value)


def _weight_init(owner: str, value: Any) -> str:
    if value not in WEIGHT_INITS:
        raise ConfigError(
            f"{owner}: unknown weight_init {value!r}; choose one of: "
            f"{', '.join(repr(w) for w in WEIGHT_INITS)}"
        )
    return str(value)


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
        self.neurons = _positive_int(type(self).__name__, "neurons", neurons)
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
                f"shape {input_.shape}; set layer.first = True to rebuild it"
            )
        self.input_ = input_
        for operation in self.operations:
            input_ = operation.forward(input_, inference)
        self.output = input_
        return self.output

    def backward(self, output_grad: Array) -> Array:
        """Backpropagate through the operations in reverse; return dL/d(input).

        Raises:
            ShapeError: ``output_grad`` does not match the layer's output.
        """
        if self.output is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if getattr(output_grad, "shape", None) != self.output.shape:
            raise ShapeError(
                f"{type(self).__name__}: output_grad must have shape "
                f"{self.output.shape}, received shape {getattr(output_grad, 'shape', None)}"
            )
        for operation in reversed(self.operations):
            output_grad = operation.backward(output_grad)
        self.input_grad = output_grad
        self._param_grads()
        return output_grad

    def _param_grads(self) -> None:
        self.param_grads = [
            op.param_grad for op in self.operations if isinstance(op, ParamOperation)
        ]

    def _params(self) -> None:
        self.params = [op.param for op in self.operations if isinstance(op, ParamOperation)]

    def buffers(self) -> dict[str, Array]:
        """Non-trainable state saved with the model (e.g. batch-norm running
        statistics), by name; the arrays themselves, updated in place."""
        return {}

    # -- description ----------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer (see :func:`layer_from_config`)."""
        return {"neurons": self.neurons}

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape for a per-sample input shape."""
        return (self.neurons,)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """A fully connected layer: ``activation(X @ W + B)``, optionally with dropout.

    Args:
        neurons: number of outputs.
        activation: an activation instance, a name (``"relu"``), or None for Linear.
            Each layer gets its own instance; never share one between layers.
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
        self.activation = get_activation(activation)
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
            "activation": activation_name(self.activation),
        }
        extra = self.activation.get_config()
        if extra:
            config["activation"] = {"type": config["activation"], **extra}
        config["weight_init"] = self.weight_init
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
