# fmt: off
# ruff: noqa
"""Chapter 5's demo notebook, 05_convolutions/Numpy_Convolution_Demos.ipynb.

SethHWeidman/DLFS_code at commit 1019e49 (2019-09-16, "Chapter 5, README
updates"): a one-layer CNN on MNIST with the book's Conv2D. The code cells are copied
unchanged, one ``# %%`` cell each; only the IPython magics are commented out.
tests/test_book_code.py runs them.
"""

# %% [cell 2]
import numpy as np

import lincoln
from lincoln.layers import Dense
from lincoln.losses import SoftmaxCrossEntropy, MeanSquaredError
from lincoln.optimizers import Optimizer, SGD, SGDMomentum
from lincoln.activations import Sigmoid, Tanh, Linear, ReLU
from lincoln.network import NeuralNetwork
from lincoln.train import Trainer
from lincoln.utils import mnist
from lincoln.layers import Conv2D

X_train, y_train, X_test, y_test = mnist.load()

# %% [cell 3] (IPython magics, not Python: left out)
# %load_ext autoreload
# %autoreload 2

# %% [cell 4]
X_train, X_test = X_train - np.mean(X_train), X_test - np.mean(X_train)
X_train, X_test = X_train / np.std(X_train), X_test / np.std(X_train)

# %% [cell 5]
X_train_conv, X_test_conv = X_train.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)

# %% [cell 6]
num_labels = len(y_train)
train_labels = np.zeros((num_labels, 10))
for i in range(num_labels):
    train_labels[i][y_train[i]] = 1

num_labels = len(y_test)
test_labels = np.zeros((num_labels, 10))
for i in range(num_labels):
    test_labels[i][y_test[i]] = 1

# %% [cell 7]
def calc_accuracy_model(model, test_set):
    return print(f'''The model validation accuracy is: 
    {np.equal(np.argmax(model.forward(test_set, inference=True), axis=1), y_test).sum() * 100.0 / test_set.shape[0]:.2f}%''')

# %% [cell 9]
model = NeuralNetwork(
    layers=[Conv2D(out_channels=16,
                   param_size=5,
                   dropout=0.8,
                   weight_init="glorot",
                   flatten=True,
                  activation=Tanh()),
            Dense(neurons=10, 
                  activation=Linear())],
            loss = SoftmaxCrossEntropy(), 
seed=20190402)

trainer = Trainer(model, SGDMomentum(lr = 0.1, momentum=0.9))
trainer.fit(X_train_conv, train_labels, X_test_conv, test_labels,
            epochs = 1,
            eval_every = 1,
            seed=20190402,
            batch_size=60,
            conv_testing=True);

# %% [cell 10]
calc_accuracy_model(model, X_test_conv)
