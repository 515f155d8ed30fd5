"""Element-wise work on a batch, shared between threads.

BLAS already spreads a large matrix product over every core. NumPy's copies and
element-wise arithmetic run on one, and in a convolutional network (im2col,
col2im, pooling, the bias) they take about as long as the products. NumPy
releases the GIL inside those loops, so Python threads that each take a share
of the batch run them in parallel.

:func:`over_batch` does that split. An operation writes its element-wise work as
a function of a slice of batch rows and calls ``over_batch(work, n, size)``;
the work must only write rows of the slice it is given. Small arrays stay on
the calling thread (a thread hand-off costs about as much as copying tens of
thousands of numbers). The number of threads is :func:`lincoln.threads.workers`
(every core by default, one under ``lincoln.threads.limit(1)`` or
``Trainer(threads=1)``). Results do not depend on it: every element is computed
by the same arithmetic whichever thread computes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from .. import threads

__all__ = ["over_batch", "MIN_ELEMENTS_PER_THREAD"]

MIN_ELEMENTS_PER_THREAD = 1 << 16  # fewer are not worth a thread hand-off

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=max(1, threads.available_cores() - 1),
            thread_name_prefix="lincoln-batch",
        )
    return _pool


def _forget_executor() -> None:
    # a forked child has the executor object but none of its threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def over_batch(work: Callable[[slice], object], n: int, size: int) -> None:
    """Call ``work(rows)`` for consecutive slices ``rows`` covering ``range(n)``,
    in parallel threads when the work is large enough.

    Args:
        work: does the work for the batch rows ``rows`` (a slice); it must not
            write outside them. Its return value is ignored.
        n: the batch size.
        size: the number of array elements the whole call touches, which
            decides how many threads are worth using.

    Raises:
        whatever ``work`` raised (in any thread), after every share has ended.
    """
    shares = min(
        threads.workers(), threads.available_cores(), n, size // MIN_ELEMENTS_PER_THREAD
    )
    if shares <= 1:
        work(slice(0, n))
        return
    bounds = [n * k // shares for k in range(shares + 1)]
    pool = _executor()
    futures = [
        pool.submit(work, slice(bounds[k], bounds[k + 1])) for k in range(1, shares)
    ]
    try:
        work(slice(bounds[0], bounds[1]))  # the calling thread takes the first share
    finally:
        wait(futures)  # no share may still be writing when this returns or raises
    for future in futures:
        future.result()  # re-raises a share's exception
