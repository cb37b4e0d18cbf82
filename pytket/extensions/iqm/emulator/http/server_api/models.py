"""HTTP bodies of the emulator's IQM Server API route set (``/api/v1``, iqm-client 33+).

The emulator's own models of the JSON that iqm-client 36.0 sends and reads
(``CircuitJobDefinition``, ``JobData``, ``IQMServerError``, the quantum-computer registry,
observation sets, ...); nothing here imports iqm-client. Circuits use ``locus`` and angles in
radians; ``qubit_mapping`` keeps the legacy list-of-pairs wire form (a ``{logical: physical}``
object is accepted too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Literal
from uuid import UUID

from fastapi import HTTPException
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    StrictStr,
    ValidationInfo,
    computed_field,
    field_validator,
)

from pytket.extensions.iqm.emulator.http.models import (
    DDMode,
    DDStrategy,
    HeraldingMode,
    MoveGateFrameTrackingMode,
    MoveGateValidationMode,
    NativeOperation,
    SimulationReport,
    SingleQubitMapping,
)

SOURCE = "iqm-server"
"""``source`` of the errors, messages and timeline entries the emulator's server writes."""
STATION_SOURCE = "iqm-station-control"
"""``source`` of the timeline entries of compilation and execution (done by the station)."""

NATIVE_OPERATIONS: dict[str, NativeOperation] = {
    op.name: op
    for op in (
        NativeOperation("barrier", 0),
        NativeOperation("delay", 0, {"duration": (float, int)}),
        NativeOperation("measure", 0, {"key": (str,)}, {"feedback_key": (str,)}),
        NativeOperation("prx", 1, {"angle": (float, int), "phase": (float, int)}),
        NativeOperation(
            "cc_prx",
            1,
            {
                "angle": (float, int),
                "phase": (float, int),
                "feedback_key": (str,),
                "feedback_qubit": (str,),
            },
        ),
        NativeOperation("reset", 0),
        NativeOperation("cz", 2),
        NativeOperation("move", 2),
    )
}
"""The native operations the emulator runs on this line, with argument types (radians)."""


class ServerError(BaseModel):
    """Body of every error answer of the IQM Server API (iqm-client's ``IQMServerError``)."""

    message: str = Field(..., examples=["Quantum computer 'foo' not found."])
    error_code: str | None = Field(None, examples=["not_found"])
    source: str = Field(SOURCE)


class QuantumComputer(BaseModel):
    """One served device in the registry; ``alias`` is the device name."""

    id: UUID
    alias: str
    display_name: str
    proxy_path: str | None = Field(
        None, description="Always null: the emulator has no station-control proxy."
    )


class QuantumComputerList(BaseModel):
    """Answer to ``GET /api/v1/quantum-computers``."""

    quantum_computers: list[QuantumComputer]


