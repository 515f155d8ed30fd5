"""Experiment files: a TOML file describes data, network, optimizer and training.

A minimal file::

    [data]
    name = "digits"            # "digits" (bundled), "mnist", "fashion_mnist"

    [model]
    loss = "softmax_cross_entropy"
    seed = 190119

    [[model.layers]]
    type = "dense"
    neurons = 64
    activation = "relu"

    [[model.layers]]
    type = "dense"
    neurons = 10

    [optimizer]
    type = "sgd_momentum"
    lr = 0.1

    [trainer]
    epochs = 20

Every mistake is reported as a :class:`~lincoln.errors.ConfigError` that names
the file, the key and the valid choices. The reader checks the file's structure
(sections, keys, the values only it interprets); every other value is checked
by the object it configures (``Dense``, ``NeuralNetwork``, the optimizer,
``Trainer.fit``), and the reader adds the file and key to that object's error.

The modules: :mod:`.experiment` reads and checks the file, :mod:`.build` makes
the network, optimizer and data it describes, :mod:`.run` trains and writes a
run directory.
"""

from __future__ import annotations

from ..registry import LAYERS, LOSSES, OPTIMIZERS
from .build import (
    IMAGE_SIZES,
    build_network,
    build_optimizer,
    data_input_shape,
    fit_options,
    load_data,
    load_data_and_scaler,
    trainer_options,
)
from .experiment import (
    DATASETS,
    PREPROCESS,
    SECTIONS,
    Experiment,
    config_copy,
    load_config,
)
from .run import PREPROCESS_FILE, evaluate_test, run_experiment, write_run_dir

__all__ = [
    "load_config",
    "build_network",
    "build_optimizer",
    "load_data",
    "load_data_and_scaler",
    "data_input_shape",
    "fit_options",
    "trainer_options",
    "config_copy",
    "Experiment",
    "run_experiment",
    "evaluate_test",
    "write_run_dir",
    "DATASETS",
    "IMAGE_SIZES",
    "PREPROCESS",
    "PREPROCESS_FILE",
    "SECTIONS",
    "LAYERS",
    "LOSSES",
    "OPTIMIZERS",
]
