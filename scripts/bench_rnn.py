"""W5: a character LSTM's training step, lincoln against a hand-written NumPy
LSTM and PyTorch's ``nn.LSTM`` (when torch is importable; never a dependency).

The network is ``Embedding(62, 64) -> LSTM(256) -> Dense(62)`` over sequences
of 64 characters, batch 32, softmax cross-entropy over every step, Adam
(lr 2e-3) with the gradients clipped to a global norm of 5. A step is: slice
the batch, forward, loss, backward, clipping, update. Repetitions are
interleaved (lincoln, hand, torch, lincoln, ...) in one process, so a noisy
machine slows all of them alike; the best repetition of each counts, and the
ratios are taken between those.

    python scripts/bench_rnn.py                  # float32, 20 steps x 5 reps
    python scripts/bench_rnn.py --steps 10 --reps 3
    OPENBLAS_NUM_THREADS=1 python scripts/bench_rnn.py --torch-threads 1 --cpu-time

``scripts/benchmark.py`` imports :func:`measure_w5` and :func:`verify_w5`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import lincoln
from lincoln.activations import Linear
from lincoln.layers.dense import Dense
from lincoln.layers.embedding import Embedding
from lincoln.layers.recurrent import LSTM
from lincoln.losses import SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import Adam
from lincoln.updates import adam_update, clip_by_global_norm

try:  # optional reference
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

__all__ = ["W5", "w5_data", "w5_net", "run_lincoln_w5", "run_hand_w5", "run_torch_w5"]
__all__ += ["verify_w5", "measure_w5", "main"]

W5 = {"vocab": 62, "dim": 64, "hidden": 256, "steps": 64, "batch": 32}
LR, CLIP = 2e-3, 5.0
Runner = Callable[[], None]


def w5_data(n_batches: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random character ids and next-character targets, ``n_batches`` batches."""
    rng = np.random.default_rng(seed)
    n = n_batches * W5["batch"] * W5["steps"] + 1
    text = rng.integers(0, W5["vocab"], n)
    X = text[:-1].reshape(-1, W5["steps"])
    y = text[1:].reshape(-1, W5["steps"])
    return X, y


def w5_net(dtype: Any = np.float32) -> NeuralNetwork:
    return NeuralNetwork(
        [
            Embedding(W5["vocab"], W5["dim"]),
            LSTM(W5["hidden"]),
            Dense(W5["vocab"], Linear()),
        ],
        SoftmaxCrossEntropy(),
        seed=5,
        dtype=dtype,
    )


def _batches(X: np.ndarray, i: int) -> slice:
    bs = W5["batch"]
    s = (i * bs) % (len(X) - bs + 1)
    return slice(s, s + bs)


def run_lincoln_w5(X: np.ndarray, y: np.ndarray, steps: int, dtype: Any) -> Runner:
    net = w5_net(dtype)
    optim = Adam(LR, clip_norm=CLIP)
    optim.bind(net)
    net.loss.check_targets = False  # as in Trainer.fit, which checks labels once

    def go() -> None:
        for i in range(steps):
            b = _batches(X, i)
            net.train_batch(X[b], y[b])
            optim.step()

    net.build((W5["steps"],))
    go.params = net.params()  # type: ignore[attr-defined]
    return go


# -- the hand-written LSTM ------------------------------------------------------------


class _HandLSTM:
    """The W5 step fused by hand into plain NumPy with preallocated buffers.

    Written apart from lincoln's layers (it shares only the gate order
    i, f, o, g and the initial parameters) as a floor to compare them with. It
    works batch-major, the textbook layout: ``x W_x``, ``h W_h``.
    """

    def __init__(self, params: list[np.ndarray]) -> None:
        self.p = params  # E, W_x, b, W_h, W_d, b_d in lincoln's shapes
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0
        B, T, H = W5["batch"], W5["steps"], W5["hidden"]
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
        T, B, H = self.A.shape[0], self.A.shape[1], W5["hidden"]
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
        T, B, H = self.A.shape[0], self.A.shape[1], W5["hidden"]
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
            adam_update(p, g, m, v, self.t, LR, 0.9, 0.999, 1e-8)
        return loss


