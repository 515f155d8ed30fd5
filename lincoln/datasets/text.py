"""Character-level text: the book's chapter 6 text, vocabularies, sequences, sampling.

:func:`load_text` reads a UTF-8 text (by default the text of the book's
recurrent-network chapter, shipped in the package: 99,993 characters of
Shakespeare-like verse, MIT licence, copyright 2018 Seth Weidman; see
``dlfs_chars.README.md`` beside it) and returns it encoded as integer ids with
a :class:`Vocabulary` whose order is the sorted characters, the same in every
Python process (the book's ``set()`` order was not, so its saved models broke).

:func:`text_dataset` cuts a text into ``(inputs, next-character targets)``
sequences with the last part held out; :func:`sample` generates text from a
trained network.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError, DatasetNotFoundError, check_positive_int
from ..layers.recurrent import carrying_state

__all__ = [
    "Vocabulary",
    "TextDataset",
    "load_text",
    "text_dataset",
    "split_text",
    "make_sequences",
    "sample",
    "vocab_of",
    "BOOK_TEXT",
]

#: file name of the book's chapter 6 text inside ``lincoln.datasets``
BOOK_TEXT = "dlfs_chars.txt"


class Vocabulary:
    """Characters (tokens) and their ids: ``tokens[i]`` has id ``i``.

    Args:
        tokens: distinct tokens in id order.

    Raises:
        ConfigError: an empty or repeated token list.

    Example:
        >>> vocab = Vocabulary.from_text("hello")
        >>> vocab.tokens, vocab.encode("hole").tolist()
        (['e', 'h', 'l', 'o'], [1, 3, 2, 0])
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens = [str(t) for t in tokens]
        if not self.tokens or len(set(self.tokens)) != len(self.tokens):
            raise ConfigError(
                f"Vocabulary: tokens must be a non-empty list of distinct strings, "
                f"received {len(self.tokens)} ({len(set(self.tokens))} distinct)"
            )
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted distinct characters of ``text`` (a deterministic order)."""
        return cls(sorted(set(text)))

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text`` (int32).

        Raises:
            DataError: a character that is not in the vocabulary.
        """
        try:
            return np.fromiter((self.index[ch] for ch in text), np.int32, len(text))
        except KeyError as exc:
            raise DataError(
                f"Vocabulary: the character {exc.args[0]!r} is not in the "
                f"vocabulary of {len(self)} characters"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids."""
        return "".join(self.tokens[int(i)] for i in ids)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.tokens == self.tokens

    def __repr__(self) -> str:
        shown = "".join(self.tokens[:20]).encode("unicode_escape").decode()
        more = "..." if len(self) > 20 else ""
        return f"Vocabulary({len(self)} tokens: {shown!r}{more})"


def _read(path: str | os.PathLike[str] | None, encoding: str) -> str:
    if path is None:
        return (
            resources.files("lincoln.datasets").joinpath(BOOK_TEXT).read_text("utf-8")
        )
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(f"load_text: no text file at {str(p)!r}")
    try:
        return p.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"load_text: {str(p)!r} is not {encoding} text ({exc})"
        ) from None


def load_text(
    path: str | os.PathLike[str] | None = None,
    *,
    vocab: Vocabulary | Sequence[str] | None = None,
    encoding: str = "utf-8",
) -> tuple[np.ndarray, Vocabulary]:
    """A text as integer ids, and its vocabulary.

    Args:
        path: a text file; None reads the book's chapter 6 text (bundled).
        vocab: the vocabulary to encode with (e.g. a saved model's); None builds
            one from the text's sorted characters.
        encoding: the file's encoding.

    Returns:
        ``(ids, vocab)``: int32 ids of shape ``(len(text),)`` and the vocabulary.

    Raises:
        DatasetNotFoundError: no file at ``path``.
        DataError: the file is not text in ``encoding``, is empty, or holds a
            character outside a given ``vocab``.

    Example:
        >>> ids, vocab = load_text()
        >>> len(ids), len(vocab)
        (99993, 62)
    """
    text = _read(path, encoding)
    if not text:
        raise DataError(f"load_text: {path or BOOK_TEXT} is empty")
    if vocab is None:
        vocab = Vocabulary.from_text(text)
    elif not isinstance(vocab, Vocabulary):
        vocab = Vocabulary(vocab)
    return vocab.encode(text), vocab


def split_text(
    ids: np.ndarray, val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``1 - val_fraction`` of a text and the rest (no shuffling: the
    held-out part is text the model never saw, not windows overlapping it).

    Raises:
        ConfigError: ``val_fraction`` outside [0, 1).
    """
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ConfigError(
            f"split_text: val_fraction must be in [0, 1), received {val_fraction!r}"
        )
    cut = len(ids) - int(round(len(ids) * float(val_fraction)))
    return ids[:cut], ids[cut:]


def make_sequences(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive, non-overlapping windows of ``seq_len`` ids and, for each, the
    window shifted by one (the next characters): ``(X, y)``, both
    ``(n, seq_len)``; the few ids that do not fill a window are dropped.

    Raises:
        ConfigError: a non-positive ``seq_len``.
        DataError: a text shorter than ``seq_len + 1``.
    """
    seq_len = check_positive_int("make_sequences", "seq_len", seq_len)
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise DataError(
            f"make_sequences: a text of {len(ids)} characters is too short for "
            f"sequences of {seq_len} (needs at least {seq_len + 1})"
        )
    X = np.ascontiguousarray(ids[: n * seq_len].reshape(n, seq_len))
    y = np.ascontiguousarray(ids[1 : n * seq_len + 1].reshape(n, seq_len))
    return X, y


@dataclass
class TextDataset:
    """Sequences cut from a text, for a character language model.

    Attributes:
        X_train, y_train: ``(n, seq_len)`` ids and next-character ids.
        X_val, y_val: the same from the held-out end of the text (empty when
            ``val_fraction`` is 0).
        vocab: the vocabulary (pass ``vocab.tokens`` to the Embedding layer so
            that it is saved with the model).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    vocab: Vocabulary


def text_dataset(
    path: str | os.PathLike[str] | None = None,
    seq_len: int = 64,
    val_fraction: float = 0.1,
    encoding: str = "utf-8",
) -> TextDataset:
    """:func:`load_text`, :func:`split_text` and :func:`make_sequences` in one call.

    Example:
        >>> data = text_dataset(seq_len=64)
        >>> data.X_train.shape, data.X_val.shape
        ((1406, 64), (156, 64))
    """
    ids, vocab = load_text(path, encoding=encoding)
    train, val = split_text(ids, val_fraction)
    X_train, y_train = make_sequences(train, seq_len)
    if len(val) > seq_len:
        X_val, y_val = make_sequences(val, seq_len)
    else:
        X_val = y_val = np.zeros((0, seq_len), np.int32)
    return TextDataset(X_train, y_train, X_val, y_val, vocab)


def vocab_of(net: Any) -> Vocabulary:
    """The vocabulary saved with a network (its Embedding layer's ``vocab``).

    Raises:
        ConfigError: the network's first layer holds no vocabulary.
    """
    tokens = getattr(net.layers[0], "vocab", None)
    if not tokens:
        raise ConfigError(
            f"vocab_of: the network's first layer ({type(net.layers[0]).__name__}) "
            f"holds no vocabulary; build it as Embedding(..., vocab=vocab.tokens)"
        )
    return Vocabulary(tokens)


def _next_probs(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64).reshape(-1) / temperature
    z = np.exp(z - z.max())
    return z / z.sum()


def sample(
    net: Any,
    vocab: Vocabulary | None = None,
    prompt: str = "",
    length: int = 300,
    temperature: float = 1.0,
    seed: int | None = None,
) -> str:
    """Generate text from a character model, one character at a time.

    The prompt is fed through the network first; then each character is drawn
    from ``softmax(logits / temperature)`` and fed back. The recurrent layers
    carry their state from character to character (see
    :func:`~lincoln.layers.recurrent.carrying_state`); the model is not copied.

    Args:
        net: a network mapping ids ``(batch, steps)`` to logits
            ``(batch, steps, vocab)``.
        vocab: its vocabulary; None reads the one saved with the network.
        prompt: the text to start from (empty: start from a line break if the
            vocabulary has one, else from id 0).
        length: number of characters to generate.
        temperature: > 0; below 1 is more conservative, above 1 more varied.
        seed: seeds the draws (same seed, same text).

    Returns:
        The prompt followed by the ``length`` generated characters.

    Raises:
        ConfigError: a non-positive ``length`` or ``temperature``.
        DataError: a prompt character outside the vocabulary.
    """
    vocab = vocab_of(net) if vocab is None else vocab
    length = check_positive_int("sample", "length", length)
    if not float(temperature) > 0:
        raise ConfigError(f"sample: temperature must be > 0, received {temperature!r}")
    rng = np.random.default_rng(seed)
    start = prompt or ("\n" if "\n" in vocab.index else vocab.tokens[0])
    ids = vocab.encode(start)[None, :]
    out: list[int] = []
    with carrying_state(net.layers):
        logits = net.forward(ids, inference=True)
        for _ in range(length):
            last = logits[0, -1] if logits.ndim == 3 else logits[0]
            nxt = int(rng.choice(len(vocab), p=_next_probs(last, float(temperature))))
            out.append(nxt)
            logits = net.forward(np.array([[nxt]]), inference=True)
    return prompt + vocab.decode(out)
