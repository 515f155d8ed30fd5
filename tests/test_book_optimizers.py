"""The book's own optimizer classes, typed as printed, trained on lincoln.

tests/book_code/book_optimizers.py holds chapter 4's ``Optimizer``, ``SGD``,
``SGDMomentum``, ``AdaGrad`` and ``RegularizedSGD`` as the book's library has them,
the base deriving from ``lincoln.optimizers.Optimizer``. The same four subclasses
are also built directly over lincoln's ``Optimizer`` (what a reader gets after the
notebook's ``from lincoln.optimizers import Optimizer``).

Each is trained two ways: under ``lincoln.train.Trainer.fit`` with the book's
arguments, and under the book's hand-written loop (``optim.net = net``, then
``net.train_batch(X, y); optim.step()`` per batch). Each run is compared with
lincoln's built-in equivalent under the same loop: the same seeds must give the
same parameters, within float64 rounding (AdaGrad and the L2 rule within the small
differences of where their eps and weight decay enter).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from book_code import book_optimizers

from lincoln import activations, layers, losses, network, optimizers, train
from lincoln.utils.np_utils import permute_data

BOOK_SUBCLASSES = ("SGD", "SGDMomentum", "AdaGrad", "RegularizedSGD")


def _subclasses_over(base: type) -> dict[str, type]:
    """The book's four subclasses, their printed source run over ``base``."""
    namespace: dict[str, Any] = {"np": np, "Optimizer": base}
    for name in BOOK_SUBCLASSES:
        exec(inspect.getsource(getattr(book_optimizers, name)), namespace)
    return {name: namespace[name] for name in BOOK_SUBCLASSES}


BASES: dict[str, dict[str, type]] = {
    "book-base": {name: getattr(book_optimizers, name) for name in BOOK_SUBCLASSES},
    "lincoln-base": _subclasses_over(optimizers.Optimizer),
}

# (book class name, book args, book kwargs, lincoln's equivalent, rtol)
CASES: list[
    tuple[str, str, tuple, dict, Callable[[], optimizers.Optimizer] | None, float]
] = [
    ("sgd", "SGD", (0.1,), {}, lambda: optimizers.SGD(0.1), 1e-10),
    (
        "momentum",
        "SGDMomentum",
        (0.1,),
        {"momentum": 0.9},
        lambda: optimizers.SGDMomentum(0.1, momentum=0.9),
        1e-10,
    ),
    (
        "momentum-linear-decay",
        "SGDMomentum",
        (0.15,),
        {"momentum": 0.9, "final_lr": 0.05, "decay_type": "linear"},
        lambda: optimizers.SGDMomentum(
            0.15, momentum=0.9, final_lr=0.05, decay_type="linear"
        ),
        1e-10,
    ),
    (
        "momentum-exponential-decay",
        "SGDMomentum",
        (0.2,),
        {"momentum": 0.9, "final_lr": 0.05, "decay_type": "exponential"},
        lambda: optimizers.SGDMomentum(
            0.2, momentum=0.9, final_lr=0.05, decay_type="exponential"
        ),
        1e-10,
    ),
    # no built-in equivalent: the book adds eps to the running sum at every step
    # (G += eps + g^2; p -= lr g / sqrt(G)), lincoln to its square root, and with
    # small gradients the two part by several per cent; the book's AdaGrad is
    # compared with itself, under the book's loop, instead
    ("adagrad", "AdaGrad", (0.1,), {}, None, 1e-10),
    # param -= lr * grad + alpha * param is SGD with weight decay alpha / lr
    (
        "regularized",
        "RegularizedSGD",
        (0.1,),
        {"alpha": 0.001},
        lambda: optimizers.SGD(0.1, weight_decay=0.001 / 0.1),
        1e-9,
    ),
]

