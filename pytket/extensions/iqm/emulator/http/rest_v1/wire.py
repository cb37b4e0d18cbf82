"""iqm-client 22.x wire format (CoCoS V1) → the emulator's :class:`JobSpec`.

Applies the request's ``qubit_mapping`` and converts angles from turns (``angle_t``,
``phase_t``) to radians. Problems are reported as :class:`JobValidationError`, whose message
becomes the failed job's message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from pytket.extensions.iqm.emulator.http.rest_v1.models import RunRequest
from pytket.extensions.iqm.emulator.http.wire import checked_mapping, physical_circuits
from pytket.extensions.iqm.emulator.jobs.spec import JobPlan, JobSpec, RejectedJob
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec


def physical_mapping(request: RunRequest, components: Collection[str]) -> dict[str, str] | None:
    """The request's logical → physical qubit mapping, checked; ``None`` if it has none.

    :param components: the calibration's component names.
    :raises JobValidationError: if a logical name repeats, two logical names share a physical
        one, or a physical name is not a component of the device.
    """
    return checked_mapping(request.qubit_mapping, components)


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
    return physical_circuits(
        request.circuits,
        physical_mapping(request, components),
        implementations,
        angle_names=("angle_t", "phase_t"),
        radians_per_unit=2 * math.pi,
    )


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


def plan_request(
    request: RunRequest,
    components: Collection[str],
    implementations: Mapping[str, Collection[str]] | None = None,
) -> JobPlan:
    """What the store keeps of an accepted request: its :class:`JobSpec`, or, when the request
    cannot become one, a :class:`RejectedJob` that fails when compiled (as IQM's servers fail
    such a job instead of refusing it)."""
    try:
        return job_from_request(request, components, implementations)
    except JobValidationError as error:
        return RejectedJob(str(error))
