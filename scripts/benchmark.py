"""Training-step speed of lincoln against a hand-written NumPy loop (and PyTorch).

For each workload the same network is trained, from the same data, by

* lincoln: ``net.train_batch(X, y)`` then ``optim.step()`` per batch, as
  ``Trainer.fit`` does it;
* a hand-written loop: the same math fused by hand into one NumPy function with
  preallocated buffers, the fastest this library could hope to be
  (``scripts/bench_refs/``);
* PyTorch on the CPU, when ``torch`` is importable (never a dependency).

A step is: slice the batch, forward, loss (its value kept, as a training loop
reports it), backward, optimizer update.
Repetitions are interleaved (lincoln, hand, torch, lincoln, ...) so that a noisy
machine slows all of them alike; the best repetition of each counts.

    python scripts/benchmark.py                 # all workloads, float32 and float64
    python scripts/benchmark.py --quick         # fewer steps
    python scripts/benchmark.py --threads 1     # one BLAS/OpenMP thread for all
    python scripts/benchmark.py --workload W1 --dtype float32
    python scripts/benchmark.py --workload W5 --threads 1 --cpu-time

Workloads:
    W1  784-89-10, sigmoid, softmax cross-entropy, SGD momentum, batch 60
    W2  784-256-128-10, ReLU, softmax cross-entropy, SGD momentum, batch 128
    W3  conv 1->8 3x3 same + ReLU + flatten + dense 10, batch 32
    W4  0.2.0's configs/fashion_cnn.toml without dropout: conv 16 3x3 same
        + ReLU + max-pool 2, conv 32 3x3 same + ReLU + max-pool 2, flatten, dense
        128 ReLU, dense 10; SGD momentum, batch 64, on Fashion-MNIST images
    W5  a character model: Embedding(62, 64) -> LSTM(256) -> Dense(62) over every
        step, softmax cross-entropy, Adam lr 2e-3 with the gradients clipped to
        a global norm of 5, batch 32 sequences of 64 characters (a sample is a
        sequence; characters/s = 64 x samples/s); --steps / 20 steps per
        repetition (a step costs about twenty of W1's)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
from bench_refs.hand_cnn import run_hand_cnn
from bench_refs.hand_dense import run_hand_conv, run_hand_mlp, run_loop_conv
from bench_refs.hand_lstm import run_hand_lstm
from bench_refs.workloads import (
    CLIP,
    MOMENTUM,
    WORKLOADS,
    Workload,
    batch_slice,
    lincoln_net,
    make_data,
)

import lincoln
from lincoln import Adam, SGDMomentum
from lincoln import threads as lincoln_threads

try:  # optional reference
    from bench_refs.torch_refs import run_torch, set_torch_threads, torch_version
except ImportError:  # pragma: no cover - depends on the machine
    run_torch = set_torch_threads = torch_version = None  # type: ignore[assignment]

Runner = Callable[[], None]
HAND = {
    "mlp": run_hand_mlp,
    "conv": run_hand_conv,
    "cnn": run_hand_cnn,
    "lstm": run_hand_lstm,
}


def run_lincoln(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Runner:
    net = lincoln_net(w, dtype)
    if w.optimizer == "adam":
        optim: lincoln.Optimizer = Adam(w.lr, clip_norm=CLIP)
    else:
        optim = SGDMomentum(w.lr, momentum=MOMENTUM)
    lincoln.Trainer(net, optim)
    net.loss.check_targets = False  # as in Trainer.fit, which checks all labels once

    def go() -> None:
        for i in range(steps):
            b = batch_slice(w, len(X), i)
            net.train_batch(X[b], y[b])
            optim.step()

    go.params = net.params()  # type: ignore[attr-defined]
    return go


def verify(w: Workload, steps: int | None = None) -> float:
    """Largest difference between lincoln's and the hand loop's parameters after
    ``steps`` steps (20, or 5 for the costlier W5) from the same start in
    float64: the two compute the same thing."""
    steps = steps or (20 if w.cost == 1 else 5)
    dtype = np.dtype(np.float64)
    X, y = make_data(w, n=steps * w.batch + 1, dtype=dtype)
    ours = run_lincoln(w, X, y, dtype, steps)
    hand = HAND[w.kind](w, X, y, dtype, steps)
    ours()
    hand()
    return max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(ours.params, hand.params, strict=True)
    )


def measure(
    w: Workload,
    dtype: np.dtype,
    steps: int,
    reps: int,
    threads: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Samples per second of each runner, the best of ``reps`` interleaved
    repetitions of ``steps`` steps, timed with ``clock``."""
    X, y = make_data(w, n=max(steps * w.batch // 4, 4 * w.batch), dtype=dtype)
    runners = {
        "lincoln": run_lincoln(w, X, y, dtype, steps),
        "hand": HAND[w.kind](w, X, y, dtype, steps),
    }
    if run_torch is not None:
        set_torch_threads(threads)
        runners["torch"] = run_torch(w, X, y, dtype, steps)
    best = {name: float("inf") for name in runners}
    for fn in runners.values():  # warm up caches and BLAS threads
        fn()
    order = list(runners)
    for rep in range(reps):
        # rotate who goes first, so no runner always follows the same one
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            t0 = clock()
            runners[name]()
            best[name] = min(best[name], clock() - t0)
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
    parser.add_argument(
        "--steps", type=int, default=200, help="steps per repetition (W5: / 20)"
    )
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions")
    parser.add_argument("--quick", action="store_true", help="50 steps, 3 repetitions")
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS/OpenMP threads of every runner"
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with this process's CPU time instead of wall time (with "
        "--threads 1 on a shared machine: the work, not the time slices granted)",
    )
    args = parser.parse_args(argv)
    with lincoln_threads.limit(args.threads):
        return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    steps, reps = (50, 3) if args.quick else (args.steps, args.reps)
    names = args.workload or sorted(WORKLOADS)
    dtypes = args.dtype or ["float32", "float64"]
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(
        f"lincoln {lincoln.__version__}, numpy {np.__version__}"
        + (f", torch {torch_version()}" if torch_version else ", torch not installed")
        + f", {args.threads} thread(s)"
        + (", CPU time" if args.cpu_time else "")
    )
    print(
        "| workload | dtype | lincoln samples/s | hand-written samples/s "
        "| lincoln / hand | torch samples/s | lincoln / torch |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    loops: dict[str, tuple[float, float]] = {}
    for name in names:
        w = WORKLOADS[name]
        diff = verify(w)
        if diff > 1e-8:
            raise SystemExit(
                f"{name}: lincoln and the hand-written loop disagree by {diff}"
            )
        for dt in dtypes:
            r = measure(
                w, np.dtype(dt), max(2, steps // w.cost), reps, args.threads, clock
            )
            t = r.get("torch")
            print(
                f"| {name} | {dt} | {r['lincoln']:,.0f} | {r['hand']:,.0f} | "
                f"{r['lincoln'] / r['hand']:.2f} | "
                + (f"{t:,.0f} | {r['lincoln'] / t:.2f} |" if t else "- | - |"),
                flush=True,
            )
            if w.kind == "conv":
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
