"""IQM Server API: the quantum-computer registry, architectures, calibration sets, health, about.

Everything iqm-client 36 reads before and besides running jobs, under ``/api/v1`` at the server
root. ``about`` and ``health`` answer without authentication (as ``/about`` and ``/health`` do).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from pytket.extensions.iqm._metadata import __version__
from pytket.extensions.iqm.emulator.http.dependencies import (
    SERVER_API_PREFIX,
    Authorized,
    ServedQuantumComputer,
    State,
    server_api_calibration_of,
)
from pytket.extensions.iqm.emulator.http.rest_v1.models import DynamicQuantumArchitecture
from pytket.extensions.iqm.emulator.http.server_api import chip
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api
from pytket.extensions.iqm.emulator.http.server_api.models import (
    ObservationSet,
    QuantumComputerList,
    ServerAbout,
    ServerAPIError,
    ServerError,
    ServerHealth,
    ServerStaticQuantumArchitecture,
    StationAbout,
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ServerError},
    404: {"model": ServerError},
}

router = APIRouter(prefix=SERVER_API_PREFIX, tags=["IQM Server API: catalogue"])


@router.get("/about", response_model=ServerAbout)
def about(state: State) -> ServerAbout:
    """What this server is and which quantum computers it serves."""
    return ServerAbout(
        name="pytket-iqm emulator",
        version=__version__,
        api="IQM Server API v1 (the REST API of iqm-client 33 and later)",
        quantum_computers=list(state.devices),
    )


@router.get(
    "/quantum-computers",
    response_model=QuantumComputerList,
    dependencies=[Authorized],
    responses=_ERRORS,
)
def quantum_computers(state: State) -> JSONResponse:
    """Every served device: ``alias`` is the device name, ``id`` a UUID stable across runs."""
    return JSONResponse(
        {
            "quantum_computers": [
                payloads_server_api.quantum_computer(device) for device in state.devices.values()
            ]
        }
    )


@router.get("/quantum-computers/{qc}/health", response_model=ServerHealth, responses=_ERRORS)
def health(device: ServedQuantumComputer) -> ServerHealth:
    """Liveness of one quantum computer (always healthy while the server runs)."""
    return ServerHealth(quantum_computer=device.name)


@router.get(
    "/quantum-computers/{qc}/artifacts/about",
    response_model=StationAbout,
    dependencies=[Authorized],
    responses=_ERRORS,
)
def station_about(device: ServedQuantumComputer) -> StationAbout:
    """Software versions of the quantum computer's station."""
    return StationAbout(
        version=__version__,
        software_versions={"iqm-emulator": __version__, "pytket-iqm": __version__},
    )


@router.get(
    "/quantum-computers/{qc}/artifacts/static-quantum-architectures",
    dependencies=[Authorized],
    responses={200: {"model": list[ServerStaticQuantumArchitecture]}, **_ERRORS},
)
def static_quantum_architectures(device: ServedQuantumComputer) -> JSONResponse:
    """The chip's qubits, resonators and couplers, as a list of one architecture."""
    return JSONResponse(payloads_server_api.static_architectures(device))


@router.get(
    "/calibration-sets/{qc}/{calibration_set_id}/dynamic-quantum-architecture",
    dependencies=[Authorized],
    responses={200: {"model": DynamicQuantumArchitecture}, **_ERRORS},
)
def dynamic_quantum_architecture(
    state: State, device: ServedQuantumComputer, calibration_set_id: str
) -> JSONResponse:
    """Calibrated gates and loci of a calibration set (``default`` or its UUID)."""
    cal = server_api_calibration_of(device, calibration_set_id)
    return JSONResponse(state.payloads.dynamic_architecture(device, cal))


@router.get(
    "/calibration-sets/{qc}/{calibration_set_id}/metrics",
    dependencies=[Authorized],
    responses={200: {"model": ObservationSet}, **_ERRORS},
)
def quality_metrics(
    state: State, device: ServedQuantumComputer, calibration_set_id: str
) -> JSONResponse:
    """The quality metric set of a calibration set: T1, T2, fidelities, readout errors."""
    cal = server_api_calibration_of(device, calibration_set_id)
    return JSONResponse(state.payloads.server_api_quality_metrics(device, cal))


@router.get(
    "/calibration-sets/{qc}/{calibration_set_id}",
    dependencies=[Authorized],
    responses={200: {"model": ObservationSet}, **_ERRORS},
)
def calibration_set(
    state: State, device: ServedQuantumComputer, calibration_set_id: str
) -> JSONResponse:
    """A calibration set's observations (the gate durations it fixes)."""
    cal = server_api_calibration_of(device, calibration_set_id)
    return JSONResponse(state.payloads.server_api_calibration_set(device, cal))


@router.get(
    "/quantum-computers/{qc}/artifacts/chip-design-records",
    dependencies=[Authorized],
    responses=_ERRORS,
)
def chip_design_records(device: ServedQuantumComputer) -> JSONResponse:
    """The chip's design record (chip label, components and couplings), as a list of one."""
    return JSONResponse(chip.chip_design_records(device))


@router.get(
    "/quantum-computers/{qc}/artifacts/channel-properties",
    dependencies=[Authorized],
    responses={
        200: {"content": {"application/protobuf": {}}, "description": "ChannelPropertyDictionary"},
        **_ERRORS,
    },
)
def channel_properties(device: ServedQuantumComputer) -> Response:
    """The control channels' properties (protobuf), which give the feedback groups."""
    return Response(chip.channel_properties(device), media_type="application/protobuf")


@router.get(
    "/quantum-computers/{qc}/artifacts/settings",
    dependencies=[Authorized],
    responses={501: {"model": ServerError}, **_ERRORS},
)
def settings(device: ServedQuantumComputer) -> Response:
    """Not emulated: the station's settings tree serves pulse-level compilation."""
    raise ServerAPIError(
        501,
        f"The settings of {device.name!r} (the station's settings tree for pulse-level "
        "compilation) are not emulated: the emulator runs circuits, not pulse schedules. Submit "
        "circuit jobs, which need no settings.",
        "not_implemented",
    )
