"""Native operations for the simulator's tests, on physical component names (radians)."""

from __future__ import annotations

from pytket.extensions.iqm.emulator.simulation.program import Operation


def prx(qubit: str, angle: float, phase: float) -> Operation:
    return Operation("prx", (qubit,), angle=angle, phase=phase)


def cz(a: str, b: str) -> Operation:
    return Operation("cz", (a, b))


def measure(key: str, *qubits: str, feedback_key: str | None = None) -> Operation:
    return Operation("measure", tuple(qubits), key=key, feedback_key=feedback_key)
