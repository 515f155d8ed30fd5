"""Tests of lincoln.augment: seeded random shifts and flips of image batches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lincoln.augment import Augment
from lincoln.errors import ConfigError, ShapeError


def images(rng: np.random.Generator, n: int = 16, c: int = 2) -> np.ndarray:
    # strictly positive, so a zero in the output can only come from the fill
    return rng.uniform(0.5, 1.0, (n, c, 7, 9)).astype(np.float32)


def test_shape_and_dtype_are_kept_and_the_input_is_not_modified(rng) -> None:
    x = images(rng)
    before = x.copy()
    out = Augment(shift=2, flip=True, seed=0)(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, before)


def test_shift_zero_and_no_flip_is_the_identity(rng) -> None:
    x = images(rng)
    out = Augment(shift=0, flip=False, seed=3)(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x


def test_same_seed_same_batches_and_a_new_draw_each_call(rng) -> None:
    x = images(rng)
    a, b = Augment(2, True, seed=7), Augment(2, True, seed=7)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    np.testing.assert_array_equal(a(x), b(x))
    assert not np.array_equal(first, a(x))  # later batches move differently
    assert not np.array_equal(Augment(2, True, seed=8)(x), first)


def test_every_image_is_a_shift_with_zero_fill(rng) -> None:
    x = images(rng, n=64)
    k = 2
    out = Augment(shift=k, seed=1)(x)
    h, w = x.shape[2:]
    seen = set()
    for src, dst in zip(x, out, strict=True):
        # find the (dy, dx) that explains this output, zero fill included
        matches = []
        for dy in range(-k, k + 1):
            for dx in range(-k, k + 1):
                expected = np.zeros_like(src)
                expected[
                    :, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)
                ] = src[:, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
                if np.array_equal(dst, expected):
                    matches.append((dy, dx))
        assert len(matches) == 1
        seen.add(matches[0])
        dy, dx = matches[0]
        assert np.count_nonzero(dst == 0) == x.shape[1] * (
            abs(dy) * w + abs(dx) * h - abs(dy) * abs(dx)
        )
    assert len(seen) > 5  # shifts vary from image to image


def test_flip_mirrors_about_half_and_is_its_own_inverse(rng) -> None:
    x = images(rng, n=200)
    out = Augment(flip=True, seed=2)(x)
    flipped = [not np.array_equal(a, b) for a, b in zip(x, out, strict=True)]
    for a, b, f in zip(x, out, flipped, strict=True):
        np.testing.assert_array_equal(b, a[:, :, ::-1] if f else a)
    assert 60 < sum(flipped) < 140
    # mirroring again gives the original images back
    again = out.copy()
    again[flipped] = again[flipped][:, :, :, ::-1]
    np.testing.assert_array_equal(again, x)


@settings(max_examples=25, deadline=None)
@given(shift=st.integers(0, 4), seed=st.integers(0, 2**32))
def test_pixels_are_only_moved_or_zeroed(shift: int, seed: int) -> None:
    x = np.random.default_rng(seed).uniform(0.5, 1.0, (4, 1, 5, 6))
    out = Augment(shift=shift, flip=True, seed=seed)(x)
    assert out.shape == x.shape
    # every non-zero output pixel is one of its image's pixels
    for src, dst in zip(x, out, strict=True):
        assert np.isin(dst[dst != 0], src).all()


def test_a_shift_as_large_as_the_images_is_refused() -> None:
    x = np.ones((2, 1, 5, 6))
    assert Augment(shift=4, seed=0)(x).shape == x.shape
    with pytest.raises(ShapeError, match=r"shift=5 for images of 5x6 pixels"):
        Augment(shift=5, seed=0)(x)


def test_shifted_in_pixels_take_the_fill_value(rng) -> None:
    x = images(rng, n=64)
    out = Augment(shift=2, seed=1, fill=-0.75)(x)
    filled = out == -0.75
    # every image moved at least one pixel has a frame of fill, nothing else
    moved = filled.reshape(len(x), -1).any(axis=1)
    assert moved.sum() > 50
    np.testing.assert_array_equal(out == 0, np.zeros_like(filled))
    assert set(np.unique(out[~filled])) <= set(np.unique(x))
    # an image whose first row is fill was moved down: that row is all fill
    down = filled[:, :, 0, :].all(axis=(1, 2))
    assert down.any() and filled[down, :, 0, :].all()


def test_errors() -> None:
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="shift must be a non-negative integer"):
            Augment(shift=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="flip must be True or False"):
        Augment(flip="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        Augment(seed=-1)
    for bad_fill in (float("nan"), float("inf"), "0", None, True):
        with pytest.raises(ConfigError, match="fill must be a finite number"):
            Augment(fill=bad_fill)  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"Augment: images must have shape"):
        Augment(shift=1)(np.zeros((4, 28, 28)))


def test_repr_and_config() -> None:
    a = Augment(shift=2, flip=True, seed=0)
    assert repr(a) == "Augment(shift=2, flip=True, seed=0, fill=0)"
    assert a.get_config() == {"shift": 2, "flip": True, "seed": 0, "fill": 0.0}
    assert Augment(fill=-0.5).get_config()["fill"] == -0.5
