"""What one running emulator server holds (:class:`EmulatorState`), with its payload cache."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.devices import descriptions
from pytket.extensions.iqm.emulator.devices.device import Calibration, Device
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api
from pytket.extensions.iqm.emulator.http.tokens import BearerAuth, TokenIssuer
from pytket.extensions.iqm.emulator.jobs.store import JobStore
from pytket.extensions.iqm.emulator.jobs.worker import WorkerPool


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
        result: dict[str, Any] = self._get(key, lambda: descriptions.dynamic_architecture(cal))
        return result

    def static_architecture(self, device: Device) -> dict[str, Any]:
        """``GET api/v1/quantum-architecture``."""
        result: dict[str, Any] = self._get(
            ("sqa", device.name, None), lambda: descriptions.static_architecture(device)
        )
        return result

    def quantum_architecture(self, device: Device) -> dict[str, Any]:
        """``GET quantum-architecture``."""
        result: dict[str, Any] = self._get(
            ("qa", device.name, None), lambda: descriptions.quantum_architecture(device)
        )
        return result

    def quality_metrics(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET calibration/metrics/{cal}``."""
        key = ("metrics", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(key, lambda: descriptions.quality_metrics(device, cal))
        return result

    def calibration_set(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration/{cal}``."""
        key = ("calset", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(key, lambda: descriptions.calibration_set(device, cal))
        return result

    def server_api_calibration_set(self, device: Device, cal: Calibration) -> dict[str, Any]:
        """``GET api/v1/calibration-sets/{qc}/{cal}`` (IQM Server API)."""
        key = ("server-calset", device.name, cal.calibration_set_id)
        result: dict[str, Any] = self._get(
            key, lambda: payloads_server_api.calibration_set(device, cal)
        )
        return result

    def server_api_quality_metrics(self, device: Device, cal: Calibration) -> dict[str, Any]:
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
