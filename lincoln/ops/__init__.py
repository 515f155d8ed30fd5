"""Operations: the differentiable steps layers are made of, one module per family."""

from .activations import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from .conv import BiasAdd2D, Conv2D_Op, Conv2DOp
from .dense import BiasAdd, WeightMultiply
from .dropout import Dropout
from .embedding import EmbeddingLookup
from .normalization import BatchNormalize, Scale, Shift
from .pooling import AvgPool2DOp, MaxPool2DOp
from .recurrent import GRUStep, LSTMStep, RNNStep
from .reshape import FlattenOp
from .sequence import SequenceBiasAdd, SequenceWeightMultiply

__all__ = [
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
    "EmbeddingLookup",
    "SequenceWeightMultiply",
    "SequenceBiasAdd",
    "RNNStep",
    "LSTMStep",
    "GRUStep",
]
