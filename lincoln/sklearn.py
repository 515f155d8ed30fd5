"""scikit-learn estimators around lincoln networks.

:class:`LincolnClassifier` and :class:`LincolnRegressor` take the network as
*layer specifications*, the same dicts as an experiment file's
``[[model.layers]]`` tables, and the optimizer as a name or a dict like its
``[optimizer]`` table. The constructor stores its arguments as they are and
``fit`` builds a fresh network from them, so ``clone``, ``get_params``,
``set_params``, pipelines and grid searches work as with any scikit-learn
estimator. The layers given are the hidden ones: ``fit`` adds the output layer,
a linear Dense layer with one unit per class (softmax cross-entropy) or per
target (mean squared error).

Needs the optional scikit-learn: ``pip install 'lincoln[sklearn]'``.

Example:
    >>> from sklearn.pipeline import make_pipeline            # doctest: +SKIP
    >>> from sklearn.preprocessing import StandardScaler      # doctest: +SKIP
    >>> clf = make_pipeline(StandardScaler(), LincolnClassifier(
    ...     layers=[{"type": "dense", "neurons": 64, "activation": "relu"}],
    ...     optimizer={"type": "adam", "lr": 0.01}, epochs=20, random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test)       # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import Tags, check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "lincoln.sklearn needs scikit-learn: pip install 'lincoln[sklearn]'"
    ) from None

from .base import Array
from .datasets import train_test_split
from .errors import ConfigError
from .layers import Dense, Layer
from .losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from .network import NeuralNetwork
from .optimizers import Optimizer
from .registry import LAYERS, OPTIMIZERS
from .train import History, Trainer

__all__ = [
    "LincolnClassifier",
    "LincolnRegressor",
    "DEFAULT_LAYERS",
    "EXPECTED_FAILED_CHECKS",
    "expected_failed_checks",
]

#: The hidden layers when ``layers=None``: one ReLU layer of 100 units, as
#: scikit-learn's ``MLPClassifier`` has.
DEFAULT_LAYERS: tuple[dict[str, Any], ...] = (
    {"type": "dense", "neurons": 100, "activation": "relu", "weight_init": "he"},
)

#: scikit-learn estimator checks that cannot apply, with the reason; the test
#: suite passes this to ``parametrize_with_checks(expected_failed_checks=...)``.
#: Empty: every check of the installed scikit-learn passes.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The checks ``estimator`` is excused from, by name, with the reason."""
    return dict(EXPECTED_FAILED_CHECKS)


_MAX_SEED = 2**31 - 1


