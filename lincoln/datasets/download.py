"""Downloading data set files: from mirrors, checked against MD5 sums, atomically.

This module owns lincoln's only network access (:func:`download_file`, which
tests replace) and the rule that a downloaded file is written to a temporary
file beside its destination, checked against its published MD5 sums, and only
then renamed into place; whatever fails, no partial or unchecked file is left
behind. Which files a data set has, and where they go, is the caller's business
(:mod:`lincoln.datasets.mnist`).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from .._files import create_temp
from ..errors import DataError, DatasetNotFoundError

__all__ = ["download_file", "md5_of", "fetch_checked", "fetch_missing"]

DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned


def download_file(url: str, dest: Path) -> None:
    """Download ``url`` into the file ``dest``, overwriting it.

    This is the only function that touches the network; tests replace it.

    Args:
        url: what to fetch.
        dest: the file to write (a temporary file; the caller checks and renames it).

    Raises:
        urllib.error.URLError: if the server cannot be reached or answers an error.
        OSError: on a network or disk error.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "lincoln"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        with open(dest, "wb") as handle:
            shutil.copyfileobj(response, handle, length=1 << 20)


def md5_of(path: Path) -> str:
    """Return the hex MD5 digest of the file at ``path``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_checked(url: str, dest: Path, accepted: tuple[str, ...]) -> str | None:
    """Download ``url`` to ``dest`` through a checked temporary file.

    Returns:
        None once ``dest`` is in place, or a message saying how the checksum of
        what arrived was wrong (nothing is then left behind).

    Raises:
        OSError, http.client.HTTPException: if the download or a write fails.
    """
    fd, tmp = create_temp(dest)
    os.close(fd)
    try:
        download_file(url, tmp)
        received = md5_of(tmp)
        if received not in accepted:
            return (
                f"{url}: MD5 {received}, expected {' or '.join(accepted)} "
                f"({tmp.stat().st_size} bytes received)"
            )
        os.replace(tmp, dest)
        return None
    finally:
        tmp.unlink(missing_ok=True)


def fetch_missing(
    title: str,
    names: Iterable[str],
    folder: Path,
    mirrors: tuple[str, ...],
    md5: Mapping[str, tuple[str, ...]],
) -> None:
    """Download each of ``names`` into ``folder`` (which must exist).

    Each file is tried from every mirror in turn (``mirror + name``) until one
    sends it with one of its MD5 sums ``md5[name]``.

    Raises:
        DatasetNotFoundError: a file could not be downloaded from any mirror; the
            message says why, for the caller to put in context.
        DataError: every mirror that answered sent a file with a wrong checksum.
    """
    for name in names:
        failures: list[str] = []
        mismatches: list[str] = []
        for mirror in mirrors:
            url = mirror + name
            try:
                mismatch = fetch_checked(url, folder / name, md5[name])
            except (OSError, http.client.HTTPException) as exc:
                failures.append(f"{url}: {exc}")
                continue
            if mismatch is None:
                break
            mismatches.append(mismatch)
        else:
            if mismatches:
                raise DataError(
                    f"{title}: the downloaded {name} failed its checksum and was "
                    "discarded: " + "; ".join(mismatches + failures)
                )
            raise DatasetNotFoundError(
                f"Downloading {name} into {folder} failed: " + "; ".join(failures)
            )
