# fmt: off
# ruff: noqa
"""The book's Conv2D layer, typed as printed, on lincoln's modules.

From lincoln/lincoln/layers.py of SethHWeidman/DLFS_code at commit 6e6fa2a
(2019-09-16), *Deep Learning from Scratch*'s chapter 5. The class body is unchanged;
the imports name lincoln's modules where the book's are relative (``from
lincoln.conv import Conv2D_Op`` for ``from .conv import Conv2D_Op``, and so on).
"""
import numpy as np
from numpy import ndarray

from lincoln.activations import Linear
from lincoln.base import Operation
from lincoln.conv import Conv2D_Op
from lincoln.dropout import Dropout
from lincoln.layers import Layer
from lincoln.reshape import Flatten


class Conv2D(Layer):
    '''
    Once we define all the Operations and the outline of a layer,
    all that remains to implement here is the _setup_layer function!
    '''
    def __init__(self,
                 out_channels: int,
                 param_size: int,
                 dropout: int = 1.0,
                 weight_init: str = "normal",
                 activation: Operation = Linear(),
                 flatten: bool = False) -> None:
        super().__init__(out_channels)
        self.param_size = param_size
        self.activation = activation
        self.flatten = flatten
        self.dropout = dropout
        self.weight_init = weight_init
        self.out_channels = out_channels

    def _setup_layer(self, input_: ndarray) -> ndarray:

        self.params = []
        in_channels = input_.shape[1]

        if self.weight_init == "glorot":
            scale = 2/(in_channels + self.out_channels)
        else:
            scale = 1.0

        conv_param = np.random.normal(loc=0,
                                      scale=scale,
                                      size=(input_.shape[1],  # input channels
                                     self.out_channels,
                                     self.param_size,
                                     self.param_size))

        self.params.append(conv_param)

        self.operations = []
        self.operations.append(Conv2D_Op(conv_param))
        self.operations.append(self.activation)

        if self.flatten:
            self.operations.append(Flatten())

        if self.dropout < 1.0:
            self.operations.append(Dropout(self.dropout))

        return None
