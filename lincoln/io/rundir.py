"""Folders lincoln writes: checked before training, a run directory written whole.

:func:`check_run_dir` and :func:`check_writable_dir` run before any data is
loaded or any epoch trained, so that a folder that cannot be written is reported
in a second, not after an hour of training. :func:`write_run_dir_atomically`
builds a run directory in a temporary sibling folder and moves it into place
with one rename: readers see the previous run or the new one, never a mix, and
an interrupted write leaves the previous run as it was. Two writers to the
same directory are serialised by a lock on the parent folder (POSIX).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from .._files import create_temp, fsync_folder, remove_stale_temps, temp_sibling
from ..errors import LincolnError

__all__ = [
    "PartialWriteError",
    "RUN_FILES",
    "holds_run",
    "check_run_dir",
    "check_writable_dir",
    "write_run_dir_atomically",
]

#: The files of a run directory; a folder holding any of them holds a run.
RUN_FILES = (
    "model.npz",
    "preprocess.npz",
    "config.toml",
    "metrics.json",
    "history.json",
    "history.csv",
)


class PartialWriteError(LincolnError):
    """A run directory could not be completed (e.g. a full disk)."""


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds (part of) a run directory."""
    return any((folder / name).exists() for name in RUN_FILES)


def _refusal(out: Path, force: bool) -> str | None:
    """Why ``out`` may not be replaced by a new run (None: it may)."""
    if out.name in ("", ".", "..") or Path.cwd().is_relative_to(out.resolve()):
        return "is the current folder or one holding it; give a new folder's name"
    if not out.exists():
        return None
    if not out.is_dir():
        return "exists and is not a directory"
    if holds_run(out):
        if force:
            return None
        return (
            "already holds a run; give --force to replace it (once the new run "
            "is complete), or choose another --out"
        )
    if any(out.iterdir()):
        return "is a folder with other files, not a run directory; choose another --out"
    return None


def check_run_dir(out: str | os.PathLike[str], force: bool = False) -> None:
    """Check before training that a run directory can be written at ``out``.

    The parent folder is created if needed, and a folder is created and
    removed in it (where the run directory will be built).

    Raises:
        LincolnError: ``out`` is a file, holds a run (without ``force``) or
            other files, or its parent cannot be created or written; one line
            naming the path.
    """
    out = Path(out)
    refusal = _refusal(out, force)
    if refusal is not None:
        raise LincolnError(f"--out {out}: {refusal}")
    probe = temp_sibling(out, "tmpdir")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise LincolnError(
            f"--out {out}: cannot write a run directory in "
            f"{out.parent.resolve()}: {exc.strerror or exc}"
        ) from None


def check_writable_dir(folder: str | os.PathLike[str], what: str) -> Path:
    """Create ``folder`` if needed and check that a file can be written in it.

    Raises:
        LincolnError: ``folder`` is a file, or cannot be created or written;
            one line naming ``what`` and the path.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise LincolnError(f"{what} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = create_temp(folder / "probe")
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise LincolnError(
            f"{what} {folder}: cannot be created or written: {exc.strerror or exc}"
        ) from None
    return folder


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (POSIX ``flock``; elsewhere none)."""
    try:
        import fcntl  # POSIX only
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_folder(folder)


def _install(tmp: Path, out: Path, force: bool) -> bool:
    """Move the complete run ``tmp`` to ``out``; True if a run was replaced."""
    with _locked(out.parent):
        if not out.exists():
            os.rename(tmp, out)
            return False
        refusal = _refusal(out, force)
        if refusal is not None:
            kept = out.with_name(f"{out.name}.new-{os.getpid()}")
            os.rename(tmp, kept)
            raise LincolnError(
                f"--out {out}: another run was written there during training "
                f"(--force replaces a run); this run is in {kept}"
            )
        old = temp_sibling(out, "old")
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            os.rename(old, out)  # the previous run, back as it was
            raise
    shutil.rmtree(old, ignore_errors=True)
    return True


def write_run_dir_atomically(
    out: str | os.PathLike[str],
    files: list[tuple[str, Callable[[Path], object]]],
    force: bool = False,
) -> bool:
    """Write a run directory as a whole: each ``(name, write)`` of ``files``
    writes ``name`` into a temporary sibling folder, which then replaces ``out``.

    Args:
        out: the run directory.
        files: file names with the function writing each, most valuable first.
        force: replace a run directory already at ``out``.

    Returns:
        True if a previous run at ``out`` was replaced.

    Raises:
        PartialWriteError: a file could not be written (a full disk, ...):
            ``out`` is left as it was, and the files written before are kept
            in ``{out}.incomplete-{pid}`` (the message names both).
        LincolnError: ``out`` may not be replaced (see :func:`check_run_dir`).
        KeyboardInterrupt: ``out`` is left as it was, and nothing else.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out.parent)
    tmp = temp_sibling(out, "tmpdir")
    try:
        tmp.mkdir()
    except OSError as exc:
        raise PartialWriteError(
            f"run directory {out} not written: cannot create a folder in "
            f"{out.parent}: {exc.strerror or exc}"
        ) from exc
    try:
        for name, write in files:
            try:
                write(tmp / name)
            except OSError as exc:
                raise _partial(out, tmp, name, exc) from exc
        _fsync_tree(tmp)
        return _install(tmp, out, force)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _partial(out: Path, tmp: Path, name: str, exc: OSError) -> PartialWriteError:
    """The error of a failed write of ``name``, keeping what was complete."""
    done = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("."))
    reason = exc.strerror or str(exc)
    message = f"run directory {out} not written: {name}: {reason}"
    if not done:
        return PartialWriteError(message)
    kept = out.with_name(f"{out.name}.incomplete-{os.getpid()}")
    try:
        os.rename(tmp, kept)
    except OSError:
        return PartialWriteError(message)
    return PartialWriteError(f"{message}; {', '.join(done)} kept in {kept}")
