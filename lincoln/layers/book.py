"""The book's chapter 6 recurrent layers and nodes, with the printed signatures.

``RNNLayer``, ``LSTMLayer`` and ``GRULayer`` take one-hot characters
``(batch, steps, vocab)`` and return ``(batch, steps, output_size)``: a
recurrent layer (:mod:`lincoln.layers.recurrent`) followed by the output
projection ``H W_v + B_v``, carrying the batch mean of the last states to the
next batch as the book did. They are built on lincoln's layers, so they are
fast and saved like any layer; the defects of the printed code are fixed (the
GRU's update gate and backward pass; the "Glorot" scale that was a variance).

``RNNNode``, ``LSTMNode`` and ``GRUNode`` are the book's single-step classes
with its ``params_dict`` of ``{"value": ..., "deriv": ...}`` entries, for
readers following the chapter's text; the layers do not use them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..errors import ShapeError, check_positive_int
from ..ops.sequence import SequenceBiasAdd, SequenceWeightMultiply
from ..registry import LAYERS
from .base import Layer
from .recurrent import GRU, LSTM, RNN, Recurrent

__all__ = ["RNNLayer", "LSTMLayer", "GRULayer", "RNNNode", "LSTMNode", "GRUNode"]

Params = dict[str, dict[str, Array]]


class _BookLayer(Layer):
    """A recurrent sub-layer and an output projection, the book's way.

    Args:
        hidden_size: the recurrent state's size.
        output_size: the width of the output (the vocabulary for the last layer).
        weight_scale: standard deviation of every initial weight and bias;
            None uses sqrt(2 / (inputs + output_size)).
    """

    recurrent_class: type[Recurrent] = RNN

    def __init__(
        self, hidden_size: int, output_size: int, weight_scale: float | None = None
    ) -> None:
        super().__init__(output_size)
        self.hidden_size = check_positive_int(
            type(self).__name__, "hidden_size", hidden_size
        )
        self.output_size = self.neurons
        self.weight_scale = None if weight_scale is None else float(weight_scale)
        self.recurrent = self.recurrent_class(self.hidden_size, carry_state="mean")
        self.sublayers = [self.recurrent]

    def _setup_layer(self, input_: Array) -> None:
        if input_.ndim != 3:
            raise ShapeError(
                f"{type(self).__name__}: input must be (batch, steps, vocab_size) "
                f"one-hot characters, received shape {input_.shape}"
            )
        scale = self.weight_scale
        if scale is None:  # the book's Glorot-style default, as a deviation
            scale = float(np.sqrt(2.0 / (input_.shape[2] + self.output_size)))
        rec_seed, own_seed = np.random.SeedSequence(self.seed).spawn(2)
        rec = self.recurrent
        rec.weight_scale, rec.dtype = scale, self.dtype
        rec.seed = int(rec_seed.generate_state(1)[0])
        rec.first = True
        rng = np.random.default_rng(own_seed)
        W_v = rng.standard_normal((self.hidden_size, self.output_size)) * scale
        B_v = rng.standard_normal((1, self.output_size)) * scale
        self.operations = [SequenceWeightMultiply(W_v), SequenceBiasAdd(B_v)]

    def build(self, input_: Array) -> None:
        self.recurrent.needs_input_grad = self.needs_input_grad
        super().build(input_)
        self.operations[0].needs_input_grad = True  # the recurrent layer needs it
        self.recurrent.build(input_)
        self.params = [*self.recurrent.params, *self.params]

    def forward(self, input_: Array, inference: bool = False) -> Array:
        if self.first:
            self.build(input_)
        self.input_ = input_
        out = self.recurrent.forward(input_, inference)
        for op in self.operations:
            out = op.forward(out, inference)
        self.output = out
        return out

    def backward(self, output_grad: Array) -> Array:
        grad = output_grad
        for op in reversed(self.operations):
            grad = op.backward(grad)
        grad = self.recurrent.backward(grad)
        own = [op.param_grad for op in self._param_ops()]
        self.param_grads = [*self.recurrent.param_grads, *own]
        self.input_grad = grad
        return grad

    def _clear_gradients(self) -> None:
        """The book's call before each backward pass; gradients here are
        replaced by every backward pass, so there is nothing to clear."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (input_shape[0], self.output_size)

    def get_config(self) -> dict[str, Any]:
        return {
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "weight_scale": self.weight_scale,
        }


