"""Server-side checks of a job against the calibration it runs on.

A real IQM server accepts a job (HTTP 201) and then fails it during compilation when a circuit
does not fit the calibration; the emulator does the same with the same kind of checks:
calibrated loci, measurement and feedback keys, classical control, MOVE sandwiches and the
circuit-duration limit ``max_circuit_duration_over_t2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pytket.extensions.iqm.emulator.devices.device import Calibration
from pytket.extensions.iqm.emulator.jobs.spec import JobSpec
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec, Operation

MOVE_VALIDATION_MODES = ("strict", "allow_prx", "none")
"""Values of the request's ``move_validation_mode``."""


class JobValidationError(ValueError):
    """A job does not fit the calibration; the message becomes the failed job's message."""


@dataclass(frozen=True)
class DurationEstimate:
    """Length of a circuit's ASAP schedule and the T2 it is compared with."""

    duration: float
    """Seconds from the first operation's start to the last one's end."""
    min_t2: float | None
    """Shortest T2 among the components the circuit uses, seconds (``None``: no T2 known)."""
    min_t2_component: str | None
    """The component with that T2."""


def circuit_duration(circuit: CircuitSpec, cal: Calibration) -> DurationEstimate:
    """ASAP schedule length of ``circuit`` with the calibration's gate durations.

    Every component runs its operations in order, as early as possible. Multi-component
    operations (``cz``, ``move``, ``measure``, ``delay``) start when all their components are
    free; ``barrier`` aligns its components; ``cc_prx`` also waits for the end of the
    measurement it is conditioned on. Gates without a calibrated duration take no time.
    """
    free_at: dict[str, float] = {}
    feedback_ready: dict[tuple[str, str], float] = {}
    used: set[str] = set()
    for op in circuit.operations:
        used.update(op.qubits)
        start = max((free_at.get(q, 0.0) for q in op.qubits), default=0.0)
        if op.name == "barrier":
            end = start
        elif op.name == "delay":
            end = start + op.duration
        elif op.name == "cc_prx":
            if op.feedback_key is not None and op.feedback_qubit is not None:
                start = max(start, feedback_ready.get((op.feedback_key, op.feedback_qubit), 0.0))
            end = start + cal.durations.get("cc_prx", 0.0)
        else:
            end = start + cal.durations.get(op.name, 0.0)
        for q in op.qubits:
            free_at[q] = end
        if op.name == "measure" and op.feedback_key is not None:
            for q in op.qubits:
                feedback_ready[(op.feedback_key, q)] = end
    t2 = [(cal.t2[c], c) for c in sorted(used) if c in cal.t2]
    shortest = min(t2) if t2 else None
    return DurationEstimate(
        duration=max(free_at.values(), default=0.0),
        min_t2=shortest[0] if shortest else None,
        min_t2_component=shortest[1] if shortest else None,
    )


def _check_locus(op: Operation, cal: Calibration, where: str) -> None:
    components = set(cal.components)
    for q in op.qubits:
        if q not in components:
            raise JobValidationError(
                f"{where}: {op.name} acts on {q!r}, which is not a component of the device."
            )
    qubits = set(cal.qubits)
    locus = ", ".join(op.qubits)
    if op.name in ("prx", "cc_prx", "measure", "reset"):
        for q in op.qubits:
            if q not in qubits:
                raise JobValidationError(f"{where}: {op.name} is not calibrated on {q!r}.")
    if op.name in ("cc_prx", "reset") and not cal.supports_feedback:
        raise JobValidationError(
            f"{where}: {op.name} needs real-time feedback, which this device's calibration "
            "does not support."
        )
    if op.name == "cz" and (
        len(op.qubits) != 2 or cal.cz_locus(op.qubits[0], op.qubits[1]) is None
    ):
        raise JobValidationError(f"{where}: cz is not calibrated on ({locus}).")
    if op.name == "move" and (
        len(op.qubits) != 2 or (op.qubits[0], op.qubits[1]) not in cal.move_loci
    ):
        loci = ", ".join("(" + ", ".join(m) + ")" for m in cal.move_loci) or "none on this device"
        raise JobValidationError(
            f"{where}: move is not calibrated on ({locus}); MOVE loci are (qubit, resonator): "
            f"{loci}."
        )


