"""Numerical gradients, and checks that backpropagation agrees with them.

Backpropagation is only as good as the ``_input_grad`` and ``_param_grad`` a
person wrote; central differences need nothing but the forward pass, so they
are the trusted reference (*Deep Learning from Scratch* vol. 1 ch. 4
and 5):

    df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / 2h

This package owns that reference (:func:`numerical_gradient`) and three checks
built on it:

* :func:`check_operation`: an :class:`~lincoln.base.Operation` (and the
  parameter of a :class:`~lincoln.base.ParamOperation`), including a user's own
  subclass written the book's way;
* :func:`check_loss`: a :class:`~lincoln.losses.Loss` with respect to its prediction;
* :func:`check_network`: every parameter of a
  :class:`~lincoln.network.NeuralNetwork` through its loss.

An entry passes when ``|backprop - numerical| <= atol + rtol * max(|backprop|,
|numerical|)``; every check takes ``rtol`` (default 1e-5) and ``atol`` (default
1e-7). Each raises :class:`~lincoln.errors.GradientCheckError` on a
disagreement, naming what was checked, which gradient, the worst entry, both
values there and the tolerance exceeded, and otherwise returns a
:class:`GradientCheckReport`, whose ``error_ratio`` is the measure tested
(``|difference| / (atol + rtol * max(...))``, at most 1 to pass).

A full check costs two forward passes per entry checked: minutes for a network of a
few hundred thousand parameters. ``max_checks=k`` (:func:`check_network`,
:func:`check_operation`) checks at most ``k`` entries of each array instead,
chosen by a seeded generator; ``report.checked`` says how many were.

Everything is computed in float64: in float32 the rounding of the forward pass
(~1e-7 relative) divided by a step of 1e-6 swamps the derivative.

Stochastic operations (Dropout) are checked with their randomness fixed, and
running statistics (batch normalization) are left as they were: both through
the state the operations declare (``generators()``, ``buffers()``), see
:mod:`lincoln.gradcheck.state`.

Example:
    >>> import numpy as np
    >>> from lincoln.activations import Tanh
    >>> report = check_operation(Tanh(), np.linspace(-2.0, 2.0, 6).reshape(2, 3))
    >>> report.passed and report.error_ratio <= 1.0
    True
"""

from .checks import check_loss, check_network, check_operation
from .numerical import numerical_gradient
from .report import GradientCheckReport, GradientComparison

__all__ = [
    "numerical_gradient",
    "check_operation",
    "check_loss",
    "check_network",
    "GradientComparison",
    "GradientCheckReport",
]
