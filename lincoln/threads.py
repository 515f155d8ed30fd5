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

Example:
    >>> from lincoln import threads
    >>> with threads.limit(1):
    ...     pass  # training here uses one BLAS/OpenMP thread
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
]


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