def _check_keys(circuit: CircuitSpec, name: str) -> None:
    keys: set[str] = set()
    feedback_keys: set[str] = set()
    offered: set[tuple[str, str]] = set()
    for op in circuit.operations:
        if op.name == "measure":
            if op.key in keys:
                raise JobValidationError(
                    f"{name}: measurement key {op.key!r} is used more than once."
                )
            keys.add(str(op.key))
            if op.feedback_key is not None:
                if op.feedback_key in feedback_keys:
                    raise JobValidationError(
                        f"{name}: feedback key {op.feedback_key!r} is used more than once."
                    )
                feedback_keys.add(op.feedback_key)
                offered.update((op.feedback_key, q) for q in op.qubits)
        elif op.name == "cc_prx" and (op.feedback_key, op.feedback_qubit) not in offered:
            raise JobValidationError(
                f"{name}: cc_prx on {op.qubits[0]!r} is conditioned on feedback key "
                f"{op.feedback_key!r} of qubit {op.feedback_qubit!r}, but no earlier measure of "
                f"{op.feedback_qubit!r} has that feedback_key."
            )


def _check_moves(circuit: CircuitSpec, cal: Calibration, name: str, mode: str) -> None:
    if mode == "none":
        return
    allowed = {"barrier", "prx"} if mode == "allow_prx" else {"barrier"}
    resonators = set(cal.computational_resonators)
    holder: dict[str, str] = {}  # resonator → qubit whose state it holds
    moved: set[str] = set()
    for op in circuit.operations:
        if op.name == "move":
            qubit, resonator = op.qubits
            if resonator not in resonators:
                raise JobValidationError(
                    f"{name}: move ({qubit}, {resonator}) does not target a resonator."
                )
            occupant = holder.get(resonator)
            if occupant is None:
                if qubit in moved:
                    raise JobValidationError(
                        f"{name}: move ({qubit}, {resonator}): the state of {qubit!r} is already "
                        "in another resonator."
                    )
                holder[resonator] = qubit
                moved.add(qubit)
            elif occupant != qubit:
                raise JobValidationError(
                    f"{name}: move ({qubit}, {resonator}): {resonator!r} already holds the state "
                    f"of {occupant!r}."
                )
            else:
                del holder[resonator]
                moved.discard(qubit)
        elif moved and op.name not in allowed and (overlap := set(op.qubits) & moved):
            raise JobValidationError(
                f"{name}: {op.name} acts on {', '.join(sorted(overlap))} while its state is moved "
                f"to a resonator (move_validation_mode={mode!r} allows only "
                f"{' and '.join(sorted(allowed))} inside a MOVE sandwich)."
            )
    if holder:
        open_ = ", ".join(f"{q} in {r}" for r, q in sorted(holder.items()))
        raise JobValidationError(
            f"{name}: the circuit ends inside a MOVE sandwich ({open_}); move the state back "
            "before the circuit ends."
        )


def validate_circuits(
    circuits: Sequence[CircuitSpec],
    cal: Calibration,
    *,
    move_validation_mode: str = "strict",
    max_duration_over_t2: float = 0.0,
) -> None:
    """Check every circuit of a job against ``cal``.

    :param move_validation_mode: ``strict``, ``allow_prx`` or ``none``.
    :param max_duration_over_t2: fail a circuit whose ASAP duration exceeds this multiple of
        the shortest T2 of its components; ``0`` disables the check.
    :raises JobValidationError: naming the circuit and what is wrong with it.
    :raises ValueError: if ``move_validation_mode`` is unknown.
    """
    if move_validation_mode not in MOVE_VALIDATION_MODES:
        raise ValueError(
            f"Unknown move_validation_mode {move_validation_mode!r}; "
            f"use one of {', '.join(MOVE_VALIDATION_MODES)}."
        )
    for index, circuit in enumerate(circuits):
        name = f"Circuit {circuit.name!r} (index {index})"
        for op in circuit.operations:
            _check_locus(op, cal, name)
        _check_keys(circuit, name)
        _check_moves(circuit, cal, name, move_validation_mode)
        if max_duration_over_t2 > 0:
            estimate = circuit_duration(circuit, cal)
            if (
                estimate.min_t2 is not None
                and estimate.duration > max_duration_over_t2 * estimate.min_t2
            ):
                raise JobValidationError(
                    f"{name} lasts {estimate.duration * 1e6:.3f} µs, "
                    f"{estimate.duration / estimate.min_t2:.3g} times the shortest T2 of its "
                    f"components ({estimate.min_t2 * 1e6:.3f} µs, {estimate.min_t2_component}); "
                    f"the limit max_circuit_duration_over_t2 is {max_duration_over_t2:g}."
                )


def validate_job(spec: JobSpec, cal: Calibration, default_max_duration_over_t2: float) -> None:
    """Check a job against the calibration it runs on, with its own duration limit.

    :param default_max_duration_over_t2: the limit when the job gives none (``0``: no check).
    :raises JobValidationError: as :func:`validate_circuits`.
    """
    limit = spec.max_circuit_duration_over_t2
    validate_circuits(
        spec.circuits,
        cal,
        move_validation_mode=spec.move_validation_mode,
        max_duration_over_t2=default_max_duration_over_t2 if limit is None else limit,
    )
