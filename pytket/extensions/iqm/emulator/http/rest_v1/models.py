"""HTTP bodies of the emulator's iqm-client 22.x route set (IQM CoCoS V1), as its own models.

The emulator does not import iqm-client: it runs the same whichever iqm-client is installed, or
none. The job and architecture models here accept and produce exactly the JSON of iqm-client
22.16's models of the same names (field names, order, defaults and the checks the server relies
on); ``tests/emulator/test_models.py`` round-trips them through iqm-client 22 where it is
installed. The models of the IQM Server API (iqm-client 33+) are in :mod:`.models_server_api`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field, StrictStr, ValidationError, ValidationInfo, field_validator

Locus = tuple[StrictStr, ...]
"""Names of the components (qubits, resonators) an operation acts on."""


@dataclass(frozen=True)
class NativeOperation:
    """A native operation of the 22.x circuit format: its arity and arguments."""

    name: str
    arity: int
    """Number of locus components; ``0``: any number."""
    args_required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    """Required argument → accepted Python types (after JSON decoding)."""
    args_not_required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    """Optional argument → accepted Python types."""


NATIVE_OPERATIONS: dict[str, NativeOperation] = {
    op.name: op
    for op in (
        NativeOperation("barrier", 0),
        NativeOperation("delay", 0, {"duration": (float,)}),
        NativeOperation("measure", 0, {"key": (str,)}, {"feedback_key": (str,)}),
        NativeOperation("prx", 1, {"angle_t": (float, int), "phase_t": (float, int)}),
        NativeOperation(
            "cc_prx",
            1,
            {
                "angle_t": (float, int),
                "phase_t": (float, int),
                "feedback_key": (str,),
                "feedback_qubit": (str,),
            },
        ),
        NativeOperation("reset", 0),
        NativeOperation("cz", 2),
        NativeOperation("move", 2),
    )
}
"""The operations iqm-client 22.16 accepts, with its argument types (angles in turns)."""


class Status(str, Enum):
    """Status of a job on the 22.x API (the job store keeps these)."""

    RECEIVED = "received"
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    PENDING_COMPILATION = "pending compilation"
    PENDING_EXECUTION = "pending execution"
    COMPILED = "compiled"
    READY = "ready"
    FAILED = "failed"
    ABORTED = "aborted"
    PENDING_DELETION = "pending deletion"
    DELETION_FAILED = "deletion failed"
    DELETED = "deleted"


class HeraldingMode(str, Enum):
    """Heralding mode of a job."""

    NONE = "none"
    ZEROS = "zeros"


class MoveGateValidationMode(str, Enum):
    """MOVE gate validation mode of a job."""

    STRICT = "strict"
    ALLOW_PRX = "allow_prx"
    NONE = "none"


class MoveGateFrameTrackingMode(str, Enum):
    """MOVE gate frame tracking mode of a job (accepted, not simulated)."""

    FULL = "full"
    NO_DETUNING_CORRECTION = "no_detuning_correction"
    NONE = "none"


class DDMode(str, Enum):
    """Dynamical decoupling mode of a job (accepted, not simulated)."""

    DISABLED = "disabled"
    ENABLED = "enabled"


class DDStrategy(BaseModel):
    """A dynamical decoupling strategy (accepted and echoed, not simulated)."""

    merge_contiguous_waits: bool = Field(default=True)
    target_qubits: frozenset[str] | None = Field(default=None)
    skip_leading_wait: bool = Field(default=True)
    skip_trailing_wait: bool = Field(default=True)
    gate_sequences: list[tuple[int, str | list[tuple[float, float]], str]] = Field(
        default_factory=list
    )


class Instruction(BaseModel):
    """One native operation of a 22.x circuit: ``name``, ``qubits``, ``args`` (angles in turns).

    Checked like iqm-client 22.16 checks it. A wrongly typed argument raises :class:`TypeError`
    (not a validation error), as iqm-client does; the job router reports it as HTTP 422.
    """

    name: str = Field(examples=["measure"])
    implementation: StrictStr | None = Field(None)
    qubits: Locus = Field(examples=[("QB1",)])
    args: dict[str, Any] = Field(default_factory=dict, examples=[{"key": "m"}])

    @property
    def locus(self) -> tuple[str, ...]:
        """The components acted on, under the name the IQM Server API gives them."""
        return self.qubits

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str) -> str:
        if value not in NATIVE_OPERATIONS:
            names = ", ".join(NATIVE_OPERATIONS)
            raise ValueError(f'Unknown operation "{value}". Supported operations are "{names}"')
        return value

    @field_validator("implementation")
    @classmethod
    def _non_empty_implementation(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError(
                "Implementation of the instruction should be None, or a non-empty string"
            )
        return value

    @field_validator("qubits")
    @classmethod
    def _arity(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        name = info.data.get("name")
        if not name:
            raise ValueError(
                "Could not validate qubits because the name of the instruction did not pass "
                "validation"
            )
        arity = NATIVE_OPERATIONS[name].arity
        if 0 < arity != len(value):
            raise ValueError(
                f'The "{name}" operation acts on {arity} qubit(s), but {len(value)} were given: '
                f"{value}"
            )
        return value

    @field_validator("args")
    @classmethod
    def _arguments(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("name")
        if not name:
            raise ValueError(
                "Could not validate args because the name of the instruction did not pass "
                "validation"
            )
        operation = NATIVE_OPERATIONS[name]
        allowed = operation.args_required | operation.args_not_required
        given = set(value)
        if not set(operation.args_required) <= given:
            raise ValueError(
                f'The operation "{name}" requires {tuple(operation.args_required)} argument(s), '
                f"but {tuple(given)} were given"
            )
        if not given <= set(allowed):
            names = tuple(allowed) if allowed else "no"
            raise ValueError(
                f'The operation "{name}" allows {names} argument(s), but {tuple(given)} were given'
            )
        for arg_name, arg_value in value.items():
            if not isinstance(arg_value, allowed[arg_name]):
                raise TypeError(
                    f'The argument "{arg_name}" should be of one of the following supported '
                    f"types {allowed[arg_name]}, but ({type(arg_value)}) was given"
                )
        return value


class Circuit(BaseModel):
    """A 22.x circuit: a name and at least one instruction."""

    name: str = Field(..., examples=["test circuit"])
    instructions: tuple[Instruction, ...] = Field(...)
    metadata: dict[str, Any] | None = Field(None)

    @field_validator("name")
    @classmethod
    def _non_empty_name(cls, value: str) -> str:
        if not value:
            raise ValueError("A circuit should have a non-empty string for a name.")
        return value

    @field_validator("instructions")
    @classmethod
    def _some_instructions(cls, value: tuple[Instruction, ...]) -> tuple[Instruction, ...]:
        if not value:
            raise ValueError("Each circuit should have at least one instruction.")
        return value


class SingleQubitMapping(BaseModel):
    """One logical → physical qubit name pair."""

    logical_name: str = Field(..., examples=["alice"])
    physical_name: str = Field(..., examples=["QB1"])


class RunRequest(BaseModel):
    """Body of ``POST {device}/jobs`` (iqm-client 22.x ``RunRequest``)."""

    circuits: list[Circuit] = Field(...)
    custom_settings: dict[str, Any] | None = Field(None)
    calibration_set_id: UUID | None = Field(None)
    qubit_mapping: list[SingleQubitMapping] | None = Field(None)
    shots: int = Field(..., gt=0)
    max_circuit_duration_over_t2: float | None = Field(None)
    heralding_mode: HeraldingMode = Field(HeraldingMode.NONE)
    move_validation_mode: MoveGateValidationMode = Field(MoveGateValidationMode.STRICT)
    move_gate_frame_tracking_mode: MoveGateFrameTrackingMode = Field(MoveGateFrameTrackingMode.FULL)
    active_reset_cycles: int | None = Field(None)
    dd_mode: DDMode = Field(DDMode.DISABLED)
    dd_strategy: DDStrategy | None = Field(None)


class JobParameters(BaseModel):
    """Job parameters of a result's metadata (the emulator sends the request instead)."""

    shots: int = Field(...)
    max_circuit_duration_over_t2: float | None = Field(None)
    heralding_mode: HeraldingMode = Field(HeraldingMode.NONE)
    move_validation_mode: MoveGateValidationMode = Field(MoveGateValidationMode.STRICT)
    move_gate_frame_tracking_mode: MoveGateFrameTrackingMode = Field(MoveGateFrameTrackingMode.FULL)
    dd_mode: DDMode = Field(DDMode.DISABLED)
    dd_strategy: DDStrategy | None = Field(None)


