"""The hand-written NumPy loop of W5: a character LSTM's training step
(embedding, LSTM, dense over every step, softmax cross-entropy, global-norm
clipping, Adam) fused by hand into plain NumPy with preallocated buffers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lincoln.updates import adam_update, clip_by_global_norm

from .workloads import CLIP, Workload, batch_slice, initial_params

__all__ = ["HandLSTM", "run_hand_lstm"]


class HandLSTM:
    """The W5 step, written apart from lincoln's layers (it shares only the gate
    order i, f, o, g and the initial parameters) as a floor to compare them
    with. It works batch-major, the textbook layout: ``x W_x``, ``h W_h``.

    Args:
        params: lincoln's initial parameters ``E, W_x, b, W_h, W_d, b_d``.
        steps, batch: the sequence length and the batch size.
        lr: Adam's learning rate.
    """

    def __init__(self, params: list[np.ndarray], steps: int, batch: int, lr: float):
        self.p = params  # E, W_x, b, W_h, W_d, b_d in lincoln's shapes
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t, self.lr = 0, lr
        T, B, H = steps, batch, params[3].shape[1]
        dt = params[0].dtype
        self.A = np.empty((T, B, 4 * H), dt)
        self.dA = np.empty_like(self.A)
        self.Hs = np.zeros((T + 1, B, H), dt)
        self.Cs = np.zeros((T + 1, B, H), dt)
        self.TC = np.empty((T, B, H), dt)
        self.tmp = np.empty((B, 3 * H), dt)
        self.tmpH = np.empty((B, H), dt)

    def _weights(self) -> list[np.ndarray]:
        # lincoln stores W_x (G, D), b (G, 1), W_h (G, H); here (D, G), (1, G), (H, G)
        E, Wx, b, Wh, Wd, bd = self.p
        return [E, Wx.T, b.T, Wh.T, Wd, bd]

    def forward(self, ids: np.ndarray) -> np.ndarray:
        E, Wx, b, Wh, Wd, bd = self._weights()
        T, B, H = self.TC.shape
        self.ids = ids.T  # time-major
        self.X = E[self.ids]  # (T, B, D)
        A = self.A
        np.matmul(self.X.reshape(T * B, -1), Wx, out=A.reshape(T * B, -1))
        A += b[0]
        for t in range(T):
            a = A[t]
            a += self.Hs[t] @ Wh
            s = a[:, : 3 * H]
            s *= 0.5
            np.tanh(s, out=s)
            s *= 0.5
            s += 0.5
            np.tanh(a[:, 3 * H :], out=a[:, 3 * H :])
            c = self.Cs[t + 1]
            np.multiply(a[:, H : 2 * H], self.Cs[t], out=c)
            c += a[:, :H] * a[:, 3 * H :]
            np.tanh(c, out=self.TC[t])
            np.multiply(a[:, 2 * H : 3 * H], self.TC[t], out=self.Hs[t + 1])
        self.Hflat = self.Hs[1:].reshape(T * B, H)
        return self.Hflat @ Wd + bd[0]  # (T*B, V) logits, time-major

    def backward(self, dlogits: np.ndarray) -> list[np.ndarray]:
        E, Wx, b, Wh, Wd, bd = self._weights()
        T, B, H = self.TC.shape
        dWd, dbd = self.Hflat.T @ dlogits, dlogits.sum(0, keepdims=True)
        dHs = (dlogits @ Wd.T).reshape(T, B, H)
        dh = np.zeros((B, H), Wx.dtype)
        dc = np.zeros((B, H), Wx.dtype)
        tmp, tmpH = self.tmp, self.tmpH
        for t in reversed(range(T)):
            a, d, tc = self.A[t], self.dA[t], self.TC[t]
            dh += dHs[t]
            np.multiply(dh, tc, out=d[:, 2 * H : 3 * H])
            np.multiply(tc, tc, out=tmpH)
            np.subtract(1.0, tmpH, out=tmpH)
            tmpH *= a[:, 2 * H : 3 * H]
            tmpH *= dh
            dc += tmpH
            np.multiply(dc, a[:, 3 * H :], out=d[:, :H])
            np.multiply(dc, self.Cs[t], out=d[:, H : 2 * H])
            np.multiply(dc, a[:, :H], out=d[:, 3 * H :])
            dc *= a[:, H : 2 * H]
            np.subtract(1.0, a[:, : 3 * H], out=tmp)
            tmp *= a[:, : 3 * H]
            d[:, : 3 * H] *= tmp
            np.multiply(a[:, 3 * H :], a[:, 3 * H :], out=tmpH)
            np.subtract(1.0, tmpH, out=tmpH)
            d[:, 3 * H :] *= tmpH
            np.matmul(d, Wh.T, out=dh)
        dA = self.dA.reshape(T * B, 4 * H)
        dWh = self.Hs[:T].reshape(T * B, H).T @ dA
        dWx = self.X.reshape(T * B, -1).T @ dA
        db = dA.sum(0, keepdims=True)
        dE = np.zeros_like(E)
        np.add.at(dE, self.ids.reshape(-1), dA @ Wx.T)
        return [dE, dWx.T, db.T, dWh.T, dWd, dbd]

    def step(self, ids: np.ndarray, targets: np.ndarray) -> float:
        logits = self.forward(ids)
        n = logits.shape[0]
        logits -= logits.max(1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(1, keepdims=True)
        rows, labels = np.arange(n), targets.T.reshape(-1)
        loss = -float(np.log(logits[rows, labels]).mean())
        logits[rows, labels] -= 1.0
        logits /= n
        grads = clip_by_global_norm(self.backward(logits), CLIP)
        self.t += 1
        for p, g, m, v in zip(self.p, grads, self.m, self.v, strict=True):
            adam_update(p, g, m, v, self.t, self.lr, 0.9, 0.999, 1e-8)
        return loss


def run_hand_lstm(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    hand = HandLSTM(initial_params(w, dtype), w.seq_len, w.batch, w.lr)

    def go() -> None:
        for i in range(steps):
            b = batch_slice(w, len(X), i)
            hand.step(X[b], y[b])

    go.params = hand.p  # type: ignore[attr-defined]
    return go
