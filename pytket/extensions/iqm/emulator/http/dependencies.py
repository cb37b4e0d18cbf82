"""What one running emulator server holds, and the FastAPI dependencies that reach it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException, Path, Request

from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.devices.catalogue import (
    Calibration,
    Device,
    UnknownCalibrationError,
)
from pytket.extensions.iqm.emulator.http.rest_v1 import payloads
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api
from pytket.extensions.iqm.emulator.http.tokens import AuthenticationError, BearerAuth, TokenIssuer
from pytket.extensions.iqm.emulator.jobs.store import (
    API_COCOS_V1,
    API_SERVER_V1,
    JobRecord,
    JobStore,
)
from pytket.extensions.iqm.emulator.jobs.worker import WorkerPool

TIMESLOT_SUFFIX = ":timeslot"
"""Suffix of the device path segment that asks for a reserved timeslot (served the same)."""


class PayloadCache:
    """Architecture and calibration payloads, computed once per device and calibration set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, UUID | None], Any] = {}

    def _get(self, key: tuple[str, str, UUID | None], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = make()
        with self._lock:
            return self._cache.setdefault(key, value)

    def dynamic_architecture(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration/{cal}/gates``."""
        key = ("dqa", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(key, lambda: payloads.dynamic_architecture(cal))
        return result

    def static_architecture(self, device: Device) -> dict[str, Any]:
        """``GET api/v1/quantum-architecture``."""
        result: dict[str, Any] = self._get(
            ("sqa", device.name, None), lambda: payloads.static_architecture(device)
        )
        return result

    def quantum_architecture(self, device: Device) -> dict[str, Any]:
        """``GET quantum-architecture``."""
        result: dict[str, Any] = self._get(
            ("qa", device.name, None), lambda: payloads.quantum_architecture(device)
        )
        return result

    def quality_metrics(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET calibration/metrics/{cal}``."""
        key = ("metrics", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(key, lambda: payloads.quality_metrics(device, cal))
        return result

    def calibration_set(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration/{cal}``."""
        key = ("calset", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(key, lambda: payloads.calibration_set(device, cal))
        return result

    def server_calibration_set(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration-sets/{qc}/{cal}`` (IQM Server API)."""
        key = ("server-calset", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(
            key, lambda: payloads_server_api.calibration_set(device, cal)
        )
        return result

    def server_quality_metrics(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration-sets/{qc}/{cal}/metrics`` (IQM Server API)."""
        key = ("server-metrics", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(
            key, lambda: payloads_server_api.quality_metric_set(device, cal)
        )
        return result

    def implementations(self, device: Device, cal: Calibration) -> Mapping[str, set[str]]:
        """Gate name → implementation names offered by the calibration's DQA."""
        gates = self.dynamic_architecture(device, cal).get("gates", {})
        return {name: set(info.get("implementations", {})) for name, info in gates.items()}


@dataclass
class EmulatorState:
    """Everything the routers of one server need."""

    config: EmulatorConfig
    devices: dict[str, Device]
    store: JobStore
    pool: WorkerPool
    auth: BearerAuth
    issuer: TokenIssuer | None
    payloads: PayloadCache
    stop: threading.Event

    @property
    def auth_mode(self) -> str:
        """``open``, ``token`` or ``users``."""
        if self.issuer is not None:
            return "users"
        return "token" if self.auth.required else "open"


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


def require_auth(request: Request, state: State) -> None:
    """Refuse the request with HTTP 401 unless its bearer token is acceptable."""
    try:
        state.auth.check(request.headers.get("authorization"))
    except AuthenticationError as error:
        raise HTTPException(
            401, f"Authentication failed: {error}", headers={"WWW-Authenticate": "Bearer"}
        ) from None


Authorized = Depends(require_auth)


def calibration_of(device: Device, calibration_set_id: str) -> Calibration:
    """The device's calibration ``default`` or by UUID, or HTTP 404."""
    try:
        return device.calibration(calibration_set_id)
    except UnknownCalibrationError as error:
        raise HTTPException(404, str(error)) from None


def job_of(state: EmulatorState, device: Device, job_id: str) -> JobRecord:
    """The device's job with this id submitted on the 22.x route set, or HTTP 404."""
    try:
        uuid = UUID(job_id)
    except ValueError:
        raise HTTPException(404, f"No job with id {job_id!r}: job ids are UUIDs.") from None
    job = state.store.get(uuid)
    if job is None or job.device != device.name or job.api != API_COCOS_V1:
        raise HTTPException(404, f"No job with id {job_id} on device {device.name!r}.")
    return job


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


def server_calibration_of(device: Device, calibration_set_id: str) -> Calibration:
    """The device's calibration ``default`` or by UUID, or HTTP 404 (IQM Server API shape)."""
    try:
        return device.calibration(calibration_set_id)
    except UnknownCalibrationError as error:
        raise ServerAPIError(404, str(error), "calibration_set_not_found") from None


def server_job_of(state: EmulatorState, job_id: str) -> JobRecord:
    """The job with this id submitted on the IQM Server API, or HTTP 404."""
    try:
        uuid = UUID(job_id)
    except ValueError:
        raise ServerAPIError(
            404, f"No job with id {job_id!r}: job ids are UUIDs.", "job_not_found"
        ) from None
    job = state.store.get(uuid)
    if job is None or job.api != API_SERVER_V1 or job.device not in state.devices:
        raise ServerAPIError(404, f"No job with id {job_id}.", "job_not_found")
    return job