class Metadata(BaseModel):
    """Metadata of a job result."""

    calibration_set_id: UUID | None = Field(None)
    request: RunRequest | None = Field(None)
    parameters: JobParameters | None = Field(None)
    circuits_batch: list[Circuit] | None = Field(None)
    cocos_version: str | None = Field(None)
    timestamps: dict[str, str] | None = Field(None)


class RunResult(BaseModel):
    """Answer to ``GET {device}/jobs/{id}``; ``measurements`` is present iff status is ready."""

    status: Status = Field(...)
    measurements: list[dict[str, list[list[int]]]] | None = Field(None)
    message: str | None = Field(None)
    metadata: Metadata = Field(...)
    warnings: list[str] | None = Field(None)


class RunStatus(BaseModel):
    """Answer to ``GET {device}/jobs/{id}/status``."""

    status: Status = Field(...)
    message: str | None = Field(None)
    warnings: list[str] | None = Field(None)


class Counts(BaseModel):
    """Histogram of one circuit's outcomes, bitstrings in ``measurement_keys`` order."""

    measurement_keys: list[str]
    counts: dict[str, int]


class RunCounts(BaseModel):
    """Answer to ``GET {device}/jobs/{id}/counts``."""

    status: Status = Field(...)
    counts_batch: list[Counts] | None = Field(None)


