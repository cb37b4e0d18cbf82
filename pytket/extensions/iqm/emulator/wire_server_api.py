"""IQM Server API wire format (iqm-client 33+) → the emulator's :class:`JobSpec`.

Circuits name their components in ``locus`` and give angles in radians already; this applies
the definition's ``qubit_mapping`` (the same checks as the 22.x line). Problems are reported as
:class:`JobValidationError`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pytket.extensions.iqm.emulator.job_spec import JobSpec
from pytket.extensions.iqm.emulator.models_server_api import (
    CircuitJobDefinition,
    CircuitOperation,
)
from pytket.extensions.iqm.emulator.operations import CircuitSpec, Operation
from pytket.extensions.iqm.emulator.wire_common import (
    check_implementation,
    checked_mapping,
    to_physical,
)


def _operation(
    instruction: CircuitOperation, locus: tuple[str, ...], feedback_qubit: str | None
) -> Operation:
    args = instruction.args
    name = instruction.name
    if name in ("prx", "cc_prx"):
        return Operation(
            name,
            locus,
            angle=float(args["angle"]),
            phase=float(args["phase"]),
            feedback_key=args.get("feedback_key"),
            feedback_qubit=feedback_qubit,
        )
    if name == "measure":
        return Operation(name, locus, key=args["key"], feedback_key=args.get("feedback_key"))
    if name == "delay":
        return Operation(name, locus, duration=float(args["duration"]))
    return Operation(name, locus)


def circuits_from_definition(
    definition: CircuitJobDefinition,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> list[CircuitSpec]:
    """The definition's circuits in physical names (radians, as sent).

    :param components: the calibration's component names (qubits and resonators).
    :param implementations: gate name → implementation names the calibration offers; ``None``
        skips that check.
    :raises JobValidationError: if the qubit mapping is invalid, misses a qubit a circuit uses,
        or an instruction asks for an implementation that is not calibrated.
    """
    mapping = checked_mapping(definition.qubit_mapping, components)
    specs: list[CircuitSpec] = []
    for index, circuit in enumerate(definition.circuits):
        operations: list[Operation] = []
        for instruction in circuit.instructions:
            check_implementation(
                instruction.name, instruction.implementation, implementations, circuit.name, index
            )
            locus = tuple(to_physical(mapping, q, circuit.name, index) for q in instruction.locus)
            feedback_qubit = None
            if instruction.name == "cc_prx":
                raw = str(instruction.args["feedback_qubit"])
                feedback_qubit = mapping.get(raw, raw) if mapping is not None else raw
            operations.append(_operation(instruction, locus, feedback_qubit))
        specs.append(CircuitSpec(circuit.name, tuple(operations)))
    return specs


def job_from_definition(
    definition: CircuitJobDefinition,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> JobSpec:
    """The definition as the emulator runs it (circuits as in :func:`circuits_from_definition`).

    :raises JobValidationError: as :func:`circuits_from_definition`.
    """
    return JobSpec(
        circuits=tuple(circuits_from_definition(definition, components, implementations)),
        shots=definition.shots,
        heralding_zeros=definition.heralding_mode.value == "zeros",
        move_validation_mode=definition.move_gate_validation.value,
        max_circuit_duration_over_t2=definition.max_circuit_duration_over_t2,
    )
