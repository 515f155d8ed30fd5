"""Small, learnable stand-ins for MNIST, written as the four IDX files.

Each of the ten classes is a fixed random 28x28 pattern of bright strokes on a dark
background; every sample is its class's pattern with some pixels flipped and some
noise added. A few hundred samples train in seconds and a small network separates
them well, while chance is 10%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lincoln.datasets import write_idx
from lincoln.datasets.mnist import FILE_NAMES

__all__ = ["make_images", "write_synthetic_mnist"]


def make_images(
    n: int, rng: np.random.Generator, templates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images ``(n, 28, 28)`` and their uint8 labels ``(n,)``."""
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    lit = templates[labels]
    flip = rng.random(lit.shape) < 0.08
    lit = np.where(flip, ~lit, lit)
    pixels = np.where(lit, 220.0, 15.0) + rng.normal(0.0, 25.0, lit.shape)
    images = np.clip(pixels, 0, 255).astype(np.uint8)
    return images, labels.astype(np.uint8)


def write_synthetic_mnist(
    folder: Path, n_train: int = 300, n_test: int = 100, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Write ``train-images-idx3-ubyte.gz`` and the three others into ``folder``.

    Returns:
        The arrays written: train images, train labels, test images, test labels.
    """
    rng = np.random.default_rng(seed)
    templates = rng.random((10, 28, 28)) < 0.2
    train = make_images(n_train, rng, templates)
    test = make_images(n_test, rng, templates)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (*train, *test)
    for name, array in zip(FILE_NAMES, arrays, strict=True):
        write_idx(folder / name, array)
    return arrays