class ClientLibrary(BaseModel):
    """One entry of ``info/client-libraries``: compatible versions ``min <= v < max``."""

    name: str
    package_name: str | None = Field(None)
    repo_url: str | None = Field(None)
    package_url: str | None = Field(None)
    min: str
    max: str


class QuantumArchitectureSpecification(BaseModel):
    """The legacy quantum architecture."""

    name: str = Field(...)
    operations: dict[str, list[list[str]]] = Field(...)
    qubits: list[str] = Field(...)
    qubit_connectivity: list[list[str]] = Field(...)


class QuantumArchitecture(BaseModel):
    """Answer to ``GET {device}/quantum-architecture``."""

    quantum_architecture: QuantumArchitectureSpecification = Field(...)


class StaticQuantumArchitecture(BaseModel):
    """The chip's components and couplers (``GET {device}/api/v1/quantum-architecture``)."""

    qubits: list[str] = Field(...)
    computational_resonators: list[str] = Field(...)
    connectivity: list[Locus] = Field(...)


class QualityMetricSet(BaseModel):
    """Answer to ``GET {device}/calibration/metrics/{cal}``."""

    calibration_set_id: UUID | None = Field(...)
    calibration_set_dut_label: str = Field(...)
    calibration_set_number_of_observations: int = Field(...)
    calibration_set_created_timestamp: str = Field(...)
    calibration_set_end_timestamp: str = Field(...)
    calibration_set_is_invalid: bool = Field(...)
    quality_metric_set_id: UUID | None = Field(...)
    quality_metric_set_dut_label: str | None = Field(...)
    quality_metric_set_created_timestamp: str | None = Field(...)
    quality_metric_set_end_timestamp: str | None = Field(...)
    quality_metric_set_is_invalid: bool = Field(...)
    metrics: dict[str, dict[str, Any]] | None = Field(...)


class CalibrationSet(BaseModel):
    """Answer to ``GET {device}/api/v1/calibration/{cal}``."""

    calibration_set_id: UUID = Field(...)
    calibration_set_dut_label: str = Field(...)
    calibration_set_is_invalid: bool = Field(...)
    calibration_set_created_timestamp: str = Field(...)
    calibration_set_end_timestamp: str = Field(...)
    observations: dict[str, Any] = Field(...)


