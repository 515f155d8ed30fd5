"""The three checks: an operation, a loss, a network, each against central differences.

Each turns what it checks into a scalar function of one array, computes the
backpropagated gradient once and the numerical one entry by entry
(:mod:`~lincoln.gradcheck.numerical`), compares them
(:mod:`~lincoln.gradcheck.report`) and leaves the state it ran over as it found
it (:mod:`~lincoln.gradcheck.state`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array, Operation, ParamOperation
from ..errors import ConfigError
from ..losses import Loss
from ..network import NeuralNetwork
from .numerical import (
    check_max_checks,
    check_tolerances,
    numerical_at,
    numerical_gradient,
    sample_entries,
)
from .report import GradientCheckReport, compare, describe, finish
from .state import FrozenGenerators, SavedBuffers

__all__ = ["check_operation", "check_loss", "check_network"]


def check_operation(
    op: Operation,
    input_: Any,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
    raise_exception: bool = True,
    max_checks: int | None = None,
) -> GradientCheckReport:
    """Check an operation's ``backward`` against central differences, in float64.

    A random ``output_grad`` ``g`` (standard normal, from ``seed``) turns the
    operation into the scalar function ``f(x) = sum(g * op.forward(x))``, whose
    gradient is exactly what ``op.backward(g)`` must return. For a
    :class:`~lincoln.base.ParamOperation` the gradient with respect to
    ``op.param`` is checked the same way. Any subclass written to the
    :class:`~lincoln.base.Operation` contract can be checked: the book's
    ``_output(self)`` and the published ``_output(self, inference)`` alike.

    The forward passes run in training mode. A stochastic operation is checked
    with its randomness fixed: the generators it declares (``op.generators()``,
    Dropout's ``"rng"``) are saved before the first forward pass and rewound
    before each of the others, so every pass draws the same mask. The buffers
    it declares (``op.buffers()``, e.g. running statistics) are written back
    afterwards; a buffer the first forward pass creates is kept as that pass
    left it.

    The check works on float64 copies: ``input_`` is copied, and ``op.param`` is
    replaced by a float64 copy for the duration of the check and put back after
    it, so the user's arrays are never changed. The operation's caches
    (``input_``, ``output``, gradients) hold values from the check afterwards.

    Args:
        op: the operation.
        input_: an input it accepts (any shape the operation supports).
        eps: finite-difference step.
        rtol, atol: relative and absolute tolerance: an entry fails when
            ``|backprop - numerical| > atol + rtol * max(|backprop|, |numerical|)``.
        seed: seed of the random ``output_grad``, and of the choice of entries
            when ``max_checks`` is given.
        raise_exception: False to return a failing report instead of raising.
        max_checks: None (the default) checks every entry of the input and of
            the parameter. An integer ``k`` checks at most ``k`` entries of each,
            distinct and chosen uniformly by a generator seeded with ``seed``
            (so a check is reproducible), which costs ``2 * k`` forward passes
            per array instead of two per entry. Every entry of the backpropagated
            gradient is still computed; only the numerical reference is sampled.

    Returns:
        A :class:`GradientCheckReport` with comparisons ``"input"`` (and
        ``"param"``); ``report.error_ratio`` is the measure tested (at most 1
        when passed), ``report.checked`` says how many entries were compared.

    Raises:
        GradientCheckError: a gradient disagrees; the message names the
            operation, the gradient, the worst entry's index, both values
            there, their difference and the tolerance it exceeds.
        ConfigError: non-positive ``eps``, ``rtol`` or ``atol``, or a
            ``max_checks`` that is neither None nor an integer >= 1.
        TypeError: ``op`` is not an Operation.
        ShapeError: whatever the operation itself raises for a bad shape.

    Example:
        >>> from lincoln.dense import BiasAdd
        >>> check_operation(BiasAdd(np.zeros((1, 3))), np.ones((2, 3))).passed
        True
    """
    if not isinstance(op, Operation):
        raise TypeError(f"check_operation: op must be an Operation, received {op!r}")
    eps, rtol, atol = check_tolerances("check_operation", eps, rtol, atol)
    max_checks = check_max_checks("check_operation", max_checks)
    x = np.array(input_, dtype=np.float64)  # a copy: perturbed in place below
    pop = op if isinstance(op, ParamOperation) else None
    # the user's parameter array: swapped for a float64 copy during the check
    original_param: Array = pop.param if pop is not None else np.empty(0)
    original_needs = op.needs_input_grad
    buffers = SavedBuffers(op.buffers().values())
    report = GradientCheckReport(describe(op), rtol=rtol, atol=atol)
    try:
        if pop is not None:
            pop.param = np.array(original_param, dtype=np.float64)
        op.needs_input_grad = True
        _compare_operation(op, x, eps, seed, max_checks, buffers, report)
    finally:
        buffers.restore()
        if pop is not None:
            pop.param = original_param
        op.needs_input_grad = original_needs
    return finish(report, "central differences", raise_exception)


def _compare_operation(
    op: Operation,
    x: Array,
    eps: float,
    seed: int,
    max_checks: int | None,
    buffers: SavedBuffers,
    report: GradientCheckReport,
) -> None:
    """Fill ``report`` with the input (and parameter) comparisons of ``op`` at ``x``."""
    frozen = FrozenGenerators(op.generators().values())
    out = np.array(op.forward(x, inference=False), dtype=np.float64)
    buffers.add(op.buffers().values())  # those the first pass created
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(out.shape)  # then rng picks the entries to check
    input_grad = np.array(op.backward(g), dtype=np.float64)

    def f(_: Array) -> float:
        frozen.rewind()
        return float(np.sum(g * op.forward(x, inference=False)))

    rtol, atol = report.rtol, report.atol
    flat = sample_entries(x.size, max_checks, rng)
    numerical = numerical_at(f, x, eps, flat)
    report.comparisons["input"] = compare(
        "input", input_grad, numerical, rtol, atol, flat
    )
    if isinstance(op, ParamOperation):
        param_grad = np.array(op.param_grad, dtype=np.float64)  # from backward above
        flat = sample_entries(op.param.size, max_checks, rng)
        numerical = numerical_at(f, op.param, eps, flat)
        report.comparisons["param"] = compare(
            "param", param_grad, numerical, rtol, atol, flat
        )


def _float64_target(target: Any) -> Array:
    """Targets as an array; float ones in float64 (labels keep their dtype)."""
    target = np.asarray(target)
    return target.astype(np.float64) if target.dtype.kind == "f" else target


def check_loss(
    loss: Loss,
    prediction: Any,
    target: Any,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    raise_exception: bool = True,
) -> GradientCheckReport:
    """Check ``loss.backward()`` against central differences of ``loss.forward``.

    Args:
        loss: the loss.
        prediction: the prediction (copied to float64).
        target: the target (labels or an array shaped like the prediction);
            float targets are cast to float64.
        eps, rtol, atol, raise_exception: as in :func:`check_operation`.

    Returns:
        A :class:`GradientCheckReport` with the comparison ``"prediction"``.

    Raises:
        GradientCheckError: the gradient disagrees (see :func:`check_operation`).
        ConfigError: non-positive ``eps``, ``rtol`` or ``atol``.
        TypeError: ``loss`` is not a Loss.
        ShapeError, DataError: whatever the loss raises for unfit targets.

    Example:
        >>> from lincoln.losses import SoftmaxCrossEntropy
        >>> check_loss(SoftmaxCrossEntropy(), np.zeros((2, 3)), np.array([0, 2])).passed
        True
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"check_loss: loss must be a Loss, received {loss!r}")
    eps, rtol, atol = check_tolerances("check_loss", eps, rtol, atol)
    pred = np.array(prediction, dtype=np.float64)
    target = _float64_target(target)
    loss.forward(pred, target)
    analytic = np.array(loss.backward(), dtype=np.float64)
    numerical = numerical_gradient(lambda p: loss.forward(p, target), pred, eps)
    # leave the loss's caches describing the unperturbed prediction
    loss.forward(pred, target)
    loss.backward()
    report = GradientCheckReport(describe(loss), rtol=rtol, atol=atol)
    report.comparisons["prediction"] = compare(
        "prediction", analytic, numerical, rtol, atol
    )
    return finish(report, "central differences", raise_exception)


