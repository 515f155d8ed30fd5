"""The hand-written NumPy loops of W1-W3: the same math as lincoln's networks,
fused by hand into one function per workload with preallocated buffers, the
fastest this library could hope to be; and W3's convolution as plain Python
loops, the way the book's published Conv2D computes it."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .workloads import MOMENTUM, Workload, initial_params

__all__ = [
    "relu_in_place",
    "relu_grad_in_place",
    "softmax_ce_in_place",
    "momentum_step",
    "run_hand_mlp",
    "run_hand_conv",
    "run_loop_conv",
]


@functools.cache
def _scratch(shape: tuple[int, ...], dtype: np.dtype, zero: bool) -> np.ndarray:
    """One array per shape, dtype and use, kept for every step."""
    return np.zeros(shape, dtype=dtype) if zero else np.empty(shape, dtype=dtype)


def relu_in_place(h: np.ndarray) -> None:
    """``h = max(h, 0)``, against an array of zeros as lincoln's ReLU does
    (NumPy's vector loop for maximum needs two arrays)."""
    np.maximum(h, _scratch(h.shape, h.dtype, zero=True), out=h)


def relu_grad_in_place(g: np.ndarray, h: np.ndarray) -> None:
    """``g *= h > 0`` through a reused float mask, as lincoln's ReLU does."""
    mask = _scratch(h.shape, g.dtype, zero=False)
    np.greater(h, 0, out=mask)
    g *= mask


def softmax_ce_in_place(
    z: np.ndarray, labels: np.ndarray, rows: np.ndarray, scale: np.generic
) -> float:
    """Turn logits ``z`` into dL/dz of the mean softmax cross-entropy, in place;
    return the loss."""
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, labels]
    np.exp(z, out=z)
    sums = z.sum(axis=1, keepdims=True)
    z /= sums
    loss = float(np.log(sums).sum() - picked.sum()) / len(z)
    z[rows, labels] -= 1.0
    z *= scale
    return loss


def momentum_step(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    vel: list[np.ndarray],
    lr: np.generic,
) -> None:
    """The book's momentum update, in place (the gradients are scaled too)."""
    for p, gr, v in zip(params, grads, vel, strict=True):
        v *= MOMENTUM
        gr *= lr
        v += gr
        p -= v


