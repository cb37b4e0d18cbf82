"""iqm-client 22.x wire format (CoCoS V1) → the emulator's :class:`JobSpec`.

Applies the request's ``qubit_mapping`` and converts angles from turns (``angle_t``,
``phase_t``) to radians. Problems are reported as :class:`JobValidationError`, whose message
becomes the failed job's message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from pytket.extensions.iqm.emulator.job_spec import JobSpec
from pytket.extensions.iqm.emulator.models import Instruction, RunRequest
from pytket.extensions.iqm.emulator.operations import CircuitSpec, Operation
from pytket.extensions.iqm.emulator.wire_common import (
    check_implementation,
    checked_mapping,
    to_physical,
)


def physical_mapping(request: RunRequest, components: Collection[str]) -> dict[str, str] | None:
    """The request's logical → physical qubit mapping, checked; ``None`` if it has none.

    :param components: the calibration's component names.
    :raises JobValidationError: if a logical name repeats, two logical names share a physical
        one, or a physical name is not a component of the device.
    """
    return checked_mapping(request.qubit_mapping, components)


def _operation(
    instruction: Instruction, qubits: tuple[str, ...], feedback_qubit: str | None
) -> Operation:
    args = instruction.args
    name = instruction.name
    if name in ("prx", "cc_prx"):
        return Operation(
            name,
            qubits,
            angle=2 * math.pi * float(args["angle_t"]),
            phase=2 * math.pi * float(args["phase_t"]),
            feedback_key=args.get("feedback_key"),
            feedback_qubit=feedback_qubit,
        )
    if name == "measure":
        return Operation(name, qubits, key=args["key"], feedback_key=args.get("feedback_key"))
    if name == "delay":
        return Operation(name, qubits, duration=float(args["duration"]))
    return Operation(name, qubits)


def circuits_from_request(
    request: RunRequest,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> list[CircuitSpec]:
    """The request's circuits in physical names and radians.

    :param components: the calibration's component names (qubits and resonators).
    :param implementations: gate name → implementation names the calibration offers; an
        instruction asking for another implementation is refused. ``None`` skips that check.
    :raises JobValidationError: if the qubit mapping is invalid, misses a qubit a circuit uses,
        or an instruction asks for an implementation that is not calibrated.
    """
    mapping = physical_mapping(request, components)
    specs: list[CircuitSpec] = []
    for index, circuit in enumerate(request.circuits):
        operations: list[Operation] = []
        for instruction in circuit.instructions:
            check_implementation(
                instruction.name, instruction.implementation, implementations, circuit.name, index
            )
            qubits = tuple(to_physical(mapping, q, circuit.name, index) for q in instruction.qubits)
            feedback_qubit = None
            if instruction.name == "cc_prx":
                raw = str(instruction.args["feedback_qubit"])
                feedback_qubit = mapping.get(raw, raw) if mapping is not None else raw
            operations.append(_operation(instruction, qubits, feedback_qubit))
        specs.append(CircuitSpec(circuit.name, tuple(operations)))
    return specs


def job_from_request(
    request: RunRequest,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> JobSpec:
    """The request as the emulator runs it (circuits as in :func:`circuits_from_request`).

    :raises JobValidationError: as :func:`circuits_from_request`.
    """
    return JobSpec(
        circuits=tuple(circuits_from_request(request, components, implementations)),
        shots=request.shots,
        heralding_zeros=request.heralding_mode.value == "zeros",
        move_validation_mode=request.move_validation_mode.value,
        max_circuit_duration_over_t2=request.max_circuit_duration_over_t2,
    )
