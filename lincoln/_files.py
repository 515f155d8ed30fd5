"""Atomic file writes, shared by model files, run directories and data sets.

A file is written to a temporary file in the target's folder, flushed to disk,
then renamed over the target (``os.replace``): an error or Ctrl-C half-way
leaves the previous file as it was and no temporary file behind.

Temporary files and folders carry lincoln's own mark and the writer's process
id, ``.{target name}.lincoln-{pid}-{random}.tmp``, so that those a killed
process left behind (``kill -9`` gives no chance to clean up) can be told
apart from everything else and removed at the next write to the same folder:
only lincoln's, and only when their process is no longer alive.

This module imports nothing of lincoln's, so any module may use it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_write",
    "create_temp",
    "temp_sibling",
    "check_file_target",
    "remove_stale_temps",
    "pid_alive",
    "fsync_folder",
]

# .{name}.lincoln-{pid}-{8 hex}.{kind}: kind "tmp" (a file being written),
# "tmpdir" (a run directory being built), "old" (a replaced run directory)
_TEMP = re.compile(
    r"\.(?P<name>.+)\.lincoln-(?P<pid>[0-9]+)-[0-9a-f]{8}\.(?P<kind>tmp|tmpdir|old)"
)
# what lincoln 0.1 named its temporary files
_LEGACY_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp")
# a temporary file this old is abandoned even if its pid was reused since
_ABANDONED_SECONDS = 24 * 3600


def temp_sibling(target: str | os.PathLike[str], kind: str = "tmp") -> Path:
    """A new name beside ``target`` marked as lincoln's temporary ``kind``
    (``tmp``, ``tmpdir`` or ``old``) of this process."""
    target = Path(target)
    token = secrets.token_hex(4)
    return target.with_name(f".{target.name}.lincoln-{os.getpid()}-{token}.{kind}")


def check_file_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` that can name a file to write.

    Raises:
        IsADirectoryError: ``path`` is a folder (``"."``, ``"runs/"``, ...).
        FileNotFoundError: ``path``'s folder does not exist.
    """
    target = Path(path)
    if target.name in ("", ".", "..") or target.is_dir():
        raise IsADirectoryError(
            f"cannot write {str(path)!r}: it is a folder; give a file name, "
            f"e.g. {str(target / 'model.npz')!r}"
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {target}: no folder {target.parent}")
    return target


def create_temp(target: str | os.PathLike[str]) -> tuple[int, Path]:
    """Create a new, empty temporary file beside ``target``.

    Unlike :func:`tempfile.mkstemp` the file gets the usual permissions (0o666 less
    the umask), so it keeps them once it is moved into place with :func:`os.replace`.
    It is named ``.{target name}.lincoln-{pid}-{random}.tmp``, in ``target``'s
    folder so that ``os.replace`` is an atomic rename. Temporary files of dead
    processes in that folder are removed first (:func:`remove_stale_temps`).

    Returns:
        An open write-only file descriptor and the temporary file's path.

    Raises:
        OSError: if the file cannot be created.
    """
    target = Path(target)
    remove_stale_temps(target.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = temp_sibling(target)
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
        IsADirectoryError: ``path`` is a folder.
        FileNotFoundError: ``path``'s folder does not exist.
        OSError: the folder is not writable, the disk is full, ... (naming
            ``path``).
    """
    target = check_file_target(path)
    fd, tmp = create_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno:
            # e.g. a full disk: say which file could not be written
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    fsync_folder(target.parent)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (True if unsure)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no cheap check: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove lincoln's temporary files and folders in ``folder`` that a killed
    process left behind: those whose process is gone, or a day old.

    Nothing else is touched: a name must carry lincoln's mark (or lincoln 0.1's
    ``.{name}.{pid}.{random}.tmp``). Errors are ignored (this is tidying).

    Returns:
        What was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.fullmatch(entry.name) or _LEGACY_TEMP.fullmatch(entry.name)
        if match is None:
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > _ABANDONED_SECONDS
            if not old and pid_alive(int(match["pid"])):
                continue
            original = Path(folder) / match["name"]
            if match.groupdict().get("kind") == "old" and not os.path.lexists(original):
                # killed between moving a run away and the new one in: put it back
                os.rename(entry.path, original)
            elif entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make renames in ``folder`` durable (POSIX; folders cannot be opened on
    Windows). Errors are ignored."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