class GateImplementationInfo(BaseModel):
    """Loci on which one implementation of a gate is calibrated."""

    loci: tuple[Locus, ...] = Field(...)


class GateInfo(BaseModel):
    """A calibrated gate: its implementations and the default one."""

    implementations: dict[str, GateImplementationInfo] = Field(...)
    default_implementation: str = Field(...)
    override_default_implementation: dict[str, str] = Field(
        ..., description="Locus (components joined by ',') → implementation used there instead."
    )


class DynamicQuantumArchitecture(BaseModel):
    """Calibrated gates and loci of a calibration set (same JSON on both API lines)."""

    calibration_set_id: UUID = Field(...)
    qubits: list[str] = Field(...)
    computational_resonators: list[str] = Field(...)
    gates: dict[str, GateInfo] = Field(...)


class ErrorMessage(BaseModel):
    """Body of every error answer of the 22.x job API: what is wrong, in one message."""

    message: str = Field(
        ..., examples=["Cannot submit job with 200000 shots, the maximum is 100000"]
    )


class SubmitResponse(BaseModel):
    """Answer to ``POST jobs``."""

    id: UUID


class AbortResponse(BaseModel):
    """Answer to ``POST jobs/{id}/abort``."""

    message: str


class DeviceSummary(BaseModel):
    """One served device, as listed at the server root."""

    name: str
    display_name: str
    path: str = Field(..., description="URL path to give iqm-client 22.x after the server root")
    qubits: int
    computational_resonators: list[str]
    default_calibration_set_id: UUID
    calibration_set_ids: list[UUID]


class DeviceListing(BaseModel):
    """Answer to ``GET /``."""

    devices: list[DeviceSummary]
    auth: str = Field(..., description="'open', 'token' or 'users'")


class Health(BaseModel):
    """Answer to ``GET /health``."""

    status: str = "ok"


class About(BaseModel):
    """Answer to ``GET /about``."""

    name: str
    version: str
    api: str
    devices: list[str]


class TokenResponse(BaseModel):
    """Answer of the emulated auth server's token endpoint (Keycloak's shape)."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str
    session_state: str
    scope: str


class OAuthError(BaseModel):
    """Error answer of the emulated auth server (Keycloak's shape)."""

    error: str
    error_description: str


_Model = TypeVar("_Model", bound=BaseModel)


class RequestBodyError(Exception):
    """A request body the server refuses: ``status`` 400 (not JSON) or 422 (not the model)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_body(body: bytes, model: type[_Model], what: str) -> _Model:
    """The ``model`` in a JSON request body; ``what`` names it in messages ("run request").

    :raises RequestBodyError: 400 for malformed JSON; 422 for a body that is not a JSON object
        or not a valid ``model``, listing its problems (``location: message`` each).
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestBodyError(400, f"The request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise RequestBodyError(422, f"Invalid {what}: the body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise RequestBodyError(422, f"Invalid {what}: {problems}") from None
    except TypeError as error:
        # The Instruction validator raises TypeError for mistyped arguments, as iqm-client's.
        raise RequestBodyError(422, f"Invalid {what}: {error}") from None


__all__ = [
    "NATIVE_OPERATIONS",
    "AbortResponse",
    "About",
    "CalibrationSet",
    "Circuit",
    "ClientLibrary",
    "Counts",
    "DDMode",
    "DDStrategy",
    "DeviceListing",
    "DeviceSummary",
    "DynamicQuantumArchitecture",
    "ErrorMessage",
    "GateImplementationInfo",
    "GateInfo",
    "Health",
    "HeraldingMode",
    "Instruction",
    "JobParameters",
    "Locus",
    "Metadata",
    "MoveGateFrameTrackingMode",
    "MoveGateValidationMode",
    "NativeOperation",
    "OAuthError",
    "QualityMetricSet",
    "QuantumArchitecture",
    "QuantumArchitectureSpecification",
    "RequestBodyError",
    "RunCounts",
    "RunRequest",
    "RunResult",
    "RunStatus",
    "SingleQubitMapping",
    "StaticQuantumArchitecture",
    "Status",
    "SubmitResponse",
    "TokenResponse",
    "parse_body",
]
