"""Job metadata as :meth:`IQMBackend.get_metadata` returns it, on either API line.

With iqm-client 22.x (REST v1) it is iqm-client's own ``Metadata`` with a few fields added (see
:mod:`.connection.rest_v1`). With iqm-client 36.x (IQM Server API), which has no such model, it is
:class:`ServerApiJobMetadata`: the same attributes where the server records the data
(``calibration_set_id``, ``request`` with ``circuits``, ``shots`` and ``qubit_mapping``,
``shots``, ``circuits``, ``heralding_mode``), and ``timeline`` instead of ``timestamps``. An
attribute only the other line has raises :class:`LineOnlyAttributeError` naming that line.

The request's ``qubit_mapping`` has one entry per qubit of the compiled circuit, logical
(``node[0]``) to physical (``QB1``): pytket-iqm sends physical names, so the server records no
mapping, and the backend adds the one it applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from pytket.extensions.iqm.backends.architecture import node_for_qubit
from pytket.extensions.iqm.errors import IQMDeviceError

REST_V1_ONLY = frozenset({"timestamps", "cocos_version", "parameters", "circuits_batch"})
"""Attributes of iqm-client 22's ``Metadata`` that the IQM Server API does not record."""

SERVER_API_ONLY = frozenset({"timeline", "messages", "errors", "job_data"})
"""Attributes of :class:`ServerApiJobMetadata` that REST v1 servers do not record."""


class LineOnlyAttributeError(AttributeError):
    """The metadata attribute exists on the other API line only."""


def line_only_error(name: str, *, has_it: str, instead: str) -> LineOnlyAttributeError:
    """The error for asking this line's metadata for the other line's attribute ``name``."""
    return LineOnlyAttributeError(
        f"Job metadata has '{name}' only on {has_it}; this backend's line records "
        f"{instead} instead."
    )


class JobMetadata(Protocol):
    """What :meth:`IQMBackend.get_metadata` returns on both lines."""

    @property
    def job_id(self) -> str:
        """The IQM job id (UUID string)."""

    @property
    def circuit_index(self) -> int:
        """The handle's circuit within the job's batch (``request.circuits[circuit_index]``)."""

    @property
    def status(self) -> str:
        """The server's word for the job's status (``"ready"``, ``"completed"``, ...)."""

    @property
    def api(self) -> str:
        """The API line: ``"iqm-client-22"`` or ``"iqm-server-api"``."""

    @property
    def calibration_set_id(self) -> UUID | None:
        """The calibration set the job ran with."""

    @property
    def request(self) -> Any:
        """The request as sent: ``circuits``, ``shots``, ``calibration_set_id``,
        ``qubit_mapping`` and the execution options."""

    @property
    def shots(self) -> int:
        """Shots requested per circuit."""

    @property
    def circuits(self) -> Any:
        """The circuits of the job's batch, as sent."""


@dataclass(frozen=True)
class QubitMapping:
    """One qubit of the compiled circuit: its pytket name and the device qubit it ran on (the
    same attributes as iqm-client 22's ``SingleQubitMapping``)."""

    logical_name: str
    physical_name: str


@dataclass(frozen=True)
class SentInstruction:
    """One instruction as the server recorded it (angles in radians on the IQM Server API)."""

    name: str
    locus: tuple[str, ...]
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qubits(self) -> tuple[str, ...]:
        """The locus, under iqm-client 22's name for it."""
        return self.locus


@dataclass(frozen=True)
class SentCircuit:
    """One circuit of the job as the server recorded it."""

    name: str
    instructions: tuple[SentInstruction, ...]


@dataclass(frozen=True)
class JobRequest:
    """The job's request as the server recorded it, with the qubit mapping the backend applied."""

    circuits: tuple[SentCircuit, ...]
    shots: int
    calibration_set_id: UUID | None
    qubit_mapping: tuple[QubitMapping, ...]
    """Logical → physical, one entry per qubit of the handle's compiled circuit."""
    heralding_mode: str
    max_circuit_duration_over_t2: float | None
    options: Mapping[str, Any]
    """Every other field the server recorded (MOVE modes, dynamical decoupling, ...)."""


