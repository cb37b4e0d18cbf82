"""Architecture and calibration endpoints of each device."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pytket.extensions.iqm.emulator.http.dependencies import (
    Authorized,
    ServedDevice,
    State,
    rest_v1_calibration_of,
)
from pytket.extensions.iqm.emulator.http.models import ErrorMessage
from pytket.extensions.iqm.emulator.http.rest_v1.models import (
    CalibrationSet,
    DynamicQuantumArchitecture,
    QualityMetricSet,
    QuantumArchitecture,
    StaticQuantumArchitecture,
)

router = APIRouter(
    prefix="/{device}",
    tags=["architecture"],
    dependencies=[Authorized],
    responses={401: {"model": ErrorMessage}, 404: {"model": ErrorMessage}},
)


@router.get(
    "/api/v1/calibration/{calibration_set_id}/gates",
    responses={200: {"model": DynamicQuantumArchitecture}},
)
def dynamic_quantum_architecture(
    state: State, device: ServedDevice, calibration_set_id: str
) -> JSONResponse:
    """Dynamic quantum architecture (calibrated gates and loci) of a calibration set."""
    return JSONResponse(
        state.payloads.dynamic_architecture(
            device, rest_v1_calibration_of(device, calibration_set_id)
        )
    )


@router.get("/api/v1/quantum-architecture", responses={200: {"model": StaticQuantumArchitecture}})
def static_quantum_architecture(state: State, device: ServedDevice) -> JSONResponse:
    """Static quantum architecture: the chip's qubits, resonators and couplers."""
    return JSONResponse(state.payloads.static_architecture(device))


@router.get("/quantum-architecture", responses={200: {"model": QuantumArchitecture}})
def quantum_architecture(state: State, device: ServedDevice) -> JSONResponse:
    """Legacy quantum architecture (default calibration's operations and loci)."""
    return JSONResponse(state.payloads.quantum_architecture(device))


@router.get(
    "/calibration/metrics/{calibration_set_id}", responses={200: {"model": QualityMetricSet}}
)
def quality_metrics(state: State, device: ServedDevice, calibration_set_id: str) -> JSONResponse:
    """Quality metrics (T1, T2, fidelities, readout errors) of a calibration set."""
    return JSONResponse(
        state.payloads.quality_metrics(device, rest_v1_calibration_of(device, calibration_set_id))
    )


@router.get("/api/v1/calibration/{calibration_set_id}", responses={200: {"model": CalibrationSet}})
def calibration_set(state: State, device: ServedDevice, calibration_set_id: str) -> JSONResponse:
    """Calibration set observations."""
    return JSONResponse(
        state.payloads.calibration_set(device, rest_v1_calibration_of(device, calibration_set_id))
    )
