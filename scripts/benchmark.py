"""Training-step speed of lincoln against a hand-written NumPy loop (and PyTorch).

For each workload the same network is trained, from the same data, by

* lincoln: ``net.train_batch(X, y)`` then ``optim.step()`` per batch, as
  ``Trainer.fit`` does it;
* a hand-written loop: the same math fused by hand into one NumPy function with
  preallocated buffers, the fastest this library could hope to be;
* PyTorch on the CPU, when ``torch`` is importable (never a dependency).

A step is: slice the batch, forward, loss (its value kept, as a training loop
reports it), backward, optimizer update.
Repetitions are interleaved (lincoln, hand, torch, lincoln, ...) so that a noisy
machine slows all of them alike; the best repetition of each counts.

    python scripts/benchmark.py                 # all workloads, float32 and float64
    python scripts/benchmark.py --quick         # fewer steps
    python scripts/benchmark.py --threads 1     # one BLAS/OpenMP thread for all
    python scripts/benchmark.py --workload W1 --dtype float32

Workloads:
    W1  784-89-10, sigmoid, softmax cross-entropy, SGD momentum, batch 60
    W2  784-256-128-10, ReLU, softmax cross-entropy, SGD momentum, batch 128
    W3  conv 1->8 3x3 same + ReLU + flatten + dense 10, batch 32 (needs Conv2D)
    W4  0.2.0's configs/fashion_cnn.toml without dropout: conv 16 3x3 same
        + ReLU + max-pool 2, conv 32 3x3 same + ReLU + max-pool 2, flatten, dense
        128 ReLU, dense 10; SGD momentum, batch 64, on Fashion-MNIST images
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import lincoln
from lincoln import (
    Dense,
    Linear,
    NeuralNetwork,
    ReLU,
    SGDMomentum,
    Sigmoid,
    SoftmaxCrossEntropy,
)
from lincoln import threads as lincoln_threads
from lincoln.datasets import load_fashion_mnist
from lincoln.layers import Conv2D, Flatten, MaxPool2D

try:  # optional reference
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

LR, MOMENTUM = 0.1, 0.9


@dataclass
class Workload:
    name: str
    input_shape: tuple[int, ...]
    hidden: tuple[int, ...]
    activation: str  # "sigmoid" | "relu"
    batch: int
    conv: bool = False
    cnn: bool = False  # W4: two conv + pool blocks on Fashion-MNIST
    lr: float = LR


WORKLOADS = {
    "W1": Workload("W1", (784,), (89,), "sigmoid", 60),
    "W2": Workload("W2", (784,), (256, 128), "relu", 128),
    "W3": Workload("W3", (1, 28, 28), (), "relu", 32, conv=True),
    "W4": Workload("W4", (1, 28, 28), (128,), "relu", 64, cnn=True, lr=0.01),
}


# -- the shared starting point -----------------------------------------------------


@functools.cache
def fashion_images() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's training images (N, 1, 28, 28) in [0, 1], read once."""
    X, y, _, _ = load_fashion_mnist(flatten=False, dtype=np.float64, download=False)
    return X, y


def make_data(w: Workload, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    if w.cnn:  # real images: their zero background makes max-pooling ties common
        X, y = fashion_images()
        return X[:n].astype(dtype), y[:n]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, *w.input_shape)).astype(dtype)
    y = rng.integers(0, 10, n)
    return X, y


