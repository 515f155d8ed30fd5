"""A batch's work shared between lincoln's own threads.

BLAS spreads a large matrix product over every core, but NumPy's copies and
element-wise arithmetic run on one, and in a convolutional network (im2col,
col2im, pooling, bias, ReLU) they take about as long as the products. NumPy
releases the GIL inside those loops and inside its products, so Python threads
that each take a share of the batch run them in parallel.

:func:`over_batch` does that split. An operation writes its work as a function
of a slice of batch rows and calls ``over_batch(work, n, size)``; the work must
only write rows of the slice it is given. Small work stays on the calling
thread: handing a share to another thread and waiting for it costs about 0.1 ms,
as much as a ReLU over 100,000 numbers. :func:`matmul_rows` and
:func:`matmul_over_samples` are the two products of a dense layer, split the
same way.

The number of threads is :func:`lincoln.threads.workers`: 1, except inside
:func:`lincoln.threads.training` for a convolutional network, which also moves
BLAS to one thread once work is shared, so that each share's products do not
compete with BLAS's own threads. A share's result is computed by the same
arithmetic whichever thread computes it; only a product's float rounding may
depend on how many columns it has.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np

from .. import threads
from ..base import Array

__all__ = [
    "over_batch",
    "matmul_rows",
    "matmul_over_samples",
    "sum_over_batch",
    "product_work",
    "MIN_WORK_PER_THREAD",
]

# the least work worth a thread, in elements read or written (about 0.25 ms)
MIN_WORK_PER_THREAD = 1 << 18
# a matrix product does about this many multiply-adds in the time an element-wise
# loop reads or writes one element (measured with OpenBLAS, float32)
MULTIPLY_ADDS_PER_ELEMENT = 16

_inside = threading.local()  # .share is True while a thread runs a share


def _share(work: Callable[[slice], object], rows: slice) -> None:
    _inside.share = True
    try:
        work(rows)
    finally:
        _inside.share = False


def _nothing(rows: slice) -> None:
    pass


class _Worker:
    """A thread that runs one share at a time. The share is handed over and
    its end reported through two locks, each released by the other thread:
    about 20 microseconds a round trip, a quarter of what an executor's
    futures cost."""

    def __init__(self) -> None:
        self._start, self._finished = threading.Lock(), threading.Lock()
        self._start.acquire()
        self._finished.acquire()
        self._work: Callable[[slice], object] = _nothing
        self._rows = slice(0, 0)
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="lincoln-batch", daemon=True).start()

    def start(self, work: Callable[[slice], object], rows: slice) -> None:
        self._work, self._rows, self._error = work, rows, None
        self._start.release()

    def join(self) -> BaseException | None:
        """Wait for the share to end; what it raised, if anything.

        Raises:
            KeyboardInterrupt: Ctrl-C came while waiting; it is raised once the
                share has ended, so that no share is left writing.
        """
        interrupted = None
        while True:
            try:
                self._finished.acquire()
                break
            except KeyboardInterrupt as error:
                interrupted = error
        if interrupted is not None:
            raise interrupted
        return self._error

    def _run(self) -> None:
        while True:
            self._start.acquire()
            try:
                _share(self._work, self._rows)
            except BaseException as error:  # handed to the caller by join
                self._error = error
            finally:
                self._finished.release()


_helpers: list[_Worker] = []  # started when first needed
_dispatch = threading.Lock()  # one caller shares work at a time


def _join_all(helpers: list[_Worker]) -> list[BaseException | None]:
    """Wait for every helper's share; Ctrl-C is raised after the last one."""
    errors: list[BaseException | None] = []
    interrupted = None
    for helper in helpers:
        try:
            errors.append(helper.join())
        except KeyboardInterrupt as error:
            interrupted = error
    if interrupted is not None:
        raise interrupted
    return errors


def _forget_workers() -> None:
    # a forked child has the worker objects but none of their threads
    global _helpers, _dispatch
    _helpers, _dispatch = [], threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def _shares(n: int, size: int) -> int:
    """How many threads ``n`` rows and ``size`` elements of work are worth."""
    workers = threads.workers()
    if workers == 1 or getattr(_inside, "share", False):
        return 1  # one thread, or already inside a share: no more threads
    return min(workers, threads.available_cores(), n, size // MIN_WORK_PER_THREAD)


def product_work(multiply_adds: int) -> int:
    """The multiply-adds of a matrix product, counted as element-wise work."""
    return multiply_adds // MULTIPLY_ADDS_PER_ELEMENT


def over_batch(work: Callable[[slice], object], n: int, size: int) -> None:
    """Call ``work(rows)`` for consecutive slices ``rows`` covering ``range(n)``,
    in parallel threads when the work is large enough.

    Args:
        work: does the work for the batch rows ``rows`` (a slice); it must not
            write outside them. Its return value is ignored.
        n: the batch size.
        size: the work of the whole call, which decides how many threads
            are worth using: the array elements it reads and writes, plus
            :func:`product_work` for its matrix products.

    Raises:
        whatever ``work`` raised (in any thread), after every share has ended.
    """
    shares = _shares(n, size)
    if shares <= 1:
        work(slice(0, n))
        return
    if not _dispatch.acquire(blocking=False):
        work(slice(0, n))  # another thread is sharing its work already
        return
    try:
        threads.share_cores()
        while len(_helpers) < shares - 1:
            _helpers.append(_Worker())
        bounds = [n * k // shares for k in range(shares + 1)]
        helpers = _helpers[: shares - 1]
        for k, helper in enumerate(helpers, start=1):
            helper.start(work, slice(bounds[k], bounds[k + 1]))
        try:
            _share(work, slice(bounds[0], bounds[1]))  # the caller's share
        finally:
            # no share may still be writing when this returns or raises
            errors = _join_all(helpers)
    finally:
        _dispatch.release()
    for error in errors:
        if error is not None:
            raise error


def matmul_rows(a: Array, b: Array) -> Array:
    """``a @ b`` for a 2-D ``a`` whose rows are samples, each thread
    multiplying a share of the rows (on one BLAS thread)."""
    size = product_work(a.size * b.shape[1])
    if _shares(len(a), size) <= 1:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    over_batch(lambda rows: np.matmul(a[rows], b, out=out[rows]), len(a), size)
    return out


def sum_over_batch(part: Callable[[slice], Array], n: int, size: int) -> Array:
    """The sum over the batch rows of ``part(rows)`` (an array computed from
    those rows alone): each thread computes its share's part, and the parts are
    added in row order.

    Args:
        part: the contribution of the rows ``rows`` (a slice), a new array.
        n, size: as for :func:`over_batch`.
    """
    if _shares(n, size) <= 1:
        return part(slice(0, n))
    partial: dict[int, Array] = {}
    over_batch(lambda rows: partial.__setitem__(rows.start, part(rows)), n, size)
    parts = [partial[start] for start in sorted(partial)]
    total = parts[0]
    for other in parts[1:]:
        total += other
    return total


def matmul_over_samples(a: Array, b: Array) -> Array:
    """``a.T @ b`` for 2-D ``a`` and ``b`` whose rows are samples (the sum over
    the samples of their outer products, e.g. a weight gradient)."""
    work = product_work(a.size * b.shape[1])
    return sum_over_batch(lambda rows: a[rows].T @ b[rows], len(a), work)
