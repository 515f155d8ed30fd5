"""The Embedding layer: a learned vector for each integer id (a character, a word).

Its configuration may carry the vocabulary (the characters, in id order), so a
saved character model knows how to encode a prompt and decode what it samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base import Array
from ..errors import ConfigError, check_positive_int
from ..ops.embedding import EmbeddingLookup
from ..registry import LAYERS
from .base import Layer
from .dense import follow_sequence_length

__all__ = ["Embedding"]


@LAYERS.register("embedding")
class Embedding(Layer):
    """Maps integer ids to learned vectors of ``dim`` numbers.

    Args:
        vocab_size: number of distinct ids (ids are ``0 .. vocab_size - 1``).
        dim: length of each vector (the layer's width).
        vocab: optionally, the tokens in id order (e.g. the characters of a
            text), saved with the model so that it can encode and decode text.
        scale: standard deviation of the initial vectors.

    Shape:
        input_ ``(batch, steps)`` integer ids -> output ``(batch, steps, dim)``
        (any number of steps once built).

    Raises:
        ConfigError: non-positive sizes, or a ``vocab`` whose length is not
            ``vocab_size`` or that repeats a token.

    Example:
        >>> layer = Embedding(62, 64)
    """

    #: the network passes integer inputs to this layer without a float cast
    takes_ids = True

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        vocab: Sequence[str] | None = None,
        scale: float = 1.0,
    ) -> None:
        super().__init__(check_positive_int("Embedding", "dim", dim))
        self.vocab_size = check_positive_int("Embedding", "vocab_size", vocab_size)
        self.dim = self.neurons
        self.scale = float(scale)
        if not self.scale > 0:
            raise ConfigError(f"Embedding: scale must be > 0, received scale={scale!r}")
        self.vocab = None if vocab is None else [str(t) for t in vocab]
        if self.vocab is not None and (
            len(self.vocab) != self.vocab_size
            or len(set(self.vocab)) != len(self.vocab)
        ):
            raise ConfigError(
                f"Embedding: vocab must list {self.vocab_size} distinct tokens, "
                f"received {len(self.vocab)} ({len(set(self.vocab))} distinct)"
            )

    def _setup_layer(self, input_: Array) -> None:
        W = self.rng().standard_normal((self.vocab_size, self.dim)) * self.scale
        self.params = [W.astype(self.dtype)]
        self.operations = [EmbeddingLookup(self.params[0])]

    def forward(self, input_: Array, inference: bool = False) -> Array:
        follow_sequence_length(self, input_, 2)
        return super().forward(input_, inference)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*input_shape, self.dim)

    def __repr__(self) -> str:
        vocab = f", vocab=<{len(self.vocab)} tokens>" if self.vocab is not None else ""
        return f"Embedding(vocab_size={self.vocab_size}, dim={self.dim}{vocab})"

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"vocab_size": self.vocab_size, "dim": self.dim}
        if self.vocab is not None:
            config["vocab"] = list(self.vocab)
        if self.scale != 1.0:
            config["scale"] = self.scale
        return config