def run_hand_mlp(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    params = initial_params(w, dtype)
    Ws, bs_ = params[0::2], params[1::2]
    vel = [np.zeros_like(p) for p in params]
    bs = w.batch
    rows = np.arange(bs)
    sigmoid = w.activation == "sigmoid"
    lr = dtype.type(w.lr)
    scale = dtype.type(1.0 / bs)

    def go() -> None:
        losses: list[float] = []
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            acts = [xb]
            for W, b in zip(Ws[:-1], bs_[:-1], strict=True):
                h = acts[-1] @ W
                h += b
                if sigmoid:
                    h *= 0.5
                    np.tanh(h, out=h)
                    h += 1.0
                    h *= 0.5
                else:
                    relu_in_place(h)
                acts.append(h)
            z = acts[-1] @ Ws[-1]
            z += bs_[-1]
            losses.append(softmax_ce_in_place(z, yb, rows, scale))
            grads: list[np.ndarray] = []
            g = z
            for layer in range(len(Ws) - 1, -1, -1):
                grads.append(g.sum(axis=0, keepdims=True))
                grads.append(acts[layer].T @ g)
                if layer == 0:
                    break
                g = g @ Ws[layer].T
                h = acts[layer]
                if sigmoid:
                    g *= h * (1.0 - h)
                else:
                    relu_grad_in_place(g, h)
            grads.reverse()  # W0, b0, W1, b1, ...
            momentum_step(params, grads, vel, lr)

    go.params = params  # type: ignore[attr-defined]
    return go


def run_hand_conv(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    """Conv 1->8 3x3 'same' + ReLU + flatten + dense 10, by im2col and matmul."""
    kernel, conv_b, dense_W, dense_b = initial_params(w, dtype)  # lincoln's order
    params = [kernel, conv_b, dense_W, dense_b]
    vel = [np.zeros_like(p) for p in params]
    cin, cout, k, _ = kernel.shape
    bs, H, W_ = w.batch, 28, 28
    rows = np.arange(bs)
    lr = dtype.type(w.lr)
    scale = dtype.type(1.0 / bs)
    # im2col buffer (batch, 9, H, W): the entries that read padding stay zero
    cols = np.zeros((bs, cin * k * k, H, W_), dtype=dtype)
    copies = []  # (tap, destination rows/cols, source rows/cols) per kernel tap
    for i in range(k):
        for j in range(k):
            di, dj = i - k // 2, j - k // 2
            dst = (
                slice(max(0, -di), H - max(0, di)),
                slice(max(0, -dj), W_ - max(0, dj)),
            )
            src = (
                slice(max(0, di), H + min(0, di)),
                slice(max(0, dj), W_ + min(0, dj)),
            )
            copies.append((i * k + j, dst, src))

    def go() -> None:
        losses: list[float] = []
        for step in range(steps):
            s = (step * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs, 0], y[s : s + bs]
            for tap, (dr, dc), (sr, sc) in copies:
                cols[:, tap, dr, dc] = xb[:, sr, sc]
            K = kernel.reshape(cout, k * k)  # cin == 1: (1, 8, 3, 3) -> (8, 9)
            conv = np.matmul(K, cols.reshape(bs, k * k, H * W_))  # (bs, 8, H*W)
            conv += conv_b.reshape(1, cout, 1)
            relu_in_place(conv)
            feat = conv.reshape(bs, cout * H * W_)
            z = feat @ dense_W
            z += dense_b
            losses.append(softmax_ce_in_place(z, yb, rows, scale))
            g_dW = feat.T @ z
            g_db = z.sum(axis=0, keepdims=True)
            g_conv = (z @ dense_W.T).reshape(bs, cout, H * W_)
            relu_grad_in_place(g_conv, conv)
            g_cb = g_conv.sum(axis=(0, 2)).reshape(conv_b.shape)
            g_K = np.matmul(g_conv, cols.reshape(bs, k * k, H * W_).transpose(0, 2, 1))
            g_K = g_K.sum(axis=0).reshape(kernel.shape)
            momentum_step(params, [g_K, g_cb, g_dW, g_db], vel, lr)

    go.params = params  # type: ignore[attr-defined]
    return go


def run_loop_conv(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    """W3 with the convolution written as plain Python loops over samples and
    output pixels, the way the book's published Conv2D computes it (but with
    correct gradients): the baseline that im2col replaces."""
    kernel, conv_b, dense_W, dense_b = initial_params(w, dtype)
    cin, cout, k, _ = kernel.shape
    bs, H, W_ = w.batch, 28, 28
    rows = np.arange(bs)
    pad = k // 2

    def go() -> None:
        for step in range(steps):
            s = (step * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            xp = np.pad(xb, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            conv = np.empty((bs, cout, H, W_), dtype=dtype)
            for n in range(bs):
                for i in range(H):
                    for j in range(W_):
                        window = xp[n, :, i : i + k, j : j + k]  # (cin, k, k)
                        conv[n, :, i, j] = np.tensordot(
                            window, kernel, axes=([0, 1, 2], [0, 2, 3])
                        )
            conv += conv_b
            relu_in_place(conv)
            feat = conv.reshape(bs, -1)
            z = feat @ dense_W + dense_b
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[rows, yb] -= 1.0
            z /= bs
            g_conv = (z @ dense_W.T).reshape(conv.shape) * (conv > 0)
            g_kernel = np.zeros_like(kernel)
            g_xp = np.zeros_like(xp)
            for n in range(bs):
                for i in range(H):
                    for j in range(W_):
                        g = g_conv[n, :, i, j]  # (cout,)
                        window = xp[n, :, i : i + k, j : j + k]
                        g_kernel += window[:, None] * g[None, :, None, None]
                        g_xp[n, :, i : i + k, j : j + k] += np.tensordot(
                            kernel, g, axes=([1], [0])
                        )
            dense_W[...] -= w.lr * (feat.T @ z)
            kernel[...] -= w.lr * g_kernel

    return go
