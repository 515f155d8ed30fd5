"""The two abstract building blocks every layer is made of.

An :class:`Operation` maps one array to another and knows its own derivative.
The base class does the bookkeeping (it caches ``input_`` and ``output`` and
checks shapes around the hooks) so that a subclass writes only the math:

* ``_output(self)`` returns the output computed from ``self.input_`` (and may
  read ``self.inference``, True when the network predicts);
* ``_input_grad(self, output_grad)`` returns dL/d(input) given dL/d(output).

A :class:`ParamOperation` also owns a parameter array ``self.param`` and adds
``_param_grad(self, output_grad)``, whose result is stored in ``self.param_grad``.

This is the contract of *Deep Learning from Scratch* (Weidman), kept exactly;
the book's published library wrote ``_output(self, inference)``, which works too.

State an operation keeps besides its parameter is declared, not searched for:
:meth:`Operation.buffers` (arrays saved with the model, such as batch-norm
statistics) and :meth:`Operation.generators` (random generators whose state a
checkpoint keeps, such as dropout's).

:class:`lincoln.ops.step.StepOperation` is the separate, multi-input form a
recurrent layer needs: one time step with several inputs (``x_t, h_{t-1},
c_{t-1}``) and several outputs, reused at every step of a sequence.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ShapeError, as_array, check_finite, shape_error

__all__ = [
    "Array",
    "Operation",
    "ParamOperation",
    "as_array",
    "check_finite",
]

Array = NDArray[Any]

# what an _output may return: an array, or a scalar for a scalar input
_ARRAYS = (np.ndarray, np.generic, numbers.Number)


def _takes_inference(method: Any) -> bool:
    """True for the published library's ``_output(self, inference)``."""
    try:
        params = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):  # a builtin: the book's form
        return False
    return params[1:2] == ["inference"]


class Operation:
    """One differentiable step of a network.

    Subclasses implement ``_output`` and ``_input_grad``; see the module docstring.

    Attributes:
        input_: the input of the last ``forward`` call.
        output: its output.
        input_grad: the gradient returned by the last ``backward`` call.
        inference: whether the last ``forward`` ran in inference mode.
        needs_input_grad: False skips computing ``input_grad`` (a network sets
            it on its very first operation: nobody reads the data's gradient).
    """

    # Class-level defaults, so a subclass whose __init__ forgets to call
    # super().__init__() still works. The hooks read input_ and output only
    # after forward has set them.
    input_: Array = None  # type: ignore[assignment]
    output: Array = None  # type: ignore[assignment]
    input_grad: Array | None = None
    inference = False
    needs_input_grad = True
    _output_takes_inference = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._output_takes_inference = _takes_inference(cls._output)

    def forward(self, input_: Array, inference: bool = False) -> Array:
        """Compute the output, caching ``input_`` and the output on the instance.

        Args:
            input_: the input array.
            inference: True when predicting (dropout off, running statistics on).
        """
        self.input_ = input_
        self.inference = inference
        if self._output_takes_inference:
            output = self._output(inference)
        else:
            output = self._output()
        if not isinstance(output, _ARRAYS):
            raise ShapeError(
                f"{type(self).__name__}._output must return a NumPy array, returned "
                f"{type(output).__name__}"
            )
        self.output = output
        return output

    def backward(self, output_grad: Array) -> Array:
        """Return dL/d(input) given dL/d(output) (None when not needed).

        Raises:
            ShapeError: ``output_grad`` does not match the forward output, or the
                computed input gradient does not match the forward input.
        """
        if self.output is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        _check(self, "output_grad", self.output, output_grad)
        input_grad = None
        if self.needs_input_grad:
            input_grad = self._input_grad(output_grad)
            _check(self, "the input gradient from _input_grad", self.input_, input_grad)
        self.input_grad = input_grad
        return input_grad  # type: ignore[return-value]

    def _output(self, *args: Any) -> Array:
        raise NotImplementedError(f"{type(self).__name__} must implement _output(self)")

    def _input_grad(self, output_grad: Array) -> Array:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _input_grad(self, output_grad)"
        )

    def buffers(self) -> dict[str, Array]:
        """Arrays that are state but not trained (saved with the model), by name."""
        return {}

    def generators(self) -> dict[str, np.random.Generator]:
        """Random generators whose state a checkpoint keeps, by name."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this operation (for saving)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check(op: Operation, what: str, like: Any, array: Any) -> None:
    shape = np.shape(like)
    if getattr(array, "shape", None) != shape:
        raise shape_error(op, what, shape, array)


class ParamOperation(Operation):
    """An operation with a parameter array that the optimizer updates in place.

    Args:
        param: the parameter array; the operation keeps a reference, not a copy.

    Attributes:
        param: the parameter.
        param_grad: dL/d(param) from the last ``backward`` call.
    """

    param_grad: Array = None  # type: ignore[assignment]  # set by backward

    def __init__(self, param: Array) -> None:
        self.param = param

    def backward(self, output_grad: Array) -> Array:
        """Compute ``input_grad`` and ``param_grad``; return ``input_grad``.

        Raises:
            ShapeError: any of the three gradients has the wrong shape.
        """
        input_grad = super().backward(output_grad)
        param_grad = self._param_grad(output_grad)
        _check(self, "the parameter gradient from _param_grad", self.param, param_grad)
        self.param_grad = param_grad
        return input_grad

    def _param_grad(self, output_grad: Array) -> Array:
        raise NotImplementedError(
            f"{type(self).__name__} must implement _param_grad(self, output_grad)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(param shape={tuple(np.shape(self.param))})"
