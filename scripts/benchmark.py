"""Training-step speed of lincoln against a hand-written NumPy loop (and PyTorch).

For each workload the same network is trained, from the same data, by

* lincoln: ``net.train_batch(X, y)`` then ``optim.step()`` per batch, as
  ``Trainer.fit`` does it;
* a hand-written loop: the same math fused by hand into one NumPy function with
  preallocated buffers, the fastest this library could hope to be;
* PyTorch on the CPU, when ``torch`` is importable (never a dependency).

A step is: slice the batch, forward, loss, backward, optimizer update.
Repetitions are interleaved (lincoln, hand, torch, lincoln, ...) so that a noisy
machine slows all of them alike; the best repetition of each counts.

    python scripts/benchmark.py                 # all workloads, float32 and float64
    python scripts/benchmark.py --quick         # fewer steps
    python scripts/benchmark.py --workload W1 --dtype float32

Workloads:
    W1  784-89-10, sigmoid, softmax cross-entropy, SGD momentum, batch 60
    W2  784-256-128-10, ReLU, softmax cross-entropy, SGD momentum, batch 128
    W3  conv 1->8 3x3 same + ReLU + flatten + dense 10, batch 32 (needs Conv2D)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import lincoln
from lincoln import Dense, Linear, NeuralNetwork, ReLU, Sigmoid, SGDMomentum, SoftmaxCrossEntropy

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


WORKLOADS = {
    "W1": Workload("W1", (784,), (89,), "sigmoid", 60),
    "W2": Workload("W2", (784,), (256, 128), "relu", 128),
    "W3": Workload("W3", (1, 28, 28), (), "relu", 32, conv=True),
}


# -- the shared starting point -----------------------------------------------------


def make_data(w: Workload, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, *w.input_shape)).astype(dtype)
    y = rng.integers(0, 10, n)
    return X, y


def lincoln_net(w: Workload, dtype: np.dtype) -> NeuralNetwork:
    if w.conv:
        conv2d = getattr(lincoln.layers, "Conv2D", None)
        if conv2d is None:
            raise RuntimeError("W3 needs lincoln.layers.Conv2D")
        layers = [conv2d(8, 3, activation=ReLU(), flatten=True, weight_init="glorot"),
                  Dense(10, Linear(), weight_init="glorot")]
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


def run_lincoln(w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype,
                steps: int) -> Callable[[], None]:
    net = lincoln_net(w, dtype)
    optim = SGDMomentum(LR, momentum=MOMENTUM)
    lincoln.Trainer(net, optim)
    bs = w.batch

    def go() -> None:
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            net.train_batch(X[s : s + bs], y[s : s + bs])
            optim.step()

    return go


# -- the hand-written loops --------------------------------------------------------


def run_hand_mlp(w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype,
                 steps: int) -> Callable[[], None]:
    params = initial_params(w, dtype)
    Ws, bs_ = params[0::2], params[1::2]
    vel = [np.zeros_like(p) for p in params]
    bs = w.batch
    rows = np.arange(bs)
    sigmoid = w.activation == "sigmoid"
    lr = dtype.type(LR)
    scale = dtype.type(1.0 / bs)

    def go() -> None:
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            acts = [xb]
            for W, b in zip(Ws[:-1], bs_[:-1]):
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
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[rows, yb] -= 1.0
            z *= scale
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
            for p, gr, v in zip(params, grads, vel):
                v *= MOMENTUM
                gr *= lr
                v += gr
                p -= v

    return go


def run_hand_conv(w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype,
                  steps: int) -> Callable[[], None]:
    params = initial_params(w, dtype)
    vel = [np.zeros_like(p) for p in params]
    # lincoln's Conv2D parameters: kernel first; find it by its 4-D shape
    kernel = next(p for p in params if p.ndim == 4)
    cout = 8
    k = 3
    K = kernel.reshape(cout, -1) if kernel.shape[0] == cout else kernel.reshape(-1, cout).T
    bs = w.batch
    rows = np.arange(bs)
    H = W_ = 28
    lr = dtype.type(LR)
    scale = dtype.type(1.0 / bs)
    dense_W = next(p for p in params if p.ndim == 2 and p.shape[0] == cout * H * W_)
    dense_b = next(p for p in params if p.ndim == 2 and p.shape == (1, 10))
    conv_b = [p for p in params if p.size == cout and p is not dense_b]
    padded = np.zeros((bs, 1, H + 2, W_ + 2), dtype=dtype)
    Kmat = K.copy()

    def go() -> None:
        for i in range(steps):
            s = (i * bs) % (len(X) - bs)
            xb, yb = X[s : s + bs], y[s : s + bs]
            padded[:, :, 1:-1, 1:-1] = xb
            win = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
            cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(bs * H * W_, k * k)
            out = cols @ Kmat.T  # (bs*H*W, cout)
            if conv_b:
                out += conv_b[0].reshape(1, cout)
            np.maximum(out, 0, out=out)
            feat = out.reshape(bs, H, W_, cout).transpose(0, 3, 1, 2).reshape(bs, -1)
            z = feat @ dense_W
            z += dense_b
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[rows, yb] -= 1.0
            z *= scale
            g_dW = feat.T @ z
            g_db = z.sum(axis=0, keepdims=True)
            g_feat = (z @ dense_W.T).reshape(bs, cout, H, W_).transpose(0, 2, 3, 1)
            g_out = g_feat.reshape(bs * H * W_, cout) * (out > 0)
            g_K = g_out.T @ cols
            updates = [(dense_W, g_dW), (dense_b, g_db), (Kmat, g_K)]
            if conv_b:
                updates.append((conv_b[0], g_out.sum(axis=0).reshape(conv_b[0].shape)))
            for (p, gr), v in zip(updates, vel):
                v_ = v if v.shape == p.shape else np.zeros_like(p)
                v_ *= MOMENTUM
                v_ += lr * gr
                p -= v_

    return go


# -- PyTorch -----------------------------------------------------------------------


def run_torch(w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype,
              steps: int) -> Callable[[], None]:
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    if w.conv:
        model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                    torch.nn.Flatten(), torch.nn.Linear(8 * 28 * 28, 10))
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
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
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


def measure(w: Workload, dtype: np.dtype, steps: int, reps: int) -> dict[str, float]:
    X, y = make_data(w, n=max(steps * w.batch // 4, 4 * w.batch), dtype=dtype)
    hand = run_hand_conv if w.conv else run_hand_mlp
    runners = {"lincoln": run_lincoln(w, X, y, dtype, steps),
               "hand": hand(w, X, y, dtype, steps)}
    if torch is not None:
        torch.set_num_threads(2)
        runners["torch"] = run_torch(w, X, y, dtype, steps)
    best = {name: float("inf") for name in runners}
    for fn in runners.values():  # warm up caches and BLAS threads
        fn()
    for _ in range(reps):
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: steps * w.batch / t for name, t in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lincoln training-step benchmark")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--dtype", choices=["float32", "float64"], action="append")
    parser.add_argument("--steps", type=int, default=200, help="steps per repetition")
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions")
    parser.add_argument("--quick", action="store_true", help="50 steps, 3 repetitions")
    args = parser.parse_args(argv)
    steps, reps = (50, 3) if args.quick else (args.steps, args.reps)
    names = args.workload or sorted(WORKLOADS)
    dtypes = args.dtype or ["float32", "float64"]

    print(f"lincoln {lincoln.__version__}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"))
    print("| workload | dtype | lincoln samples/s | hand-written samples/s | lincoln / hand "
          "| torch samples/s | lincoln / torch |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        w = WORKLOADS[name]
        if w.conv and not hasattr(lincoln.layers, "Conv2D"):
            print(f"| {name} | - | Conv2D not available | | | | |")
            continue
        for dt in dtypes:
            r = measure(w, np.dtype(dt), steps, reps)
            t = r.get("torch")
            print(f"| {name} | {dt} | {r['lincoln']:,.0f} | {r['hand']:,.0f} | "
                  f"{r['lincoln'] / r['hand']:.2f} | "
                  + (f"{t:,.0f} | {r['lincoln'] / t:.2f} |" if t else "- | - |"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
