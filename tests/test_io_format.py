"""The lincoln file format: lincoln.io.format (archive, header, atomic writes)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from io_helpers import mlp, rewrite, trained_mlp

from lincoln.errors import ModelFileError
from lincoln.io import HEADER_KEY, load, read_header
from lincoln.io.format import FORMAT, read, write


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# -- files that are not right ----------------------------------------------------------


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    trained_mlp().save(path)
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        load(tmp_path / "nope.npz")


def test_text_file_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.npz").write_text("these are not weights\n")
    with pytest.raises(ModelFileError, match="not a lincoln model file"):
        load(tmp_path / "notes.npz")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty or truncated"):
        load(tmp_path / "empty.npz")


def test_npy_file_is_not_a_model(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(ModelFileError, match="single .npy array"):
        load(tmp_path / "a.npy")


def test_npz_without_the_marker_names_its_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", weights=np.ones(3), bias=np.zeros(1))
    with pytest.raises(
        ModelFileError,
        match=r"without the '__lincoln_model__' header; "
        r"it holds 'bias', 'weights'",
    ):
        load(tmp_path / "other.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(model_file: Path, tmp_path: Path, keep: float) -> None:
    data = model_file.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load(tmp_path / "cut.npz")


def test_corrupted_bytes(model_file: Path, tmp_path: Path) -> None:
    data = bytearray(model_file.read_bytes())
    start = data.index(b"layers.0.params.0.npy") + 120  # inside that array's data
    data[start : start + 8] = b"\xff" * 8
    (tmp_path / "flip.npz").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt"):
        load(tmp_path / "flip.npz")


def test_object_array_is_refused_not_unpickled(
    model_file: Path, tmp_path: Path
) -> None:
    def header(h: dict[str, Any]) -> None:
        h["arrays"]["evil"] = {"shape": [1], "dtype": "object"}

    def arrays(d: dict[str, np.ndarray]) -> None:
        d["evil"] = np.array([{"run": "code"}], dtype=object)

    rewrite(model_file, tmp_path / "evil.npz", header, arrays)
    with pytest.raises(
        ModelFileError, match=r"'evil' holds Python objects \(dtype=object\)"
    ):
        load(tmp_path / "evil.npz")


@pytest.mark.parametrize(
    ("header", "arrays", "message"),
    [
        pytest.param(
            lambda h: h.update(format_version=99, lincoln_version="9.0"),
            None,
            r"newer lincoln \(9.0, file format version 99\).*Upgrade",
            id="newer-format-version",
        ),
        pytest.param(
            lambda h: h.update(format="keras"),
            None,
            "format 'keras'",
            id="other-format-name",
        ),
        pytest.param(
            None,
            lambda d: d.pop("layers.1.params.0"),
            r"missing: 'layers\.1\.params\.0'",
            id="array-missing-from-archive",
        ),
        pytest.param(
            None,
            lambda d: d.update({"layers.1.params.1": np.zeros((1, 4))}),
            r"'layers\.1\.params\.1' has shape \(1, 4\)",
            id="array-not-matching-its-header",
        ),
        pytest.param(
            None,
            lambda d: d.update(stowaway=np.zeros(1)),
            r"corrupt: arrays not listed in its header: 'stowaway'",
            id="array-not-listed",
        ),
        pytest.param(
            lambda h: h["arrays"]["layers.0.params.0"].pop("dtype"),
            None,
            r"corrupt header \(entry of array 'layers\.0\.params\.0'",
            id="array-entry-without-dtype",
        ),
        pytest.param(
            lambda h: h.update(kind="weights"),
            None,
            r"corrupt header \(kind='weights', expected one of model, checkpoint\)",
            id="unknown-kind",
        ),
        pytest.param(
            lambda h: h.update(format_version="1"),
            None,
            r"corrupt header \(format_version='1'\)",
            id="format-version-not-an-int",
        ),
        pytest.param(
            lambda h: h.pop("generators"),
            None,
            r"corrupt header \(no 'generators' entry\)",
            id="no-generators-entry",
        ),
        pytest.param(
            lambda h: h["network"].update(layers={}),
            None,
            r"corrupt header \(no layers\)",
            id="no-list-of-layers",
        ),
        pytest.param(
            lambda h: h["network"].pop("loss"),
            None,
            r"corrupt header \(no loss\)",
            id="no-loss",
        ),
        pytest.param(
            lambda h: h["generators"]["layers.0.operations.3.rng"].update(state=7),
            None,
            r"corrupt state of random generator 'layers\.0\.operations\.3\.rng'",
            id="corrupt-generator-state",
        ),
    ],
)
def test_an_edited_file_is_refused(
    model_file: Path, tmp_path: Path, header: Any, arrays: Any, message: str
) -> None:
    rewrite(model_file, tmp_path / "m.npz", header, arrays)
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "m.npz")


def test_corrupt_json_header(model_file: Path, tmp_path: Path) -> None:
    with np.load(model_file) as f:
        data = {k: f[k] for k in f.files}
    data[HEADER_KEY] = np.frombuffer(b"{not json", dtype=np.uint8)
    np.savez(tmp_path / "m.npz", **data)
    with pytest.raises(ModelFileError, match="corrupt header"):
        load(tmp_path / "m.npz")


def test_model_file_error_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load(tmp_path / "nope.npz")


# -- atomic writes ---------------------------------------------------------------------


class DiskFull(OSError):
    pass


def failing_savez(exc: BaseException):
    def savez(file: Any, *args: Any, **kwds: Any) -> None:
        file.write(b"PK\x03\x04 half an archive" * 100)  # some bytes reach the disk
        raise exc

    return savez


@pytest.mark.parametrize(
    "exc", [DiskFull("no space left on device"), KeyboardInterrupt()]
)
def test_failed_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    path = tmp_path / "model.npz"
    net = trained_mlp()
    net.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_savez(exc))
    with pytest.raises(type(exc)):
        net.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    load(path)  # still a valid model


def test_failed_first_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(np, "savez", failing_savez(DiskFull()))
    with pytest.raises(DiskFull):
        trained_mlp().save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_in_place_with_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "model"  # the name is kept as given: no extension is added
    net = trained_mlp()
    net.save(path)
    net.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_save_into_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no folder"):
        mlp().save(tmp_path / "nowhere" / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is not a file"):
        load(tmp_path)


def test_header_not_uint8(model_file: Path, tmp_path: Path) -> None:
    with np.load(model_file) as f:
        data = {k: f[k] for k in f.files}
    data[HEADER_KEY] = np.zeros(4, dtype=np.float32)
    np.savez(tmp_path / "m.npz", **data)
    with pytest.raises(ModelFileError, match="must be a 1-D uint8 array"):
        load(tmp_path / "m.npz")


def test_write_and_read_any_entries(tmp_path: Path) -> None:
    """The format knows its own fields and the list of arrays, nothing more."""
    path = tmp_path / "f.npz"
    entries = {"network": {"note": np.float32(0.5)}, "generators": {}, "extra": [1]}
    write(path, "model", entries, {"a": np.arange(3, dtype=np.int16)})
    f = read(path)
    assert f.header["format"] == FORMAT and f.header["format_version"] == 1
    assert f.header["network"] == {"note": 0.5} and f.header["extra"] == [1]
    assert f.header["arrays"] == {"a": {"shape": [3], "dtype": "int16"}}
    np.testing.assert_array_equal(f.arrays["a"], np.arange(3))
    assert read_header(path) == f.header
