"""The time steps of the recurrent layers: RNN, LSTM and GRU.

Each step is one :class:`~lincoln.base.StepOperation` reused at every step of a
sequence. Its first input ``z_t`` is the input projection of ``x_t``
(``x_t W_x + b``, computed for all steps at once by the layer with one matrix
product); the step adds the recurrent product ``h_{t-1} W_h`` and applies the
gate nonlinearities. Per-step values live in buffers allocated once per
sequence shape, time-major (``(steps, batch, ...)``), so a step writes into
contiguous memory and allocates almost nothing. The recurrent weight's gradient
is a sum over the steps; it is taken after the sequence with one product of
all the cached states and gate gradients.

The math (``*`` is element-wise, ``s`` the logistic function):

* RNN: ``h = tanh(z + h_{t-1} W_h)``.
* LSTM, gates in the order input, forget, output, candidate:
  ``i, f, o = s(.)``, ``g = tanh(.)``, ``c = f * c_{t-1} + i * g``,
  ``h = o * tanh(c)``.
* GRU (the book's form, reset before the product), gates reset, update, new:
  ``r, u = s(z_ru + h_{t-1} W_ru)``, ``n = tanh(z_n + (r * h_{t-1}) W_n)``,
  ``h = u * h_{t-1} + (1 - u) * n``. Unlike the book's node, the update gate
  has its own pre-activation and the backward pass keeps the direct path
  ``u * dh`` to the previous state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, StepOperation
from ..errors import ShapeError

__all__ = ["RNNStep", "LSTMStep", "GRUStep", "sigmoid_", "STEPS"]


def sigmoid_(x: Array) -> Array:
    """The logistic function in place, as ``0.5 * (1 + tanh(x / 2))`` (never
    overflows, one transcendental call)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


class _Step(StepOperation):
    """Buffers and checks shared by the three steps.

    Args:
        W_h: the recurrent weights ``(hidden, gates * hidden)``.
    """

    gates = 1
    input_names: tuple[str, ...] = ("z", "h")
    output_names: tuple[str, ...] = ("h",)

    def __init__(self, W_h: Array) -> None:
        shape = np.shape(W_h)
        if len(shape) != 2 or shape[1] != self.gates * shape[0]:
            raise ShapeError(
                f"{type(self).__name__}: W_h must have shape (hidden, "
                f"{self.gates} * hidden), received shape {shape}"
            )
        super().__init__(W_h)
        self.hidden = shape[0]
        self._key: tuple[int, int] = (-1, -1)
        self.H: Array = np.zeros((1, 0, self.hidden))
        self.A: Array = self.H
        self.dA: Array = self.H

    @property
    def W_h(self) -> Array:
        return self.params[0]

    def _start(self, steps: int, batch: int) -> None:
        if self._key == (steps, batch) and self.H.dtype == self.W_h.dtype:
            return
        self._key = (steps, batch)
        dt, H, G = self.W_h.dtype, self.hidden, self.gates * self.hidden
        # H[t] is the state going into step t, H[t + 1] the one coming out
        self.H = np.zeros((steps + 1, batch, H), dtype=dt)
        self.A = np.empty((steps, batch, G), dtype=dt)  # activated gates
        self.dA = np.empty((steps, batch, G), dtype=dt)  # their pre-activation grads
        self._allocate(steps, batch)

    def _allocate(self, steps: int, batch: int) -> None:
        """Extra buffers of a subclass."""

    def _check_z(self, z: Array, h: Array) -> None:
        width = self.gates * self.hidden
        if z.shape != (h.shape[0], width) or h.shape[1:] != (self.hidden,):
            raise ShapeError(
                f"{type(self).__name__}: expected z of shape (batch, {width}) and h "
                f"of shape (batch, {self.hidden}), received {z.shape} and {h.shape}"
            )

    def z_grads(self) -> Array:
        """The gradients with respect to ``z`` of every step of the last backward
        pass, time-major ``(steps, batch, gates * hidden)`` (a view; each step's
        ``backward`` returned its row)."""
        return self.dA

    def hidden_states(self) -> Array:
        """The outputs of every step, time-major ``(steps, batch, hidden)`` (a view)."""
        return self.H[1:]

    def _param_grads(self) -> list[Array]:
        T, B, H = self.H.shape[0] - 1, self.H.shape[1], self.hidden
        dA = self.dA.reshape(T * B, -1)
        return [self.H[:T].reshape(T * B, H).T @ dA]

    def get_config(self) -> dict[str, Any]:
        return {"hidden": self.hidden}


class RNNStep(_Step):
    """An Elman step ``h = tanh(z + h_{t-1} W_h)``.

    Shape:
        z ``(batch, hidden)``, h ``(batch, hidden)`` -> h ``(batch, hidden)``.
    """

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h = inputs
        self._check_z(z, h)
        self.H[t] = h
        out = self.H[t + 1]
        np.matmul(h, self.W_h, out=out)
        out += z
        np.tanh(out, out=out)
        return (out,)

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        (dh,) = output_grads
        h = self.H[t + 1]
        d = self.dA[t]
        np.multiply(h, h, out=d)
        np.subtract(1.0, d, out=d)
        d *= dh  # d tanh(a)/da = 1 - tanh(a)^2, from the cached output
        return d, d @ self.W_h.T


