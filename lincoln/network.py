"""The network: layers in order, and the loss they are trained against.

:class:`LayerBlock` is a sequence of layers with the book's forward, backward,
``params()`` and ``param_grads()``; :class:`NeuralNetwork` is a block with a
loss, a seed and a dtype.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .base import Array, Operation, as_array, check_finite
from .errors import (
    ConfigError,
    DataError,
    ShapeError,
    check_float_dtype,
    check_positive_int,
    check_seed,
)
from .layers import Layer
from .losses import Loss, MeanSquaredError
from .registry import NETWORKS
from .serialization import load_weights, save
from .summary import summary as summary_text

__all__ = ["LayerBlock", "NeuralNetwork", "RNNModel", "DTYPES"]

DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


class LayerBlock:
    """Layers applied in order (the book's base of :class:`NeuralNetwork`).

    Args:
        layers: the layers, input first.

    Raises:
        ConfigError: ``layers`` is empty or holds something that is not a Layer.
    """

    def __init__(self, layers: Iterable[Layer]) -> None:
        self.layers = [layers] if isinstance(layers, Layer) else list(layers)
        if not self.layers:
            raise ConfigError(f"{type(self).__name__}: layers must be a non-empty list")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ConfigError(
                    f"{type(self).__name__}: layers[{i}] must be a Layer, received "
                    f"{type(layer).__name__}"
                )

    def forward(self, x_batch: Array, inference: bool = False) -> Array:
        """Pass a batch through every layer."""
        for layer in self.layers:
            x_batch = layer.forward(x_batch, inference)
        return x_batch

    def backward(self, loss_grad: Array) -> Array | None:
        """Backpropagate ``loss_grad`` through the layers in reverse; return the
        gradient with respect to the input (None when the first layer skips it)."""
        grad: Array | None = loss_grad
        for layer in reversed(self.layers):
            grad = layer.backward(grad)  # type: ignore[arg-type]
        return grad

    def params(self) -> list[Array]:
        """Every parameter array, layer by layer (the arrays themselves)."""
        return [p for layer in self.layers for p in layer.params]

    def param_grads(self) -> list[Array]:
        """The gradients matching :meth:`params`, from the last backward pass."""
        return [g for layer in self.layers for g in layer.param_grads]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.layers!r})"


@NETWORKS.register("NeuralNetwork")
class NeuralNetwork(LayerBlock):
    """Layers applied in order, plus the loss used to train them.

    Args:
        layers: the layers, input first.
        loss: a :class:`~lincoln.losses.Loss` instance (or class); the book's
            default is mean squared error.
        seed: seeds every layer's initial weights (each layer gets its own
            stream derived from it); None draws fresh randomness.
        dtype: floating type of parameters and computation, float32 (default)
            or float64 (for gradient checks).

    Raises:
        ConfigError: empty or non-Layer ``layers``, a ``loss`` that is not a Loss,
            a negative seed or an unsupported dtype.

    Example:
        >>> from lincoln import Dense, NeuralNetwork, MeanSquaredError, Sigmoid, Linear
        >>> net = NeuralNetwork([Dense(13, Sigmoid()), Dense(1, Linear())],
        ...                     MeanSquaredError(), seed=20190501)
    """

    def __init__(
        self,
        layers: Iterable[Layer],
        loss: Loss | type[Loss] | None = None,
        seed: int | None = 1,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(layers)
        if loss is None or (isinstance(loss, type) and issubclass(loss, Loss)):
            loss = (loss or MeanSquaredError)()
        if not isinstance(loss, Loss):
            raise ConfigError(
                f"NeuralNetwork: loss must be a Loss instance (e.g. "
                f"SoftmaxCrossEntropy()), received {loss!r}"
            )
        self.loss = loss
        self.seed = check_seed("NeuralNetwork", seed)
        self.dtype = check_float_dtype("NeuralNetwork", dtype)
        children = np.random.SeedSequence(self.seed).spawn(len(self.layers))
        seen: set[int] = set()
        for layer, child in zip(self.layers, children, strict=True):
            # 32 bits, so a layer written the book's way can pass it to np.random.seed
            layer.seed = int(child.generate_state(1, np.uint32)[0])
            layer.dtype = self.dtype
            _unshare_activation(layer, seen)
        for before, after in zip([None, *self.layers[:-1]], self.layers, strict=True):
            after.follow(before)
        # nobody reads the gradient with respect to the data: skip computing it
        self.layers[0].needs_input_grad = False

    # -- the training step ------------------------------------------------------

    def _takes_ids(self) -> bool:
        # an Embedding first layer reads integer ids, which must not become floats
        return bool(getattr(self.layers[0], "takes_ids", False))

    def _prepare(self, X: Any) -> Array:
        X = as_array(X, "NeuralNetwork: the inputs")
        if X.dtype.kind in "iu" and self._takes_ids():
            pass
        elif X.dtype != self.dtype:
            if X.dtype.kind not in "biuf":
                raise DataError(
                    f"NeuralNetwork: inputs must be numeric, received dtype {X.dtype}"
                )
            X = X.astype(self.dtype)
        if X.ndim < 2:
            raise ShapeError(
                f"NeuralNetwork: inputs must have a batch axis, "
                f"shape (batch, features...), received shape {X.shape}"
            )
        return X

    def forward(self, x_batch: Array, inference: bool = False) -> Array:
        """Pass a batch through every layer (inputs cast to the network's dtype).

        Args:
            x_batch: inputs of shape ``(batch, features...)``.
            inference: True to predict (dropout off, running statistics used).
        """
        return super().forward(self._prepare(x_batch), inference)

    def forward_loss(
        self, x_batch: Array, y_batch: Array, inference: bool = False
    ) -> float:
        """The loss on one batch, without backpropagating."""
        return self.loss.forward(self.forward(x_batch, inference), y_batch)

    def train_batch(
        self, x_batch: Array, y_batch: Array, inference: bool = False
    ) -> float:
        """Forward, loss, backward on one batch; return the loss (no update)."""
        batch_loss = self.forward_loss(x_batch, y_batch, inference)
        self.backward(self.loss.backward())
        return batch_loss

    def predict(self, X: Array, batch_size: int = 1024) -> Array:
        """Network outputs for ``X`` in inference mode, computed in batches.

        For a classifier these are the logits; ``argmax(axis=1)`` gives classes.
        """
        X = self._prepare(X)
        check_finite(X, "the inputs", "predict", plural=True, locate=False)
        batch_size = check_positive_int("predict", "batch_size", batch_size)
        if len(X) == 0:
            raise DataError("predict: received an empty array (0 samples)")
        first = self.forward(X[:batch_size], inference=True)
        out = np.empty((len(X),) + first.shape[1:], dtype=first.dtype)
        out[:batch_size] = first
        for start in range(batch_size, len(X), batch_size):
            out[start : start + batch_size] = self.forward(
                X[start : start + batch_size], inference=True
            )
        return out

    # -- declared state ---------------------------------------------------------

    def named_params(self) -> Iterator[tuple[str, Array]]:
        """``("layers.0.params.1", array)`` pairs, the names used in saved files."""
        for i, layer in enumerate(self.layers):
            for j, p in enumerate(layer.params):
                yield f"layers.{i}.params.{j}", p

    def named_buffers(self) -> Iterator[tuple[str, Array]]:
        """``("layers.3.buffers.running_mean", array)`` pairs: every layer's
        non-trainable state (``layer.buffers()``), the arrays themselves."""
        for i, layer in enumerate(self.layers):
            for name, b in layer.buffers().items():
                yield f"layers.{i}.buffers.{name}", b

    def named_generators(self) -> Iterator[tuple[str, np.random.Generator]]:
        """``("layers.0.operations.3.rng", generator)`` pairs: the random
        generators the layers' operations declare (dropout masks)."""
        for i, layer in enumerate(self.layers):
            for name, gen in layer.generators().items():
                yield f"layers.{i}.{name}", gen

    def state_dict(self) -> dict[str, Array]:
        """Every parameter and buffer by the name used in saved files (the
        arrays themselves, not copies: copy them to keep a snapshot)."""
        return {**dict(self.named_params()), **dict(self.named_buffers())}

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """The per-sample input shape the network was built for (None before)."""
        return self.layers[0].input_shape

    @property
    def built(self) -> bool:
        """True once every layer has seen an input and created its parameters."""
        return all(not layer.first for layer in self.layers)

    def build(self, input_shape: tuple[int, ...]) -> None:
        """Create the parameters for per-sample inputs of ``input_shape``."""
        dtype = np.intp if self._takes_ids() else self.dtype
        self.forward(np.zeros((1, *input_shape), dtype=dtype), inference=True)

    def count_params(self) -> int:
        """Number of scalar parameters (0 before the network is built)."""
        return int(sum(p.size for p in self.params()))

    # -- saving and describing ------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network (architecture, loss, dtype, weights) to ``path``:
        one ``.npz`` file, written atomically; ``lincoln.load(path)`` reads it.

        Raises:
            OSError: the file cannot be written (a previous file is kept intact).
        """
        save(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Copy the parameters and buffers saved at ``path`` into this network,
        which must be declared like the saved one (it is built first if needed).

        Raises:
            ModelFileError: the file is unreadable or does not fit this network.
        """
        load_weights(self, path)

    def summary(self, input_shape: tuple[int, ...] | int | None = None) -> None:
        """Print a table of layers, operations, output shapes and parameter counts
        (``lincoln.summary.summary`` returns it as a string); ``input_shape`` is
        needed only if the network has not been built yet."""
        print(summary_text(self, input_shape))

    def __repr__(self) -> str:
        lines = [
            f"NeuralNetwork(dtype={self.dtype.name}, seed={self.seed}, "
            f"loss={self.loss!r})"
        ]
        for i, layer in enumerate(self.layers):
            n = sum(p.size for p in layer.params)
            built = f"{n:,} params" if not layer.first else "not built"
            lines.append(f"  ({i}) {layer!r}  [{built}]")
        if self.built:
            lines.append(f"  total: {self.count_params():,} parameters")
        return "\n".join(lines)


class RNNModel(NeuralNetwork):
    """The book's chapter 6 model: ``RNNModel(layers, sequence_length, vocab_size,
    loss)``, a network of recurrent layers trained on one-hot characters.

    Args:
        layers: the layers (the book's ``RNNLayer``, ``LSTMLayer``, ``GRULayer``,
            or any lincoln layers).
        sequence_length: characters per training sequence (the trainer reads it).
        vocab_size: the number of distinct characters.
        loss: the loss, a :class:`~lincoln.losses.SoftmaxCrossEntropy` over the
            last axis.
        seed, dtype: as for :class:`NeuralNetwork`.

    Example:
        >>> from lincoln.layers import LSTMLayer
        >>> from lincoln.losses import SoftmaxCrossEntropy
        >>> mod = RNNModel([LSTMLayer(256, 62)], sequence_length=25, vocab_size=62,
        ...                loss=SoftmaxCrossEntropy())
    """

    def __init__(
        self,
        layers: Iterable[Layer],
        sequence_length: int,
        vocab_size: int,
        loss: Loss | type[Loss] | None = None,
        seed: int | None = 1,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(layers, loss, seed=seed, dtype=dtype)
        self.sequence_length = check_positive_int(
            "RNNModel", "sequence_length", sequence_length
        )
        self.vocab_size = check_positive_int("RNNModel", "vocab_size", vocab_size)

    def single_step(self, x_batch: Array, y_batch: Array) -> float:
        """The book's step: forward, loss, backward (the optimizer steps after)."""
        return self.train_batch(x_batch, y_batch)


def _unshare_activation(layer: Layer, seen: set[int]) -> None:
    # One activation instance used by two layers would have its cached input
    # overwritten by the second; give each layer its own.
    act = getattr(layer, "activation", None)
    if isinstance(act, Operation):
        if id(act) in seen:
            layer.activation = copy.copy(act)  # type: ignore[attr-defined]
        seen.add(id(layer.activation))  # type: ignore[attr-defined]
