"""The two abstract building blocks every layer is made of.

An :class:`Operation` maps one array to another and knows its own derivative.
The base class does the bookkeeping (it caches ``input_`` and ``output`` and
checks shapes around the hooks) so that a subclass writes only the math:

* ``_output(self)`` returns the output computed from ``self.input_``;
* ``_input_grad(self, output_grad)`` returns dL/d(input) given dL/d(output).

A :class:`ParamOperation` also owns a parameter array ``self.param`` and adds
``_param_grad(self, output_grad)``, whose result is stored in ``self.param_grad``.

This is the contract of *Deep Learning from Scratch* (Weidman), kept exactly.
``_output`` may also be written as ``_output(self, inference)`` (the book's
published library) to see whether the network is training or predicting.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import DataError, ShapeError, shape_error

__all__ = ["Array", "Operation", "ParamOperation"]

_EMPTY = inspect.Parameter.empty

Array = NDArray[Any]


def _detect_output_style(method: Any) -> str:
    """How a subclass declared ``_output``: the book's ``_output(self)`` ("none"),
    the published library's ``_output(self, inference)`` ("inference"), or
    ``_output(self, input_)`` ("input")."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):  # builtins or C callables: assume the book's form
        return "none"
    positional = [
        p for p in params[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if positional and positional[0].name == "inference":
        return "inference"  # with or without a default value
    if not positional or positional[0].default is not _EMPTY:
        return "none"
    return "input"


# what an _output may return: an array, or a scalar for a scalar input
_ARRAYS = (np.ndarray, np.generic, numbers.Number)


class Operation:
    """One differentiable step of a network.

    Subclasses implement ``_output`` and ``_input_grad``; see the module docstring.

    Attributes:
        input_: the input of the last ``forward`` call.
        output: its output.
        input_grad: the gradient returned by the last ``backward`` call.
        inference: whether the last ``forward`` ran in inference mode.
    """

    # Set per subclass by __init_subclass__, so forward need not inspect each call.
    _output_style: str = "none"

    # Class-level defaults, so a subclass whose __init__ forgets to call
    # super().__init__() still works.
    input_: Array = None  # type: ignore[assignment]
    output: Array = None  # type: ignore[assignment]
    input_grad: Array | None = None
    inference = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._output_style = _detect_output_style(cls._output)

    def __init__(self) -> None:
        # None until forward sets them; typed as Array because every hook that
        # reads them (_output, _input_grad, _param_grad) runs only after that.
        self.input_: Array = None  # type: ignore[assignment]
        self.output: Array = None  # type: ignore[assignment]
        self.input_grad: Array | None = None
        self.inference = False

    def forward(self, input_: Array, inference: bool = False) -> Array:
        """Compute the output, caching ``input_`` and the output on the instance.

        Args:
            input_: the input array.
            inference: True when predicting (dropout off, running statistics on).
        """
        self.input_ = input_
        self.inference = inference
        style = self._output_style
        if style == "none":
            output = self._output()
        elif style == "inference":
            output = self._output(inference)
        else:
            output = self._output(input_)
        if not isinstance(output, _ARRAYS):
            raise ShapeError(
                f"{type(self).__name__}._output must return a NumPy array, returned "
                f"{type(output).__name__}"
            )
        self.output = output
        return output

    def backward(self, output_grad: Array) -> Array:
        """Return dL/d(input) given dL/d(output).

        Raises:
            ShapeError: ``output_grad`` does not match the forward output, or the
                computed input gradient does not match the forward input.
        """
        self._check_output_grad(output_grad)
        input_grad = self._input_grad(output_grad)
        if getattr(input_grad, "shape", None) != self.input_.shape:
            raise shape_error(
                self,
                "the input gradient from _input_grad",
                self.input_.shape,
                input_grad,
            )
        self.input_grad = input_grad
        return input_grad

    def _check_output_grad(self, output_grad: Array) -> None:
        output = self.output
        if output is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if getattr(output_grad, "shape", None) != output.shape:
            raise shape_error(self, "output_grad", output.shape, output_grad)

    # Variadic so that each of the three ``_output`` styles (see the module
    # docstring) type-checks as an override.
    def _output(self, *args: Any, **kwargs: Any) -> Array:
        raise NotImplementedError(f"{type(self).__name__} must implement _output(self)")

    def _input_grad(self, output_grad: Array) -> Array:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _input_grad(self, output_grad)"
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this operation (for saving)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ParamOperation(Operation):
    """An operation with a parameter array that the optimizer updates in place.

    Args:
        param: the parameter array; the operation keeps a reference, not a copy.

    Attributes:
        param: the parameter.
        param_grad: dL/d(param) from the last ``backward`` call.
    """

    param_grad: Array = None  # type: ignore[assignment]  # set by backward
    needs_input_grad = True

    def __init__(self, param: Array) -> None:
        super().__init__()
        self.param = param
        self.param_grad: Array = None  # type: ignore[assignment]  # set by backward
        # A network clears this on its very first operation: nobody reads the
        # gradient with respect to the data, so it need not be computed.
        self.needs_input_grad = True

    def backward(self, output_grad: Array) -> Array:
        """Compute ``input_grad`` and ``param_grad``; return ``input_grad``.

        Raises:
            ShapeError: any of the three gradients has the wrong shape.
        """
        self._check_output_grad(output_grad)
        input_grad = None
        if self.needs_input_grad:
            input_grad = self._input_grad(output_grad)
            if getattr(input_grad, "shape", None) != self.input_.shape:
                raise shape_error(
                    self,
                    "the input gradient from _input_grad",
                    self.input_.shape,
                    input_grad,
                )
        self.input_grad = input_grad
        param_grad = self._param_grad(output_grad)
        if getattr(param_grad, "shape", None) != self.param.shape:
            raise shape_error(
                self,
                "the parameter gradient from _param_grad",
                self.param.shape,
                param_grad,
            )
        self.param_grad = param_grad
        return input_grad  # type: ignore[return-value]

    def _param_grad(self, output_grad: Array) -> Array:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _param_grad(self, output_grad)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(param shape={tuple(self.param.shape)})"


def as_array(x: Any, what: str = "input") -> np.ndarray:
    """``np.asarray`` that leaves arrays alone (the common, fast case).

    Raises:
        DataError: ``x`` cannot be one array (e.g. rows of different lengths).
    """
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} cannot be made into one array: {exc}") from None


def check_finite(
    array: Array,
    what: str,
    owner: str,
    *,
    plural: bool = False,
    locate: bool = True,
) -> None:
    """Raise :class:`DataError` if a floating ``array`` holds NaN or Inf values.

    The fast path sums the array: the sum is finite exactly when every value is
    (barring overflow, which the full count then sorts out), and needs no
    array-sized mask.

    Args:
        array: the array (non-floating arrays pass unchecked).
        what: its name in the message, e.g. ``"X_train"`` or ``"the inputs"``.
        owner: what is checking; it leads the message, e.g. ``"fit"``.
        plural: ``what`` takes "contain" rather than "contains".
        locate: add the index of the first bad value.

    Raises:
        DataError: e.g. ``fit: X_train contains 2 NaN or Inf values (first at
            index (0, 3))``.
    """
    if array.dtype.kind != "f" or np.isfinite(np.sum(array, dtype=np.float64)):
        return
    bad = ~np.isfinite(array)
    count = int(np.count_nonzero(bad))
    if not count:
        return
    message = (
        f"{owner}: {what} {'contain' if plural else 'contains'} {count} NaN or Inf "
        f"values"
    )
    if locate:
        first = np.unravel_index(int(np.argmax(bad)), bad.shape)
        message += f" (first at index {tuple(int(i) for i in first)})"
    raise DataError(message)
