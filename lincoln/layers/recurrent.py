"""Recurrent layers: RNN, LSTM and GRU, with backpropagation through time.

A recurrent layer projects the inputs of all steps at once (one matrix
product, :class:`~lincoln.ops.recurrent.GateProjection`, and a bias), then runs
its step operation (:mod:`lincoln.ops.recurrent`) over the sequence;
``backward`` runs the steps back from the last, then through the projection.
Its parameters are ``W_x (gates * hidden, features)``, ``b (gates * hidden, 1)``
and ``W_h (gates * hidden, hidden)``, gates in the order of the step.

Carried state: with ``carry_state="last"`` each sequence of a batch starts from
the final state of the same row of the previous batch (a batch of another size
starts from zeros); ``"mean"`` (the book's) starts every row from the batch mean
of the previous final states; ``"none"`` (default) starts from zeros. Carried
state is a constant for the next batch (truncated backpropagation through
time). :meth:`Recurrent.reset_state` (or :func:`reset_states` for a network)
forgets it, e.g. at the start of an epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..base import Array
from ..errors import ConfigError, ShapeError, check_choice, shape_error
from ..ops.recurrent import STEPS, GateBias, GateProjection
from ..registry import LAYERS
from .base import Layer
from .init import check_weight_init, init_weights

__all__ = [
    "Recurrent",
    "RNN",
    "LSTM",
    "GRU",
    "CARRY_STATES",
    "recurrent_layers",
    "reset_states",
    "carrying_state",
]

#: how a recurrent layer starts a batch: from zeros, from the previous batch's
#: last states row by row, or from their mean (the book's)
CARRY_STATES = ("none", "last", "mean")


def _orthogonal(rng: np.random.Generator, n: int) -> Array:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix


class Recurrent(Layer):
    """Base of the recurrent layers (``kind`` names the step).

    Args:
        neurons: the hidden size (the width of each step's output).
        return_sequences: True outputs every step ``(batch, steps, neurons)``,
            False only the last ``(batch, neurons)``.
        carry_state: ``"none"``, ``"last"`` or ``"mean"`` (see the module
            docstring).
        weight_init: the input weights' initialization (``"glorot"`` default,
            ``"he"``, ``"standard"``); the recurrent weights are orthogonal and
            the biases zero (an LSTM's forget gate bias is 1).
        weight_scale: instead, draw every weight and bias from N(0,
            weight_scale^2), as the book does.

    Shape:
        input_ ``(batch, steps, features)`` -> ``(batch, steps, neurons)`` or
        ``(batch, neurons)``; any number of steps once built.

    Attributes:
        state: the carried state (a tuple of ``(rows, neurons)`` arrays) or None.
        state_grads: gradients with respect to the initial state of the last
            backward pass (not propagated further).
    """

    kind = "rnn"
    gates = 1
    num_states = 1

    def __init__(
        self,
        neurons: int,
        return_sequences: bool = True,
        carry_state: str = "none",
        weight_init: str = "glorot",
        weight_scale: float | None = None,
    ) -> None:
        super().__init__(neurons)
        name = type(self).__name__
        self.return_sequences = bool(return_sequences)
        self.carry_state = check_choice(name, "carry_state", carry_state, CARRY_STATES)
        self.weight_init = check_weight_init(name, weight_init)
        if weight_scale is not None and not float(weight_scale) > 0:
            raise ConfigError(
                f"{name}: weight_scale must be None or > 0, received "
                f"weight_scale={weight_scale!r}"
            )
        self.weight_scale = None if weight_scale is None else float(weight_scale)
        self.state: tuple[Array, ...] | None = None
        self.state_grads: tuple[Array, ...] = ()

    # -- building -----------------------------------------------------------------

    def _weights(self, rng: np.random.Generator, D: int) -> tuple[Array, Array, Array]:
        """``W_x (G, D)``, ``W_h (G, H)`` and ``b (G, 1)`` with ``G = gates * H``."""
        H, G = self.neurons, self.gates * self.neurons
        if self.weight_scale is not None:
            s = self.weight_scale
            draw = [
                rng.standard_normal(shape) * s for shape in ((G, D), (G, H), (G, 1))
            ]
            return draw[0], draw[1], draw[2]
        W_x = init_weights(rng, (D, G), self.weight_init, D, H, np.float64).T
        W_h = np.concatenate([_orthogonal(rng, H) for _ in range(self.gates)], axis=1).T
        b = np.zeros((G, 1))
        if self.kind == "lstm":
            b[H : 2 * H] = 1.0  # remember by default (Jozefowicz et al., 2015)
        return W_x, W_h, b

    def _setup_layer(self, input_: Array) -> None:
        if input_.ndim != 3:
            raise ShapeError(
                f"{type(self).__name__}: input must be 3-D (batch, steps, features), "
                f"received shape {input_.shape}; put an Embedding layer first for "
                f"integer ids"
            )
        W_x, W_h, b = self._weights(self.rng(), input_.shape[2])
        self.operations = [GateProjection(W_x), GateBias(b)]
        self.step = STEPS[self.kind](np.ascontiguousarray(W_h, dtype=self.dtype))

    def build(self, input_: Array) -> None:
        super().build(input_)
        self.params = [*self.params, *self.step.params]

    # -- the sequence -------------------------------------------------------------

    def reset_state(self) -> None:
        """Forget the carried state: the next batch starts from zeros."""
        self.state = None

    def _initial_state(self, batch: int) -> tuple[Array, ...]:
        state = self.state
        if state is None or self.carry_state == "none":
            return tuple(
                np.zeros((batch, self.neurons), self.dtype)
                for _ in range(self.num_states)
            )
        if self.carry_state == "mean":
            return tuple(np.broadcast_to(s, (batch, self.neurons)) for s in state)
        if state[0].shape[0] != batch:
            self.state = None
            return self._initial_state(batch)
        return state

    def _keep(self, state: tuple[Array, ...]) -> None:
        if self.carry_state == "mean":
            self.state = tuple(s.mean(axis=0, keepdims=True) for s in state)
        elif self.carry_state == "last":
            self.state = tuple(s.copy() for s in state)

    def forward(self, input_: Array, inference: bool = False) -> Array:
        """Run the sequence; see the class docstring for shapes.

        Raises:
            ShapeError: not ``(batch, steps, features)`` with the features the
                layer was built for, or no steps.
        """
        if self.first:
            self.build(input_)
        features = (self.input_shape or (0, 0))[1]
        if input_.ndim != 3 or input_.shape[2] != features or input_.shape[1] < 1:
            raise ShapeError(
                f"{type(self).__name__}: input must have shape (batch, steps >= 1, "
                f"{features}), received shape {input_.shape}"
            )
        self.input_shape = tuple(input_.shape[1:])
        self.input_ = input_
        z = np.ascontiguousarray(input_.transpose(1, 0, 2))  # time-major
        for op in self.operations:
            z = op.forward(z, inference)  # (gates * hidden, steps, batch)
        batch, steps = input_.shape[:2]
        step = self.step
        step.start(steps, batch)
        state = tuple(s.T for s in self._initial_state(batch))  # feature-major
        for t in range(steps):
            state = step.forward(t, z[:, t], *state)
        self._keep(tuple(s.T for s in state))
        if self.return_sequences:
            out = step.hidden_states().transpose(1, 0, 2).copy()
        else:
            out = state[0].T.copy()
        self.output = out
        return out

    def backward(self, output_grad: Array) -> Array:
        """Backpropagate through time; return dL/d(input) (None for a first layer).

        Raises:
            ShapeError: ``output_grad`` does not match the output.
        """
        if self.output is None or self.input_ is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if getattr(output_grad, "shape", None) != self.output.shape:
            raise shape_error(self, "output_grad", self.output.shape, output_grad)
        batch, steps = self.input_.shape[:2]
        grads: list[Array] = [
            np.zeros((self.neurons, batch), self.dtype) for _ in range(self.num_states)
        ]
        if self.return_sequences:  # feature-major, one contiguous slice per step
            d_out = np.ascontiguousarray(output_grad.transpose(1, 2, 0))
        else:
            grads[0] += output_grad.T
        for t in reversed(range(steps)):
            # grads[0] is a new array from each step: safe to add into
            if self.return_sequences:
                grads[0] += d_out[t]
            _, *grads = self.step.backward(t, *grads)
        self.state_grads = tuple(g.T for g in grads)
        step_grads = self.step.finish_backward()
        # the z gradients of all steps, gate-major as the projection made them
        grad: Array | None = self.step.z_grads()
        for op in reversed(self.operations):
            grad = op.backward(grad)  # type: ignore[arg-type]
        if grad is not None:
            grad = grad.transpose(1, 0, 2).copy()
        self.input_grad = grad
        self.param_grads = [*(op.param_grad for op in self._param_ops()), *step_grads]
        return grad  # type: ignore[return-value]

    # -- description --------------------------------------------------------------

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.return_sequences:
            return (input_shape[0], self.neurons)
        return (self.neurons,)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "neurons": self.neurons,
            "return_sequences": self.return_sequences,
            "carry_state": self.carry_state,
            "weight_init": self.weight_init,
        }
        if self.weight_scale is not None:
            config["weight_scale"] = self.weight_scale
        return config


@LAYERS.register("rnn")
class RNN(Recurrent):
    """An Elman recurrent layer ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.

    Example:
        >>> layer = RNN(128, return_sequences=False)
    """


@LAYERS.register("lstm")
class LSTM(Recurrent):
    """A long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Example:
        >>> layer = LSTM(256, carry_state="last")
    """

    kind, gates, num_states = "lstm", 4, 2


@LAYERS.register("gru")
class GRU(Recurrent):
    """A gated recurrent unit layer (Cho et al., 2014), the reset gate applied
    before the recurrent product as in the book.

    Example:
        >>> layer = GRU(128)
    """

    kind, gates = "gru", 3


def recurrent_layers(layers: Iterable[Any]) -> Iterator[Recurrent]:
    """The recurrent layers among ``layers`` (a network, or layers holding
    sub-layers in ``sublayers``), in order."""
    for layer in layers:
        if isinstance(layer, Recurrent):
            yield layer
        yield from recurrent_layers(getattr(layer, "sublayers", ()))


def reset_states(layers: Iterable[Any]) -> None:
    """Forget the carried state of every recurrent layer (at an epoch's start)."""
    for layer in recurrent_layers(layers):
        layer.reset_state()


@contextmanager
def carrying_state(layers: Iterable[Any], from_current: bool = False) -> Iterator[None]:
    """Within the block, every recurrent layer carries its state row by row from
    call to call (to feed a sequence piece by piece, as sampling does), starting
    from zeros (or, with ``from_current``, from the state it holds); afterwards
    policies and states are as before."""
    found = list(recurrent_layers(layers))
    saved = [(layer.carry_state, layer.state) for layer in found]
    for layer in found:
        layer.carry_state = "last"
        if not from_current:
            layer.state = None
    try:
        yield
    finally:
        for layer, (policy, state) in zip(found, saved, strict=True):
            layer.carry_state, layer.state = policy, state
