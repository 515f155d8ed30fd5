"""Saving and loading: the file format, model files and training checkpoints.

:mod:`~lincoln.io.format` is the ``.npz`` archive with its JSON header, written
atomically and read with one clear error per problem; :mod:`~lincoln.io.model`
saves and loads a network (and compares architectures); :mod:`~lincoln.io.checkpoint`
adds the optimizer's and the trainer's state. This package names network classes
through :data:`lincoln.registry.NETWORKS` and never imports :mod:`lincoln.network`,
which calls it for ``net.save`` and ``net.load_weights``.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .format import FORMAT, FORMAT_VERSION, HEADER_KEY, atomic_savez, read_header
from .model import MAY_DIFFER, RUN_DIR_MODEL, load, load_weights, save

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "MAY_DIFFER",
    "RUN_DIR_MODEL",
    "Checkpoint",
    "atomic_savez",
    "load",
    "load_checkpoint",
    "load_weights",
    "read_header",
    "save",
    "save_checkpoint",
]
