"""Atomic file writes, shared by model files and data sets.

A file is written to a temporary file in the target's folder, flushed to disk,
then renamed over the target (``os.replace``): an error or Ctrl-C half-way
leaves the previous file as it was and no temporary file behind.

This module imports nothing of lincoln's, so any module may use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "create_temp"]


def create_temp(target: str | os.PathLike[str]) -> tuple[int, Path]:
    """Create a new, empty temporary file beside ``target``.

    Unlike :func:`tempfile.mkstemp` the file gets the usual permissions (0o666 less
    the umask), so it keeps them once it is moved into place with :func:`os.replace`.
    It is named ``.{target name}.{pid}.{random}.tmp``, in ``target``'s folder so
    that ``os.replace`` is an atomic rename.

    Returns:
        An open write-only file descriptor and the temporary file's path.

    Raises:
        OSError: if the file cannot be created.
    """
    target = Path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.with_name(
            f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        )
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write whose content replaces ``path`` atomically.

    The file handed out is a temporary one in ``path``'s folder; when the
    ``with`` block ends it is flushed, fsynced and renamed over ``path``. If
    anything fails (including KeyboardInterrupt) the previous file at ``path``
    is untouched and the temporary file is removed.

    Example:
        >>> with atomic_write(folder / "data.bin") as fh:  # doctest: +SKIP
        ...     fh.write(payload)

    Raises:
        FileNotFoundError: ``path``'s folder does not exist.
        OSError: the folder is not writable, the disk is full, ...
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {target}: no folder {target.parent}")
    fd, tmp = create_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; folders cannot be opened on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
