"""Numerical gradients, and checks that backpropagation agrees with them.

Backpropagation is only as good as the ``_input_grad`` and ``_param_grad`` a
person wrote; central differences need nothing but the forward pass, so they
are the trusted reference (*Deep Learning from Scratch* vol. 1 ch. 4
and 5):

    df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / 2h

This module owns that reference and three checks built on it:

* :func:`check_operation`: an :class:`~lincoln.base.Operation` (and the
  parameter of a :class:`~lincoln.base.ParamOperation`);
* :func:`check_loss`: a :class:`~lincoln.losses.Loss` with respect to its prediction;
* :func:`check_network`: every parameter of a
  :class:`~lincoln.network.NeuralNetwork` through its loss.

Each check raises :class:`~lincoln.errors.GradientCheckError` on a disagreement,
naming what was checked, which gradient, the largest relative error, where it is
and both values there, and otherwise returns a :class:`GradientCheckReport`.

A full check costs two forward passes per entry checked: minutes for a network of a
few hundred thousand parameters. ``max_checks=k`` (:func:`check_network`,
:func:`check_operation`) checks at most ``k`` entries of each array instead,
chosen by a seeded generator; ``report.checked`` says how many were.

Everything is computed in float64: in float32 the rounding of the forward pass
(~1e-7 relative) divided by a step of 1e-6 swamps the derivative.

Stochastic operations (Dropout) are checked with their randomness fixed: the
state of every ``rng`` attribute that is an ``np.random.Generator`` is saved
before the first forward pass and restored before every later one, so each
forward draws the very same mask and the function being differentiated is
deterministic.

Example:
    >>> import numpy as np
    >>> from lincoln.activations import Tanh
    >>> report = check_operation(Tanh(), np.linspace(-2.0, 2.0, 6).reshape(2, 3))
    >>> report.max_rel_error < 1e-5
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import Array, Operation, ParamOperation
from .errors import ConfigError, GradientCheckError
from .losses import Loss
from .network import NeuralNetwork

__all__ = [
    "numerical_gradient",
    "check_operation",
    "check_loss",
    "check_network",
    "GradientComparison",
    "GradientCheckReport",
]


# -- the reference ------------------------------------------------------------------


def numerical_gradient(
    f: Callable[[Array], float], x: Array, eps: float = 1e-6
) -> Array:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    Each element of ``x`` is moved to ``x_i + eps`` and ``x_i - eps`` in place,
    ``f(x)`` is evaluated at both, and the element is restored (also when ``f``
    raises). The divisor is the difference of the two values actually stored,
    which is ``2 * eps`` up to rounding. Because ``x`` is changed in place, ``f``
    may ignore its argument and read ``x`` through a reference it already holds,
    e.g. a network parameter, as in ``lambda W: net.forward_loss(X, y)``.

    Args:
        f: maps ``x`` to a number.
        x: the point, a float64 array of any shape (modified during the call,
            restored before it returns).
        eps: the step ``h``.

    Returns:
        A float64 array shaped like ``x``.

    Raises:
        TypeError: ``x`` is not a float64 ndarray (a float32 or integer array
            cannot hold ``x_i +- 1e-6`` exactly enough, or at all).
        ConfigError: ``eps`` is not a finite positive number.

    Example:
        >>> numerical_gradient(lambda x: float(np.sum(x**2)), np.array([3.0, 4.0]))
        array([6., 8.])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        received = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"numerical_gradient: x must be a float64 ndarray (it is perturbed in "
            f"place), received {received}; use np.asarray(x, dtype=np.float64)"
        )
    eps = _positive("numerical_gradient", "eps", eps)
    grad = np.empty(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        grad[idx] = _central_difference(f, x, idx, eps)
    return grad


def _central_difference(
    f: Callable[[Array], float], x: Array, idx: tuple[int, ...], eps: float
) -> float:
    """The central difference of ``f`` along element ``idx`` of ``x`` (moved in
    place and restored, also when ``f`` raises)."""
    original = float(x[idx])
    try:
        x[idx] = original + eps
        plus_at = float(x[idx])
        f_plus = float(f(x))
        x[idx] = original - eps
        minus_at = float(x[idx])
        f_minus = float(f(x))
    finally:
        x[idx] = original
    return (f_plus - f_minus) / (plus_at - minus_at)


def _sample(
    size: int, max_checks: int | None, rng: np.random.Generator
) -> Array | None:
    """Sorted flat indices of ``max_checks`` distinct entries out of ``size``, drawn
    from ``rng``; None (every entry) when ``max_checks`` is None or >= ``size``."""
    if max_checks is None or max_checks >= size:
        return None
    return np.sort(rng.choice(size, size=max_checks, replace=False))


def _numerical(
    f: Callable[[Array], float], x: Array, eps: float, flat: Array | None
) -> Array:
    """The numerical gradient of ``f`` at ``x``: every entry (``flat`` None), or
    only the entries at the flat indices ``flat``, as a 1-D array."""
    if flat is None:
        return numerical_gradient(f, x, eps)
    values = np.empty(len(flat), dtype=np.float64)
    for k, i in enumerate(flat):
        idx = tuple(int(j) for j in np.unravel_index(int(i), x.shape))
        values[k] = _central_difference(f, x, idx, eps)
    return values


# -- reports --------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientComparison:
    """Backpropagated against numerical gradient for one array.

    The relative error of an element is
    ``|a - n| / (max(|a|, |n|) + atol / rtol)``: plain relative error for
    gradients well above ``atol / rtol``, absolute error (scaled) for the tiny
    ones, so that a check fails exactly when some element has
    ``|a - n| > atol + rtol * max(|a|, |n|)``.

    Attributes:
        name: which gradient: ``"input"``, ``"param"``, ``"prediction"`` or a
            network parameter's name such as ``"layers.0.params.1"``.
        max_rel_error: the largest relative error (inf if a value is not finite).
        max_abs_diff: the largest ``|a - n|``.
        mean_abs_diff: the mean ``|a - n|`` (the figure *Deep Learning from
            Scratch* vol. 1 ch. 5 prints).
        index: where the largest relative error is.
        analytic: the backpropagated value there.
        numerical: the numerical value there.
        passed: whether ``max_rel_error <= rtol``.
        checked: how many entries were compared (all of them unless the check
            was given ``max_checks``); the errors above are over these entries.
        size: how many entries the gradient has.
    """

    name: str
    max_rel_error: float
    max_abs_diff: float
    mean_abs_diff: float
    index: tuple[int, ...]
    analytic: float
    numerical: float
    passed: bool
    checked: int = 0
    size: int = 0

    @property
    def sampled(self) -> bool:
        """True when only some of the entries were compared (``max_checks``)."""
        return self.checked < self.size


@dataclass
class GradientCheckReport:
    """The outcome of one check: a :class:`GradientComparison` per gradient.

    Attributes:
        target: ``repr`` of what was checked.
        comparisons: by gradient name, in the order they were checked.
        rtol, atol: the tolerances used.
    """

    target: str
    comparisons: dict[str, GradientComparison] = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-7

    @property
    def passed(self) -> bool:
        """True when every gradient agreed."""
        return all(c.passed for c in self.comparisons.values())

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over every gradient (0.0 if none)."""
        return max((c.max_rel_error for c in self.comparisons.values()), default=0.0)

    @property
    def max_rel_errors(self) -> dict[str, float]:
        """Largest relative error per gradient name."""
        return {k: c.max_rel_error for k, c in self.comparisons.items()}

    @property
    def mean_abs_diffs(self) -> dict[str, float]:
        """Mean absolute difference per gradient name."""
        return {k: c.mean_abs_diff for k, c in self.comparisons.items()}

    @property
    def checked(self) -> dict[str, int]:
        """How many entries were compared, per gradient name (each gradient's
        size, unless the check was given ``max_checks``)."""
        return {k: c.checked for k, c in self.comparisons.items()}

    @property
    def sizes(self) -> dict[str, int]:
        """How many entries each gradient has, per gradient name."""
        return {k: c.size for k, c in self.comparisons.items()}

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}: {c.max_rel_error:.2e}"
            + (f" ({c.checked} of {c.size} entries)" if c.sampled else "")
            for k, c in self.comparisons.items()
        )
        status = "passed" if self.passed else "FAILED"
        return (
            f"GradientCheckReport({self.target} {status}; max rel. error {{{parts}}})"
        )


