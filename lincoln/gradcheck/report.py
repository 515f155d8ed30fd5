"""What a gradient check found: one comparison per gradient, and the report.

An entry of a gradient passes when its backpropagated value ``a`` and its
numerical value ``n`` satisfy

    |a - n| <= atol + rtol * max(|a|, |n|)

(the test of ``np.isclose``, symmetric in ``a`` and ``n``): relative for
gradients well above ``atol / rtol``, absolute for the tiny ones, whose
central differences are mostly rounding. The measure tested is therefore the
*error ratio* ``|a - n| / (atol + rtol * max(|a|, |n|))``, and an entry passes
when it is at most 1. Beside it each comparison reports two figures that do not
depend on the tolerances: the largest relative error ``|a - n| / max(|a|, |n|)``
and the largest absolute difference ``|a - n|``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base import Array
from ..errors import GradientCheckError

__all__ = ["GradientComparison", "GradientCheckReport", "compare", "finish", "describe"]


@dataclass(frozen=True)
class GradientComparison:
    """Backpropagated against numerical gradient for one array.

    Attributes:
        name: which gradient: ``"input"``, ``"param"``, ``"prediction"`` or a
            network parameter's name such as ``"layers.0.params.1"``.
        max_rel_error: the largest ``|a - n| / max(|a|, |n|)`` (0 where both are
            0; inf if a value is not finite). It does not depend on the
            tolerances; entries below ``atol`` may have a large one and pass.
        max_abs_diff: the largest ``|a - n|``.
        mean_abs_diff: the mean ``|a - n|`` (the figure *Deep Learning from
            Scratch* vol. 1 ch. 5 prints).
        index: the entry with the largest error ratio (the one that came
            closest to failing, or failed by most).
        analytic: the backpropagated value there.
        numerical: the numerical value there.
        passed: whether ``error_ratio <= 1``.
        checked: how many entries were compared (all of them unless the check
            was given ``max_checks``); the errors above are over these entries.
        size: how many entries the gradient has.
        error_ratio: the measure tested, the largest
            ``|a - n| / (atol + rtol * max(|a|, |n|))``: the share of its
            tolerance the worst entry used (inf if a value is not finite).
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
    error_ratio: float = 0.0

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
        rtol, atol: the tolerances used: an entry fails when
            ``|a - n| > atol + rtol * max(|a|, |n|)``.
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
    def error_ratio(self) -> float:
        """The largest error ratio over every gradient (0.0 if none): the check
        passed when it is at most 1."""
        return max((c.error_ratio for c in self.comparisons.values()), default=0.0)

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over every gradient (0.0 if none)."""
        return max((c.max_rel_error for c in self.comparisons.values()), default=0.0)

    @property
    def error_ratios(self) -> dict[str, float]:
        """Error ratio (the measure tested) per gradient name."""
        return {k: c.error_ratio for k, c in self.comparisons.items()}

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
            f"{k}: {c.error_ratio:.2g}"
            + (f" ({c.checked} of {c.size} entries)" if c.sampled else "")
            for k, c in self.comparisons.items()
        )
        status = "passed" if self.passed else "FAILED"
        return (
            f"GradientCheckReport({self.target} {status}; error / (atol + rtol * |g|) "
            f"{{{parts}}}, rtol={self.rtol:g}, atol={self.atol:g})"
        )


def compare(
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
    scale = np.maximum(np.abs(a), np.abs(n))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ratio = diff / (atol + rtol * scale)
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    # a NaN or Inf anywhere is the worst possible disagreement
    finite = np.isfinite(a) & np.isfinite(n)
    ratio = np.where(finite, ratio, np.inf)
    rel = np.where(finite, rel, np.inf)
    worst = int(np.argmax(ratio))
    at = worst if flat is None else int(flat[worst])
    return GradientComparison(
        name=name,
        max_rel_error=float(np.max(rel)),
        max_abs_diff=float(np.max(diff)),
        mean_abs_diff=float(np.mean(diff)),
        index=tuple(int(i) for i in np.unravel_index(at, full.shape)),
        analytic=float(a[worst]),
        numerical=float(n[worst]),
        passed=bool(ratio[worst] <= 1.0),
        checked=int(a.size),
        size=int(full.size),
        error_ratio=float(ratio[worst]),
    )


def finish(
    report: GradientCheckReport, what: str, raise_exception: bool
) -> GradientCheckReport:
    """Return ``report``, or raise :class:`GradientCheckError` describing its
    worst failing gradient (when ``raise_exception`` and some gradient failed)."""
    failed = [c for c in report.comparisons.values() if not c.passed]
    if failed and raise_exception:
        worst = max(failed, key=lambda c: c.error_ratio)
        others = ", ".join(c.name for c in failed if c is not worst)
        a, n = worst.analytic, worst.numerical
        tolerance = report.atol + report.rtol * max(abs(a), abs(n))
        raise GradientCheckError(
            f"{report.target}: the {worst.name} gradient disagrees with {what} "
            f"at index {worst.index}: backprop {a!r}, numerical {n!r}, "
            f"|difference| {abs(a - n):.3e} > atol + rtol * max(|backprop|, "
            f"|numerical|) = {tolerance:.3e} (rtol={report.rtol:g}, "
            f"atol={report.atol:g}); largest relative error "
            f"{worst.max_rel_error:.3e}"
            + (
                f"; {worst.checked} of its {worst.size} entries checked"
                if worst.sampled
                else ""
            )
            + (f"; also failed: {others}" if others else "")
        )
    return report


def describe(obj: Any) -> str:
    """``repr(obj)``, or its class name if that repr fails: a check must report
    on a user's operation even when its ``__repr__`` cannot describe it."""
    try:
        return repr(obj)
    except Exception:  # any failure of a user's __repr__
        return f"{type(obj).__name__}(...)"
