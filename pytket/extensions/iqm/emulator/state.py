"""What one running emulator server holds, and the FastAPI dependencies that reach it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException, Path, Request

from pytket.extensions.iqm.emulator import payloads
from pytket.extensions.iqm.emulator.auth import AuthenticationError, BearerAuth, TokenIssuer
from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.devices import (
    Calibration,
    Device,
    UnknownCalibrationError,
)
from pytket.extensions.iqm.emulator.store import JobRecord, JobStore
from pytket.extensions.iqm.emulator.worker import WorkerPool

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
    """The device's job with this id, or HTTP 404."""
    try:
        uuid = UUID(job_id)
    except ValueError:
        raise HTTPException(404, f"No job with id {job_id!r}: job ids are UUIDs.") from None
    job = state.store.get(uuid)
    if job is None or job.device != device.name:
        raise HTTPException(404, f"No job with id {job_id} on device {device.name!r}.")
    return job