def _compare(
    name: str,
    analytic: Array,
    numerical: Array,
    rtol: float,
    atol: float,
    flat: Array | None = None,
) -> GradientComparison:
    """Compare a backpropagated gradient with a numerical one: every entry, or
    (``flat`` given) only the entries at those flat indices, whose numerical
    values ``numerical`` then holds, in order."""
    full = np.asarray(analytic, dtype=np.float64)
    a = full.reshape(-1) if flat is None else full.reshape(-1)[flat]
    n = np.asarray(numerical, dtype=np.float64).reshape(-1)
    if a.size == 0:
        return GradientComparison(
            name, 0.0, 0.0, 0.0, (), 0.0, 0.0, True, checked=0, size=full.size
        )
    diff = np.abs(a - n)
    scale = np.maximum(np.abs(a), np.abs(n)) + atol / rtol
    with np.errstate(invalid="ignore", over="ignore"):
        rel = diff / scale
    # a NaN or Inf anywhere is the worst possible disagreement
    rel = np.where(np.isfinite(a) & np.isfinite(n), rel, np.inf)
    worst = int(np.argmax(rel))
    at = worst if flat is None else int(flat[worst])
    index = tuple(int(i) for i in np.unravel_index(at, full.shape))
    max_rel = float(rel[worst])
    return GradientComparison(
        name=name,
        max_rel_error=max_rel,
        max_abs_diff=float(np.max(diff)),
        mean_abs_diff=float(np.mean(diff)),
        index=index,
        analytic=float(a[worst]),
        numerical=float(n[worst]),
        passed=bool(max_rel <= rtol),
        checked=int(a.size),
        size=int(full.size),
    )


