"""The book's chapter 6 trainer: ``RNNTrainer(text_file, model, optim, batch_size=32)``.

It reads a text, trains an :class:`~lincoln.network.RNNModel` on one-hot
characters with ``train(num_iterations, sample_every=100)`` and writes samples
with ``sample_output(input_char, sample_length)``, as printed. What differs
from the printed code: the vocabulary is the sorted characters (the same in
every process), randomness comes from a local seeded generator, sampling runs
the model itself with its state saved and restored (no copy of the model per
sample), and the loss is printed instead of plotted.
"""

from __future__ import annotations

import os
from collections import deque

import numpy as np

from .datasets.text import load_text
from .errors import ConfigError, check_positive_int
from .layers.recurrent import carrying_state
from .network import RNNModel
from .optimizers import Optimizer

__all__ = ["RNNTrainer"]


class RNNTrainer:
    """Trains a character model on a text file, the book's way.

    Args:
        text_file: a UTF-8 text file.
        model: the :class:`~lincoln.network.RNNModel`.
        optim: the optimizer (bound to the model here).
        batch_size: sequences per batch.
        seed: seeds sampling (None: fresh randomness).

    Raises:
        ConfigError: a model whose ``vocab_size`` is not the text's number of
            distinct characters, or a text too short for one batch.

    Example:
        >>> trainer = RNNTrainer("input.txt", mod, optim)   # doctest: +SKIP
        >>> trainer.train(1000, sample_every=100)            # doctest: +SKIP
    """

    def __init__(
        self,
        text_file: str | os.PathLike[str],
        model: RNNModel,
        optim: Optimizer,
        batch_size: int = 32,
        seed: int | None = None,
    ) -> None:
        ids, self.vocab = load_text(text_file)
        self.ids = ids.astype(np.intp)
        self.data = self.vocab.decode(ids)
        self.model = model
        self.chars = list(self.vocab.tokens)
        self.vocab_size = len(self.chars)
        self.char_to_idx = dict(self.vocab.index)
        self.idx_to_char = dict(enumerate(self.chars))
        self.sequence_length = model.sequence_length
        self.batch_size = check_positive_int("RNNTrainer", "batch_size", batch_size)
        if model.vocab_size != self.vocab_size:
            raise ConfigError(
                f"RNNTrainer: {text_file} has {self.vocab_size} distinct characters "
                f"but the model was declared with vocab_size={model.vocab_size}"
            )
        if len(self.ids) < self.sequence_length + self.batch_size + 1:
            raise ConfigError(
                f"RNNTrainer: {text_file} is too short ({len(self.ids)} characters) "
                f"for a batch of {self.batch_size} sequences of "
                f"{self.sequence_length}"
            )
        self.optim = optim
        optim.bind(model)
        self.rng = np.random.default_rng(seed)
        self.losses: list[float] = []

    def _generate_inputs_targets(self, start_pos: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``i`` is the text from ``start_pos + i`` (the book's overlapping
        windows) and its targets the same window one character later."""
        rows = start_pos + np.arange(self.batch_size)[:, None]
        cols = np.arange(self.sequence_length)[None, :]
        return self.ids[rows + cols], self.ids[rows + cols + 1]

    def _generate_one_hot_array(self, indices: np.ndarray) -> np.ndarray:
        """``(batch, steps)`` ids as ``(batch, steps, vocab_size)`` one-hot rows."""
        return np.eye(self.vocab_size, dtype=self.model.dtype)[indices]

    def sample_output(self, input_char: int, sample_length: int) -> str:
        """``sample_length`` characters drawn one at a time after ``input_char``
        (an id), from the model's current state, which is restored afterwards."""
        indices = []
        with carrying_state(self.model.layers, from_current=True):
            for _ in range(sample_length):
                x = self._generate_one_hot_array(np.array([[input_char]]))
                logits = np.asarray(self.model.forward(x, inference=True), np.float64)
                p = np.exp(logits.ravel() - logits.max())
                input_char = int(self.rng.choice(self.vocab_size, p=p / p.sum()))
                indices.append(input_char)
        return self.vocab.decode(indices)

    def train(
        self, num_iterations: int, sample_every: int = 100, verbose: bool = True
    ) -> list[float]:
        """Train for ``num_iterations`` batches; every ``sample_every`` batches
        print the moving average of the loss (over 100 batches) and a sample of
        200 characters. Returns the loss of every batch."""
        num_iterations = check_positive_int("train", "num_iterations", num_iterations)
        sample_every = check_positive_int("train", "sample_every", sample_every)
        moving_average: deque[float] = deque(maxlen=100)
        start_pos = 0
        for num_iter in range(num_iterations):
            if start_pos + self.sequence_length + self.batch_size + 1 > len(self.ids):
                start_pos = 0
            inputs, targets = self._generate_inputs_targets(start_pos)
            loss = self.model.single_step(
                self._generate_one_hot_array(inputs),
                self._generate_one_hot_array(targets),
            )
            self.optim.step()
            moving_average.append(loss)
            self.losses.append(loss)
            start_pos += self.batch_size
            if verbose and num_iter % sample_every == 0:
                print(f"iteration {num_iter}: loss {np.mean(moving_average):.4f}")
                print(self.sample_output(int(self.ids[start_pos]), 200))
        return self.losses

    def __repr__(self) -> str:
        return (
            f"RNNTrainer(vocab_size={self.vocab_size}, sequence_length="
            f"{self.sequence_length}, batch_size={self.batch_size}, "
            f"optim={self.optim!r})"
        )
