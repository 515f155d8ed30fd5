"""Tests of lincoln.threads: the BLAS/OpenMP thread count, set and restored."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln import threads
from lincoln.errors import ConfigError


def test_limit_sets_and_restores_the_count() -> None:
    before = threads.get_threads()
    with threads.limit(1):
        assert threads.get_threads() == 1
        a = np.ones((64, 64))
        np.testing.assert_array_equal(a @ a, np.full((64, 64), 64.0))
    assert threads.get_threads() == before


def test_limit_none_changes_nothing() -> None:
    before = threads.get_threads()
    with threads.limit(None):
        assert threads.get_threads() == before


def test_limit_restores_after_an_error() -> None:
    before = threads.get_threads()
    with pytest.raises(RuntimeError), threads.limit(1):
        raise RuntimeError("boom")
    assert threads.get_threads() == before


def test_set_threads() -> None:
    before = threads.get_threads()
    assert before is not None  # NumPy's BLAS
    try:
        threads.set_threads(1)
        assert threads.get_threads() == 1
    finally:
        threads.set_threads(before)
    assert threads.get_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_bad_counts_are_config_errors(bad: object) -> None:
    with pytest.raises(ConfigError, match="threads must be a positive integer"):
        with threads.limit(bad):  # type: ignore[arg-type]
            pass
    with pytest.raises(ConfigError, match="threads must be a positive integer"):
        threads.set_threads(bad)  # type: ignore[arg-type]
