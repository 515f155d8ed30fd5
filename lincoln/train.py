"""The book's module path for the training loop: ``from lincoln import train``;
``train.Trainer(net, optim).fit(...)``.

The loop lives in :mod:`lincoln.training`; this module re-exports it.
"""

from __future__ import annotations

from .book_rnn import RNNTrainer
from .training import (
    BEST_MODEL_FILE,
    LAST_CHECKPOINT_FILE,
    MONITORS,
    STOP_REASONS,
    BookDecay,
    Callback,
    CosineAnnealing,
    CSVLogger,
    EarlyStopping,
    History,
    LRScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    StepLR,
    TerminateOnNaN,
    Trainer,
    Warmup,
    check_data,
    sample_shape_mismatch,
)

__all__ = [
    "Trainer",
    "RNNTrainer",
    "History",
    "check_data",
    "sample_shape_mismatch",
    "BEST_MODEL_FILE",
    "LAST_CHECKPOINT_FILE",
    "MONITORS",
    "STOP_REASONS",
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "ProgressBar",
    "TerminateOnNaN",
    "CSVLogger",
    "StepLR",
    "CosineAnnealing",
    "Warmup",
    "ReduceLROnPlateau",
    "LRScheduler",
    "BookDecay",
]
