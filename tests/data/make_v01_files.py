"""Write the v0.1 model file and checkpoint that tests/test_io_*.py load.

The files in this folder were written by lincoln 0.1 (commit c2dac95, the last
commit before the 0.2 core layout), so that every later lincoln is tested
against real v0.1 files rather than against its own idea of them. To remake
them (never needed unless the files are lost)::

    mkdir /tmp/v01 && git archive c2dac95 lincoln | tar -x -C /tmp/v01
    PYTHONPATH=/tmp/v01 python tests/data/make_v01_files.py tests/data

with a Python that has numpy and tqdm but no lincoln installed (an editable
install takes precedence over PYTHONPATH; check ``lincoln.__file__``).

It writes ``v0.1-cnn.npz`` (a model file: convolution with dropout, batch norm,
pooling, a dense layer with dropout; trained two epochs, so the running
statistics and the dropout generators have moved), ``v0.1-mlp.ckpt.npz`` (the
last checkpoint of a two-epoch run with Adam and a learning-rate decay) and
``v0.1-expected.npz`` (inputs, targets and the outputs lincoln 0.1 computed).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

import lincoln
from lincoln.layers import Dense, layer_from_config
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGD, Adam
from lincoln.train import Trainer


def cnn() -> NeuralNetwork:
    return NeuralNetwork(
        [
            layer_from_config(
                {
                    "type": "conv2d",
                    "out_channels": 2,
                    "param_size": 3,
                    "padding": "same",
                    "dropout": 0.9,
                    "activation": {"type": "leaky_relu", "alpha": 0.2},
                    "weight_init": "he",
                }
            ),
            layer_from_config({"type": "batchnorm", "momentum": 0.8}),
            layer_from_config({"type": "maxpool2d", "pool_size": 2}),
            layer_from_config({"type": "flatten"}),
            Dense(4, "tanh", dropout=0.8, weight_init="glorot"),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=11,
        dtype=np.float32,
    )


def mlp() -> NeuralNetwork:
    return NeuralNetwork(
        [Dense(5, "relu", dropout=0.75, weight_init="he"), Dense(2, "sigmoid")],
        MeanSquaredError(normalize=True),
        seed=12,
        dtype=np.float64,
    )


def main(out: Path) -> None:
    rng = np.random.default_rng(0)
    X_cnn = rng.normal(size=(12, 1, 4, 4)).astype(np.float32)
    y_cnn = rng.integers(0, 3, size=12)
    X_mlp = rng.normal(size=(20, 3))
    y_mlp = rng.uniform(0.1, 1.0, size=(20, 2))

    net = cnn()
    Trainer(net, SGD(0.05)).fit(X_cnn, y_cnn, epochs=2, batch_size=4, verbose=False)
    net.save(out / "v0.1-cnn.npz")
    cnn_predict = net.predict(X_cnn)
    cnn_train = net.forward(X_cnn)  # training mode: the next dropout masks

    with tempfile.TemporaryDirectory() as tmp:
        opt = Adam(0.01, final_lr=0.001, decay_type="linear")
        small = mlp()
        Trainer(small, opt, checkpoint_dir=tmp).fit(
            X_mlp, y_mlp, X_mlp, y_mlp, epochs=2, batch_size=8, verbose=False
        )
        shutil.copy(Path(tmp) / "last.ckpt.npz", out / "v0.1-mlp.ckpt.npz")
    again = lincoln.load(out / "v0.1-mlp.ckpt.npz")
    np.savez(
        out / "v0.1-expected.npz",
        X_cnn=X_cnn,
        cnn_predict=cnn_predict,
        cnn_train=cnn_train,
        X_mlp=X_mlp,
        y_mlp=y_mlp,
        mlp_predict=again.predict(X_mlp),
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