@LAYERS.register("book_rnn_layer")
class RNNLayer(_BookLayer):
    """The book's ``RNNLayer(hidden_size, output_size, weight_scale=None)``."""


@LAYERS.register("book_lstm_layer")
class LSTMLayer(_BookLayer):
    """The book's ``LSTMLayer(hidden_size, output_size, weight_scale=0.01)``."""

    recurrent_class = LSTM

    def __init__(
        self, hidden_size: int, output_size: int, weight_scale: float | None = 0.01
    ) -> None:
        super().__init__(hidden_size, output_size, weight_scale)


@LAYERS.register("book_gru_layer")
class GRULayer(_BookLayer):
    """The book's ``GRULayer(hidden_size, output_size, weight_scale=0.01)``."""

    recurrent_class = GRU

    def __init__(
        self, hidden_size: int, output_size: int, weight_scale: float | None = 0.01
    ) -> None:
        super().__init__(hidden_size, output_size, weight_scale)


# -- the book's nodes ------------------------------------------------------------------


def _sigmoid(x: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _accumulate(params: Params, name: str, grad: Array) -> None:
    params[name]["deriv"] += grad


class _Node:
    """The output projection shared by the nodes: ``X_out = H W_v + B_v``."""

    H_out: Array

    def _project(self, params: Params) -> Array:
        self.X_out = self.H_out @ params["W_v"]["value"] + params["B_v"]["value"]
        return self.X_out

    def _project_back(
        self, X_out_grad: Array, H_out_grad: Array, params: Params
    ) -> Array:
        _accumulate(params, "W_v", self.H_out.T @ X_out_grad)
        _accumulate(params, "B_v", X_out_grad.sum(axis=0))
        return X_out_grad @ params["W_v"]["value"].T + H_out_grad


class RNNNode(_Node):
    """One step ``H = tanh([x, H] W_f + B_f)``, output ``H W_v + B_v``."""

    def forward(
        self, x_in: Array, H_in: Array, params_dict: Params
    ) -> tuple[Array, Array]:
        self.X_in, self.Z = x_in, np.column_stack((x_in, H_in))
        self.H_out = np.tanh(
            self.Z @ params_dict["W_f"]["value"] + params_dict["B_f"]["value"]
        )
        return self._project(params_dict), self.H_out

    def backward(
        self, X_out_grad: Array, H_out_grad: Array, params_dict: Params
    ) -> tuple[Array, Array]:
        dh = self._project_back(X_out_grad, H_out_grad, params_dict)
        d_int = dh * (1.0 - self.H_out**2)
        _accumulate(params_dict, "W_f", self.Z.T @ d_int)
        _accumulate(params_dict, "B_f", d_int.sum(axis=0))
        dz = d_int @ params_dict["W_f"]["value"].T
        n = self.X_in.shape[1]
        return dz[:, :n], dz[:, n:]


class LSTMNode(_Node):
    """One LSTM step with the book's separate ``W_f, W_i, W_c, W_o`` on ``[x, H]``."""

    GATES = ("f", "i", "c", "o")

    def forward(
        self, X_in: Array, H_in: Array, C_in: Array, params_dict: Params
    ) -> tuple[Array, Array, Array]:
        self.X_in, self.C_in, self.Z = X_in, C_in, np.column_stack((X_in, H_in))
        pre = {
            g: self.Z @ params_dict[f"W_{g}"]["value"] + params_dict[f"B_{g}"]["value"]
            for g in self.GATES
        }
        self.f, self.i, self.o = (_sigmoid(pre[g]) for g in ("f", "i", "o"))
        self.C_bar = np.tanh(pre["c"])
        self.C_out = self.f * C_in + self.i * self.C_bar
        self.tanh_C = np.tanh(self.C_out)
        self.H_out = self.o * self.tanh_C
        return self._project(params_dict), self.H_out, self.C_out

    def backward(
        self,
        X_out_grad: Array,
        H_out_grad: Array,
        C_out_grad: Array,
        params_dict: Params,
    ) -> tuple[Array, Array, Array]:
        dh = self._project_back(X_out_grad, H_out_grad, params_dict)
        dC = C_out_grad + dh * self.o * (1.0 - self.tanh_C**2)
        d_int = {
            "o": dh * self.tanh_C * self.o * (1.0 - self.o),
            "c": dC * self.i * (1.0 - self.C_bar**2),
            "i": dC * self.C_bar * self.i * (1.0 - self.i),
            "f": dC * self.C_in * self.f * (1.0 - self.f),
        }
        dz = np.zeros_like(self.Z)
        for g, d in d_int.items():
            _accumulate(params_dict, f"W_{g}", self.Z.T @ d)
            _accumulate(params_dict, f"B_{g}", d.sum(axis=0))
            dz += d @ params_dict[f"W_{g}"]["value"].T
        n = self.X_in.shape[1]
        return dz[:, :n], dz[:, n:], self.f * dC


class GRUNode(_Node):
    """One GRU step with the book's weights ``W_xr, W_hr, W_xu, W_hu, W_xh, W_hh``
    (fixed: the update gate uses its own weights, and the backward pass keeps
    the direct path ``u * dH`` to the previous state)."""

    def forward(
        self, X_in: Array, H_in: Array, params_dict: Params
    ) -> tuple[Array, Array]:
        p = {k: v["value"] for k, v in params_dict.items()}
        self.X_in, self.H_in = X_in, H_in
        self.r = _sigmoid(X_in @ p["W_xr"] + H_in @ p["W_hr"] + p["B_r"])
        self.u = _sigmoid(X_in @ p["W_xu"] + H_in @ p["W_hu"] + p["B_u"])
        self.h_reset = self.r * H_in
        self.h_bar = np.tanh(X_in @ p["W_xh"] + self.h_reset @ p["W_hh"] + p["B_h"])
        self.H_out = self.u * H_in + (1.0 - self.u) * self.h_bar
        return self._project(params_dict), self.H_out

    def backward(
        self, X_out_grad: Array, H_out_grad: Array, params_dict: Params
    ) -> tuple[Array, Array]:
        p = {k: v["value"] for k, v in params_dict.items()}
        dh = self._project_back(X_out_grad, H_out_grad, params_dict)
        dh_bar_int = dh * (1.0 - self.u) * (1.0 - self.h_bar**2)
        du_int = dh * (self.H_in - self.h_bar) * self.u * (1.0 - self.u)
        dh_reset = dh_bar_int @ p["W_hh"].T
        dr_int = dh_reset * self.H_in * self.r * (1.0 - self.r)
        dH_in = dh * self.u + dh_reset * self.r
        dX_in = np.zeros_like(self.X_in)
        for gate, d, h in (("r", dr_int, self.H_in), ("u", du_int, self.H_in)):
            _accumulate(params_dict, f"B_{gate}", d.sum(axis=0))
            _accumulate(params_dict, f"W_x{gate}", self.X_in.T @ d)
            _accumulate(params_dict, f"W_h{gate}", h.T @ d)
            dX_in += d @ p[f"W_x{gate}"].T
            dH_in += d @ p[f"W_h{gate}"].T
        _accumulate(params_dict, "B_h", dh_bar_int.sum(axis=0))
        _accumulate(params_dict, "W_xh", self.X_in.T @ dh_bar_int)
        _accumulate(params_dict, "W_hh", self.h_reset.T @ dh_bar_int)
        dX_in += dh_bar_int @ p["W_xh"].T
        return dX_in, dH_in
