"""Convolution and pooling geometries, shared by the forward checks against plain
loops (test_conv.py, test_pooling.py) and the gradient check (test_gradcheck.py),
so that every geometry is run through both."""

from __future__ import annotations

ConvGeometry = tuple[int, int, int, tuple[int, int], int, int, str | int]
PoolGeometry = tuple[tuple[int, int, int, int], int, int | None]

CONV_GEOMETRIES: list[ConvGeometry] = [
    # (batch, in_c, out_c, (H, W), kernel, stride, padding)
    (2, 1, 2, (5, 5), 1, 1, "same"),
    (2, 3, 2, (5, 6), 3, 1, "same"),
    (3, 2, 4, (6, 5), 3, 2, "same"),
    (2, 2, 3, (7, 6), 5, 1, "same"),
    (2, 2, 2, (7, 8), 5, 2, "same"),
    (2, 2, 3, (6, 5), 4, 1, "same"),
    (2, 3, 2, (6, 7), 3, 1, "valid"),
    (3, 2, 3, (7, 6), 3, 2, "valid"),
    (2, 1, 2, (5, 7), 5, 1, "valid"),
    (2, 2, 2, (6, 5), 1, 2, "valid"),
    (2, 2, 3, (5, 6), 3, 1, 1),
    (2, 2, 2, (5, 6), 3, 2, 2),
    (2, 1, 3, (4, 5), 5, 1, 2),
    (2, 3, 2, (3, 4), 5, 3, 2),
]

POOL_GEOMETRIES: list[PoolGeometry] = [
    # (input shape, pool_size, stride)
    ((2, 3, 4, 6), 2, None),
    ((2, 2, 5, 7), 2, None),  # odd sizes: the last row and column are dropped
    ((3, 2, 6, 5), 3, None),
    ((2, 2, 5, 6), 3, 1),  # overlapping windows
    ((2, 3, 7, 6), 3, 2),
    ((2, 1, 6, 7), 2, 3),  # gaps between windows
    ((2, 2, 4, 5), 1, None),
]


def conv_id(geometry: ConvGeometry) -> str:
    """``n2-c3-o2-5x6-k3-s1-same``: batch, channels in and out, size, kernel,
    stride, padding."""
    n, c, o, (h, w), k, s, p = geometry
    return f"n{n}-c{c}-o{o}-{h}x{w}-k{k}-s{s}-{p}"


def pool_id(geometry: PoolGeometry) -> str:
    """``2x3x4x6-p2-sNone``: input shape, pool size, stride."""
    shape, size, stride = geometry
    return f"{'x'.join(map(str, shape))}-p{size}-s{stride}"
