"""MNIST and Fashion-MNIST: finding, downloading, checking and shaping them.

This module owns where lincoln looks for these two data sets, where it gets them
(public mirrors and their published MD5 sums) and how their IDX files become
``(X_train, y_train, X_test, y_test)`` arrays. Downloading a file (checked, written
atomically) is :mod:`lincoln.datasets.download`'s job; parsing the IDX format is
:mod:`lincoln.datasets.idx`'s.

Both data sets are four files, ``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
``t10k-labels-idx1-ubyte.gz`` (each also accepted without ``.gz``).

A folder passed as ``path=`` is the only one used: if it lacks any of the four
files, the missing ones are downloaded into it (``download=True``) or
:class:`~lincoln.errors.DatasetNotFoundError` names it (``download=False``, or the
download failed). No other folder is ever used in its place.

Without ``path=`` the files are looked for in this order, the first folder holding
all four winning:

1. ``$LINCOLN_DATA/mnist`` (or ``$LINCOLN_DATA/fashion-mnist``), then
   ``$LINCOLN_DATA`` itself;
2. the per-user cache, ``$XDG_CACHE_HOME/lincoln/<name>`` or
   ``~/.cache/lincoln/<name>``;
3. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist``, where the Debian package
   ``dataset-fashion-mnist`` installs it.

If none has them and ``download=True``, they are downloaded into the per-user cache.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import numpy as np
from numpy.typing import DTypeLike

from ..errors import ConfigError, DataError, DatasetNotFoundError
from .download import fetch_missing
from .idx import read_idx

__all__ = ["load_mnist", "load_fashion_mnist"]

PathLike = Union[str, "os.PathLike[str]"]

#: The four files of both data sets, in the order they are loaded.
FILE_NAMES: tuple[str, ...] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

_IMAGE_SHAPE = (28, 28)
_NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class _DataSet:
    """Where one data set lives and how to check it."""

    title: str
    folder: str
    mirrors: tuple[str, ...]
    md5: Mapping[str, tuple[str, ...]]
    system_dirs: tuple[Path, ...]
    how_to_get: str


_MNIST = _DataSet(
    title="MNIST",
    folder="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    # The MD5 sums published with MNIST (and used by torchvision for these mirrors).
    md5={
        "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873",),
        "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432",),
        "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3",),
        "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c",),
    },
    system_dirs=(),
    how_to_get=(
        "no Debian package ships MNIST: on a machine with network access run "
        "load_mnist() once and copy its cache folder, or fetch the four files from "
        "https://ossci-datasets.s3.amazonaws.com/mnist/; put them in "
        "$LINCOLN_DATA/mnist (export LINCOLN_DATA=/some/folder) or pass "
        "path=FOLDER. Fashion-MNIST, a drop-in replacement, is packaged: "
        "apt-get install dataset-fashion-mnist, then load_fashion_mnist()"
    ),
)

_FASHION_MNIST = _DataSet(
    title="Fashion-MNIST",
    folder="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    # First the MD5 sums published in Fashion-MNIST's README (the mirror's files),
    # then those of Debian's dataset-fashion-mnist copies. Debian's .gz files hold the
    # very same deflate streams with the gzip header's file name dropped and its
    # time stamp changed: putting the name and 2017-08-31 time stamp back into
    # Debian's files reproduces the published sums exactly.
    md5={
        "train-images-idx3-ubyte.gz": (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "cf8536b0aa1a6ac5fa3f23001093305c",
        ),
        "train-labels-idx1-ubyte.gz": (
            "25c81989df183df01b3e8a0aad5dffbe",
            "10bea18fdb374794d4bb42e356e600c9",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "bef4ecab320f06d8554ea6380940ec79",
            "f78720b4224f21cce2f2ccf2d7a94c9a",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "bb300cfdad3c16e7a12a480ee83cd310",
            "0d30e22e447f3c33dab9ed536400ac01",
        ),
    },
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    how_to_get=(
        "install the Debian package (apt-get install dataset-fashion-mnist), or put "
        "the four files in $LINCOLN_DATA/fashion-mnist (export "
        "LINCOLN_DATA=/some/folder), or pass path=FOLDER"
    ),
)


def _cache_root() -> Path:
    """Return the per-user cache folder of lincoln (``~/.cache/lincoln`` by default)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "lincoln"


