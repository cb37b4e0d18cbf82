"""The FastAPI dependencies of the routes: the server state, served device, auth, jobs by id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Path, Request

from pytket.extensions.iqm.emulator.devices.device import (
    Calibration,
    Device,
    UnknownCalibrationError,
)
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api
from pytket.extensions.iqm.emulator.http.server_api.models import ServerAPIError
from pytket.extensions.iqm.emulator.http.server_state import EmulatorState
from pytket.extensions.iqm.emulator.http.tokens import AuthenticationError
from pytket.extensions.iqm.emulator.jobs.store import (
    API_REST_V1,
    API_SERVER_API,
    JobRecord,
)

TIMESLOT_SUFFIX = ":timeslot"
"""Suffix of the device path segment that asks for a reserved timeslot (served the same)."""


def get_state(request: Request) -> EmulatorState:
    """The state of the server handling ``request``."""
    state: EmulatorState = request.app.state.emulator
    return state


State = Annotated[EmulatorState, Depends(get_state)]


def device_name(segment: str) -> str:
    """The device name of a URL path segment (``garnet`` or ``garnet:timeslot``)."""
    return segment.removesuffix(TIMESLOT_SUFFIX)


def served_device(
    state: State,
    device: Annotated[str, Path(description="Device name, optionally with ':timeslot'")],
) -> Device:
    """The device named by the path, or HTTP 404."""
    found = state.devices.get(device_name(device))
    if found is None:
        raise HTTPException(
            404,
            f"Unknown device {device_name(device)!r}; this emulator serves: "
            f"{', '.join(state.devices)}.",
        )
    return found


ServedDevice = Annotated[Device, Depends(served_device)]


def require_auth(request: Request, state: State) -> str:
    """Who is asking (the job owner they are); HTTP 401 unless the bearer token is
    acceptable."""
    try:
        return state.auth.check(request.headers.get("authorization"))
    except AuthenticationError as error:
        raise HTTPException(
            401, f"Authentication failed: {error}", headers={"WWW-Authenticate": "Bearer"}
        ) from None


Authorized = Depends(require_auth)

Owner = Annotated[str, Depends(require_auth)]
"""The caller as a job owner (FastAPI runs :func:`require_auth` once per request)."""


def rest_v1_calibration_of(device: Device, calibration_set_id: str) -> Calibration:
    """The device's calibration ``default`` or by UUID, or HTTP 404."""
    try:
        return device.calibration(calibration_set_id)
    except UnknownCalibrationError as error:
        raise HTTPException(404, str(error)) from None


def rest_v1_job_of(state: EmulatorState, device: Device, job_id: str, owner: str) -> JobRecord:
    """The device's job with this id submitted on the REST v1 line by ``owner``, or HTTP 404
    (another owner's job is answered exactly as an unknown one)."""
    try:
        uuid = UUID(job_id)
    except ValueError:
        raise HTTPException(404, f"No job with id {job_id!r}: job ids are UUIDs.") from None
    job = state.store.get(uuid)
    if job is None or job.device != device.name or job.api != API_REST_V1 or job.owner != owner:
        raise HTTPException(404, f"No job with id {job_id} on device {device.name!r}.")
    return job


SERVER_API_PREFIX = "/api/v1"
"""Path prefix of the IQM Server API route set (at the server root)."""


def served_quantum_computer(
    state: State,
    qc: Annotated[str, Path(description="Quantum computer alias (device name) or id")],
) -> Device:
    """The device named (or identified) by the path's quantum computer, or HTTP 404."""
    found = state.devices.get(qc)
    if found is None:
        found = next(
            (
                d
                for d in state.devices.values()
                if str(payloads_server_api.quantum_computer_id(d)) == qc
            ),
            None,
        )
    if found is None:
        raise ServerAPIError(
            404,
            f"Quantum computer {qc!r} not found; this emulator serves: {', '.join(state.devices)}.",
            "quantum_computer_not_found",
        )
    return found


ServedQuantumComputer = Annotated[Device, Depends(served_quantum_computer)]


def server_api_calibration_of(device: Device, calibration_set_id: str) -> Calibration:
    """The device's calibration ``default`` or by UUID, or HTTP 404 (IQM Server API shape)."""
    try:
        return device.calibration(calibration_set_id)
    except UnknownCalibrationError as error:
        raise ServerAPIError(404, str(error), "calibration_set_not_found") from None


def server_api_job_of(state: EmulatorState, job_id: str, owner: str) -> JobRecord:
    """The job with this id submitted on the IQM Server API by ``owner``, or HTTP 404 (another
    owner's job is answered exactly as an unknown one)."""
    try:
        uuid = UUID(job_id)
    except ValueError:
        raise ServerAPIError(
            404, f"No job with id {job_id!r}: job ids are UUIDs.", "job_not_found"
        ) from None
    job = state.store.get(uuid)
    if (
        job is None
        or job.api != API_SERVER_API
        or job.device not in state.devices
        or job.owner != owner
    ):
        raise ServerAPIError(404, f"No job with id {job_id}.", "job_not_found")
    return job
