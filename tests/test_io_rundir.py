"""Tests of lincoln.io.rundir: folders checked before training, a run directory
written as a whole. The faults of issue 14 are in test_faults.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lincoln.errors import LincolnError
from lincoln.io.rundir import (
    check_run_dir,
    check_writable_dir,
    holds_run,
    write_run_dir_atomically,
)


def _files(text: str) -> list[tuple[str, Callable[[Path], object]]]:
    return [
        ("model.npz", lambda p: p.write_text(f"model {text}")),
        ("metrics.json", lambda p: p.write_text(f"metrics {text}")),
    ]


def test_a_run_directory_appears_whole(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "a"
    check_run_dir(out)  # creates runs/, not runs/a
    assert (tmp_path / "runs").is_dir() and not out.exists()
    assert write_run_dir_atomically(out, _files("1")) is False
    assert (out / "metrics.json").read_text() == "metrics 1" and holds_run(out)
    assert os.listdir(tmp_path / "runs") == ["a"]


def test_a_run_is_replaced_only_when_forced(tmp_path: Path) -> None:
    out = tmp_path / "a"
    write_run_dir_atomically(out, _files("1"))
    with pytest.raises(LincolnError, match="already holds a run; give --force"):
        check_run_dir(out)
    check_run_dir(out, force=True)
    assert write_run_dir_atomically(out, _files("2"), force=True) is True
    assert (out / "model.npz").read_text() == "model 2"
    assert os.listdir(tmp_path) == ["a"]


def test_a_run_written_meanwhile_is_kept_and_so_is_this_one(tmp_path: Path) -> None:
    out = tmp_path / "a"
    check_run_dir(out)  # nothing there yet ...

    def other_run_finishes_first(path: Path) -> None:
        write_run_dir_atomically(out, _files("other"))
        path.write_text("model mine")

    with pytest.raises(LincolnError, match="another run was written there") as info:
        write_run_dir_atomically(out, [("model.npz", other_run_finishes_first)])
    kept = tmp_path / f"a.new-{os.getpid()}"
    assert str(kept) in str(info.value)
    assert (out / "model.npz").read_text() == "model other"
    assert (kept / "model.npz").read_text() == "model mine"


def test_check_writable_dir_creates_and_probes(tmp_path: Path) -> None:
    folder = check_writable_dir(tmp_path / "a" / "b", "checkpoint_dir")
    assert folder.is_dir() and list(folder.iterdir()) == []
    (tmp_path / "f").write_text("")
    with pytest.raises(LincolnError, match="checkpoint_dir .*f: exists and is not"):
        check_writable_dir(tmp_path / "f", "checkpoint_dir")
