"""The 8x8 handwritten digits bundled with lincoln.

1,797 grey-scale images of the digits 0-9, each 8x8 pixels with values 0-16:
the test part of the UCI "Optical Recognition of Handwritten Digits" data set
(E. Alpaydin and C. Kaynak, 1998; https://doi.org/10.24432/C50P49), licensed
CC BY 4.0. It is the same data scikit-learn ships as ``load_digits``; lincoln
stores it as ``digits.npz`` (uint8 arrays ``images`` and ``labels``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

__all__ = ["load_digits"]


def load_digits(
    *, flatten: bool = True, normalize: bool = True, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits as ``(X, y)``.

    Args:
        flatten: images as ``(1797, 64)`` rows; False gives ``(1797, 1, 8, 8)``.
        normalize: scale pixels to [0, 1] (divide by 16); False keeps 0-16.
        dtype: floating type of ``X``.

    Returns:
        ``X`` of ``dtype`` and integer labels ``y`` of shape ``(1797,)``.
    """
    with resources.files(__package__).joinpath("digits.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    X = images.astype(dtype)
    if normalize:
        X /= 16.0
    X = X.reshape(len(X), -1) if flatten else X.reshape(len(X), 1, 8, 8)
    return X, labels.astype(np.int64)
