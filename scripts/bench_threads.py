"""How the thread setting changes a training step of a convolutional network.

One lincoln network, trained by the book's loop (``net.train_batch``;
``optim.step``), under four settings, repetitions interleaved and the best of
each counted:

* BLAS's threads alone (lincoln's own work on one thread: what a loop outside
  ``lincoln.threads.training`` gets);
* lincoln's threads beside BLAS's threads;
* lincoln's threads, each product on one BLAS thread (what ``Trainer.fit`` does
  for a convolutional network, ``lincoln.threads.training``);
* one thread in all.

    python scripts/bench_threads.py                 # W4, 2 threads
    python scripts/bench_threads.py --workload W3 --threads 4
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
from bench_refs.workloads import (
    MOMENTUM,
    WORKLOADS,
    batch_slice,
    lincoln_net,
    make_data,
)

import lincoln
from lincoln import SGDMomentum
from lincoln import threads as lincoln_threads

SETTINGS = {  # name: (BLAS threads, lincoln threads) as factors of --threads
    "BLAS's threads alone": (1, 0),
    "lincoln's threads beside BLAS's": (1, 1),
    "lincoln's threads, one BLAS thread each": (0, 1),
    "one thread in all": (0, 0),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=["W3", "W4"], default="W4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    w, dtype = WORKLOADS[args.workload], np.dtype(np.float32)
    X, y = make_data(w, max(args.steps * w.batch // 4, 4 * w.batch), dtype)
    net = lincoln_net(w, dtype)
    optim = SGDMomentum(w.lr, momentum=MOMENTUM)
    lincoln.Trainer(net, optim)
    net.loss.check_targets = False

    def steps() -> None:
        for i in range(args.steps):
            b = batch_slice(w, len(X), i)
            net.train_batch(X[b], y[b])
            optim.step()

    def timed(blas: int, workers: int) -> Callable[[], float]:
        def run() -> float:
            with lincoln_threads.limit(blas):
                previous, lincoln_threads._workers = lincoln_threads._workers, workers
                try:
                    start = time.perf_counter()
                    steps()
                    return time.perf_counter() - start
                finally:
                    lincoln_threads._workers = previous

        return run

    runs = {
        name: timed(max(1, blas * args.threads), max(1, own * args.threads))
        for name, (blas, own) in SETTINGS.items()
    }
    best = {name: float("inf") for name in runs}
    for run in runs.values():  # warm up
        run()
    for _ in range(args.reps):
        for name, run in runs.items():
            best[name] = min(best[name], run())
    print(
        f"{args.workload}, float32, {args.threads} threads, "
        f"lincoln {lincoln.__version__}"
    )
    for name, seconds in best.items():
        print(f"  {name:42s} {args.steps * w.batch / seconds:8,.0f} samples/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
