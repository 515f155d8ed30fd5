# fmt: off
# ruff: noqa
"""Chapter 4's notebook, 04_extensions/Code.ipynb, as revised in 2024.

SethHWeidman/DLFS_code at commit 08511f6 (2024-11-04, "Big code cleanup"): module
imports (``from lincoln import layers`` ...) and RANDOM_SEED. The code cells are
copied unchanged, one ``# %%`` cell each. tests/test_book_chapter4.py runs them.
"""

# %% [cell 2]
import numpy as np

from lincoln import activations
from lincoln import layers
from lincoln import losses
from lincoln import optimizers
from lincoln import network
from lincoln import train
from lincoln.utils import mnist

RANDOM_SEED = 190119

# %% [cell 3]
X_train, y_train, X_test, y_test = mnist.load()

# %% [cell 4]
num_labels = len(y_train)
num_labels

# %% [cell 5]
# one-hot encode
num_labels = len(y_train)
train_labels = np.zeros((num_labels, 10))
for i in range(num_labels):
    train_labels[i][y_train[i]] = 1

num_labels = len(y_test)
test_labels = np.zeros((num_labels, 10))
for i in range(num_labels):
    test_labels[i][y_test[i]] = 1

# %% [cell 8]
X_train, X_test = X_train - np.mean(X_train), X_test - np.mean(X_train)

# %% [cell 9]
np.min(X_train), np.max(X_train), np.min(X_test), np.max(X_test)

# %% [cell 10]
X_train, X_test = X_train / np.std(X_train), X_test / np.std(X_train)

# %% [cell 11]
np.min(X_train), np.max(X_train), np.min(X_test), np.max(X_test)

# %% [cell 12]
def calc_accuracy_model(model, test_set):
    return print(
        '''The model validation accuracy is: {0:.2f}%'''.format(
            np.equal(np.argmax(model.forward(test_set), axis=1), y_test).sum()
            * 100.0
            / test_set.shape[0]
        )
    )

# %% [cell 15]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Sigmoid()),
    ],
    loss=losses.MeanSquaredError(normalize=False),
    seed=RANDOM_SEED,
)

trainer = train.Trainer(model, optimizers.SGD(0.1))
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=50,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)

# %% [cell 17]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Sigmoid()),
    ],
    loss=losses.MeanSquaredError(normalize=True),
    seed=RANDOM_SEED,
)

trainer = train.Trainer(model, optimizers.SGD(0.1))
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=50,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)

# %% [cell 19]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Linear()),
    ],
    loss=losses.SoftmaxCrossEntropy(),
    seed=RANDOM_SEED,
)

trainer = train.Trainer(model, optimizers.SGD(0.1))
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=50,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)
print()
calc_accuracy_model(model, X_test)

# %% [cell 21]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Linear()),
    ],
    loss=losses.SoftmaxCrossEntropy(),
    seed=RANDOM_SEED,
)

optim = optimizers.SGDMomentum(0.1, momentum=0.9)

trainer = train.Trainer(model, optim)
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=50,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)

# %% [cell 23]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Linear()),
    ],
    loss=losses.SoftmaxCrossEntropy(),
    seed=RANDOM_SEED,
)

optimizer = optimizers.SGDMomentum(0.15, momentum=0.9, final_lr=0.05, decay_type='linear')

trainer = train.Trainer(model, optimizer)
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=25,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)

# %% [cell 24]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid()),
        layers.Dense(neurons=10, activation=activations.Linear()),
    ],
    loss=losses.SoftmaxCrossEntropy(),
    seed=RANDOM_SEED,
)

optimizer = optimizers.SGDMomentum(0.2, momentum=0.9, final_lr=0.05, decay_type='exponential')

trainer = train.Trainer(model, optimizer)
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=25,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)

# %% [cell 26]
model = network.NeuralNetwork(
    layers=[
        layers.Dense(neurons=89, activation=activations.Sigmoid(), weight_init="glorot"),
        layers.Dense(neurons=10, activation=activations.Linear(), weight_init="glorot"),
    ],
    loss=losses.SoftmaxCrossEntropy(),
    seed=RANDOM_SEED,
)

optimizer = optimizers.SGDMomentum(0.2, momentum=0.9, final_lr=0.05, decay_type='exponential')

trainer = train.Trainer(model, optimizer)
trainer.fit(
    X_train,
    train_labels,
    X_test,
    test_labels,
    epochs=25,
    eval_every=5,
    seed=RANDOM_SEED,
    batch_size=60,
)

calc_accuracy_model(model, X_test)