EPOCHS = 6
BATCH = 16


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A small three-class problem: 96 training and 32 validation samples."""
    rng = np.random.default_rng(20190119)
    centres = rng.normal(0.0, 1.5, (3, 8))
    y = np.arange(128) % 3
    X = centres[y] + rng.normal(0.0, 1.0, (128, 8))
    Y = np.eye(3)[y]
    return X[:96], Y[:96], X[96:], Y[96:]


def _net() -> network.NeuralNetwork:
    return network.NeuralNetwork(
        layers=[
            layers.Dense(neurons=6, activation=activations.Sigmoid()),
            layers.Dense(neurons=3, activation=activations.Linear()),
        ],
        loss=losses.SoftmaxCrossEntropy(),
        seed=190119,
        dtype=np.float64,
    )


def _book_loop(net, optim, X, Y, decay: bool = False) -> None:
    """The book's training loop, written out: wire the net, then batch by batch.

    With ``decay``, the learning rate follows the book's Trainer: ``max_epochs``
    and ``_setup_decay()`` before, ``_decay_lr()`` after each epoch.
    """
    optim.net = net
    if decay:
        optim.max_epochs = EPOCHS
        optim._setup_decay()
    rng = np.random.default_rng(5)  # the permutations Trainer.fit(seed=5) draws
    for _ in range(EPOCHS):
        X_perm, Y_perm = permute_data(X, Y, rng)
        for ii in range(0, X.shape[0], BATCH):
            net.train_batch(X_perm[ii : ii + BATCH], Y_perm[ii : ii + BATCH])
            optim.step()
        if decay:
            optim._decay_lr()


def _trainer_fit(net, optim, data) -> None:
    X_train, train_labels, X_test, test_labels = data
    trainer = train.Trainer(net, optim)
    trainer.fit(
        X_train,
        train_labels,
        X_test,
        test_labels,
        epochs=EPOCHS,
        eval_every=2,
        seed=5,
        batch_size=BATCH,
        early_stopping=False,
    )


def _assert_same_params(book_net, lincoln_net, rtol: float) -> None:
    book_params = list(book_net.params())
    lincoln_params = list(lincoln_net.params())
    assert len(book_params) == len(lincoln_params) == 4
    for b, ref in zip(book_params, lincoln_params, strict=True):
        np.testing.assert_allclose(b, ref, rtol=rtol, atol=rtol * 1e-2)


def _cases() -> list[Any]:
    return [
        pytest.param(base, *case[1:], id=f"{base}-{case[0]}")
        for base in BASES
        for case in CASES
    ]


@pytest.mark.parametrize(
    ("base", "name", "args", "kwargs", "builtin", "rtol"), _cases()
)
def test_the_books_optimizer_under_the_books_loop(
    data, base, name, args, kwargs, builtin, rtol
) -> None:
    """Same parameters as lincoln's built-in equivalent under the same loop."""
    X, Y = data[0], data[1]
    book_net = _net()
    optim = BASES[base][name](*args, **kwargs)
    assert isinstance(optim, optimizers.Optimizer)
    decay = "decay_type" in kwargs
    before = book_net.forward_loss(X, Y)
    _book_loop(book_net, optim, X, Y, decay)
    assert book_net.forward_loss(X, Y) < 0.5 * before  # it learned
    if builtin is not None:
        lincoln_net = _net()
        _book_loop(lincoln_net, builtin(), X, Y, decay)
        _assert_same_params(book_net, lincoln_net, rtol)


@pytest.mark.parametrize(
    ("base", "name", "args", "kwargs", "builtin", "rtol"), _cases()
)
def test_the_books_optimizer_under_trainer_fit(
    data, base, name, args, kwargs, builtin, rtol
) -> None:
    """Trainer.fit(seed=5) gives what the book's loop over the same permutations
    gives: lincoln's built-in equivalent's parameters (or, for AdaGrad, those of
    the book's own class under the loop)."""
    book_net, reference_net = _net(), _net()
    optim = BASES[base][name](*args, **kwargs)
    _trainer_fit(book_net, optim, data)
    decay = "decay_type" in kwargs
    if builtin is not None:
        _book_loop(reference_net, builtin(), data[0], data[1], decay)
    else:
        reference = BASES["book-base"][name](*args, **kwargs)
        _book_loop(reference_net, reference, data[0], data[1], decay)
    _assert_same_params(book_net, reference_net, rtol)
    if decay:
        # the schedule ran: the book's lr ends at final_lr
        assert optim.lr == pytest.approx(kwargs["final_lr"], rel=1e-9)


def test_the_books_momentum_keeps_its_own_state(data) -> None:
    """``self.first`` and ``self.velocities``, the attributes the book's step uses."""
    X, Y = data[0], data[1]
    net = _net()
    optim = BASES["lincoln-base"]["SGDMomentum"](0.1, momentum=0.9)
    assert optim.first is True
    optim.net = net
    net.train_batch(X[:BATCH], Y[:BATCH])
    optim.step()
    assert optim.first is False
    assert [v.shape for v in optim.velocities] == [(8, 6), (1, 6), (6, 3), (1, 3)]
    grads = [g.copy() for g in net.param_grads()]
    for velocity, grad in zip(optim.velocities, grads, strict=True):
        np.testing.assert_allclose(velocity, 0.1 * grad)
