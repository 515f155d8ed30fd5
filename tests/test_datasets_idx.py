"""Tests of lincoln.datasets.idx: reading and writing IDX files, raw and gzipped."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from lincoln.datasets.idx import read_idx, write_idx
from lincoln.errors import DataError, DatasetNotFoundError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _sample(dtype: type, shape: tuple[int, ...] = (3, 4, 5)) -> np.ndarray:
    """An array of ``dtype`` whose values include negatives and extremes."""
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=shape, endpoint=True)
        values.flat[0], values.flat[-1] = info.min, info.max
        return values.astype(dtype)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


def _idx_bytes(code: int, shape: tuple[int, ...], data: bytes) -> bytes:
    """Hand-build an IDX file, independently of write_idx."""
    return (
        bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path: Path, dtype: type, name: str) -> None:
    array = _sample(dtype)
    path = write_idx(tmp_path / name, array)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype)
    assert got.dtype.isnative
    assert got.shape == array.shape
    np.testing.assert_array_equal(got, array)
    assert got.flags.writeable
    assert path.read_bytes()[:2] == (
        b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00"
    )


def test_reads_hand_built_big_endian_file(tmp_path: Path) -> None:
    # int16 0x0102 = 258 and -2, stored big-endian by hand.
    data = b"\x01\x02\xff\xfe\x00\x00\x7f\xff"
    path = tmp_path / "short.idx"
    path.write_bytes(_idx_bytes(0x0B, (2, 2), data))
    np.testing.assert_array_equal(read_idx(path), [[258, -2], [0, 32767]])


def test_reads_mnist_style_header(tmp_path: Path) -> None:
    # The magic number MNIST's image files start with: 0x00000803.
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    assert path.read_bytes()[:16] == bytes.fromhex(
        "00000803 00000002 0000001c 0000001c"
    )
    np.testing.assert_array_equal(read_idx(path), images)


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    array = _sample(np.int32)
    gz_named_raw = write_idx(tmp_path / "raw.idx", array).rename(tmp_path / "x.gz")
    raw_named_gz = write_idx(tmp_path / "packed.gz", array).rename(tmp_path / "y.idx")
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)


def test_zero_sized_and_one_dimensional(tmp_path: Path) -> None:
    empty = np.zeros((0, 28, 28), dtype=np.uint8)
    assert read_idx(write_idx(tmp_path / "e.idx", empty)).shape == (0, 28, 28)
    labels = np.array([7, 2, 1], dtype=np.uint8)
    np.testing.assert_array_equal(
        read_idx(write_idx(tmp_path / "l.idx", labels)), labels
    )


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_data_names_file_and_byte_counts(
    tmp_path: Path, compress: bool
) -> None:
    content = _idx_bytes(0x0C, (2, 3), b"\x00" * 24)[:-5]  # 19 of 24 data bytes
    path = tmp_path / "cut.idx"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert "truncated" in message
    assert "24" in message and "19" in message


def test_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "head.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + b"\x00\x00\x00\x02")  # 1 of 3 sizes
    with pytest.raises(DataError, match=r"truncated IDX header.*16 header bytes.* 8"):
        read_idx(path)


def test_file_shorter_than_magic(tmp_path: Path) -> None:
    path = tmp_path / "tiny.idx"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="2 bytes"):
        read_idx(path)


def test_extra_bytes_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "long.idx"
    path.write_bytes(_idx_bytes(0x08, (4,), b"\x01\x02\x03\x04\x05\x06"))
    with pytest.raises(DataError, match=r"too long.* 4 data bytes.* has 6"):
        read_idx(path)


@pytest.mark.parametrize(
    "magic",
    [b"\x01\x00\x08\x01", b"\x00\x01\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"],
)
def test_wrong_magic(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(magic + b"\x00\x00\x00\x01" + b"\x00" * 8)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert magic.hex(" ") in str(info.value)


def test_corrupt_gzip_stream(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(_idx_bytes(0x08, (1000,), bytes(range(250)) * 4)))
    packed[20:30] = b"\xff" * 10
    path = tmp_path / "corrupt.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match="corrupt gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    packed = gzip.compress(_idx_bytes(0x08, (1000,), bytes(range(250)) * 4))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match="corrupt gzip"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="nope.idx"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(FileNotFoundError):  # still catchable as the builtin
        read_idx(tmp_path / "nope.idx")


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_, np.complex64])
def test_write_rejects_dtypes_idx_cannot_store(tmp_path: Path, dtype: type) -> None:
    with pytest.raises(DataError, match="cannot be stored"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=dtype))
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "a.idx.gz"
    write_idx(path, np.ones((2, 2), dtype=np.float32))
    write_idx(path, np.zeros((3,), dtype=np.uint8))  # overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["a.idx.gz"]
    np.testing.assert_array_equal(read_idx(path), np.zeros(3, dtype=np.uint8))


def test_gzip_output_is_reproducible(tmp_path: Path) -> None:
    array = _sample(np.uint8)
    first = write_idx(tmp_path / "1.gz", array).read_bytes()
    second = write_idx(tmp_path / "2.gz", array).read_bytes()
    assert first == second
