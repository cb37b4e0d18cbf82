"""The emulator's own circuit representation, independent of any iqm-client version.

The HTTP layer converts each API line's wire format (22.x ``Instruction`` with angles in turns,
36.x ``CircuitOperation`` with radians) into these, after applying the job's qubit mapping, so
the validator and the simulator see physical component names and radians only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    """One native operation on physical components.

    ``name`` is one of ``prx``, ``cc_prx``, ``cz``, ``move``, ``measure``, ``reset``,
    ``barrier``, ``delay``.
    """

    name: str
    qubits: tuple[str, ...]
    angle: float = 0.0
    """Rotation angle of ``prx``/``cc_prx``, radians."""
    phase: float = 0.0
    """Phase of ``prx``/``cc_prx``, radians."""
    key: str | None = None
    """Measurement key of ``measure``."""
    feedback_key: str | None = None
    """``measure``: the key under which the outcome is offered for feedback;
    ``cc_prx``: the feedback key it is conditioned on."""
    feedback_qubit: str | None = None
    """``cc_prx``: the measured qubit whose outcome under ``feedback_key`` controls it."""
    duration: float = 0.0
    """``delay``: seconds."""


@dataclass(frozen=True)
class CircuitSpec:
    """A circuit of a job, in physical names."""

    name: str
    operations: tuple[Operation, ...]
