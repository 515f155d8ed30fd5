"""The lincoln file: one ``.npz`` archive with a JSON header, written atomically.

The archive (a zip of ``.npy`` arrays) is always read with ``allow_pickle=False``,
so opening a file never runs code. Its array ``__lincoln_model__`` holds the
header, UTF-8 JSON::

    {"format": "lincoln", "format_version": 1, "kind": "model",  # or "checkpoint"
     "lincoln_version": "0.1.0", "network": {...}, "generators": {...},
     "arrays": {"layers.0.params.0": {"shape": [13, 13], "dtype": "float32"}, ...}}

``"arrays"`` lists every other array, so that a missing or altered one is noticed.
:func:`read` checks the archive and these fields, raising one
:class:`~lincoln.errors.ModelFileError` per problem, naming the file and what is
wrong; the other entries are checked where they are read (:mod:`lincoln.io.model`,
:mod:`lincoln.io.checkpoint`). :func:`write` writes a temporary file in the
target's folder, flushes it to disk and renames it over the target: an error or
Ctrl-C half-way leaves the previous file as it was and no temporary file behind.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write
from ..base import Array
from ..errors import ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "ModelFile",
    "atomic_savez",
    "read",
    "read_header",
    "write",
]

FORMAT = "lincoln"
FORMAT_VERSION = 1
HEADER_KEY = "__lincoln_model__"
KINDS = ("model", "checkpoint")

PathLike = str | os.PathLike[str]


def lincoln_version() -> str:
    """The installed lincoln's version, written into every header."""
    try:
        return importlib.metadata.version("lincoln")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def names(items: Iterable[str], limit: int = 8) -> str:
    """``'a', 'b' and 3 more``: sorted names for a message."""
    listed = sorted(items)
    shown = ", ".join(repr(n) for n in listed[:limit])
    more = len(listed) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def mismatches(
    expected: Mapping[str, Array], received: Mapping[str, Array]
) -> list[str]:
    """Every difference between two name -> array maps: names, shapes, dtypes."""
    missing, extra = set(expected) - set(received), set(received) - set(expected)
    problems = [f"missing arrays {names(missing)}"] if missing else []
    if extra:
        problems.append(f"unexpected arrays {names(extra)}")
    for name in sorted(set(expected) & set(received)):
        want, got = expected[name], received[name]
        for what in ("shape", "dtype"):
            if getattr(want, what) != getattr(got, what):
                problems.append(
                    f"array {name!r} must have {what} {getattr(want, what)}, "
                    f"received {what} {getattr(got, what)}"
                )
                break
    return problems


def atomic_savez(path: PathLike, arrays: Mapping[str, Array]) -> None:
    """Write ``arrays`` as an ``.npz`` archive at exactly ``path``, atomically.

    The archive is written to a temporary file in the same folder, flushed and
    fsynced, then renamed over ``path`` (see :func:`lincoln._files.atomic_write`).
    If anything fails (including KeyboardInterrupt) the previous file at ``path``
    is untouched and the temporary file is removed.

    Raises:
        OSError: the folder does not exist or is not writable, the disk is full, ...
    """
    with atomic_write(path) as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # no name is "allow_pickle"


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write(
    path: PathLike, kind: str, entries: Mapping[str, Any], arrays: Mapping[str, Array]
) -> None:
    """Write a file of ``kind`` holding ``arrays``, its header made of the
    format's fields, ``entries`` and the list of arrays (atomically).

    Raises:
        OSError: the file cannot be written (the previous one is kept).
    """
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "lincoln_version": lincoln_version(),
        **entries,
        "arrays": {
            name: {"shape": list(a.shape), "dtype": a.dtype.name}
            for name, a in arrays.items()
        },
    }
    text = json.dumps(header, default=_json_default)
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_savez(path, {HEADER_KEY: raw, **arrays})


@dataclass
class ModelFile:
    """A file that :func:`read` checked: its header and every array by name."""

    path: Path
    header: dict[str, Any]
    arrays: dict[str, Array]

    def prefixed(self, prefix: str) -> dict[str, Array]:
        """The arrays whose names start with ``prefix``, by the rest of the name."""
        n = len(prefix)
        return {k[n:]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def error(self, message: str) -> ModelFileError:
        """A ModelFileError about this file."""
        return ModelFileError(f"{self.path}: {message}")


_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError)


