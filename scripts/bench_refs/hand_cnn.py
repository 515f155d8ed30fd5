"""The hand-written NumPy loop of W4 (two convolutions with max-pooling and two
dense layers), every image array in (channels, height, width, batch) memory as
lincoln keeps it, every buffer reused from step to step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .hand_dense import (
    momentum_step,
    relu_grad_in_place,
    relu_in_place,
    softmax_ce_in_place,
)
from .workloads import Workload, initial_params

__all__ = ["run_hand_cnn", "pool_relu", "unpool"]


class _ConvBuffers:
    """What one 3x3 'same' convolution of the hand-written W4 loop keeps between
    steps: the zero-bordered input ``(C, H+2, W+2, batch)``, its im2col matrix
    ``(C*9, H*W*batch)`` and the input gradient's padded buffer."""

    def __init__(self, c: int, bs: int, h: int, dtype: np.dtype) -> None:
        self.pad = np.zeros((c, h + 2, h + 2, bs), dtype=dtype)
        self.inner = self.pad[:, 1:-1, 1:-1]
        self.cols = np.empty((c, 3, 3, h, h, bs), dtype=dtype)
        self.dpad = np.empty_like(self.pad)

    def im2col(self) -> np.ndarray:
        h = self.cols.shape[3]
        for i in range(3):
            for j in range(3):
                self.cols[:, i, j] = self.pad[:, i : i + h, j : j + h]
        return self.cols.reshape(self.cols.shape[0] * 9, -1)

    def col2im(self, dcols: np.ndarray) -> np.ndarray:
        """Add every column back onto its pixel; the interior of the result."""
        c, _, _, h, w, bs = self.cols.shape
        d = dcols.reshape(c, 3, 3, h, w, bs)
        self.dpad[...] = 0
        for i in range(3):
            for j in range(3):
                self.dpad[:, i : i + h, j : j + w] += d[:, i, j]
        return self.dpad[:, 1:-1, 1:-1]


def _taps(x: np.ndarray) -> list[np.ndarray]:
    """The four taps of every 2x2 window of ``x`` (C, H, W, batch)."""
    return [x[:, i::2, j::2] for i in range(2) for j in range(2)]


def pool_relu(x: np.ndarray, out: np.ndarray) -> None:
    """2x2 max-pooling of ``x`` (C, H, W, batch) into ``out``, then ReLU on
    ``out`` (the two commute, and the pooled array is four times smaller)."""
    a, b, c, d = _taps(x)
    np.maximum(a, b, out=out)
    np.maximum(out, c, out=out)
    np.maximum(out, d, out=out)
    relu_in_place(out)


def unpool(g: np.ndarray, x: np.ndarray, pooled: np.ndarray, dx: np.ndarray) -> None:
    """Route ``g`` (gradient of the pooled maxima) to the first maximum of each
    window of ``x`` in row-major order (lincoln's rule for ties), into ``dx``."""
    free = np.ones(pooled.shape, dtype=bool)
    hit = np.empty(pooled.shape, dtype=bool)
    for tap, target in zip(_taps(x), _taps(dx), strict=True):
        np.equal(tap, pooled, out=hit)
        hit &= free
        free ^= hit
        np.multiply(g, hit, out=target)


def run_hand_cnn(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    """W4 fused by hand: each convolution is one matrix product over an im2col
    copy of a zero-bordered buffer, ReLU follows the pooling, the input
    gradient is col2im of one product, every buffer is reused."""
    params = initial_params(w, dtype)  # lincoln's order: K1 b1 K2 b2 W3 b3 W4 b4
    K1, b1, K2, b2, W3, b3, W4, b4 = params
    vel = [np.zeros_like(p) for p in params]
    bs = w.batch
    rows = np.arange(bs)
    lr = dtype.type(w.lr)
    scale = dtype.type(1.0 / bs)
    conv1, conv2 = _ConvBuffers(1, bs, 28, dtype), _ConvBuffers(16, bs, 14, dtype)
    c1 = np.empty((16, 28, 28, bs), dtype=dtype)  # conv 1 + bias, before pooling
    c2 = np.empty((32, 14, 14, bs), dtype=dtype)
    p2 = np.empty((32, 7, 7, bs), dtype=dtype)  # pooled, then ReLU
    g1, g2 = np.empty_like(c1), np.empty_like(c2)
    p1 = conv2.inner  # pooling 1 writes straight into conv 2's padded input

    def go() -> None:
        losses: list[float] = []
        for step in range(steps):
            s = (step * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            # forward
            conv1.inner[...] = xb.transpose(1, 2, 3, 0)
            cols1 = conv1.im2col()
            np.matmul(K1.reshape(16, 9), cols1, out=c1.reshape(16, -1))
            np.add(c1, b1.reshape(16, 1, 1, 1), out=c1)
            pool_relu(c1, p1)
            cols2 = conv2.im2col()
            K2m = K2.transpose(1, 0, 2, 3).reshape(32, 144)
            np.matmul(K2m, cols2, out=c2.reshape(32, -1))
            np.add(c2, b2.reshape(32, 1, 1, 1), out=c2)
            pool_relu(c2, p2)
            feat = p2.reshape(32 * 49, bs).T  # (batch, C*H*W), a view
            h = feat @ W3
            h += b3
            relu_in_place(h)
            z = h @ W4
            z += b4
            losses.append(softmax_ce_in_place(z, yb, rows, scale))
            # backward
            gW4, gb4 = h.T @ z, z.sum(axis=0, keepdims=True)
            gh = z @ W4.T
            relu_grad_in_place(gh, h)
            gW3, gb3 = feat.T @ gh, gh.sum(axis=0, keepdims=True)
            gp2 = (W3 @ gh.T).reshape(32, 7, 7, bs)  # batch-last, as p2
            relu_grad_in_place(gp2, p2)
            unpool(gp2, c2, p2, g2)
            g2m = g2.reshape(32, -1)
            gb2 = g2m.sum(axis=1).reshape(b2.shape)
            gK2 = (cols2 @ g2m.T).T.reshape(32, 16, 3, 3).transpose(1, 0, 2, 3)
            gp1 = conv2.col2im(K2m.T @ g2m)
            relu_grad_in_place(gp1, p1)
            unpool(gp1, c1, p1, g1)
            g1m = g1.reshape(16, -1)
            gb1 = g1m.sum(axis=1).reshape(b1.shape)
            gK1 = (g1m @ cols1.T).reshape(1, 16, 3, 3)
            grads = [gK1, gb1, gK2, gb2, gW3, gb3, gW4, gb4]
            momentum_step(params, [np.ascontiguousarray(g) for g in grads], vel, lr)

    go.params = params  # type: ignore[attr-defined]
    return go
