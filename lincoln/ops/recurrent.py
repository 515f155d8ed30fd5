"""The time steps of the recurrent layers (RNN, LSTM, GRU) and their input projection.

Each step is one :class:`~lincoln.base.StepOperation` reused at every step of a
sequence. Its first input ``z_t`` is the input projection of ``x_t``, computed
for all steps at once with one matrix product by :class:`GateProjection` and
:class:`GateBias`; the step adds the recurrent product and applies the gate
nonlinearities.

Layout, chosen for speed: inside a layer everything is feature-major. A state
is ``(hidden, batch)``, a step's gates are ``(gates * hidden, batch)``, so each
gate is a contiguous block that one ufunc call covers (a column slice of a
batch-major array is strided, and NumPy is two to three times slower on those),
and the recurrent product ``W_h h`` has the shape BLAS runs fastest here. The
weights are stored in that orientation: ``W_x`` is ``(gates * hidden,
features)`` and ``W_h`` is ``(gates * hidden, hidden)``. Per-step values live
in buffers allocated once per sequence shape; each step's backward writes its
gate gradients in place into a time-major buffer, and the recurrent weight's
gradient, a sum over the steps, is taken after the sequence with one product of
all the gate gradients (copied gate-major once) and the states. The gate
nonlinearities of a step come from one ``exp`` call (:func:`gates_`).

The math (``*`` is element-wise, ``s`` the logistic function):

* RNN: ``h = tanh(z + W_h h_{t-1})``.
* LSTM, gates in the order input, forget, output, candidate:
  ``i, f, o = s(.)``, ``g = tanh(.)``, ``c = f * c_{t-1} + i * g``,
  ``h = o * tanh(c)``.
* GRU (the book's form, reset before the product), gates reset, update, new:
  ``r, u = s(z_ru + W_ru h_{t-1})``, ``n = tanh(z_n + W_n (r * h_{t-1}))``,
  ``h = u * h_{t-1} + (1 - u) * n``. Unlike the book's node, the update gate
  has its own pre-activation and the backward pass keeps the direct path
  ``u * dh`` to the previous state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, ParamOperation
from ..errors import ShapeError
from .step import StepOperation

__all__ = [
    "GateProjection",
    "GateBias",
    "RNNStep",
    "LSTMStep",
    "GRUStep",
    "sigmoid_",
    "gates_",
    "tanh_into",
    "STEPS",
]


def gates_(a: Array, sigmoid_rows: int) -> Array:
    """Gate nonlinearities in place from one exponential: the logistic function
    on the first ``sigmoid_rows`` rows of ``a``, tanh on the rest.

    ``s(x) = 1 / (1 + exp(-x))`` and ``tanh(x) = 2 s(2x) - 1``, so a single
    ``exp`` call covers every gate of an LSTM step (NumPy's ``exp`` costs about
    half its ``tanh``, and the transcendental calls are most of a step's
    element-wise work). A large negative argument overflows ``exp`` to inf and
    ``1 / inf = 0`` is the right limit, so that warning is silenced.
    """
    s, g = a[:sigmoid_rows], a[sigmoid_rows:]
    np.negative(s, out=s)
    g *= -2.0
    with np.errstate(over="ignore"):
        np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    g *= 2.0
    g -= 1.0
    return a


def tanh_into(x: Array, out: Array) -> Array:
    """``tanh(x)`` written into ``out``, as ``2 s(2x) - 1`` from one ``exp``
    call (see :func:`gates_`)."""
    np.multiply(x, -2.0, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    np.divide(2.0, out, out=out)
    out -= 1.0
    return out


def sigmoid_(x: Array) -> Array:
    """The logistic function in place (see :func:`gates_`)."""
    return gates_(x, x.shape[0])


class GateProjection(ParamOperation):
    """``W_x x_t`` for every step at once, gate-major: one matrix product.

    Args:
        W: weights ``(gates * hidden, features)``.

    Shape:
        input_ ``(steps, batch, features)`` (time-major) -> output
        ``(gates * hidden, steps, batch)``.
    """

    def _output(self) -> Array:
        x = self.input_
        if x.ndim != 3 or x.shape[2] != self.param.shape[1]:
            raise ShapeError(
                f"GateProjection: input must have shape (steps, batch, "
                f"{self.param.shape[1]}), received shape {x.shape}"
            )
        out = self.param @ x.reshape(-1, x.shape[2]).T
        return out.reshape(self.param.shape[0], *x.shape[:2])

    def _input_grad(self, output_grad: Array) -> Array:
        g = output_grad.reshape(self.param.shape[0], -1)
        return (g.T @ self.param).reshape(self.input_.shape)

    def _param_grad(self, output_grad: Array) -> Array:
        x = self.input_
        return output_grad.reshape(self.param.shape[0], -1) @ x.reshape(-1, x.shape[2])


class GateBias(ParamOperation):
    """Add a bias per gate unit to every step and sample, in place (the input is
    the projection's fresh output, which nothing else reads).

    Args:
        b: bias ``(gates * hidden, 1)``.

    Shape:
        input_ ``(gates * hidden, steps, batch)`` -> output of the same shape.
    """

    def _output(self) -> Array:
        self.input_ += self.param[:, :, None]
        return self.input_

    def _input_grad(self, output_grad: Array) -> Array:
        return output_grad

    def _param_grad(self, output_grad: Array) -> Array:
        return output_grad.sum(axis=(1, 2))[:, None]


class _Step(StepOperation):
    """Buffers and checks shared by the three steps.

    Args:
        W_h: the recurrent weights ``(gates * hidden, hidden)``.

    Attributes:
        Hb: the states batch-major, ``Hb[t]`` going into step ``t`` and
            ``Hb[t + 1]`` coming out, ``(steps + 1, batch, hidden)``.
        dZ: the gradients with respect to ``z``, step by step ``(steps, gates *
            hidden, batch)``: step ``t``'s backward writes ``dZ[t]`` in place
            and returns it.
    """

    gates = 1
    input_names: tuple[str, ...] = ("z", "h")
    output_names: tuple[str, ...] = ("h",)

    def __init__(self, W_h: Array) -> None:
        shape = np.shape(W_h)
        if len(shape) != 2 or shape[0] != self.gates * shape[1]:
            raise ShapeError(
                f"{type(self).__name__}: W_h must have shape ({self.gates} * hidden, "
                f"hidden), received shape {shape}"
            )
        super().__init__(W_h)
        self.hidden = shape[1]
        self._key: tuple[int, int, Any] = (-1, -1, None)
        self.H = self.A = self.dZ = self.Hb = np.zeros((1, 0, 0))

    @property
    def W_h(self) -> Array:
        return self.params[0]

    def _start(self, steps: int, batch: int) -> None:
        dt = self.W_h.dtype
        if self._key == (steps, batch, dt):
            return
        self._key = (steps, batch, dt)
        H, G = self.hidden, self.gates * self.hidden
        self.H = np.zeros((steps + 1, H, batch), dtype=dt)  # states, feature-major
        self.Hb = np.zeros((steps + 1, batch, H), dtype=dt)  # the same, batch-major
        self.A = np.empty((steps, G, batch), dtype=dt)  # activated gates
        self.dZ = np.empty((steps, G, batch), dtype=dt)  # gradients of z, per step
        self._dZ_gates = np.empty((G, steps, batch), dtype=dt)  # gate-major copy
        self._tmp = np.empty((H, batch), dtype=dt)
        self._allocate(steps, batch)

    def _allocate(self, steps: int, batch: int) -> None:
        """Extra buffers of a subclass."""

    def _take(self, t: int, z: Array, h: Array) -> None:
        G, H = self.gates * self.hidden, self.hidden
        if z.shape != (G, h.shape[-1]) or h.shape[0] != H:
            raise ShapeError(
                f"{type(self).__name__}: expected z of shape ({G}, batch) and h of "
                f"shape ({H}, batch), received {z.shape} and {h.shape}"
            )
        self.H[t] = h
        self.Hb[t] = h.T

    def _give(self, t: int) -> Array:
        return self.H[t + 1]

    def z_grads(self) -> Array:
        """The gradients with respect to ``z`` of every step of the last backward
        pass, gate-major ``(gates * hidden, steps, batch)`` as the projection
        made ``z`` (each step's ``backward`` returned its slice); valid after
        :meth:`finish_backward`."""
        return self._dZ_gates

    def _gate_major(self) -> Array:
        """``dZ`` copied gate-major, ``(gates * hidden, steps * batch)``: the
        left operand of the weight gradients' products. One copy after the
        sequence costs less than a strided write at every step."""
        np.copyto(self._dZ_gates, self.dZ.transpose(1, 0, 2))
        return self._dZ_gates.reshape(self._dZ_gates.shape[0], -1)

    def hidden_states(self) -> Array:
        """The output of every step, batch-major ``(steps, batch, hidden)``."""
        self.Hb[-1] = self.H[-1].T  # the others were copied as steps took them
        return self.Hb[1:]

    def _param_grads(self) -> list[Array]:
        T, B, H = self.Hb.shape[0] - 1, self.Hb.shape[1], self.hidden
        return [self._gate_major() @ self.Hb[:T].reshape(T * B, H)]

    def get_config(self) -> dict[str, Any]:
        return {"hidden": self.hidden}


class RNNStep(_Step):
    """An Elman step ``h = tanh(z + W_h h_{t-1})``.

    Shape:
        z ``(hidden, batch)``, h ``(hidden, batch)`` -> h ``(hidden, batch)``.
    """

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h = inputs
        self._take(t, z, h)
        out = self.H[t + 1]
        np.matmul(self.W_h, h, out=out)
        out += z
        np.tanh(out, out=out)
        return (self._give(t),)

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        (dh,) = output_grads
        h, d = self.H[t + 1], self.dZ[t]
        np.multiply(h, h, out=d)
        np.subtract(1.0, d, out=d)
        d *= dh  # d tanh(a)/da = 1 - tanh(a)^2, from the cached output
        return d, self.W_h.T @ d


class LSTMStep(_Step):
    """A long short-term memory step (gates input, forget, output, candidate).

    Shape:
        z ``(4 * hidden, batch)``, h and c ``(hidden, batch)`` -> h, c
        ``(hidden, batch)``.
    """

    gates = 4
    input_names = ("z", "h", "c")
    output_names = ("h", "c")

    def _allocate(self, steps: int, batch: int) -> None:
        dt, H = self.W_h.dtype, self.hidden
        self.C = np.zeros((steps + 1, H, batch), dtype=dt)
        self.TC = np.empty((steps, H, batch), dtype=dt)  # tanh(c_t)
        self._s = np.empty((3 * H, batch), dtype=dt)

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h, c = inputs
        self._take(t, z, h)
        H = self.hidden
        self.C[t] = c
        a = self.A[t]
        np.matmul(self.W_h, h, out=a)
        a += z
        gates_(a, 3 * H)  # sigmoid on i, f, o and tanh on g: one exp call
        i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        c_out, tc = self.C[t + 1], self.TC[t]
        np.multiply(f, c, out=c_out)
        np.multiply(i, g, out=tc)
        c_out += tc
        tanh_into(c_out, tc)
        np.multiply(o, tc, out=self.H[t + 1])
        return self._give(t), c_out

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        dh, dc_in = output_grads
        H, a, d, tc = self.hidden, self.A[t], self.dZ[t], self.TC[t]
        i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        dc = self._tmp  # dc = dc_in + dh * o * (1 - tanh(c)^2)
        np.multiply(tc, tc, out=dc)
        np.subtract(1.0, dc, out=dc)
        dc *= o
        dc *= dh
        dc += dc_in
        np.multiply(dh, tc, out=d[2 * H : 3 * H])
        np.multiply(dc, g, out=d[:H])
        np.multiply(dc, self.C[t], out=d[H : 2 * H])
        dg = d[3 * H :]
        np.multiply(dc, i, out=dg)
        dc_prev = dc * f
        # through the nonlinearities: s' = s (1 - s), tanh' = 1 - tanh^2
        s = self._s
        np.subtract(1.0, a[: 3 * H], out=s)
        s *= a[: 3 * H]
        d[: 3 * H] *= s
        sg = s[:H]
        np.multiply(g, g, out=sg)
        np.subtract(1.0, sg, out=sg)
        dg *= sg
        return d, self.W_h.T @ d, dc_prev


class GRUStep(_Step):
    """A gated recurrent unit step (gates reset, update, new), the book's form
    with its defects fixed (see the module docstring).

    Shape:
        z ``(3 * hidden, batch)``, h ``(hidden, batch)`` -> h ``(hidden, batch)``.
    """

    gates = 3

    def _allocate(self, steps: int, batch: int) -> None:
        dt, H = self.W_h.dtype, self.hidden
        self.RH = np.empty((steps, H, batch), dtype=dt)  # r * h_{t-1}
        self.RHb = np.empty((steps, batch, H), dtype=dt)  # the same, batch-major
        self._sd = np.empty((2 * H, batch), dtype=dt)

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        z, h = inputs
        self._take(t, z, h)
        H, W = self.hidden, self.W_h
        a = self.A[t]
        ru, n = a[: 2 * H], a[2 * H :]
        np.matmul(W[: 2 * H], h, out=ru)
        ru += z[: 2 * H]
        sigmoid_(ru)
        r, u = a[:H], a[H : 2 * H]
        rh = self.RH[t]
        np.multiply(r, h, out=rh)
        self.RHb[t] = rh.T
        np.matmul(W[2 * H :], rh, out=n)
        n += z[2 * H :]
        np.tanh(n, out=n)
        # h = u * h_prev + (1 - u) * n = n + u * (h_prev - n)
        out = self.H[t + 1]
        np.subtract(h, n, out=out)
        out *= u
        out += n
        return (self._give(t),)

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        (dh,) = output_grads
        H, W, a, d, tmp = self.hidden, self.W_h, self.A[t], self.dZ[t], self._tmp
        r, u, n, h = a[:H], a[H : 2 * H], a[2 * H :], self.H[t]
        dr, du, dn = d[:H], d[H : 2 * H], d[2 * H :]
        np.subtract(h, n, out=du)
        du *= dh  # dL/du = dh * (h_prev - n)
        np.subtract(1.0, u, out=dn)
        dn *= dh  # dL/dn = dh * (1 - u)
        np.multiply(n, n, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        dn *= tmp  # through tanh
        drh = W[2 * H :].T @ dn  # dL/d(r * h_prev)
        np.multiply(drh, h, out=dr)
        dh_prev = dh * u  # the direct path through u * h_prev
        drh *= r
        dh_prev += drh
        sd = self._sd  # s' = s (1 - s) for the reset and update gates
        np.subtract(1.0, a[: 2 * H], out=sd)
        sd *= a[: 2 * H]
        d[: 2 * H] *= sd
        dh_prev += W[: 2 * H].T @ d[: 2 * H]
        return d, dh_prev

    def _param_grads(self) -> list[Array]:
        T, B, H = self.Hb.shape[0] - 1, self.Hb.shape[1], self.hidden
        dZ = self._gate_major()
        grad = np.empty_like(self.W_h)
        grad[: 2 * H] = dZ[: 2 * H] @ self.Hb[:T].reshape(T * B, H)
        grad[2 * H :] = dZ[2 * H :] @ self.RHb.reshape(T * B, H)
        return [grad]


#: the step class of each recurrent layer type
STEPS: dict[str, type[_Step]] = {"rnn": RNNStep, "lstm": LSTMStep, "gru": GRUStep}
