"""Tests of lincoln._files: the one atomic write behind model files and IDX files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from lincoln._files import atomic_write, create_temp
from lincoln.datasets.idx import write_idx


def test_atomic_write_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as fh:
        fh.write(b"new")
        assert path.read_bytes() == b"old"  # nothing visible until the end
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, exc: BaseException
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with pytest.raises(type(exc)):
        with atomic_write(path) as fh:
            fh.write(b"half")
            raise exc
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no folder"):
        with atomic_write(tmp_path / "nowhere" / "x.bin"):
            pass  # pragma: no cover - not reached
    with pytest.raises(FileNotFoundError, match="no folder"):
        write_idx(tmp_path / "nowhere" / "x.idx", np.zeros(3, dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_create_temp_makes_a_new_hidden_file_beside_the_target(tmp_path: Path) -> None:
    fd, tmp = create_temp(tmp_path / "train.gz")
    os.close(fd)
    fd2, tmp2 = create_temp(tmp_path / "train.gz")
    os.close(fd2)
    assert tmp != tmp2 and tmp.parent == tmp_path
    assert tmp.name.startswith(".train.gz.") and tmp.name.endswith(".tmp")
    assert tmp.stat().st_size == 0
