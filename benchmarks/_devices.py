"""The BackendInfo the backend would build for an emulator device, without a server.

It goes through the backend's own path (catalogue → REST payloads → ``DynamicArchitecture`` →
``device_from_dqa``), so benchmarks compile for exactly what ``IQMBackend`` would see.
"""

from __future__ import annotations

from pytket.backends.backendinfo import BackendInfo

from pytket.extensions.iqm.backends.architecture import DynamicArchitecture, device_from_dqa
from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.http.rest_v1 import payloads


def device_info(name: str) -> BackendInfo:
    """The ``BackendInfo`` the backend would build for the emulator's device ``name``."""
    device = get_device(name)
    calibration = device.default_calibration
    dqa = DynamicArchitecture.from_json(payloads.dynamic_architecture(calibration))
    metrics = payloads.quality_metrics(device, calibration)["metrics"]
    model = device_from_dqa(dqa, device_name=name, quality_metrics=metrics)
    return model.backend_info(name="IQMBackend", version="benchmark")
