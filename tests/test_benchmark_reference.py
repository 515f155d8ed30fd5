"""scripts/benchmark.py compares lincoln with hand-written loops: those loops
must compute exactly what lincoln computes, or the ratios mean nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark.py"


@pytest.fixture(scope="module")
def benchmark():  # type: ignore[no-untyped-def]
    # the script imports its references (scripts/bench_refs/) from its directory
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("lincoln_benchmark", SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(SCRIPT.parent))


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4", "W5"])
def test_hand_written_loop_reaches_lincolns_parameters(benchmark, name: str) -> None:  # type: ignore[no-untyped-def]
    # 20 training steps in float64 from the same start; W4 (a CNN, slower)
    # takes 5 on Fashion-MNIST images, whose zero background makes max-pooling
    # ties common; W5 (a character LSTM with Adam and clipping) takes 3
    steps = {"W4": 5, "W5": 3}.get(name, 20)
    assert benchmark.verify(benchmark.WORKLOADS[name], steps) < 1e-10


def test_w5_steps_change_the_parameters(benchmark) -> None:  # type: ignore[no-untyped-def]
    # agreement means something only if both runners train: after one step of
    # W5 every parameter has moved away from its starting value
    w = benchmark.WORKLOADS["W5"]
    dtype = benchmark.np.dtype("float64")
    X, y = benchmark.make_data(w, n=2 * w.batch, dtype=dtype)
    start = benchmark.lincoln_net(w, dtype).params()
    for runner in (benchmark.run_lincoln, benchmark.HAND["lstm"]):
        go = runner(w, X, y, dtype, 1)
        go()
        for before, after in zip(start, go.params, strict=True):
            assert benchmark.np.max(benchmark.np.abs(after - before)) > 1e-4
