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
    spec = importlib.util.spec_from_file_location("lincoln_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4"])
def test_hand_written_loop_reaches_lincolns_parameters(benchmark, name: str) -> None:  # type: ignore[no-untyped-def]
    # 20 training steps in float64 from the same start; W4 (a CNN, slower)
    # takes 5 on Fashion-MNIST images, whose zero background makes max-pooling
    # ties common
    steps = 20
    if name == "W4":
        steps = 5
    assert benchmark.verify(benchmark.WORKLOADS[name], steps) < 1e-10
