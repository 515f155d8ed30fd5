"""How many threads the numerical libraries under lincoln may use.

NumPy's matrix products run in a BLAS library (OpenBLAS, MKL or BLIS), and some
builds also use OpenMP; each starts one thread per core by default. That is the
fastest choice on an idle machine. On a machine shared with other busy
processes it can be many times slower: BLAS threads wait for each other by
spinning, so one descheduled thread stalls every product. One thread per
training process is then the right setting (``lincoln train --threads 1``).

This module sets the count through ``threadpoolctl``, the package scikit-learn
uses for the same purpose: :func:`limit` for a block of code, :func:`set_threads`
for the rest of the process, :func:`get_threads` to read it.

lincoln also has threads of its own, which share a batch's convolution and
pooling work (:mod:`lincoln.ops.parallel`). :func:`training` chooses between
the two for a network: ``Trainer`` trains and evaluates inside it.

Example:
    >>> from lincoln import threads
    >>> with threads.limit(1):
    ...     pass  # training here uses one BLAS/OpenMP thread
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from .errors import ConfigError, check_positive_int

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - depends on the installation
    threadpoolctl = None

__all__ = [
    "limit",
    "set_threads",
    "get_threads",
    "check_threads",
    "workers",
    "available_cores",
    "training",
    "shares_batches",
    "share_cores",
]

# lincoln's own thread count, set by training()
_workers = 1
# inside training(): what moves BLAS to one thread, until share_cores() calls it
_one_blas_thread: Callable[[], object] | None = None


def _threadpoolctl() -> Any:
    if threadpoolctl is None:
        raise ConfigError(
            "lincoln.threads needs the threadpoolctl package: "
            "pip install 'lincoln[threads]'"
        )
    return threadpoolctl


def _check(threads: Any) -> int:
    return check_positive_int("lincoln.threads", "threads", threads)


def check_threads(threads: Any, owner: str = "lincoln.threads") -> int | None:
    """``threads`` as a positive int, or None (no limit).

    Raises:
        ConfigError: not a positive integer or None, or (when not None)
            threadpoolctl is not installed.
    """
    if threads is None:
        return None
    n = check_positive_int(owner, "threads", threads)
    _threadpoolctl()
    return n


@contextmanager
def limit(threads: int | None) -> Iterator[None]:
    """Use at most ``threads`` BLAS and OpenMP threads inside the ``with`` block;
    the previous counts are restored when it ends. ``None`` changes nothing.

    Args:
        threads: a positive number of threads, or None.

    Raises:
        ConfigError: ``threads`` is not a positive integer (or None), or
            threadpoolctl is not installed.

    Example:
        >>> from lincoln import threads
        >>> with threads.limit(1):
        ...     threads.get_threads()
        1
    """
    if threads is None:
        yield
        return
    n = _check(threads)
    with _threadpoolctl().threadpool_limits(limits=n):
        yield


def set_threads(threads: int) -> None:
    """Use at most ``threads`` BLAS and OpenMP threads from now on, in this process.

    Raises:
        ConfigError: ``threads`` is not a positive integer, or threadpoolctl is
            not installed.
    """
    _threadpoolctl().threadpool_limits(limits=_check(threads))


def get_threads() -> int | None:
    """The largest thread count of the BLAS and OpenMP libraries loaded in this
    process, or None when threadpoolctl finds none.

    Raises:
        ConfigError: threadpoolctl is not installed.
    """
    counts = [pool["num_threads"] for pool in _threadpoolctl().threadpool_info()]
    return max(counts, default=None)


@functools.cache
def available_cores() -> int:
    """The number of cores this process may run on (read once)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS and Windows


def workers() -> int:
    """How many threads lincoln itself may use for a batch's work: the count
    :func:`training` set, else 1."""
    return _workers


def shares_batches(network: Any) -> bool:
    """True if a layer of ``network`` shares its batch's work between lincoln's
    threads (its class says ``shares_batch = True``: convolution, pooling)."""
    layers = getattr(network, "layers", [])
    return any(getattr(layer, "shares_batch", False) for layer in layers)


@contextmanager
def training(threads: int | None, network: Any) -> Iterator[None]:
    """The threads for training or evaluating ``network`` inside the block.

    Every network gets at most ``threads`` BLAS threads, as with :func:`limit`.
    A network whose layers share their batch's work (:func:`shares_batches`)
    also gets ``threads`` lincoln threads (None: one per available core). The
    first time a batch's work is large enough to be shared (:func:`share_cores`),
    BLAS drops to one thread until the block ends: each of lincoln's threads
    then runs its own products, and idle BLAS threads, which keep spinning for
    a while after every product, would take turns on the cores with lincoln's
    (on one 2-core machine a small CNN trained at 2,101 samples/s that way and
    at 2,487 with one BLAS thread; on a faster one, BLAS's threads alone did
    as well or 4-19% better: ``scripts/bench_threads.py``, docs/benchmarks.md).

    Raises:
        ConfigError: ``threads`` is not a positive integer (or None), or is an
            integer and threadpoolctl is not installed.
    """
    global _workers, _one_blas_thread
    if not shares_batches(network) or threadpoolctl is None:
        with limit(threads):
            yield
        return
    n = available_cores() if threads is None else _check(threads)
    previous = _workers, _one_blas_thread
    with limit(threads), ExitStack() as later:
        _workers = n
        _one_blas_thread = lambda: later.enter_context(  # noqa: E731
            threadpoolctl.threadpool_limits(limits=1)
        )
        try:
            yield
        finally:
            _workers, _one_blas_thread = previous


def share_cores() -> None:
    """Called by :mod:`lincoln.ops.parallel` before it first shares work between
    threads inside :func:`training`: BLAS runs on one thread from then on."""
    global _one_blas_thread
    if _one_blas_thread is not None:
        switch, _one_blas_thread = _one_blas_thread, None
        switch()
