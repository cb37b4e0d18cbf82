"""What a simulation returns, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BitArray = npt.NDArray[np.uint8]


class SimulationError(ValueError):
    """The circuit cannot be simulated; the message says why and becomes the job's error."""


class SimulationCancelledError(SimulationError):
    """The caller's ``cancelled`` check said stop (an aborted job, a server shutting down)."""


class TooLargeError(SimulationError):
    """The circuit acts on more components than the simulator accepts."""


class TruncationError(SimulationError):
    """The matrix-product state would have to discard more than the documented bound."""


@dataclass(frozen=True)
class SimulationResult:
    """What the measurements recorded.

    ``measurements[key]`` is a uint8 array of shape ``(shots_kept, len(qubits))`` with the
    qubits in the order of the ``measure`` operation that has that key.
    """

    measurements: dict[str, BitArray]
    shots_kept: int
    """Number of shots returned (fewer than asked when heralding dropped some)."""
    method: str = "statevector"
    """Which method ran: ``statevector``, ``density_matrix``, ``mps`` or ``stabilizer``."""
    discarded_weight: float | None = None
    """``mps``: the largest relative weight a trajectory discarded by truncation (0 when
    nothing was truncated); None for the other methods, which are exact."""
    bond_dimension: int | None = None
    """``mps``: the largest bond dimension a trajectory reached."""