class _LincolnEstimator(BaseEstimator):
    """What the classifier and the regressor share: building and training."""

    _loss: type[Loss]
    _stratify = False  # a classifier's validation split keeps class shares

    def __init__(
        self,
        layers: Sequence[dict[str, Any] | Layer] | None = None,
        *,
        input_shape: tuple[int, ...] | None = None,
        optimizer: str | dict[str, Any] | Optimizer = "adam",
        epochs: int = 100,
        batch_size: int = 32,
        eval_every: int = 1,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 5,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        verbose: bool = False,
    ) -> None:
        self.layers = layers
        self.input_shape = input_shape
        self.optimizer = optimizer
        self.epochs = epochs
        self.batch_size = batch_size
        self.eval_every = eval_every
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # -- building -----------------------------------------------------------------

    def _network(self, n_outputs: int, seed: int) -> NeuralNetwork:
        """A fresh network: the hidden layers asked for, then the output layer."""
        specs = DEFAULT_LAYERS if self.layers is None else self.layers
        if isinstance(specs, (str, dict, Layer)) or not isinstance(specs, Sequence):
            raise ConfigError(
                f"{type(self).__name__}: layers must be a list of layer specs "
                f'(e.g. [{{"type": "dense", "neurons": 64}}]) or None, received '
                f"layers={specs!r}"
            )
        # copies, so that fitting never changes (or shares) what was passed
        layers = [LAYERS.create(copy.deepcopy(spec), base=Layer) for spec in specs]
        layers.append(Dense(n_outputs, "linear", weight_init="glorot"))
        return NeuralNetwork(layers, self._loss(), seed=seed, dtype=self.dtype)

    def _samples(self, X: Array) -> Array:
        """Rows of ``X`` in the shape the network takes (``input_shape``)."""
        if self.input_shape is None:
            return X
        shape = tuple(self.input_shape)
        if math.prod(shape) != X.shape[1]:
            raise ConfigError(
                f"{type(self).__name__}: input_shape={shape} holds {math.prod(shape)} "
                f"values, but X has {X.shape[1]} features"
            )
        return X.reshape(len(X), *shape)

    def _seeds(self) -> tuple[int, int, int]:
        """Seeds of the weights, the shuffling and the validation split."""
        draws = check_random_state(self.random_state).randint(0, _MAX_SEED, size=3)
        return int(draws[0]), int(draws[1]), int(draws[2])

    # -- training -----------------------------------------------------------------

    def _start(self, n_outputs: int) -> None:
        """Build a new network and its trainer (``network_`` is set once
        training succeeds, so a failed first call leaves the estimator unfitted)."""
        net_seed, self._shuffle_seed, self._split_seed = self._seeds()
        net = self._network(n_outputs, net_seed)
        optim = OPTIMIZERS.create(copy.deepcopy(self.optimizer), base=Optimizer)
        self._trainer = Trainer(net, optim)
        self._calls = 0
        self.n_iter_ = 0

    def _train(self, X: Array, y: Array, epochs: int, restart: bool) -> None:
        """``epochs`` epochs on ``(X, y)`` (samples already in the network's
        shape); ``restart`` starts from the initial weights (``fit``), else
        training goes on (``partial_fit``, which holds out no validation data
        and never stops early)."""
        X_val: Array | None = None
        y_val: Array | None = None
        stopping = bool(self.early_stopping) and restart
        if stopping:
            X, X_val, y, y_val = train_test_split(
                X,
                y,
                test_fraction=self.validation_fraction,
                seed=self._split_seed,
                stratify=self._stratify,
            )
        history = self._trainer.fit(
            X,
            y,
            X_val,
            y_val,
            epochs=epochs,
            eval_every=self.eval_every,
            batch_size=self.batch_size,
            seed=(self._shuffle_seed + self._calls) % _MAX_SEED,
            restart=restart,
            early_stopping=stopping,
            patience=self.patience,
            verbose=bool(self.verbose),
            progress=False,
        )
        self._calls += 1
        self.network_ = self._trainer.net
        self.history_: History = history
        self.n_iter_ += len(history.train_loss)

    def _outputs(self, X: Any) -> Array:
        """The network's outputs for ``X`` (validated against the fitted shape)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.predict(self._samples(X))

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class LincolnClassifier(ClassifierMixin, _LincolnEstimator):
    """A lincoln network as a scikit-learn classifier (softmax cross-entropy).

    Args:
        layers: the hidden layers as specs (``{"type": "dense", "neurons": 64,
            "activation": "relu"}``, ``{"type": "conv2d", "out_channels": 8,
            "param_size": 3}``, ...) or Layer instances (copied at each fit);
            None is :data:`DEFAULT_LAYERS`. ``fit`` adds a linear Dense output
            layer with one unit per class.
        input_shape: the shape each row is reshaped to before the network, e.g.
            ``(1, 8, 8)`` for a convolutional network on 64 pixels; None keeps
            rows.
        optimizer: an optimizer name (``"adam"``), a spec (``{"type":
            "sgd_momentum", "lr": 0.1, "momentum": 0.9}``) or an instance
            (copied at each fit).
        epochs: passes over the training data in ``fit``.
        batch_size: samples per training step.
        eval_every: with early stopping, evaluate every this many epochs.
        early_stopping: in ``fit``, hold out ``validation_fraction`` of the
            training data (stratified), stop after ``patience`` evaluations
            without a lower validation loss and keep the best evaluation's
            parameters (``partial_fit`` trains on all it is given).
        validation_fraction: the share held out for early stopping.
        patience: evaluations without improvement tolerated.
        random_state: seeds the initial weights, the shuffling and the split.
        dtype: ``"float32"`` or ``"float64"``.
        verbose: print a line per evaluation.

    Attributes:
        classes_: the class labels, sorted.
        n_features_in_: the number of features seen in ``fit``.
        network_: the trained :class:`~lincoln.network.NeuralNetwork` (its
            outputs are logits; ``lincoln.onnx.export(clf.network_, ...)``
            serves it).
        history_: the :class:`~lincoln.train.History` of the last training call.
        n_iter_: epochs trained in total.

    Example:
        >>> clf = LincolnClassifier(epochs=20, random_state=0)   # doctest: +SKIP
        >>> clf.fit(X, y).predict_proba(X[:2])                   # doctest: +SKIP
    """

    _loss = SoftmaxCrossEntropy
    _stratify = True

    def fit(self, X: Any, y: Any) -> LincolnClassifier:
        """Train a new network on ``(X, y)`` for ``epochs`` epochs; return self."""
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        samples = self._samples(X)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._start(len(self.classes_))
        self._train(samples, labels, self.epochs, restart=True)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> LincolnClassifier:
        """Train for one epoch on ``(X, y)``, continuing from where the last
        call left off; return self.

        Args:
            classes: every class that ``y`` may hold, required on the first
                call (which builds the network) and optional afterwards.

        Raises:
            ValueError: no ``classes`` on the first call, other ``classes``
                later, or labels in ``y`` that ``classes`` does not hold.
        """
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError(
                "LincolnClassifier.partial_fit: pass classes= (every label y may "
                "hold) on the first call"
            )
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        samples = self._samples(X)
        if first:
            self.classes_ = np.unique(classes)
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"LincolnClassifier.partial_fit: classes={np.unique(classes)!r} "
                f"differs from the first call's {self.classes_!r}"
            )
        labels = self._labels(y)
        if first:
            self._start(len(self.classes_))
        self._train(samples, labels, 1, restart=False)
        return self

    def _labels(self, y: Array) -> Array:
        """The index in ``classes_`` of each label of ``y``.

        Raises:
            ValueError: ``y`` holds a label that ``classes_`` does not.
        """
        labels = np.searchsorted(self.classes_, y)
        inside = np.minimum(labels, len(self.classes_) - 1)
        unknown = (labels >= len(self.classes_)) | (self.classes_[inside] != y)
        if unknown.any():
            raise ValueError(
                f"LincolnClassifier.partial_fit: y holds labels not in classes: "
                f"{np.unique(y[unknown])!r}"
            )
        return labels

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities ``(n_samples, n_classes)``, in the order of
        ``classes_`` (the softmax of the network's logits)."""
        logits = self._outputs(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs

    def predict(self, X: Any) -> Array:
        """The most probable class of each sample."""
        logits = self._outputs(X)
        return self.classes_[np.argmax(logits, axis=1)]  # type: ignore[no-any-return]


class LincolnRegressor(RegressorMixin, _LincolnEstimator):
    """A lincoln network as a scikit-learn regressor (mean squared error).

    Takes the arguments of :class:`LincolnClassifier`; ``fit`` adds a linear
    output layer with one unit per target. ``y`` may be ``(n_samples,)`` or
    ``(n_samples, n_targets)``, and ``predict`` returns the same shape.

    Attributes:
        n_features_in_: the number of features seen in ``fit``.
        network_: the trained network.
        history_: the History of the training.
        n_iter_: epochs trained.
    """

    _loss = MeanSquaredError

    def fit(self, X: Any, y: Any) -> LincolnRegressor:
        """Train a new network on ``(X, y)`` for ``epochs`` epochs; return self."""
        X, y = validate_data(
            self,
            X,
            y,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=True,
        )
        self._single_output = y.ndim == 1
        samples = self._samples(X)
        targets = y.reshape(len(y), -1)
        self._start(targets.shape[1])
        self._train(samples, targets, self.epochs, restart=True)
        return self

    def predict(self, X: Any) -> Array:
        """Predicted targets, ``(n_samples,)`` or ``(n_samples, n_targets)``
        as ``y`` was in ``fit``."""
        out = self._outputs(X).astype(np.float64)
        return out.ravel() if self._single_output else out

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