@dataclass(frozen=True)
class ServerApiJobMetadata:
    """Job metadata on the IQM Server API line (iqm-client 36.x): the attributes of iqm-client
    22's ``Metadata`` that the server records, and the fields of the old dictionary form."""

    job_id: str
    circuit_index: int
    status: str
    api: str
    calibration_set_id: UUID | None
    request: JobRequest
    timeline: tuple[Mapping[str, Any], ...]
    """Status changes: ``{"source", "status", "timestamp"}`` each, oldest first."""
    messages: tuple[Any, ...]
    errors: tuple[Any, ...]
    job_data: Mapping[str, Any]
    """Everything the server recorded about the job (JSON values), as the old dict held it."""

    @property
    def shots(self) -> int:
        """Shots requested per circuit."""
        return self.request.shots

    @property
    def circuits(self) -> tuple[SentCircuit, ...]:
        """The circuits of the job's batch, as sent."""
        return self.request.circuits

    @property
    def heralding_mode(self) -> str:
        """The heralding mode requested with the job."""
        return self.request.heralding_mode

    def __getattr__(self, name: str) -> Any:
        if name in REST_V1_ONLY:
            raise line_only_error(
                name,
                has_it="the REST v1 line (iqm-client 22.x)",
                instead="'timeline' (status changes with their times)",
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def server_api_metadata(
    recorded: Mapping[str, Any],
    *,
    job_id: str,
    circuit_index: int,
    status: str,
    api: str,
    qubit_mapping: Sequence[tuple[str, str]],
) -> ServerApiJobMetadata:
    """:class:`ServerApiJobMetadata` from the JSON the IQM Server API line records for a job
    (its job data, with the payload as ``request``)."""
    request = dict(recorded.get("request") or {})
    circuits = tuple(
        SentCircuit(
            name=str(circuit.get("name", "")),
            instructions=tuple(
                SentInstruction(
                    name=str(instruction["name"]),
                    locus=tuple(instruction.get("locus") or instruction.get("qubits") or ()),
                    args=dict(instruction.get("args") or {}),
                )
                for instruction in circuit.get("instructions", ())
            ),
        )
        for circuit in request.pop("circuits", ())
    )
    mapping = tuple(QubitMapping(*pair) for pair in qubit_mapping) or recorded_qubit_mapping(
        circuits[circuit_index].instructions if circuit_index < len(circuits) else ()
    )
    calibration = recorded.get("calibration_set_id") or request.pop("calibration_set_id", None)
    request.pop("calibration_set_id", None)
    ratio = request.pop("max_circuit_duration_over_t2", None)
    return ServerApiJobMetadata(
        job_id=job_id,
        circuit_index=circuit_index,
        status=status,
        api=api,
        calibration_set_id=None if calibration is None else UUID(str(calibration)),
        request=JobRequest(
            circuits=circuits,
            shots=int(request.pop("shots", 0)),
            calibration_set_id=None if calibration is None else UUID(str(calibration)),
            qubit_mapping=mapping,
            heralding_mode=str(request.pop("heralding_mode", "none")),
            max_circuit_duration_over_t2=None if ratio is None else float(ratio),
            options=request,
        ),
        timeline=tuple(recorded.get("timeline", ())),
        messages=tuple(recorded.get("messages", ())),
        errors=tuple(recorded.get("errors", ())),
        job_data={key: value for key, value in recorded.items() if key != "request"},
    )


def recorded_qubit_mapping(instructions: Sequence[SentInstruction]) -> tuple[QubitMapping, ...]:
    """The mapping read back from a circuit's instructions, for handles that do not carry it:
    each device qubit the circuit acts on (resonators keep their own name)."""
    seen: dict[str, str] = {}
    for instruction in instructions:
        for physical in instruction.locus:
            try:
                seen.setdefault(physical, str(node_for_qubit(physical)))
            except IQMDeviceError:
                seen.setdefault(physical, physical)
    return tuple(QubitMapping(logical, physical) for physical, logical in seen.items())


__all__ = [
    "REST_V1_ONLY",
    "SERVER_API_ONLY",
    "JobMetadata",
    "JobRequest",
    "LineOnlyAttributeError",
    "QubitMapping",
    "SentCircuit",
    "SentInstruction",
    "ServerApiJobMetadata",
    "line_only_error",
    "recorded_qubit_mapping",
    "server_api_metadata",
]
