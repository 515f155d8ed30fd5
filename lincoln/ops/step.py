"""The base of operations with several inputs and outputs: a recurrent network's
time step (``x_t``, ``h_{t-1}``, ``c_{t-1}`` in; ``h_t``, ``c_t`` out).

Kept apart from :class:`~lincoln.base.Operation`, whose one-input contract
everything else uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Array
from ..errors import ShapeError, shape_error

__all__ = ["StepOperation"]


class StepOperation:
    """One time step of a recurrent layer, reused at every step of a sequence.

    Unlike :class:`Operation` it has several inputs and several outputs; its
    ``backward`` returns one gradient per input. Its parameters are shared by
    all steps, so their gradients are sums over the steps: a step records its
    share during ``backward`` and :meth:`finish_backward` adds the shares up
    (with one matrix product over all steps rather than one per step).

    A subclass allocates its per-step caches in ``_start(steps, batch)`` and
    writes ``_outputs(t, *inputs)``, ``_input_grads(t, *output_grads)`` and
    ``_param_grads()``. The base class checks the number and shapes of the
    arrays going in and out.

    Attributes:
        params: the parameter arrays (the optimizer updates them in place).
        param_grads: their gradients, summed over the steps of the last
            backward pass through the sequence.
    """

    #: names of the inputs and of the outputs, for messages
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()

    def __init__(self, *params: Array) -> None:
        self.params = list(params)
        self.param_grads: list[Array] = [np.zeros_like(p) for p in self.params]
        self.steps = 0
        self._shapes: tuple[tuple[int, ...], ...] = ()

    def start(self, steps: int, batch: int) -> None:
        """Prepare the caches for a sequence of ``steps`` steps of ``batch`` rows."""
        self.steps = steps
        self._start(steps, batch)

    def forward(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        """Step ``t``: the outputs for these inputs (cached for ``backward``)."""
        self._count(inputs, self.input_names, "inputs")
        outputs = self._outputs(t, *inputs)
        self._shapes = tuple(o.shape for o in outputs)
        return outputs

    def backward(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        """Step ``t``: one gradient per input, given one gradient per output.

        Steps are taken back from the last; the parameter gradients are
        complete after :meth:`finish_backward`.

        Raises:
            ShapeError: a gradient does not match its output's shape.
        """
        self._count(output_grads, self.output_names, "output gradients")
        for name, shape, grad in zip(
            self.output_names, self._shapes, output_grads, strict=True
        ):
            if getattr(grad, "shape", None) != shape:
                raise shape_error(self, f"the gradient of {name}", shape, grad)
        return self._input_grads(t, *output_grads)

    def finish_backward(self) -> list[Array]:
        """Sum the steps' shares into ``param_grads`` and return them."""
        self.param_grads = self._param_grads()
        return self.param_grads

    def _count(
        self, arrays: tuple[Array, ...], names: tuple[str, ...], what: str
    ) -> None:
        if len(arrays) != len(names):
            raise ShapeError(
                f"{type(self).__name__}: expected {len(names)} {what} "
                f"({', '.join(names)}), received {len(arrays)}"
            )

    def _start(self, steps: int, batch: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _start")

    def _outputs(self, t: int, *inputs: Array) -> tuple[Array, ...]:
        raise NotImplementedError(f"{type(self).__name__} must implement _outputs")

    def _input_grads(self, t: int, *output_grads: Array) -> tuple[Array, ...]:
        raise NotImplementedError(f"{type(self).__name__} must implement _input_grads")

    def _param_grads(self) -> list[Array]:
        raise NotImplementedError(f"{type(self).__name__} must implement _param_grads")

    def buffers(self) -> dict[str, Array]:
        """Arrays that are state but not trained, by name (none by default)."""
        return {}

    def generators(self) -> dict[str, np.random.Generator]:
        """Random generators whose state a checkpoint keeps (none by default)."""
        return {}

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(p.shape)) for p in self.params)
        return f"{type(self).__name__}(params {shapes})"