def _finish(
    report: GradientCheckReport, what: str, raise_exception: bool
) -> GradientCheckReport:
    failed = [c for c in report.comparisons.values() if not c.passed]
    if failed and raise_exception:
        worst = max(failed, key=lambda c: c.max_rel_error)
        others = ", ".join(c.name for c in failed if c is not worst)
        raise GradientCheckError(
            f"{report.target}: the {worst.name} gradient disagrees with {what}: "
            f"largest relative error {worst.max_rel_error:.3e} at index {worst.index}: "
            f"backprop {worst.analytic!r}, numerical {worst.numerical!r} "
            f"(rtol={report.rtol:g}, atol={report.atol:g}"
            + (
                f"; {worst.checked} of its {worst.size} entries checked"
                if worst.sampled
                else ""
            )
            + (f"; also failed: {others}" if others else "")
            + ")"
        )
    return report


# -- fixing the randomness of stochastic operations ----------------------------------


class _FrozenRandomness:
    """Saves the state of every Generator found as ``obj.rng`` and puts it back
    on demand, so that repeated forward passes draw the same random numbers."""

    def __init__(self, objects: Iterable[Any]) -> None:
        self._saved: list[tuple[np.random.Generator, Mapping[str, Any]]] = []
        for obj in objects:
            gen = getattr(obj, "rng", None)
            if isinstance(gen, np.random.Generator):
                self._saved.append((gen, gen.bit_generator.state))

    def rewind(self) -> None:
        for gen, state in self._saved:
            gen.bit_generator.state = state


# what Operation/ParamOperation cache or own; never state updated in place
_NOT_STATE = frozenset({"param", "param_grad", "input_", "output", "input_grad"})


