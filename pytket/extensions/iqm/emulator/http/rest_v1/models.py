"""HTTP bodies of the REST v1 line (iqm-client 22.x, IQM CoCoS V1), as the emulator's own models.

The emulator does not import iqm-client: it runs the same whichever iqm-client is installed, or
none. The job and architecture models here accept and produce exactly the JSON of iqm-client
22.16's models of the same names (field names, order, defaults and the checks the server relies
on); ``tests/emulator/test_models.py`` round-trips them through iqm-client 22 where it is
installed. The models of the IQM Server API (iqm-client 33+) are in
:mod:`pytket.extensions.iqm.emulator.http.server_api.models`; the enums and bodies both lines
share in :mod:`pytket.extensions.iqm.emulator.http.models`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictStr, ValidationInfo, field_validator

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
from pytket.extensions.iqm.emulator.jobs.status import Status

Locus = tuple[StrictStr, ...]
"""Names of the components (qubits, resonators) an operation acts on."""


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
            # A JSON true is not a number, although Python's bool is an int.
            is_bool = isinstance(arg_value, bool) and bool not in allowed[arg_name]
            if is_bool or not isinstance(arg_value, allowed[arg_name]):
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


class RunRequest(BaseModel):
    """Body of ``POST {device}/jobs`` (iqm-client 22.x ``RunRequest``)."""

    circuits: list[Circuit] = Field(...)
    custom_settings: dict[str, Any] | None = Field(None)
    calibration_set_id: UUID | None = Field(None)
    qubit_mapping: list[SingleQubitMapping] | None = Field(None)
    # strict: a JSON true is not one shot.
    shots: int = Field(..., gt=0, strict=True)
    max_circuit_duration_over_t2: float | None = Field(None)
    heralding_mode: HeraldingMode = Field(HeraldingMode.NONE)
    move_validation_mode: MoveGateValidationMode = Field(MoveGateValidationMode.STRICT)
    move_gate_frame_tracking_mode: MoveGateFrameTrackingMode = Field(MoveGateFrameTrackingMode.FULL)
    active_reset_cycles: int | None = Field(None, strict=True)
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
    simulation: list[SimulationReport] | None = Field(
        None, description="Emulator only: how each circuit was simulated, once the job is ready."
    )


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


class SubmitResponse(BaseModel):
    """Answer to ``POST jobs``."""

    id: UUID


class AbortResponse(BaseModel):
    """Answer to ``POST jobs/{id}/abort``."""

    message: str


__all__ = [
    "NATIVE_OPERATIONS",
    "AbortResponse",
    "CalibrationSet",
    "Circuit",
    "Counts",
    "DynamicQuantumArchitecture",
    "GateImplementationInfo",
    "GateInfo",
    "Instruction",
    "JobParameters",
    "Locus",
    "Metadata",
    "QualityMetricSet",
    "QuantumArchitecture",
    "QuantumArchitectureSpecification",
    "RunCounts",
    "RunRequest",
    "RunResult",
    "RunStatus",
    "StaticQuantumArchitecture",
    "SubmitResponse",
]
