"""Training: the :class:`Trainer` loop, its callbacks, schedules and history.

``lincoln.train`` (the book's module path) re-exports the same names.
"""

from __future__ import annotations

from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    ProgressBar,
    TerminateOnNaN,
)
from .checkpoint import BEST_MODEL_FILE, LAST_CHECKPOINT_FILE, ModelCheckpoint
from .data import batches, check_data, sample_shape_mismatch, split_validation
from .history import STOP_REASONS, History
from .monitor import MONITORS, BestKeeper, Monitor
from .options import FitOptions
from .recurrent import ResetStates
from .schedules import (
    BookDecay,
    CosineAnnealing,
    LRScheduler,
    ReduceLROnPlateau,
    StepLR,
    Warmup,
    cosine_lr,
    step_lr,
    warmup_lr,
)
from .trainer import Trainer

__all__ = [
    "Trainer",
    "History",
    "FitOptions",
    "ResetStates",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "ModelCheckpoint",
    "ProgressBar",
    "TerminateOnNaN",
    "CSVLogger",
    "LRScheduler",
    "StepLR",
    "CosineAnnealing",
    "Warmup",
    "ReduceLROnPlateau",
    "BookDecay",
    "step_lr",
    "cosine_lr",
    "warmup_lr",
    "Monitor",
    "BestKeeper",
    "check_data",
    "sample_shape_mismatch",
    "batches",
    "split_validation",
    "MONITORS",
    "STOP_REASONS",
    "BEST_MODEL_FILE",
    "LAST_CHECKPOINT_FILE",
]
