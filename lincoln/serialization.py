"""The 0.1 import path of saving and loading; it all lives in :mod:`lincoln.io`."""

from __future__ import annotations

from .io import *  # noqa: F403  # the names of lincoln.io.__all__
from .io import __all__ as _io_all
from .registry import NETWORKS

register_network = NETWORKS.register  # the 0.1 name: make a network loadable

__all__ = [*_io_all, "NETWORKS", "register_network"]