def run_hand_w5(X: np.ndarray, y: np.ndarray, steps: int, dtype: Any) -> Runner:
    hand = _HandLSTM([p.copy() for p in run_lincoln_w5(X, y, 0, dtype).params])

    def go() -> None:
        for i in range(steps):
            b = _batches(X, i)
            hand.step(X[b], y[b])

    go.params = hand.p  # type: ignore[attr-defined]
    return go


# -- PyTorch --------------------------------------------------------------------------


def run_torch_w5(X: np.ndarray, y: np.ndarray, steps: int, dtype: Any) -> Runner:
    tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    torch.manual_seed(0)
    V, D, H = W5["vocab"], W5["dim"], W5["hidden"]
    emb = torch.nn.Embedding(V, D).to(tdtype)
    lstm = torch.nn.LSTM(D, H, batch_first=True).to(tdtype)
    head = torch.nn.Linear(H, V).to(tdtype)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def go() -> None:
        for i in range(steps):
            b = _batches(X, i)
            opt.zero_grad()
            logits = head(lstm(emb(Xt[b]))[0])
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, V), yt[b].reshape(-1)
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, CLIP)
            opt.step()

    return go


# -- the measurement -------------------------------------------------------------


def verify_w5(steps: int = 5) -> float:
    """Largest difference between lincoln's and the hand loop's parameters after
    ``steps`` steps from the same start in float64."""
    X, y = w5_data(steps)
    ours = run_lincoln_w5(X, y, steps, np.float64)
    hand = run_hand_w5(X, y, steps, np.float64)
    ours()
    hand()
    return max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(ours.params, hand.params, strict=True)
    )


def measure_w5(
    steps: int = 20,
    reps: int = 5,
    dtype: Any = np.float32,
    torch_threads: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Characters per second of each runner (best of ``reps`` interleaved reps).

    ``clock=time.process_time`` counts the CPU time of this process instead of
    wall time: on a machine shared with other work, with one thread each
    (``OPENBLAS_NUM_THREADS=1``, ``torch_threads=1``), it measures the work
    itself rather than the time slices the scheduler grants.
    """
    X, y = w5_data(max(steps, 4))
    runners = {
        "lincoln": run_lincoln_w5(X, y, steps, dtype),
        "hand": run_hand_w5(X, y, steps, dtype),
    }
    if torch is not None:
        torch.set_num_threads(torch_threads)
        runners["torch"] = run_torch_w5(X, y, steps, dtype)
    best = {name: float("inf") for name in runners}
    for fn in runners.values():  # warm up caches and BLAS threads
        fn()
    order = list(runners)
    for rep in range(reps):
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            t0 = clock()
            runners[name]()
            best[name] = min(best[name], clock() - t0)
            if name == "torch":
                time.sleep(0.3)  # let torch's OpenMP threads stop spinning
    chars = steps * W5["batch"] * W5["steps"]
    return {name: chars / t for name, t in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="W5: character LSTM training step")
    parser.add_argument("--steps", type=int, default=20, help="steps per repetition")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=2,
        help="torch's threads (NumPy's BLAS follows OPENBLAS_NUM_THREADS)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time (use with one thread each)",
    )
    args = parser.parse_args(argv)
    diff = verify_w5()
    if diff > 1e-8:
        raise SystemExit(f"W5: lincoln and the hand-written LSTM disagree by {diff}")
    clock = time.process_time if args.cpu_time else time.perf_counter
    r = measure_w5(
        args.steps, args.reps, np.dtype(args.dtype), args.torch_threads, clock
    )
    t = r.get("torch")
    print(
        f"lincoln {lincoln.__version__}, numpy {np.__version__}, "
        + (f"torch {torch.__version__}" if torch is not None else "torch not installed")
    )
    print(
        "| workload | dtype | lincoln chars/s | hand chars/s | lincoln / hand "
        "| torch chars/s | lincoln / torch |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| W5 | {args.dtype} | {r['lincoln']:,.0f} | {r['hand']:,.0f} | "
        f"{r['lincoln'] / r['hand']:.2f} | "
        + (f"{t:,.0f} | {r['lincoln'] / t:.2f} |" if t else "- | - |")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
