"""lincoln: a NumPy deep-learning framework in the design of *Deep Learning from
Scratch* (Weidman): operations compose into layers, layers into a network with
a loss, an optimizer updates it and a trainer runs the loop.

The classes and functions of its modules are importable from here as well as
from their module::

    from lincoln import activations, layers, losses, optimizers, network, train
"""

from . import (
    activations,
    base,
    conv,
    datasets,
    dense,
    dropout,
    errors,
    gradcheck,
    layers,
    losses,
    metrics,
    network,
    normalization,
    optimizers,
    pooling,
    serialization,
    train,
)
from ._version import __version__
from .activations import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .base import Operation, ParamOperation
from .conv import BiasAdd2D, Conv2D_Op, Conv2DOp, FlattenOp
from .datasets import (
    load_digits,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    standardize,
    train_test_split,
)
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
from .gradcheck import (
    GradientCheckReport,
    GradientComparison,
    check_loss,
    check_network,
    check_operation,
    numerical_gradient,
)
from .layers import AvgPool2D, BatchNorm, Conv2D, Dense, Flatten, Layer, MaxPool2D
from .losses import Loss, MeanSquaredError, SoftmaxCrossEntropy
from .metrics import accuracy, mae, rmse
from .network import NeuralNetwork
from .normalization import BatchNormalize, Scale, Shift
from .optimizers import SGD, AdaGrad, Adam, Optimizer, RMSProp, SGDMomentum
from .pooling import AvgPool2DOp, MaxPool2DOp
from .serialization import Checkpoint, load, load_checkpoint, save, save_checkpoint
from .train import History, Trainer

__all__ = [
    "__version__",
    "activations",
    "base",
    "conv",
    "datasets",
    "dense",
    "dropout",
    "errors",
    "layers",
    "losses",
    "gradcheck",
    "metrics",
    "network",
    "normalization",
    "optimizers",
    "pooling",
    "serialization",
    "train",
    "Operation",
    "ParamOperation",
    "WeightMultiply",
    "BiasAdd",
    "Linear",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Dropout",
    "Conv2DOp",
    "Conv2D_Op",
    "BiasAdd2D",
    "FlattenOp",
    "MaxPool2DOp",
    "AvgPool2DOp",
    "BatchNormalize",
    "Scale",
    "Shift",
    "Layer",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "BatchNorm",
    "NeuralNetwork",
    "Loss",
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
    "Optimizer",
    "SGD",
    "SGDMomentum",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "Trainer",
    "History",
    "accuracy",
    "mae",
    "rmse",
    "numerical_gradient",
    "check_operation",
    "check_loss",
    "check_network",
    "GradientCheckReport",
    "GradientComparison",
    "load",
    "save",
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
    "one_hot",
    "standardize",
    "train_test_split",
    "load_checkpoint",
    "save_checkpoint",
    "Checkpoint",
    "LincolnError",
    "ShapeError",
    "ConfigError",
    "DataError",
    "DatasetNotFoundError",
    "ModelFileError",
    "GradientCheckError",
]
