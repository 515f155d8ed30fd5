"""The book's MNIST loader, ``lincoln.utils.mnist``: ``load()`` and ``init()``.

*Deep Learning from Scratch* loads MNIST with::

    from lincoln.utils import mnist
    X_train, y_train, X_test, y_test = mnist.load()

and gets, as here, the raw data: ``uint8`` pixels 0..255 of shape ``(60000, 784)``
and ``(10000, 784)``, ``uint8`` labels 0..9 of shape ``(60000,)`` and ``(10000,)``.
The book scales and one-hot encodes them itself afterwards.

The book's ``load()`` read a ``mnist.pkl`` that its ``init()`` had built from a
download. Here ``load()`` reads the four IDX files where
:func:`lincoln.datasets.load_mnist` finds them (``$LINCOLN_DATA/mnist``,
``$LINCOLN_DATA``, then the per-user cache ``~/.cache/lincoln/mnist``) and never
downloads; ``init()`` downloads them into the per-user cache. Nothing touches the
network on import.
"""

from __future__ import annotations

import os
from typing import Union

import numpy as np
from numpy.typing import NDArray

from ..datasets.mnist import _MNIST, FILE_NAMES, _search_dirs, load_mnist
from ..errors import DatasetNotFoundError

__all__ = ["load", "init"]

PathLike = Union[str, "os.PathLike[str]"]


def _not_found_message(path: PathLike | None) -> str:
    """One line: which folders were searched and how to get the files there."""
    searched = ", ".join(
        f"{folder} ({origin})" for folder, origin in _search_dirs(_MNIST, path)
    )
    if path is None:
        how = (
            "run lincoln.utils.mnist.init() once with network access (it downloads "
            "them into the per-user cache), or put them in $LINCOLN_DATA/mnist "
            "(export LINCOLN_DATA=/some/folder)"
        )
    else:
        how = f"put them in {path}, or leave path out to search the usual places"
    return (
        f"lincoln.utils.mnist.load(): MNIST's four IDX files ({FILE_NAMES[0]} and "
        f"the other three, .gz or not) are in none of: {searched}; to get them, "
        f"{how}"
    )


def load(
    path: PathLike | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Load MNIST as the book does: ``X_train, y_train, X_test, y_test``, raw.

    Args:
        path: a folder holding the four IDX files, to use instead of the usual
            places (an addition to the book's signature, which takes none).

    Returns:
        ``X_train`` ``(60000, 784)`` and ``X_test`` ``(10000, 784)``, uint8
        pixels 0..255 (rows of the 28x28 images); ``y_train`` ``(60000,)`` and
        ``y_test`` ``(10000,)``, uint8 labels 0..9.

    Raises:
        DatasetNotFoundError: no folder searched holds the four files; the
            one-line message names each folder and how to get the files.
        DataError: a file is damaged, or its image and label counts differ.

    Example:
        >>> from lincoln.utils import mnist
        >>> X_train, y_train, X_test, y_test = mnist.load()  # doctest: +SKIP
    """
    try:
        X_train, y_train, X_test, y_test = load_mnist(
            path, flatten=True, normalize=False, dtype=np.uint8, download=False
        )
    except DatasetNotFoundError:
        raise DatasetNotFoundError(_not_found_message(path)) from None
    return X_train, y_train.astype(np.uint8), X_test, y_test.astype(np.uint8)


def init() -> None:
    """Download MNIST into the per-user cache, so that :func:`load` finds it.

    The book's ``init()`` downloaded the files and pickled them; this downloads
    the four IDX files (checked against their published MD5 sums) into
    ``$XDG_CACHE_HOME/lincoln/mnist`` or ``~/.cache/lincoln/mnist``, unless a
    folder :func:`load` searches already holds them.

    Raises:
        DatasetNotFoundError: a file could not be downloaded.
        DataError: a download failed its checksum.
    """
    load_mnist(download=True)
