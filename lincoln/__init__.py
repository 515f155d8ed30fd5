"""lincoln: a NumPy deep-learning framework in the design of *Deep Learning from
Scratch* (Weidman): operations compose into layers, layers into a network with
a loss, an optimizer updates it and a trainer runs the loop.

Every public name is importable from here as well as from its module::

    from lincoln import activations, layers, losses, optimizers, network, train
"""

from . import activations, base, dense, dropout, errors, layers, losses, metrics, network
from . import optimizers, train
from .activations import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .base import Operation, ParamOperation
from .dense import BiasAdd, WeightMultiply
from .dropout import Dropout
from .errors import (
    ConfigError,
    DataError,
    DatasetNotFoundError,
    GradientCheckError,
    LincolnError,
    ModelFileError,
    ShapeError,
)
from .layers import Dense, Layer
from .losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from .metrics import accuracy, mae, rmse
from .network import NeuralNetwork
from .optimizers import SGD, AdaGrad, Adam, Optimizer, RMSProp, SGDMomentum
from .train import History, Trainer

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "activations", "base", "dense", "dropout", "errors", "layers", "losses", "metrics",
    "network", "optimizers", "train",
    "Operation", "ParamOperation", "WeightMultiply", "BiasAdd",
    "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Dropout",
    "Layer", "Dense", "NeuralNetwork",
    "Loss", "MeanSquaredError", "SoftmaxCrossEntropy",
    "Optimizer", "SGD", "SGDMomentum", "AdaGrad", "RMSProp", "Adam",
    "Trainer", "History", "accuracy", "mae", "rmse",
    "LincolnError", "ShapeError", "ConfigError", "DataError", "DatasetNotFoundError",
    "ModelFileError", "GradientCheckError",
]