def _search_dirs(spec: _DataSet, path: PathLike | None) -> list[tuple[Path, str]]:
    """List the folders to look in, in order, each with where it came from: an
    explicit ``path`` alone, else the usual places."""
    if path is not None:
        return [(Path(path).expanduser(), "path=")]
    dirs: list[tuple[Path, str]] = []
    data_root = os.environ.get("LINCOLN_DATA", "")
    if data_root:
        root = Path(data_root).expanduser()
        dirs.append((root / spec.folder, f"$LINCOLN_DATA/{spec.folder}"))
        dirs.append((root, "$LINCOLN_DATA"))
    dirs.append((_cache_root() / spec.folder, "per-user cache"))
    dirs.extend((folder, "system") for folder in spec.system_dirs)
    unique: list[tuple[Path, str]] = []
    for folder, origin in dirs:
        if all(folder != seen for seen, _ in unique):
            unique.append((folder, origin))
    return unique


def _find_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Find the four files in ``folder``: (found name -> path, missing names)."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in FILE_NAMES:
        for candidate in (folder / name, folder / name[: -len(".gz")]):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            missing.append(name)
    return found, missing


def _describe(folder: Path, origin: str) -> str:
    """Say what one searched folder holds, for the not-found message."""
    if not folder.is_dir():
        state = "no such folder"
    else:
        found, missing = _find_files(folder)
        state = f"{len(found)} of {len(FILE_NAMES)} files"
        if found:
            state += ", missing " + ", ".join(missing)
    return f"  {folder} ({origin}): {state}"


def _not_found(spec: _DataSet, searched: list[tuple[Path, str]], why: str) -> str:
    """Build the message of the DatasetNotFoundError for ``spec``."""
    names = ", ".join(f"{name[: -len('.gz')]}[.gz]" for name in FILE_NAMES)
    lines = [f"{spec.title} not found: looked for {names} in:"]
    lines += [_describe(folder, origin) for folder, origin in searched]
    lines.append(why)
    if [origin for _, origin in searched] == ["path="]:
        usual = [f"$LINCOLN_DATA/{spec.folder}", "$LINCOLN_DATA", "the per-user cache"]
        usual += [str(folder) for folder in spec.system_dirs]
        lines.append(
            f"An explicit path= is the only folder used: put the four files in "
            f"{searched[0][0]}, or leave path= out to search "
            f"{', '.join(usual[:-1])} and {usual[-1]}."
        )
    lines.append(f"To get the files: {spec.how_to_get}.")
    return "\n".join(lines)


