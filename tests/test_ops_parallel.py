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
from lincoln.ops.parallel import MIN_WORK_PER_THREAD, over_batch


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(parallel, "_helpers", [])  # up to three helpers


def lincoln_threads(monkeypatch, n):
    monkeypatch.setattr(threads, "_workers", n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_every_row_is_done_once(four_cores, monkeypatch, n, workers):
    done = np.zeros(n, dtype=int)
    lock = threading.Lock()

    def work(rows: slice) -> None:
        with lock:
            done[rows] += 1

    lincoln_threads(monkeypatch, workers)
    over_batch(work, n, size=n * MIN_WORK_PER_THREAD)
    np.testing.assert_array_equal(done, np.ones(n, dtype=int))


def test_large_work_is_shared_between_threads_small_work_is_not(
    four_cores, monkeypatch
):
    names: list[str] = []
    together = threading.Barrier(4, timeout=10)

    def meet(rows: slice) -> None:
        together.wait()  # passes only if all four shares run at the same time

    def work(rows: slice) -> None:
        names.append(threading.current_thread().name)

    lincoln_threads(monkeypatch, 4)
    over_batch(meet, 8, size=8 * MIN_WORK_PER_THREAD)
    over_batch(work, 8, size=MIN_WORK_PER_THREAD)  # one thread's worth
    assert names == [threading.current_thread().name]
    names.clear()
    lincoln_threads(monkeypatch, 1)
    over_batch(work, 8, size=8 * MIN_WORK_PER_THREAD)
    assert len(names) == 1


def test_an_error_in_any_share_is_raised_after_all_shares_end(four_cores, monkeypatch):
    finished: list[int] = []

    def work(rows: slice) -> None:
        if rows.start == 2:
            raise ValueError("share starting at row 2")
        finished.append(rows.start)

    lincoln_threads(monkeypatch, 4)
    with pytest.raises(ValueError, match="row 2"):
        over_batch(work, 8, size=8 * MIN_WORK_PER_THREAD)
    assert sorted(finished) == [0, 4, 6]


def test_training_gives_a_cnn_lincolns_threads_then_one_blas_thread(four_cores):
    from lincoln import Dense, NeuralNetwork

    cnn = NeuralNetwork([Conv2D(2, 3), MaxPool2D(2), Flatten(), Dense(3)])
    mlp = NeuralNetwork([Dense(4), Dense(3)])
    assert threads.shares_batches(cnn) and not threads.shares_batches(mlp)
    assert threads.workers() == 1  # outside training: BLAS's threads only
    big = 8 * MIN_WORK_PER_THREAD
    with threads.limit(2):
        with threads.training(None, cnn):
            assert (threads.workers(), threads.get_threads()) == (4, 2)
            over_batch(lambda rows: None, 8, size=MIN_WORK_PER_THREAD)  # small
            assert threads.get_threads() == 2
            over_batch(lambda rows: None, 8, size=big)  # shared: BLAS steps aside
            assert (threads.workers(), threads.get_threads()) == (4, 1)
        assert (threads.workers(), threads.get_threads()) == (1, 2)
        with threads.training(3, cnn):
            over_batch(lambda rows: None, 8, size=big)
            assert (threads.workers(), threads.get_threads()) == (3, 1)
        with threads.training(None, mlp):
            over_batch(lambda rows: None, 8, size=big)
            assert (threads.workers(), threads.get_threads()) == (1, 2)
        with threads.training(1, mlp):
            assert (threads.workers(), threads.get_threads()) == (1, 1)
        assert (threads.workers(), threads.get_threads()) == (1, 2)


def test_trainer_trains_a_cnn_on_lincolns_threads(four_cores, monkeypatch):
    from lincoln import Dense, NeuralNetwork, SoftmaxCrossEntropy, Trainer
    from lincoln.optimizers import SGD

    seen: list[tuple[int, int | None]] = []
    cnn = NeuralNetwork(
        [Conv2D(2, 3), MaxPool2D(2), Flatten(), Dense(3, "linear")],
        SoftmaxCrossEntropy(),
        seed=0,
    )
    step = cnn.train_batch

    def spy(X, y):
        seen.append((threads.workers(), threads.get_threads()))
        return step(X, y)

    monkeypatch.setattr(cnn, "train_batch", spy)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 1, 6, 6)), rng.integers(0, 3, 8)
    Trainer(cnn, SGD(0.1), threads=2).fit(
        X, y, X, y, epochs=1, batch_size=4, verbose=False, progress=False
    )
    assert [workers for workers, _ in seen] == [2, 2]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_can_share_work(four_cores, monkeypatch):
    lincoln_threads(monkeypatch, 2)
    over_batch(lambda rows: None, 4, size=4 * MIN_WORK_PER_THREAD)  # pool up
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
    # the same numbers up to the rounding of a product, which may depend on
    # how many columns it has
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3, 20, 20)).astype(dtype)
    g = rng.standard_normal((24, 4 * 5 * 5)).astype(dtype)
    with threads.limit(1):
        lincoln_threads(monkeypatch, 1)
        one = _cnn_step(x, g)
        lincoln_threads(monkeypatch, 4)
        monkeypatch.setattr(parallel, "MIN_WORK_PER_THREAD", 1)  # split all
        four = _cnn_step(x, g)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(one, four, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def test_two_callers_at_once_each_get_all_their_rows(four_cores, monkeypatch):
    # a second thread sharing work while the first does runs its work itself
    lincoln_threads(monkeypatch, 4)
    counts = [np.zeros(64, dtype=int), np.zeros(64, dtype=int)]
    lock = threading.Lock()

    def caller(k: int) -> None:
        for _ in range(50):

            def work(rows: slice) -> None:
                with lock:
                    counts[k][rows] += 1

            over_batch(work, 64, size=64 * MIN_WORK_PER_THREAD)

    callers = [threading.Thread(target=caller, args=(k,)) for k in range(2)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    for count in counts:
        np.testing.assert_array_equal(count, np.full(64, 50))


def test_ctrl_c_while_waiting_waits_for_the_shares_first(four_cores, monkeypatch):
    import signal
    import time

    lincoln_threads(monkeypatch, 2)
    ended: list[float] = []

    def work(rows: slice) -> None:
        if rows.start == 0:  # the caller: Ctrl-C comes while it waits
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        else:
            time.sleep(0.3)
            ended.append(time.perf_counter())

    with pytest.raises(KeyboardInterrupt):
        over_batch(work, 8, size=8 * MIN_WORK_PER_THREAD)
    raised = time.perf_counter()
    assert ended and ended[0] <= raised  # the helper's share had ended
    done = np.zeros(8, dtype=int)
    over_batch(lambda rows: done.__setitem__(rows, done[rows] + 1), 8, 8 << 18)
    np.testing.assert_array_equal(done, np.ones(8, dtype=int))