class CircuitOperation(BaseModel):
    """One native operation of a circuit: ``name``, ``locus``, ``args`` (angles in radians)."""

    name: str = Field(examples=["prx"])
    locus: tuple[StrictStr, ...] = Field(examples=[("QB1",)])
    args: dict[str, Any] = Field(default_factory=dict, examples=[{"angle": 3.14, "phase": 0.0}])
    implementation: StrictStr | None = Field(None)

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str) -> str:
        if value not in NATIVE_OPERATIONS:
            raise ValueError(
                f"Unknown operation {value!r}; the emulator runs {', '.join(NATIVE_OPERATIONS)}."
            )
        return value

    @field_validator("locus")
    @classmethod
    def _arity(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        name = info.data.get("name")
        if name is None:
            return value  # the name's own error is reported
        arity = NATIVE_OPERATIONS[name].arity
        if 0 < arity != len(value):
            raise ValueError(
                f"{name} acts on {arity} component(s), but the locus has {len(value)}: "
                f"{list(value)}."
            )
        if not value:
            raise ValueError(f"{name} needs at least one component in its locus.")
        return value

    @field_validator("args")
    @classmethod
    def _arguments(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        if name is None:
            return value
        operation = NATIVE_OPERATIONS[name]
        allowed = operation.args_required | operation.args_not_required
        missing = [arg for arg in operation.args_required if arg not in value]
        if missing:
            raise ValueError(f"{name} needs the argument(s) {', '.join(missing)}.")
        unknown = [arg for arg in value if arg not in allowed]
        if unknown:
            accepted = ", ".join(allowed) or "none"
            raise ValueError(
                f"{name} does not take the argument(s) {', '.join(unknown)}; it takes: {accepted}."
            )
        for arg, arg_value in value.items():
            types = allowed[arg]
            if isinstance(arg_value, bool) or not isinstance(arg_value, types):
                wanted = " or ".join(t.__name__ for t in types)
                raise ValueError(
                    f"{name} argument {arg!r} must be a {wanted}, not {type(arg_value).__name__}."
                )
        return value


class ServerCircuit(BaseModel):
    """A circuit of the IQM Server API (iqm-pulse ``Circuit``)."""

    name: str = Field(..., examples=["bell"])
    instructions: tuple[CircuitOperation, ...] = Field(...)
    metadata: dict[str, Any] | None = Field(None)

    @field_validator("name")
    @classmethod
    def _non_empty_name(cls, value: str) -> str:
        if not value:
            raise ValueError("A circuit needs a non-empty name.")
        return value

    @field_validator("instructions")
    @classmethod
    def _some_instructions(
        cls, value: tuple[CircuitOperation, ...]
    ) -> tuple[CircuitOperation, ...]:
        if not value:
            raise ValueError("A circuit needs at least one instruction.")
        return value


class CircuitJobDefinition(BaseModel):
    """Body of ``POST /api/v1/jobs/{qc}/circuit`` (iqm-client 36 ``CircuitJobDefinition``).

    ``move_validation_mode`` and ``move_gate_frame_tracking_mode`` are accepted as aliases of
    ``move_gate_validation`` and ``move_gate_frame_tracking`` and written back as copies, as
    IQM's model does.
    """

    circuits: list[ServerCircuit] = Field(...)
    calibration_set_id: UUID | None = Field(None)
    qubit_mapping: list[SingleQubitMapping] | None = Field(None)
    # strict: a JSON true is not one shot.
    shots: int = Field(1, gt=0, strict=True)
    max_circuit_duration_over_t2: float | None = Field(None)
    heralding_mode: HeraldingMode = Field(HeraldingMode.NONE)
    move_gate_validation: MoveGateValidationMode = Field(
        MoveGateValidationMode.STRICT,
        validation_alias=AliasChoices("move_gate_validation", "move_validation_mode"),
    )
    move_gate_frame_tracking: MoveGateFrameTrackingMode = Field(
        MoveGateFrameTrackingMode.FULL,
        validation_alias=AliasChoices("move_gate_frame_tracking", "move_gate_frame_tracking_mode"),
    )
    active_reset_cycles: int | None = Field(None, strict=True)
    dd_mode: DDMode = Field(DDMode.DISABLED)
    dd_strategy: DDStrategy | None = Field(None)

    @field_validator("circuits", mode="before")
    @classmethod
    def _no_qir(cls, value: Any) -> Any:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    raise ValueError(
                        f"circuit {index} is a QIR program; the emulator runs only circuits of "
                        "native operations."
                    )
        return value

    @field_validator("qubit_mapping", mode="before")
    @classmethod
    def _mapping_object(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [{"logical_name": k, "physical_name": v} for k, v in value.items()]
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def move_validation_mode(self) -> MoveGateValidationMode:
        """Deprecated copy of :attr:`move_gate_validation`."""
        return self.move_gate_validation

    @computed_field  # type: ignore[prop-decorator]
    @property
    def move_gate_frame_tracking_mode(self) -> MoveGateFrameTrackingMode:
        """Deprecated copy of :attr:`move_gate_frame_tracking`."""
        return self.move_gate_frame_tracking


class JobStatus(str, Enum):
    """Status of a job on the IQM Server API."""

    WAITING = "waiting"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ProgressInfo(BaseModel):
    """Progress of one task."""

    value: int
    max_value: int


class JobExecution(BaseModel):
    """Execution progress of a job, by label."""

    progress: dict[str, ProgressInfo]


class JobCompilation(BaseModel):
    """Compilation information of a job."""

    calibration_set_id: UUID | None = None


class JobMessage(BaseModel):
    """An informational message about a job."""

    source: str
    message: str


class TimelineEntry(BaseModel):
    """A step a job reached, with when and where."""

    source: str
    status: str
    timestamp: datetime


class JobArtifactInfo(BaseModel):
    """An artifact of a job available now (``measurements``, ``measurement_counts``)."""

    type: str


class JobData(BaseModel):
    """Answer to ``GET /api/v1/jobs/{id}`` and to a submission (iqm-client 36 ``JobData``)."""

    id: UUID
    type: Literal["circuit"] = "circuit"
    status: JobStatus
    execution: JobExecution | None = None
    compilation: JobCompilation | None = None
    messages: list[JobMessage] = Field(default_factory=list)
    errors: list[ServerError] = Field(default_factory=list)
    queue_position: int | None = Field(
        None, description="Jobs ahead of this one while it is waiting, else null."
    )
    timeline: list[TimelineEntry] = Field(default_factory=list)
    artifacts: list[JobArtifactInfo] = Field(default_factory=list)
    simulation: list[SimulationReport] | None = Field(
        None,
        description="Emulator only (iqm-client ignores it): how each circuit was simulated, "
        "once the job is completed.",
    )


class CircuitMeasurementCounts(BaseModel):
    """Histogram of one circuit's outcomes, bitstrings in ``measurement_keys`` order."""

    measurement_keys: list[str]
    counts: dict[str, int]


class Observation(BaseModel):
    """One observation of an observation set (iqm-client 36 ``ObservationData``)."""

    dut_field: str = Field(..., examples=["characterization.model.QB1.t1_time"])
    value: float
    unit: str
    uncertainty: float | None = None
    invalid: bool = False
    observation_id: int
    created_timestamp: datetime
    modified_timestamp: datetime
    dut_label: str
    source: dict[str, Any]
    tags: list[str] = Field(default_factory=list)
    observation_set_ids: list[UUID] = Field(default_factory=list)


class ObservationSet(BaseModel):
    """A calibration set or quality metric set with its observations."""

    observation_set_type: Literal["calibration-set", "quality-metric-set"]
    describes_id: UUID | None = None
    invalid: bool = False
    dut_label: str | None
    observation_set_id: UUID
    created_timestamp: datetime
    end_timestamp: datetime | None
    observations: list[Observation]
    observation_ids: list[int]


class ServerStaticQuantumArchitecture(BaseModel):
    """One item of ``GET …/artifacts/static-quantum-architectures``."""

    dut_label: str
    qubits: list[str]
    computational_resonators: list[str]
    connectivity: list[tuple[str, ...]]


class ServerHealth(BaseModel):
    """Answer to ``GET /api/v1/quantum-computers/{qc}/health``."""

    status: str = "healthy"
    quantum_computer: str


class ServerAbout(BaseModel):
    """Answer to ``GET /api/v1/about``."""

    name: str
    version: str
    api: str
    quantum_computers: list[str]


class StationAbout(BaseModel):
    """Answer to ``GET /api/v1/quantum-computers/{qc}/artifacts/about``."""

    version: str
    software_versions: dict[str, str]


__all__ = [
    "NATIVE_OPERATIONS",
    "SOURCE",
    "STATION_SOURCE",
    "CircuitJobDefinition",
    "CircuitMeasurementCounts",
    "CircuitOperation",
    "JobArtifactInfo",
    "JobCompilation",
    "JobData",
    "JobExecution",
    "JobMessage",
    "JobStatus",
    "Observation",
    "ObservationSet",
    "ProgressInfo",
    "QuantumComputer",
    "QuantumComputerList",
    "ServerAPIError",
    "ServerAbout",
    "ServerCircuit",
    "ServerError",
    "ServerHealth",
    "ServerStaticQuantumArchitecture",
    "StationAbout",
    "TimelineEntry",
]


class ServerAPIError(HTTPException):
    """An error answer of the IQM Server API: ``{"message", "error_code", "source"}``.

    :param status_code: the HTTP status (iqm-client maps it to its error type: 400
        ``InvalidOperationError``, 401 ``AuthenticationError``, 404 ``NotFoundError``, 422
        ``ValidationError``, ...).
    :param message: what is wrong and what to change.
    :param error_code: machine-readable code; ``None`` takes the status's default.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, message, dict(headers) if headers else None)
        self.error_code = error_code