def _fetch(spec: _DataSet, folder: Path, searched: list[tuple[Path, str]]) -> None:
    """Download into ``folder`` whichever of the four files it lacks (see
    :func:`~lincoln.datasets.download.fetch_missing`).

    Raises:
        DatasetNotFoundError: if a file could not be downloaded from any mirror.
        DataError: if every mirror that answered sent a file with a wrong checksum.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = f"Could not create {folder} to download into: {exc}"
        raise DatasetNotFoundError(_not_found(spec, searched, why)) from None
    _, missing = _find_files(folder)
    try:
        fetch_missing(spec.title, missing, folder, spec.mirrors, spec.md5)
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(_not_found(spec, searched, str(exc))) from None


def _read_images(path: Path) -> np.ndarray:
    """Read an image file and check it holds 28x28 uint8 images."""
    images = read_idx(path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != _IMAGE_SHAPE:
        raise DataError(
            f"{path}: expected uint8 images of shape (N, 28, 28), received "
            f"{images.dtype} of shape {images.shape}"
        )
    return images


def _read_labels(path: Path) -> np.ndarray:
    """Read a label file and check it holds uint8 labels 0..9."""
    labels = read_idx(path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{path}: expected uint8 labels of shape (N,), received {labels.dtype} "
            f"of shape {labels.shape}"
        )
    if labels.size and labels.max() >= _NUM_CLASSES:
        raise DataError(
            f"{path}: labels must be 0..{_NUM_CLASSES - 1}, received {labels.max()}"
        )
    return labels


def _load(
    spec: _DataSet,
    path: PathLike | None,
    flatten: bool,
    normalize: bool,
    dtype: DTypeLike,
    download: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Find (or download), read, check and shape one data set."""
    out_dtype = np.dtype(dtype)
    if normalize and not np.issubdtype(out_dtype, np.floating):
        raise ConfigError(
            f"load_{spec.folder.replace('-', '_')}: normalize=True scales to [0, 1] "
            f"and needs a floating dtype, received dtype={out_dtype}"
        )
    searched = _search_dirs(spec, path)
    files: dict[str, Path] | None = None
    for folder, _ in searched:
        found, missing = _find_files(folder)
        if not missing:
            files = found
            break
    if files is None:
        if not download:
            raise DatasetNotFoundError(
                _not_found(spec, searched, "Downloading is off (download=False).")
            )
        if path is not None:
            target = Path(path).expanduser()
            if not target.is_dir():
                # a typo must not leave folders behind: only an existing
                # folder is downloaded into
                why = (
                    f"Not downloading: {target} does not exist (create it first "
                    f"to download into it)."
                )
                raise DatasetNotFoundError(_not_found(spec, searched, why))
        else:
            target = _cache_root() / spec.folder
        _fetch(spec, target, searched)
        files, _ = _find_files(target)

    arrays: list[np.ndarray] = []
    for images_name, labels_name in (FILE_NAMES[0:2], FILE_NAMES[2:4]):
        images = _read_images(files[images_name])
        labels = _read_labels(files[labels_name])
        if len(images) != len(labels):
            raise DataError(
                f"{spec.title}: {files[images_name]} has {len(images)} images but "
                f"{files[labels_name]} has {len(labels)} labels; they must match"
            )
        x = images.astype(out_dtype)
        if normalize:
            np.divide(x, 255, out=x)
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *_IMAGE_SHAPE)
        arrays += [x, labels.astype(np.int64)]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def load_mnist(
    path: PathLike | None = None,
    *,
    flatten: bool = True,
    normalize: bool = True,
    dtype: DTypeLike = np.float32,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST's handwritten digits (60,000 training and 10,000 test images).

    Uses ``path`` alone when given, downloading any missing file into it;
    otherwise looks in ``$LINCOLN_DATA/mnist``, ``$LINCOLN_DATA``, then the
    per-user cache (see the module docstring), and downloads the files into the
    cache when none has them.

    Args:
        path: the folder holding the four IDX files (``.gz`` or not). When given it
            is the only folder used: missing files are downloaded into it (if
            ``download``), and no other folder is ever used instead.
        flatten: return images as ``(N, 784)`` rows if true, else ``(N, 1, 28, 28)``.
        normalize: scale pixels to [0, 1] if true, else keep the 0..255 values.
        dtype: the images' dtype; must be floating when ``normalize`` is true.
        download: whether to download the files when no folder has them.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: images of ``dtype`` and int64 labels
        0..9 of shape ``(N,)``.

    Raises:
        DatasetNotFoundError: if the files are not in ``path`` (when given) or
            nowhere (otherwise) and cannot be downloaded (or ``download`` is
            false); the message lists every folder looked in.
        DataError: if a file is damaged, a download fails its checksum, or image and
            label counts differ.
        ConfigError: if ``normalize`` is true and ``dtype`` is not floating.
    """
    return _load(_MNIST, path, flatten, normalize, dtype, download)


def load_fashion_mnist(
    path: PathLike | None = None,
    *,
    flatten: bool = True,
    normalize: bool = True,
    dtype: DTypeLike = np.float32,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load Fashion-MNIST's clothing images (60,000 training and 10,000 test).

    Uses ``path`` alone when given, downloading any missing file into it;
    otherwise looks in ``$LINCOLN_DATA/fashion-mnist``, ``$LINCOLN_DATA``, the
    per-user cache, then ``/usr/share/datasets/fashion-mnist`` (installed by
    ``apt-get install dataset-fashion-mnist``), and downloads the files into the
    cache when none has them. Labels are 0 T-shirt/top, 1 trouser, 2 pullover,
    3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot.

    Args:
        path: the folder holding the four IDX files (``.gz`` or not). When given it
            is the only folder used: missing files are downloaded into it (if
            ``download``), and no other folder is ever used instead.
        flatten: return images as ``(N, 784)`` rows if true, else ``(N, 1, 28, 28)``.
        normalize: scale pixels to [0, 1] if true, else keep the 0..255 values.
        dtype: the images' dtype; must be floating when ``normalize`` is true.
        download: whether to download the files when no folder has them.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: images of ``dtype`` and int64 labels
        0..9 of shape ``(N,)``.

    Raises:
        DatasetNotFoundError: if the files are not in ``path`` (when given) or
            nowhere (otherwise) and cannot be downloaded (or ``download`` is
            false); the message lists every folder looked in.
        DataError: if a file is damaged, a download fails its checksum, or image and
            label counts differ.
        ConfigError: if ``normalize`` is true and ``dtype`` is not floating.
    """
    return _load(_FASHION_MNIST, path, flatten, normalize, dtype, download)
