"""The network: layers in order, and the loss they are trained against."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .base import Array, Operation, as_array, check_finite
from .errors import ConfigError, DataError, ShapeError, check_positive_int
from .layers import Layer
from .losses import Loss
from .serialization import load_weights, register_network, save
from .summary import summary as summary_text

__all__ = ["NeuralNetwork", "DTYPES"]

DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def _as_float_dtype(dtype: Any) -> np.dtype[Any]:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in DTYPES.values():
        raise ConfigError(
            f"NeuralNetwork: dtype must be float32 or float64, received dtype={dtype!r}"
        )
    return dt


def _fresh_copy(op: Operation) -> Operation:
    return type(op)(**op.get_config())


class NeuralNetwork:
    """Layers applied in order, plus the loss used to train them.

    Args:
        layers: the layers, input first.
        loss: a :class:`~lincoln.losses.Loss` instance.
        seed: seeds every layer's initial weights (each layer gets its own
            stream derived from it); None draws fresh randomness.
        dtype: floating type of parameters and computation, float32 (default)
            or float64 (for gradient checks).

    Raises:
        ConfigError: empty or non-Layer ``layers``, a ``loss`` that is not a Loss,
            or an unsupported dtype.

    Example:
        >>> from lincoln import Dense, NeuralNetwork, MeanSquaredError, Sigmoid, Linear
        >>> net = NeuralNetwork([Dense(13, Sigmoid()), Dense(1, Linear())],
        ...                     MeanSquaredError(), seed=20190501)
    """

    def __init__(
        self,
        layers: Iterable[Layer],
        loss: Loss,
        seed: int | None = 1,
        dtype: Any = np.float32,
    ) -> None:
        self.layers = list(layers) if not isinstance(layers, Layer) else [layers]
        if not self.layers:
            raise ConfigError("NeuralNetwork: layers must be a non-empty list of Layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ConfigError(
                    f"NeuralNetwork: layers[{i}] must be a Layer, received "
                    f"{type(layer).__name__}"
                )
        if not isinstance(loss, Loss):
            raise ConfigError(
                f"NeuralNetwork: loss must be a Loss instance (e.g. "
                f"SoftmaxCrossEntropy()), received {loss!r}"
            )
        if seed is not None and (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or seed < 0
        ):
            raise ConfigError(
                "NeuralNetwork: seed must be a non-negative int or None, received "
                f"{seed!r}"
            )
        self.loss = loss
        self.seed = seed
        self.dtype = _as_float_dtype(dtype)
        self._unshare_activations()
        children = np.random.SeedSequence(seed).spawn(len(self.layers))
        for layer, child in zip(self.layers, children, strict=True):
            # 32 bits, so a layer written the book's way can pass it to np.random.seed
            layer.seed = int(child.generate_state(1, np.uint32)[0])
            layer.dtype = self.dtype
        # nobody reads the gradient with respect to the data: skip computing it
        self.layers[0].needs_input_grad = False

    def _unshare_activations(self) -> None:
        # One activation instance used by two layers would have its cached
        # input overwritten by the second; give each layer its own.
        seen: set[int] = set()
        for layer in self.layers:
            act = getattr(layer, "activation", None)
            if isinstance(act, Operation):
                if id(act) in seen:
                    layer.activation = _fresh_copy(act)  # type: ignore[attr-defined]
                seen.add(id(layer.activation))  # type: ignore[attr-defined]

    # -- the training step ------------------------------------------------------

    def _prepare(self, X: Any) -> Array:
        X = as_array(X, "NeuralNetwork: the inputs")
        if X.dtype != self.dtype:
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
        """Pass a batch through every layer.

        Args:
            x_batch: inputs of shape ``(batch, features...)``; cast to the network's
                dtype.
            inference: True to predict (dropout off, running statistics used).
        """
        x_out = self._prepare(x_batch)
        for layer in self.layers:
            x_out = layer.forward(x_out, inference)
        return x_out

    def backward(self, loss_grad: Array) -> Array | None:
        """Backpropagate ``loss_grad`` through the layers in reverse.

        Returns the gradient with respect to the input if the first layer
        computes it (``net.layers[0].needs_input_grad``), else None.
        """
        grad: Array | None = loss_grad
        for layer in reversed(self.layers):
            grad = layer.backward(grad)  # type: ignore[arg-type]
        return grad

    def forward_loss(
        self, x_batch: Array, y_batch: Array, inference: bool = False
    ) -> float:
        """The loss on one batch, without backpropagating."""
        prediction = self.forward(x_batch, inference)
        return self.loss.forward(prediction, y_batch)

    def train_batch(
        self, x_batch: Array, y_batch: Array, inference: bool = False
    ) -> float:
        """Forward, loss, backward on one batch; return the loss (no update)."""
        prediction = self.forward(x_batch, inference)
        batch_loss = self.loss.forward(prediction, y_batch)
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
        if len(X) <= batch_size:
            return first.copy()
        out = np.empty((len(X),) + first.shape[1:], dtype=first.dtype)
        out[:batch_size] = first
        for start in range(batch_size, len(X), batch_size):
            out[start : start + batch_size] = self.forward(
                X[start : start + batch_size], inference=True
            )
        return out

    # -- parameters -------------------------------------------------------------

    def params(self) -> list[Array]:
        """Every parameter array, layer by layer (the arrays themselves, not copies)."""
        return [p for layer in self.layers for p in layer.params]

    def param_grads(self) -> list[Array]:
        """The gradients matching :meth:`params`, from the last backward pass."""
        return [g for layer in self.layers for g in layer.param_grads]

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

    def state_dict(self) -> dict[str, Array]:
        """Every parameter and buffer by the name used in saved files (the
        arrays themselves, not copies: copy them to keep a snapshot)."""
        return {**dict(self.named_params()), **dict(self.named_buffers())}

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """The per-sample input shape the network was built for (None before)."""
        if self.layers[0].first:
            return None
        return self.layers[0]._input_shape

    # -- saving -------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network (architecture, loss, dtype, weights) to ``path``.

        A single ``.npz`` file, written atomically; read it back with
        ``lincoln.load(path)``. See :mod:`lincoln.serialization` for the layout.

        Raises:
            OSError: the file cannot be written (a previous file is kept intact).
        """
        save(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Copy the parameters and buffers saved at ``path`` into this network.

        The network must be declared like the saved one; it is built first if
        needed. Every array is checked before any is copied.

        Raises:
            ModelFileError: the file is unreadable or does not fit this network
                (naming the missing, unexpected or mismatched arrays).
        """
        load_weights(self, path)

    @property
    def built(self) -> bool:
        """True once every layer has seen an input and created its parameters."""
        return all(not layer.first for layer in self.layers)

    def build(self, input_shape: tuple[int, ...]) -> None:
        """Create the parameters for per-sample inputs of ``input_shape``."""
        self.forward(np.zeros((1, *input_shape), dtype=self.dtype), inference=True)

    def summary(self, input_shape: tuple[int, ...] | int | None = None) -> None:
        """Print a table of layers, operations, output shapes and parameter counts
        (``lincoln.summary.summary`` returns it as a string).

        Args:
            input_shape: per-sample input shape, needed only if the network
                has not been built yet (it is then built for this shape).
        """
        print(summary_text(self, input_shape))

    def count_params(self) -> int:
        """Number of scalar parameters (0 before the network is built)."""
        return int(sum(p.size for p in self.params()))

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


register_network("NeuralNetwork", NeuralNetwork)
