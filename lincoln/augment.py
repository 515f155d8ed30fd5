"""Data augmentation for image batches: random shifts and horizontal flips.

Applied to training batches only (never to validation or test data), a new
random transformation each time a batch is drawn, from a generator seeded once,
so that a seeded run is reproducible.

Example:
    >>> import numpy as np
    >>> augment = Augment(shift=2, flip=True, seed=0)
    >>> batch = np.ones((8, 1, 28, 28), dtype=np.float32)
    >>> augment(batch).shape
    (8, 1, 28, 28)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Array
from .errors import ConfigError, ShapeError, check_real, check_seed

__all__ = ["Augment"]


class Augment:
    """Random shifts (blank fill) and horizontal flips of NCHW image batches.

    Each image is translated by its own ``(dy, dx)``, both drawn uniformly from
    ``-shift..shift``; the pixels shifted in take the value ``fill`` and those
    shifted out are lost. With ``flip``, each image is also mirrored left-right
    with probability 1/2. The input batch is never modified: a new array is
    returned.

    Args:
        shift: the largest translation, in pixels, along each axis (0: none).
        flip: mirror half of the images left-right (for data with no
            left-right meaning, such as clothes; not for digits or text).
        seed: seeds the generator (None: fresh randomness).
        fill: the value of the pixels shifted in: that of a blank (background)
            pixel as the images are prepared. It is 0 for raw or scaled images,
            but ``-mean / std`` for standardized ones, where a 0 would be a
            grey frame that test images never have.

    Raises:
        ConfigError: a negative or non-integer ``shift``, a non-bool ``flip``, a
            bad ``seed``, or a ``fill`` that is not a finite number.

    Shape:
        ``(batch, channels, height, width)`` -> the same shape and dtype.

    Example:
        >>> x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
        >>> Augment(shift=1, seed=0)(x)[0, 0].tolist()  # one pixel down
        [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    """

    def __init__(
        self,
        shift: int = 0,
        flip: bool = False,
        seed: int | None = None,
        fill: float = 0.0,
    ):
        integer = isinstance(shift, (int, np.integer)) and not isinstance(shift, bool)
        if not integer or shift < 0:
            raise ConfigError(
                f"Augment: shift must be a non-negative integer, received "
                f"shift={shift!r}"
            )
        if not isinstance(flip, (bool, np.bool_)):
            raise ConfigError(f"Augment: flip must be True or False, received {flip!r}")
        self.shift = int(shift)
        self.flip = bool(flip)
        self.seed = check_seed("Augment", seed)
        self.fill = check_real(
            "Augment",
            "fill",
            fill,
            low=-math.inf,
            requirement="must be a finite number",
        )
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, images: Array) -> Array:
        """A randomly shifted (and flipped) copy of ``images``.

        Raises:
            ShapeError: ``images`` is not 4-D ``(batch, channels, height, width)``,
                or ``shift`` is not smaller than their height and width
                (:meth:`check_size`).
        """
        x = np.asarray(images)
        if x.ndim != 4:
            raise ShapeError(
                f"Augment: images must have shape (batch, channels, height, width), "
                f"received shape {x.shape}"
            )
        n, _, h, w = x.shape
        self.check_size(h, w)
        out = x.copy()
        if self.flip:
            mirrored = self.rng.random(n) < 0.5
            out[mirrored] = out[mirrored, :, :, ::-1]
        k = self.shift
        if k == 0:
            return out
        shifted = np.full_like(out, self.fill)
        moves = self.rng.integers(-k, k + 1, size=(n, 2))
        # one slice copy per distinct shift (at most (2k + 1)^2), not per image
        for dy, dx in np.unique(moves, axis=0):
            rows = np.flatnonzero((moves[:, 0] == dy) & (moves[:, 1] == dx))
            dst_y, src_y = _span(int(dy), h)
            dst_x, src_x = _span(int(dx), w)
            shifted[rows, :, dst_y, dst_x] = out[rows, :, src_y, src_x]
        return shifted

    def check_size(self, height: int, width: int) -> None:
        """Raise :class:`ShapeError` unless ``shift`` is smaller than images of
        ``height x width`` pixels (a shift as large blanks whole images)."""
        if self.shift >= min(height, width):
            raise ShapeError(
                f"Augment: shift must be smaller than the images' height and width "
                f"(a shift as large blanks whole images), received shift={self.shift} "
                f"for images of {height}x{width} pixels"
            )

    def get_config(self) -> dict[str, Any]:
        return {
            "shift": self.shift,
            "flip": self.flip,
            "seed": self.seed,
            "fill": self.fill,
        }

    def __repr__(self) -> str:
        return (
            f"Augment(shift={self.shift}, flip={self.flip}, seed={self.seed}, "
            f"fill={self.fill:g})"
        )


def _span(d: int, size: int) -> tuple[slice, slice]:
    """(destination, source) slices along an axis of ``size`` for a shift by
    ``d`` pixels (positive: towards higher indices)."""
    if d >= 0:
        return slice(d, size), slice(0, size - d)
    return slice(0, size + d), slice(-d, size)
