"""The protocol both simulation methods' states implement (:class:`SimulatedState`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pytket.extensions.iqm.emulator.simulation.methods.statevector import ComplexArray, FloatArray


class SimulatedState(Protocol):
    """A quantum state on ``n`` active components that the executor evolves and samples."""

    n: int

    def copy(self) -> SimulatedState: ...

    def grow(self, n: int) -> None: ...

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None: ...

    def apply_cz(self, a: int, b: int) -> None: ...

    def apply_move(self, qubit: int, resonator: int) -> None: ...

    def probabilities(self, axes: Sequence[int]) -> FloatArray: ...

    def weights(self) -> FloatArray: ...

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None: ...
