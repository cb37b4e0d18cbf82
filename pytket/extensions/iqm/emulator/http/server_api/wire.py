"""IQM Server API wire format (iqm-client 33+) → the emulator's :class:`JobSpec`.

Circuits name their components in ``locus`` and give angles in radians already; this applies
the definition's ``qubit_mapping`` (the same checks as the REST v1 line). Problems are reported as
:class:`JobValidationError`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pytket.extensions.iqm.emulator.http.server_api.models import CircuitJobDefinition
from pytket.extensions.iqm.emulator.http.wire import checked_mapping, physical_circuits
from pytket.extensions.iqm.emulator.jobs.spec import JobSpec
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec


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
    return physical_circuits(
        definition.circuits,
        checked_mapping(definition.qubit_mapping, components),
        implementations,
        angle_names=("angle", "phase"),
        radians_per_unit=1.0,
    )


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
