"""Tests of lincoln.ops.parallel: a batch's element-wise work shared between
threads, and the operations that use it giving the same numbers on any
number of threads."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from lincoln import threads
from lincoln.layers import Conv2D, Flatten, MaxPool2D
from lincoln.ops import parallel
from lincoln.ops.parallel import MIN_ELEMENTS_PER_THREAD, over_batch


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(parallel, "_pool", None)  # sized for four


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_every_row_is_done_once(four_cores, n, workers):
    done = np.zeros(n, dtype=int)
    lock = threading.Lock()

    def work(rows: slice) -> None:
        with lock:
            done[rows] += 1

    with threads.limit(workers):
        over_batch(work, n, size=n * MIN_ELEMENTS_PER_THREAD)
    np.testing.assert_array_equal(done, np.ones(n, dtype=int))


def test_large_work_is_shared_between_threads_small_work_is_not(four_cores):
    names: list[str] = []
    together = threading.Barrier(4, timeout=10)

    def meet(rows: slice) -> None:
        together.wait()  # passes only if all four shares run at the same time

    def work(rows: slice) -> None:
        names.append(threading.current_thread().name)

    with threads.limit(4):
        over_batch(meet, 8, size=8 * MIN_ELEMENTS_PER_THREAD)
        over_batch(work, 8, size=MIN_ELEMENTS_PER_THREAD)  # one thread's worth
        assert names == [threading.current_thread().name]
    names.clear()
    with threads.limit(1):
        over_batch(work, 8, size=8 * MIN_ELEMENTS_PER_THREAD)
    assert len(names) == 1


def test_an_error_in_any_share_is_raised_after_all_shares_end(four_cores):
    finished: list[int] = []

    def work(rows: slice) -> None:
        if rows.start == 2:
            raise ValueError("share starting at row 2")
        finished.append(rows.start)

    with threads.limit(4), pytest.raises(ValueError, match="row 2"):
        over_batch(work, 8, size=8 * MIN_ELEMENTS_PER_THREAD)
    assert sorted(finished) == [0, 4, 6]


def test_workers_follow_limit_and_set_threads(monkeypatch):
    monkeypatch.setattr(threads, "_workers", None)
    assert threads.workers() == threads.available_cores()
    with threads.limit(1):
        assert threads.workers() == 1
        with threads.limit(3):
            assert threads.workers() == 3
        assert threads.workers() == 1
    assert threads.workers() == threads.available_cores()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_can_share_work(four_cores):
    with threads.limit(2):
        over_batch(lambda rows: None, 4, size=4 * MIN_ELEMENTS_PER_THREAD)  # pool up
        pid = os.fork()
        if pid == 0:  # the child: its copy of the pool has no threads
            done = np.zeros(4)
            over_batch(lambda rows: done.__setitem__(rows, 1), 4, 4 << 16)
            os._exit(0 if done.sum() == 4 else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _cnn_step(x: np.ndarray, g: np.ndarray) -> list[np.ndarray]:
    from lincoln import NeuralNetwork, ReLU

    net = NeuralNetwork(
        [
            Conv2D(8, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(2),
            Conv2D(4, 3, padding=1, stride=2, weight_init="he"),
            Flatten(),
        ],
        seed=3,
        dtype=x.dtype,
    )
    out = net.forward(x)
    net.backward(g.reshape(out.shape))
    return [out.copy(), *(p.copy() for p in net.param_grads())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cnn_results_do_not_depend_on_lincolns_thread_count(
    four_cores, monkeypatch, dtype
):
    # lincoln's own threads only (BLAS's count, which may change the rounding
    # of a product, stays as it is)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3, 20, 20)).astype(dtype)
    g = rng.standard_normal((24, 4 * 5 * 5)).astype(dtype)
    monkeypatch.setattr(threads, "_workers", 1)
    one = _cnn_step(x, g)
    monkeypatch.setattr(threads, "_workers", 4)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)  # split everything
    four = _cnn_step(x, g)
    for a, b in zip(one, four, strict=True):
        np.testing.assert_array_equal(a, b)