def lincoln_net(w: Workload, dtype: np.dtype) -> NeuralNetwork:
    if w.cnn:
        layers = [
            Conv2D(16, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Conv2D(32, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Flatten(),
            Dense(128, ReLU(), weight_init="he"),
            Dense(10, Linear(), weight_init="glorot"),
        ]
    elif w.conv:
        conv2d = getattr(lincoln.layers, "Conv2D", None)
        if conv2d is None:
            raise RuntimeError("W3 needs lincoln.layers.Conv2D")
        layers = [
            conv2d(8, 3, activation=ReLU(), flatten=True, weight_init="glorot"),
            Dense(10, Linear(), weight_init="glorot"),
        ]
    else:
        act = Sigmoid if w.activation == "sigmoid" else ReLU
        layers = [Dense(h, act(), weight_init="glorot") for h in w.hidden]
        layers.append(Dense(10, Linear(), weight_init="glorot"))
    net = NeuralNetwork(layers, SoftmaxCrossEntropy(), seed=1, dtype=dtype)
    net.build(w.input_shape)
    return net


def initial_params(w: Workload, dtype: np.dtype) -> list[np.ndarray]:
    """lincoln's initial parameters, so every implementation starts alike."""
    return [p.copy() for p in lincoln_net(w, dtype).params()]


# -- lincoln ---------------------------------------------------------------------


def run_lincoln(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    net = lincoln_net(w, dtype)
    optim = SGDMomentum(w.lr, momentum=MOMENTUM)
    lincoln.Trainer(net, optim)
    net.loss.check_targets = False  # as in Trainer.fit, which checks all labels once
    bs = w.batch

    def go() -> None:
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            net.train_batch(X[s : s + bs], y[s : s + bs])
            optim.step()

    go.params = net.params()  # type: ignore[attr-defined]
    return go


# -- the hand-written loops --------------------------------------------------------


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
                    np.maximum(h, 0, out=h)
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
                    g *= h > 0
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
            np.maximum(conv, 0, out=conv)
            feat = conv.reshape(bs, cout * H * W_)
            z = feat @ dense_W
            z += dense_b
            losses.append(softmax_ce_in_place(z, yb, rows, scale))
            g_dW = feat.T @ z
            g_db = z.sum(axis=0, keepdims=True)
            g_conv = (z @ dense_W.T).reshape(bs, cout, H * W_)
            g_conv *= conv > 0
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
            np.maximum(conv, 0, out=conv)
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
            dense_W[...] -= LR * (feat.T @ z)
            kernel[...] -= LR * g_kernel

    return go


class _ConvBuffers:
    """What one 3x3 'same' convolution of the hand-written W4 loop keeps between
    steps, channels first: the zero-bordered input ``(C, batch, H+2, W+2)``, its
    im2col matrix ``(C*9, batch*H*W)`` and the input gradient's padded buffer."""

    def __init__(self, c: int, bs: int, h: int, dtype: np.dtype) -> None:
        self.pad = np.zeros((c, bs, h + 2, h + 2), dtype=dtype)
        self.inner = self.pad[:, :, 1:-1, 1:-1]
        self.cols = np.empty((c, 3, 3, bs, h, h), dtype=dtype)
        self.dpad = np.empty_like(self.pad)

    def im2col(self) -> np.ndarray:
        windows = sliding_window_view(self.pad, (3, 3), axis=(2, 3))
        np.copyto(self.cols, windows.transpose(0, 4, 5, 1, 2, 3))
        return self.cols.reshape(self.cols.shape[0] * 9, -1)

    def col2im(self, dcols: np.ndarray) -> np.ndarray:
        """Add every column back onto its pixel; the interior of the result."""
        c, _, _, bs, h, w = self.cols.shape
        d = dcols.reshape(c, 3, 3, bs, h, w)
        self.dpad[...] = 0
        for i in range(3):
            for j in range(3):
                self.dpad[:, :, i : i + h, j : j + w] += d[:, i, j]
        return self.dpad[:, :, 1:-1, 1:-1]


def pool_relu(x: np.ndarray, out: np.ndarray) -> None:
    """2x2 max-pooling of ``x`` (C, batch, H, W) into ``out``, then ReLU on
    ``out`` (the two commute, and the pooled array is four times smaller)."""
    w = x.reshape(x.shape[0], x.shape[1], x.shape[2] // 2, 2, x.shape[3] // 2, 2)
    np.maximum(w[:, :, :, 0, :, 0], w[:, :, :, 0, :, 1], out=out)
    np.maximum(out, w[:, :, :, 1, :, 0], out=out)
    np.maximum(out, w[:, :, :, 1, :, 1], out=out)
    np.maximum(out, 0, out=out)


def unpool(g: np.ndarray, x: np.ndarray, pooled: np.ndarray, dx: np.ndarray) -> None:
    """Route ``g`` (gradient of the pooled maxima) to the first maximum of each
    window of ``x`` in row-major order (lincoln's rule for ties), into ``dx``."""
    shape = (x.shape[0], x.shape[1], x.shape[2] // 2, 2, x.shape[3] // 2, 2)
    w, d = x.reshape(shape), dx.reshape(shape)
    free = np.ones(pooled.shape, dtype=bool)
    hit = np.empty(pooled.shape, dtype=bool)
    for i in range(2):
        for j in range(2):
            np.equal(w[:, :, :, i, :, j], pooled, out=hit)
            hit &= free
            free ^= hit
            np.multiply(g, hit, out=d[:, :, :, i, :, j])


def run_hand_cnn(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    """W4 fused by hand, channels first: each convolution is one matrix product
    over an im2col copy of a zero-bordered buffer, ReLU follows the pooling,
    the input gradient is col2im of one product, every buffer is reused."""
    params = initial_params(w, dtype)  # lincoln's order: K1 b1 K2 b2 W3 b3 W4 b4
    K1, b1, K2, b2, W3, b3, W4, b4 = params
    vel = [np.zeros_like(p) for p in params]
    bs = w.batch
    rows = np.arange(bs)
    lr = dtype.type(w.lr)
    scale = dtype.type(1.0 / bs)
    conv1, conv2 = _ConvBuffers(1, bs, 28, dtype), _ConvBuffers(16, bs, 14, dtype)
    c1 = np.empty((16, bs, 28, 28), dtype=dtype)  # conv 1 + bias, before pooling
    c2 = np.empty((32, bs, 14, 14), dtype=dtype)
    p2 = np.empty((32, bs, 7, 7), dtype=dtype)  # pooled, then ReLU
    g1, g2 = np.empty_like(c1), np.empty_like(c2)
    p1 = conv2.inner  # pooling 1 writes straight into conv 2's padded input

    def go() -> None:
        losses: list[float] = []
        for step in range(steps):
            s = (step * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            # forward
            conv1.inner[...] = xb.transpose(1, 0, 2, 3)
            cols1 = conv1.im2col()
            np.matmul(K1.reshape(16, 9), cols1, out=c1.reshape(16, -1))
            np.add(c1, b1.reshape(16, 1, 1, 1), out=c1)
            pool_relu(c1, p1)
            cols2 = conv2.im2col()
            K2m = K2.transpose(1, 0, 2, 3).reshape(32, 144)
            np.matmul(K2m, cols2, out=c2.reshape(32, -1))
            np.add(c2, b2.reshape(32, 1, 1, 1), out=c2)
            pool_relu(c2, p2)
            feat = p2.transpose(1, 0, 2, 3).reshape(bs, 32 * 49)
            h = feat @ W3
            h += b3
            np.maximum(h, 0, out=h)
            z = h @ W4
            z += b4
            losses.append(softmax_ce_in_place(z, yb, rows, scale))
            # backward
            gW4, gb4 = h.T @ z, z.sum(axis=0, keepdims=True)
            gh = z @ W4.T
            gh *= h > 0
            gW3, gb3 = feat.T @ gh, gh.sum(axis=0, keepdims=True)
            gp2 = (gh @ W3.T).reshape(bs, 32, 7, 7).transpose(1, 0, 2, 3)
            gp2 *= p2 > 0
            unpool(gp2, c2, p2, g2)
            gb2 = g2.sum(axis=(1, 2, 3)).reshape(b2.shape)
            g2m = g2.reshape(32, -1)
            gK2 = (g2m @ cols2.T).reshape(32, 16, 3, 3).transpose(1, 0, 2, 3)
            gp1 = conv2.col2im(K2m.T @ g2m)
            gp1 *= p1 > 0
            unpool(gp1, c1, p1, g1)
            gb1 = g1.sum(axis=(1, 2, 3)).reshape(b1.shape)
            gK1 = (g1.reshape(16, -1) @ cols1.T).reshape(1, 16, 3, 3)
            grads = [gK1, gb1, gK2, gb2, gW3, gb3, gW4, gb4]
            momentum_step(params, [np.ascontiguousarray(g) for g in grads], vel, lr)

    go.params = params  # type: ignore[attr-defined]
    return go


# -- PyTorch -----------------------------------------------------------------------


def run_torch(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    if w.cnn:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(32 * 7 * 7, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 10),
        )
    elif w.conv:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(8 * 28 * 28, 10),
        )
    else:
        act = torch.nn.Sigmoid if w.activation == "sigmoid" else torch.nn.ReLU
        mods: list[torch.nn.Module] = []
        width = w.input_shape[0]
        for h in w.hidden:
            mods += [torch.nn.Linear(width, h), act()]
            width = h
        mods.append(torch.nn.Linear(width, 10))
        model = torch.nn.Sequential(*mods)
    model = model.to(tdtype)
    opt = torch.optim.SGD(model.parameters(), lr=w.lr, momentum=MOMENTUM)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    bs = w.batch

    def go() -> None:
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            opt.zero_grad()
            loss = loss_fn(model(Xt[s : s + bs]), yt[s : s + bs])
            loss.backward()
            opt.step()

    return go


# -- the measurement ----------------------------------------------------------------


def hand_runner(w: Workload) -> Callable[..., Callable[[], None]]:
    if w.cnn:
        return run_hand_cnn
    return run_hand_conv if w.conv else run_hand_mlp


def verify(w: Workload, steps: int = 20) -> float:
    """Largest difference between lincoln's and the hand loop's parameters after
    ``steps`` steps from the same start in float64: the two compute the same
    thing."""
    dtype = np.dtype(np.float64)
    X, y = make_data(w, n=steps * w.batch + 1, dtype=dtype)
    ours = run_lincoln(w, X, y, dtype, steps)
    hand = hand_runner(w)(w, X, y, dtype, steps)
    ours()
    hand()
    return max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(ours.params, hand.params, strict=True)
    )


def measure(
    w: Workload, dtype: np.dtype, steps: int, reps: int, threads: int = 2
) -> dict[str, float]:
    X, y = make_data(w, n=max(steps * w.batch // 4, 4 * w.batch), dtype=dtype)
    hand = hand_runner(w)
    runners = {
        "lincoln": run_lincoln(w, X, y, dtype, steps),
        "hand": hand(w, X, y, dtype, steps),
    }
    if torch is not None:
        torch.set_num_threads(threads)
        runners["torch"] = run_torch(w, X, y, dtype, steps)
    best = {name: float("inf") for name in runners}
    for fn in runners.values():  # warm up caches and BLAS threads
        fn()
    order = list(runners)
    for rep in range(reps):
        # rotate who goes first, so no runner always follows the same one
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            t0 = time.perf_counter()
            runners[name]()
            best[name] = min(best[name], time.perf_counter() - t0)
            if name == "torch":
                time.sleep(0.3)  # let torch's OpenMP threads stop spinning
    return {name: steps * w.batch / t for name, t in best.items()}


def measure_loop_conv(w: Workload, dtype: np.dtype, steps: int = 2) -> float:
    """Samples per second of the loop-based convolution (a few steps: it is slow)."""
    X, y = make_data(w, n=4 * w.batch, dtype=dtype)
    go = run_loop_conv(w, X, y, dtype, steps)
    t0 = time.perf_counter()
    go()
    return steps * w.batch / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lincoln training-step benchmark")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--dtype", choices=["float32", "float64"], action="append")
    parser.add_argument("--steps", type=int, default=200, help="steps per repetition")
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions")
    parser.add_argument("--quick", action="store_true", help="50 steps, 3 repetitions")
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS/OpenMP threads of every runner"
    )
    args = parser.parse_args(argv)
    with lincoln_threads.limit(args.threads):
        return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    steps, reps = (50, 3) if args.quick else (args.steps, args.reps)
    names = args.workload or sorted(WORKLOADS)
    dtypes = args.dtype or ["float32", "float64"]

    print(
        f"lincoln {lincoln.__version__}, numpy {np.__version__}"
        + (
            f", torch {torch.__version__}"
            if torch is not None
            else ", torch not installed"
        )
        + f", {args.threads} thread(s)"
    )
    print(
        "| workload | dtype | lincoln samples/s | hand-written samples/s "
        "| lincoln / hand | torch samples/s | lincoln / torch |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    loops: dict[str, tuple[float, float]] = {}
    for name in names:
        w = WORKLOADS[name]
        if w.conv and not hasattr(lincoln.layers, "Conv2D"):
            print(f"| {name} | - | Conv2D not available | | | | |")
            continue
        diff = verify(w)
        if diff > 1e-8:
            raise SystemExit(
                f"{name}: lincoln and the hand-written loop disagree by {diff}"
            )
        for dt in dtypes:
            r = measure(w, np.dtype(dt), steps, reps, args.threads)
            t = r.get("torch")
            print(
                f"| {name} | {dt} | {r['lincoln']:,.0f} | {r['hand']:,.0f} | "
                f"{r['lincoln'] / r['hand']:.2f} | "
                + (f"{t:,.0f} | {r['lincoln'] / t:.2f} |" if t else "- | - |"),
                flush=True,
            )
            if w.conv:
                loops[dt] = (measure_loop_conv(w, np.dtype(dt)), r["lincoln"])
    for dt, (loop, ours) in loops.items():
        print(
            f"\nW3 {dt}: a loop-based convolution (Python loops over samples and "
            f"pixels, like the book's) trains {loop:,.0f} samples/s; lincoln is "
            f"{ours / loop:,.0f}x faster."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