class _SavedArrays:
    """Copies of the other array attributes an object already has, written back
    in place on demand.

    Forward passes in training mode may update state in place, e.g. batch
    normalization's running statistics; thousands of perturbed passes must not
    leave it drifted. The base class's caches (``input_`` may be the user's own
    data) and ``param`` (which the checks swap for a float64 copy) are left out.
    """

    def __init__(self, objects: Iterable[Any]) -> None:
        self._saved: list[tuple[Array, Array]] = []
        seen: set[int] = set()
        for obj in objects:
            for name, value in getattr(obj, "__dict__", {}).items():
                if (
                    name not in _NOT_STATE
                    and isinstance(value, np.ndarray)
                    and id(value) not in seen
                ):
                    seen.add(id(value))
                    self._saved.append((value, value.copy()))

    def restore(self) -> None:
        for array, copy in self._saved:
            if array.flags.writeable:
                np.copyto(array, copy)


def _describe(obj: Any) -> str:
    """``repr(obj)``, or its class name if that repr fails: a check must report
    on a user's operation even when its ``__repr__`` cannot describe it."""
    try:
        return repr(obj)
    except Exception:  # any failure of a user's __repr__
        return f"{type(obj).__name__}(...)"


def _positive(owner: str, name: str, value: Any) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, bool
    )
    if not ok or not math.isfinite(float(value)) or float(value) <= 0.0:
        raise ConfigError(
            f"{owner}: {name} must be a finite number > 0, received {name}={value!r}"
        )
    return float(value)


def _max_checks(owner: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"{owner}: max_checks must be None (check every entry) or an integer "
            f">= 1, received max_checks={value!r}"
        )
    return int(value)


def _tolerances(
    owner: str, eps: float, rtol: float, atol: float
) -> tuple[float, float, float]:
    return (
        _positive(owner, "eps", eps),
        _positive(owner, "rtol", rtol),
        _positive(owner, "atol", atol),
    )


