"""The book's import path for activations (see :mod:`lincoln.ops.activations`)."""

from .ops.activations import (
    ACTIVATIONS,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
    activation_name,
    get_activation,
)

__all__ = [
    "Linear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ACTIVATIONS",
    "get_activation",
    "activation_name",
]