def check_network(
    net: NeuralNetwork,
    X: Any,
    y: Any,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    raise_exception: bool = True,
    max_checks: int | None = None,
    seed: int = 0,
) -> GradientCheckReport:
    """Check every parameter gradient of a network against central differences.

    The backpropagated gradients come from one training step without the
    optimizer: ``net.forward(X)``, ``net.loss.forward``, ``net.loss.backward``,
    ``net.backward``; then ``net.param_grads()``. Each is compared with the
    numerical gradient of ``net.forward_loss(X, y)`` with respect to that
    parameter, moved in place and restored. An unbuilt network is built by the
    first forward pass. Afterwards the parameters and the buffers
    (``net.named_buffers()``, e.g. running statistics) are as they were, and
    ``net.param_grads()`` holds the backpropagated gradients.

    Networks with dropout are checked in training mode with the masks fixed:
    the generators the network declares (``net.named_generators()``) are saved
    before the first forward pass and rewound before each later one.

    Args:
        net: a float64 network (``NeuralNetwork(..., dtype=np.float64)``).
        X: a (small) batch of inputs.
        y: its targets.
        eps, rtol, atol, raise_exception: as in :func:`check_operation`.
        max_checks: None (the default) checks every entry of every parameter:
            two forward passes of the whole network per entry, which takes
            minutes for a few hundred thousand parameters. An integer ``k``
            checks at most ``k`` entries of each parameter (all of a parameter
            with ``k`` entries or fewer), distinct and chosen uniformly by a
            generator seeded with ``seed``: at most ``2 * k`` forward passes per
            parameter. The backpropagated gradients are still computed in full;
            only the numerical reference is sampled, so a gradient wrong in a
            few entries only may be missed, one wrong throughout will not.
        seed: seed of the generator choosing the entries (only with
            ``max_checks``).

    Returns:
        A :class:`GradientCheckReport` with one comparison per parameter, named
        as in ``net.named_params()`` (``"layers.0.params.0"``...): use
        ``report.error_ratios`` (the measure tested), ``report.max_rel_errors``,
        ``report.mean_abs_diffs``, and ``report.checked`` (entries compared per
        parameter) against ``report.sizes``.

    Raises:
        GradientCheckError: a parameter's gradient disagrees.
        ConfigError: the network is float32 (its rounding swamps central
            differences), non-positive ``eps``, ``rtol`` or ``atol``, or a
            ``max_checks`` that is neither None nor an integer >= 1.
        TypeError: ``net`` is not a NeuralNetwork.
    """
    _check_float64_network(net)
    eps, rtol, atol = check_tolerances("check_network", eps, rtol, atol)
    max_checks = check_max_checks("check_network", max_checks)
    X, y = np.asarray(X, dtype=np.float64), _float64_target(y)
    if not net.built:
        net.forward(X[:1], inference=True)  # build, so the generators exist
    frozen = FrozenGenerators(gen for _, gen in net.named_generators())
    buffers = SavedBuffers(b for _, b in net.named_buffers())
    named = list(net.named_params())
    rng = np.random.default_rng(seed)
    chosen = [sample_entries(param.size, max_checks, rng) for _, param in named]

    def f(_: Array) -> float:
        frozen.rewind()
        return net.forward_loss(X, y)

    try:
        analytic = _backprop(net, X, y, frozen)
        numerical = [
            numerical_at(f, param, eps, flat)
            for (_, param), flat in zip(named, chosen, strict=True)
        ]
        _backprop(net, X, y, frozen)  # caches and param_grads of the unperturbed net
    finally:
        buffers.restore()
    target = f"NeuralNetwork({', '.join(describe(layer) for layer in net.layers)})"
    report = GradientCheckReport(target, rtol=rtol, atol=atol)
    for (name, _), grad, num, flat in zip(
        named, analytic, numerical, chosen, strict=True
    ):
        report.comparisons[name] = compare(name, grad, num, rtol, atol, flat)
    return finish(report, "central differences of the loss", raise_exception)


def _check_float64_network(net: Any) -> None:
    if not isinstance(net, NeuralNetwork):
        raise TypeError(f"check_network: net must be a NeuralNetwork, received {net!r}")
    if net.dtype != np.float64:
        raise ConfigError(
            f"check_network: the network computes in {net.dtype}, whose rounding "
            f"swamps central differences; check a float64 network: "
            f"NeuralNetwork(..., dtype=np.float64)"
        )


def _backprop(
    net: NeuralNetwork, X: Array, y: Array, frozen: FrozenGenerators
) -> list[Array]:
    """One forward and backward pass with the generators rewound; float64 copies
    of the parameter gradients."""
    frozen.rewind()
    prediction = net.forward(X)
    net.loss.forward(prediction, y)
    net.backward(net.loss.backward())
    return [np.array(g, dtype=np.float64) for g in net.param_grads()]