# -- the checks -----------------------------------------------------------------------


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
    ``op.param`` is checked the same way.

    The forward passes run in training mode. A stochastic operation such as
    Dropout is checked with its mask fixed: the state of its ``rng`` Generator
    is saved before the first forward pass and restored before each of the
    others, so every pass draws the same mask.

    The check works on float64 copies: ``input_`` is copied, and ``op.param`` is
    replaced by a float64 copy for the duration of the check and put back after
    it, so the user's arrays are never changed. The operation's caches
    (``input_``, ``output``, gradients) hold values from the check afterwards.

    Args:
        op: the operation.
        input_: an input it accepts (any shape the operation supports).
        eps: finite-difference step.
        rtol, atol: an element fails when
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
        ``"param"``); ``report.checked`` says how many entries of each were
        compared.

    Raises:
        GradientCheckError: a gradient disagrees; the message names the
            operation, the gradient, the largest relative error, its index and
            both values there.
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
    eps, rtol, atol = _tolerances("check_operation", eps, rtol, atol)
    max_checks = _max_checks("check_operation", max_checks)
    x = np.array(input_, dtype=np.float64)  # a copy: perturbed in place below
    pop = op if isinstance(op, ParamOperation) else None
    # the user's parameter array: swapped for a float64 copy during the check
    original_param: Array = pop.param if pop is not None else np.empty(0)
    original_needs = pop.needs_input_grad if pop is not None else True
    randomness = _FrozenRandomness([op])
    state = _SavedArrays([op])
    report = GradientCheckReport(_describe(op), rtol=rtol, atol=atol)
    try:
        if pop is not None:
            pop.param = np.array(original_param, dtype=np.float64)
            pop.needs_input_grad = True
        out = np.array(op.forward(x, inference=False), dtype=np.float64)
        rng = np.random.default_rng(seed)
        g = rng.standard_normal(out.shape)  # then rng picks the entries to check
        input_grad = np.array(op.backward(g), dtype=np.float64)

        def f(_: Array) -> float:
            randomness.rewind()
            return float(np.sum(g * op.forward(x, inference=False)))

        flat = _sample(x.size, max_checks, rng)
        report.comparisons["input"] = _compare(
            "input", input_grad, _numerical(f, x, eps, flat), rtol, atol, flat
        )
        if pop is not None:
            param_grad = np.array(pop.param_grad, dtype=np.float64)
            flat = _sample(pop.param.size, max_checks, rng)
            numerical = _numerical(f, pop.param, eps, flat)
            report.comparisons["param"] = _compare(
                "param", param_grad, numerical, rtol, atol, flat
            )
    finally:
        state.restore()
        if pop is not None:
            pop.param = original_param
            pop.needs_input_grad = original_needs
    return _finish(report, "central differences", raise_exception)


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
    eps, rtol, atol = _tolerances("check_loss", eps, rtol, atol)
    pred = np.array(prediction, dtype=np.float64)
    target = np.asarray(target)
    if target.dtype.kind == "f":
        target = target.astype(np.float64)
    loss.forward(pred, target)
    analytic = np.array(loss.backward(), dtype=np.float64)
    numerical = numerical_gradient(lambda p: loss.forward(p, target), pred, eps)
    # leave the loss's caches describing the unperturbed prediction
    loss.forward(pred, target)
    loss.backward()
    report = GradientCheckReport(_describe(loss), rtol=rtol, atol=atol)
    report.comparisons["prediction"] = _compare(
        "prediction", analytic, numerical, rtol, atol
    )
    return _finish(report, "central differences", raise_exception)


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
    first forward pass. Afterwards the parameters are unchanged and
    ``net.param_grads()`` holds the backpropagated gradients.

    Networks with dropout are checked in training mode with the masks fixed:
    the state of every operation's ``rng`` Generator is saved before the first
    forward pass and restored before each later one.

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
        ``report.max_rel_errors``, ``report.mean_abs_diffs``, and
        ``report.checked`` (entries compared per parameter) against
        ``report.sizes``.

    Raises:
        GradientCheckError: a parameter's gradient disagrees.
        ConfigError: the network is float32 (its rounding swamps central
            differences), non-positive ``eps``, ``rtol`` or ``atol``, or a
            ``max_checks`` that is neither None nor an integer >= 1.
        TypeError: ``net`` is not a NeuralNetwork.
    """
    if not isinstance(net, NeuralNetwork):
        raise TypeError(f"check_network: net must be a NeuralNetwork, received {net!r}")
    if net.dtype != np.float64:
        raise ConfigError(
            f"check_network: the network computes in {net.dtype}, whose rounding "
            f"swamps central differences; check a float64 network: "
            f"NeuralNetwork(..., dtype=np.float64)"
        )
    eps, rtol, atol = _tolerances("check_network", eps, rtol, atol)
    max_checks = _max_checks("check_network", max_checks)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    if not net.built:
        net.forward(X[:1], inference=True)  # build, so the Generators exist
    operations = [op for layer in net.layers for op in layer.operations]
    randomness = _FrozenRandomness(operations)
    state = _SavedArrays(operations)

    def backprop() -> list[Array]:
        randomness.rewind()
        prediction = net.forward(X)
        net.loss.forward(prediction, y)
        net.backward(net.loss.backward())
        return [np.array(g, dtype=np.float64) for g in net.param_grads()]

    def f(_: Array) -> float:
        randomness.rewind()
        return net.forward_loss(X, y)

    rng = np.random.default_rng(seed)
    chosen = [_sample(param.size, max_checks, rng) for _, param in net.named_params()]
    try:
        analytic = backprop()
        numerical = [
            _numerical(f, param, eps, flat)
            for (_, param), flat in zip(net.named_params(), chosen, strict=True)
        ]
        backprop()  # leave caches and param_grads describing the unperturbed network
    finally:
        state.restore()
    report = GradientCheckReport(
        f"NeuralNetwork({', '.join(_describe(layer) for layer in net.layers)})",
        rtol=rtol,
        atol=atol,
    )
    for (name, _), grad, num, flat in zip(
        net.named_params(), analytic, numerical, chosen, strict=True
    ):
        report.comparisons[name] = _compare(name, grad, num, rtol, atol, flat)
    return _finish(report, "central differences of the loss", raise_exception)
