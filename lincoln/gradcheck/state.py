"""Keeping a check from changing what it checks: declared generators and buffers.

A check runs thousands of forward passes in training mode. Two kinds of state
would move under it, and both are declared by the operations that own them
(:meth:`~lincoln.base.Operation.generators`, :meth:`~lincoln.base.Operation.buffers`;
a network gathers them as ``named_generators()`` and ``named_buffers()``):

* random generators (Dropout's ``"rng"``): :class:`FrozenGenerators` saves their
  state before the first forward pass and rewinds them before every later one,
  so each pass draws the same mask and the function differentiated is
  deterministic;
* buffers updated in place (BatchNormalize's running statistics):
  :class:`SavedBuffers` copies them and writes the copies back afterwards.

State an operation does not declare is neither frozen nor restored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..base import Array

__all__ = ["FrozenGenerators", "SavedBuffers"]


class FrozenGenerators:
    """The states of some generators, put back on demand.

    Args:
        generators: the generators, e.g. ``op.generators().values()`` or
            ``(g for _, g in net.named_generators())``.
    """

    def __init__(self, generators: Iterable[np.random.Generator]) -> None:
        self._saved: list[tuple[np.random.Generator, Mapping[str, Any]]] = [
            (gen, gen.bit_generator.state) for gen in generators
        ]

    def rewind(self) -> None:
        """Give every generator back the state it had when it was saved."""
        for gen, state in self._saved:
            gen.bit_generator.state = state


class SavedBuffers:
    """Copies of some buffers, written back in place on demand.

    Args:
        buffers: the arrays, e.g. ``op.buffers().values()`` (the arrays
            themselves, which their operation updates in place).
    """

    def __init__(self, buffers: Iterable[Array] = ()) -> None:
        self._saved: list[tuple[Array, Array]] = []
        self._seen: set[int] = set()
        self.add(buffers)

    def add(self, buffers: Iterable[Array]) -> None:
        """Also save these buffers (those not saved already), as they are now:
        for buffers an operation creates on its first forward pass."""
        for array in buffers:
            if id(array) not in self._seen:
                self._seen.add(id(array))
                self._saved.append((array, np.array(array, copy=True)))

    def restore(self) -> None:
        """Write every saved copy back into its array (read-only ones are skipped)."""
        for array, copy in self._saved:
            if array.flags.writeable:
                np.copyto(array, copy)
