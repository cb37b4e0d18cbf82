"""A job as the emulator runs it, whichever API line it came in on: :class:`JobSpec`."""

from __future__ import annotations

from dataclasses import dataclass

from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec


@dataclass(frozen=True)
class JobSpec:
    """The circuits (physical names, radians) and execution options of one job."""

    circuits: tuple[CircuitSpec, ...]
    shots: int
    heralding_zeros: bool
    """Post-select the shots whose heralding readout is all zeros."""
    move_validation_mode: str
    """``strict``, ``allow_prx`` or ``none``."""
    max_circuit_duration_over_t2: float | None
    """The request's duration limit; ``None``: the server's default."""