class LSTMStep(_Step):
    """A long short-term memory step (gates input, forget, output, candidate).

    Shape:
        z ``(batch, 4 * hidden)``, h and c ``(batch, hidden)`` -> h, c
        ``(batch, hidden)``.
    """

    gates = 4
    input_names = ("z", "h", "c")
    output_names = ("h", "c")

    def _allocate(self, steps: int, batch: int) -> None:
        dt, H = self.W_h.dtype, self.hidden
        self.C = np.zeros((steps + 1, batch, H), dtype=dt)
        self.TC = np.empty((steps, batch, H), dtype=dt)  # tanh(c_t)
        self._s = np.empty((batch, 3 * H), dtype=dt)
        self._dc = np.empty((batch, H), dtype=dt)

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h, c = inputs
        self._check_z(z, h)
        H = self.hidden
        self.H[t] = h
        self.C[t] = c
        a = self.A[t]
        np.matmul(h, self.W_h, out=a)
        a += z
        sigmoid_(a[:, : 3 * H])  # the three sigmoid gates in one pass
        np.tanh(a[:, 3 * H :], out=a[:, 3 * H :])
        i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        c_out, tc, h_out = self.C[t + 1], self.TC[t], self.H[t + 1]
        np.multiply(f, c, out=c_out)
        np.multiply(i, g, out=tc)
        c_out += tc
        np.tanh(c_out, out=tc)
        np.multiply(o, tc, out=h_out)
        return h_out, c_out

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        dh, dc_in = output_grads
        H, a, d, tc = self.hidden, self.A[t], self.dA[t], self.TC[t]
        i, f, o, g = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        # dc = dc_in + dh * o * (1 - tanh(c)^2)
        dc = self._dc
        np.multiply(tc, tc, out=dc)
        np.subtract(1.0, dc, out=dc)
        dc *= o
        dc *= dh
        dc += dc_in
        np.multiply(dh, tc, out=d[:, 2 * H : 3 * H])
        np.multiply(dc, g, out=d[:, :H])
        np.multiply(dc, self.C[t], out=d[:, H : 2 * H])
        dg = d[:, 3 * H :]
        np.multiply(dc, i, out=dg)
        dc_prev = dc * f
        # through the nonlinearities: s' = s (1 - s), tanh' = 1 - tanh^2
        s = self._s
        np.subtract(1.0, a[:, : 3 * H], out=s)
        s *= a[:, : 3 * H]
        d[:, : 3 * H] *= s
        sg = s[:, :H]
        np.multiply(g, g, out=sg)
        np.subtract(1.0, sg, out=sg)
        dg *= sg
        return d, d @ self.W_h.T, dc_prev


class GRUStep(_Step):
    """A gated recurrent unit step (gates reset, update, new), the book's form
    with its defects fixed (see the module docstring).

    Shape:
        z ``(batch, 3 * hidden)``, h ``(batch, hidden)`` -> h ``(batch, hidden)``.
    """

    gates = 3

    def _allocate(self, steps: int, batch: int) -> None:
        dt, H = self.W_h.dtype, self.hidden
        self.RH = np.empty((steps, batch, H), dtype=dt)  # r * h_{t-1}
        self._tmp = np.empty((batch, H), dtype=dt)
        self._sd = np.empty((batch, 2 * H), dtype=dt)

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h = inputs
        self._check_z(z, h)
        H, W = self.hidden, self.W_h
        self.H[t] = h
        a = self.A[t]
        ru, n = a[:, : 2 * H], a[:, 2 * H :]
        np.matmul(h, W[:, : 2 * H], out=ru)
        ru += z[:, : 2 * H]
        sigmoid_(ru)
        r, u = a[:, :H], a[:, H : 2 * H]
        rh = self.RH[t]
        np.multiply(r, h, out=rh)
        np.matmul(rh, W[:, 2 * H :], out=n)
        n += z[:, 2 * H :]
        np.tanh(n, out=n)
        # h = u * h_prev + (1 - u) * n = n + u * (h_prev - n)
        out = self.H[t + 1]
        np.subtract(h, n, out=out)
        out *= u
        out += n
        return (out,)

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        (dh,) = output_grads
        H, W, a, d = self.hidden, self.W_h, self.A[t], self.dA[t]
        r, u, n, h = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :], self.H[t]
        dr, du, dn = d[:, :H], d[:, H : 2 * H], d[:, 2 * H :]
        tmp = self._tmp
        np.subtract(h, n, out=du)
        du *= dh  # dL/du = dh * (h_prev - n)
        np.subtract(1.0, u, out=dn)
        dn *= dh  # dL/dn = dh * (1 - u)
        np.multiply(n, n, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        dn *= tmp  # through tanh
        drh = dn @ W[:, 2 * H :].T  # dL/d(r * h_prev)
        np.multiply(drh, h, out=dr)
        dh_prev = dh * u  # the direct path through u * h_prev
        drh *= r
        dh_prev += drh
        sd = self._sd  # s' = s (1 - s) for the reset and update gates
        np.subtract(1.0, a[:, : 2 * H], out=sd)
        sd *= a[:, : 2 * H]
        d[:, : 2 * H] *= sd
        dh_prev += d[:, : 2 * H] @ W[:, : 2 * H].T
        return d, dh_prev

    def _param_grads(self) -> list[Array]:
        T, B, H = self.H.shape[0] - 1, self.H.shape[1], self.hidden
        dA = self.dA.reshape(T * B, 3 * H)
        grad = np.empty_like(self.W_h)
        grad[:, : 2 * H] = self.H[:T].reshape(T * B, H).T @ dA[:, : 2 * H]
        grad[:, 2 * H :] = self.RH.reshape(T * B, H).T @ dA[:, 2 * H :]
        return [grad]


#: the step class of each recurrent layer type
STEPS: dict[str, type[_Step]] = {"rnn": RNNStep, "lstm": LSTMStep, "gru": GRUStep}
