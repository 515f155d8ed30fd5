"""Reading and writing IDX files, the binary format MNIST and Fashion-MNIST ship in.

This module owns the IDX format and nothing else: :func:`read_idx` turns a raw or
gzip-compressed IDX file into a NumPy array, and :func:`write_idx` does the reverse.
Finding and shaping whole data sets is :mod:`lincoln.datasets.mnist`'s job,
downloading them :mod:`lincoln.datasets.download`'s.

An IDX file is::

    0x00 0x00 <dtype code> <number of dimensions n>
    n big-endian uint32 sizes
    the values, big-endian, in C (row-major) order

with dtype codes 0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32,
0x0D float32 and 0x0E float64. Any damage to a file (truncation, a wrong magic
number, a size that disagrees with the header, a corrupt gzip stream) raises
:class:`~lincoln.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import Union

import numpy as np

from .._files import atomic_write
from ..errors import DataError, DatasetNotFoundError

__all__ = ["read_idx", "write_idx", "IDX_DTYPES"]

PathLike = Union[str, "os.PathLike[str]"]

#: IDX dtype code -> the (big-endian) NumPy dtype of the values on disk.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def _decompress(path: Path, raw: bytes) -> bytes:
    """Return the content of a gzip stream, or raise DataError if it is corrupt."""
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: corrupt gzip stream ({len(raw)} compressed bytes): {exc}"
        ) from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Gzip compression is recognised by the file's first two bytes (``1f 8b``), not by
    its name, so ``train-images-idx3-ubyte`` and ``train-images-idx3-ubyte.gz`` are
    both read correctly whatever they actually contain.

    Args:
        path: the file to read.

    Returns:
        A new, writable array in native byte order with the shape the header
        declares, e.g. ``uint8`` of shape ``(60000, 28, 28)`` for MNIST's training
        images.

    Raises:
        DatasetNotFoundError: if ``path`` does not exist.
        DataError: if the file is truncated, has a wrong magic number or an unknown
            dtype code, holds more or fewer bytes than its header declares, or is a
            corrupt gzip stream. The message names the file and gives the expected
            and received byte counts.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetNotFoundError(f"{path}: no such IDX file") from None

    compressed = raw[:2] == _GZIP_MAGIC
    data = _decompress(path, raw) if compressed else raw
    what = "decompressed content" if compressed else "file"

    if len(data) < 4:
        raise DataError(
            f"{path}: truncated IDX file: the {what} has {len(data)} bytes, fewer than "
            "the 4-byte magic number"
        )
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(
            f"{path}: not an IDX file: magic number must be 00 00 <dtype code> <ndim> "
            f"with a dtype code in ({known}), received {data[:4].hex(' ')}"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header_size} "
            f"header bytes, the {what} has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[code]
    count = 1
    for size in shape:
        count *= size
    expected = count * dtype.itemsize
    received = len(data) - header_size
    if received != expected:
        problem = "truncated IDX file" if received < expected else "IDX file too long"
        raise DataError(
            f"{path}: {problem}: header declares shape {tuple(shape)} of {dtype.name} "
            f"= {expected} data bytes, the {what} has {received} after the "
            f"{header_size}-byte header"
        )
    values = np.frombuffer(data, dtype=dtype, count=count, offset=header_size)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _idx_code(dtype: np.dtype) -> int:
    """Return the IDX dtype code for ``dtype`` (byte order ignored)."""
    for code, idx_dtype in IDX_DTYPES.items():
        if dtype.kind == idx_dtype.kind and dtype.itemsize == idx_dtype.itemsize:
            return code
    names = ", ".join(d.newbyteorder("=").name for d in IDX_DTYPES.values())
    raise DataError(
        f"dtype {dtype} cannot be stored in an IDX file: expected one of {names}; "
        "cast the array first, e.g. array.astype(np.int32)"
    )


def write_idx(path: PathLike, array: np.ndarray) -> Path:
    """Write ``array`` to ``path`` as an IDX file, gzip-compressed if it ends in .gz.

    The file is written to a temporary file in the same folder and moved into place,
    so a reader never sees a half-written file.

    Args:
        path: the file to write; a name ending in ``.gz`` (any case) is compressed.
        array: the values; its dtype must be one IDX stores (uint8, int8, int16,
            int32, float32, float64), with at most 255 dimensions each smaller
            than 2**32.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DataError: if the dtype or shape cannot be stored in IDX.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _idx_code(array.dtype)
    if array.ndim > 255:
        raise DataError(
            f"{path}: IDX stores at most 255 dimensions, received {array.ndim}"
        )
    if any(size >= 2**32 for size in array.shape):
        raise DataError(
            f"{path}: IDX sizes must be below 2**32, received shape {array.shape}"
        )
    payload = (
        bytes([0, 0, code, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    )
    if path.name.lower().endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)

    with atomic_write(path) as handle:
        handle.write(payload)
    return path