def _open(p: Path) -> Any:
    if not p.exists():
        raise ModelFileError(f"{p}: no such file")
    if not p.is_file():
        raise ModelFileError(f"{p}: is not a file")
    try:
        obj = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):  # NumPy's word for "neither .npy nor .npz"
            raise ModelFileError(
                f"{p}: not a lincoln model file (it is neither an .npz archive nor a "
                f".npy array; a text or pickle file?)"
            ) from None
        raise ModelFileError(f"{p}: truncated or corrupt ({exc})") from None
    except EOFError:
        raise ModelFileError(f"{p}: empty or truncated file") from None
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        raise ModelFileError(
            f"{p}: truncated or corrupt .npz archive ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(obj, np.ndarray):
        raise ModelFileError(
            f"{p}: not a lincoln model file (a single .npy array, not an .npz archive)"
        )
    return obj


def _read_array(p: Path, npz: Any, name: str) -> Array:
    try:
        return np.asarray(npz[name])
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ModelFileError(
                f"{p}: array {name!r} holds Python objects (dtype=object); lincoln "
                f"never writes such arrays and does not unpickle them "
                f"(allow_pickle=False)"
            ) from None
        raise ModelFileError(
            f"{p}: array {name!r} is truncated or corrupt ({exc})"
        ) from None
    except _CORRUPT as exc:
        raise ModelFileError(
            f"{p}: array {name!r} is truncated or corrupt ({type(exc).__name__}: {exc})"
        ) from None


def _parse_header(p: Path, raw: Array) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(
            f"{p}: corrupt header ({HEADER_KEY!r} must be a 1-D uint8 "
            f"array, received dtype {raw.dtype}, shape {raw.shape})"
        )
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{p}: corrupt header (not valid JSON: {exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else header
        raise ModelFileError(
            f"{p}: not a lincoln model file (format {got!r}, expected {FORMAT!r})"
        )
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{p}: corrupt header (format_version={version!r})")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{p}: written by a newer lincoln ({header.get('lincoln_version', '?')}, "
            f"file format version {version}); this lincoln ({lincoln_version()}) "
            f"reads format version {FORMAT_VERSION} and older. Upgrade lincoln to "
            f"read it"
        )
    if header.get("kind") not in KINDS:
        raise ModelFileError(
            f"{p}: corrupt header (kind={header.get('kind')!r}, expected one of "
            f"{', '.join(KINDS)})"
        )
    for key in ("network", "generators", "arrays"):
        if not isinstance(header.get(key), dict):
            raise ModelFileError(f"{p}: corrupt header (no {key!r} entry)")
    return header


def _check_listed(f: ModelFile) -> None:
    """The header lists every array, with its shape and dtype."""
    listed, present = f.header["arrays"], set(f.arrays)
    missing, extra = set(listed) - present, present - set(listed)
    if missing:
        raise f.error(
            f"truncated or corrupt: arrays listed in its header are missing: "
            f"{names(missing)}"
        )
    if extra:
        raise f.error(f"corrupt: arrays not listed in its header: {names(extra)}")
    for name, spec in listed.items():
        try:
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        except (KeyError, TypeError) as exc:
            raise f.error(f"corrupt header (entry of array {name!r}: {exc})") from None
        a = f.arrays[name]
        if a.shape != shape or a.dtype != dtype:
            raise f.error(
                f"corrupt: array {name!r} has shape {a.shape} and dtype "
                f"{a.dtype}, its header says shape {shape} and dtype {dtype}"
            )


def read(path: PathLike) -> ModelFile:
    """Read and check a lincoln file: the archive, the header's own fields and
    the list of arrays.

    Raises:
        ModelFileError: the file is missing, truncated or corrupt, not a lincoln
            file, or written by a newer lincoln.
    """
    p = Path(path)
    with _open(p) as npz:
        if HEADER_KEY not in npz.files:
            raise ModelFileError(
                f"{p}: not a lincoln model file (an .npz archive without the "
                f"{HEADER_KEY!r} header; it holds {names(npz.files) or 'no arrays'})"
            )
        header = _parse_header(p, _read_array(p, npz, HEADER_KEY))
        arrays = {n: _read_array(p, npz, n) for n in npz.files if n != HEADER_KEY}
    f = ModelFile(p, header, arrays)
    _check_listed(f)
    return f


def read_header(path: PathLike) -> dict[str, Any]:
    """The JSON header of a model file or checkpoint (see the module docstring).

    Raises:
        ModelFileError: the file is missing, corrupt, not lincoln's, or too new.
    """
    return read(path).header
