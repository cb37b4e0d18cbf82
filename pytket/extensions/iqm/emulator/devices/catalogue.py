"""The emulator's device catalogue: the packaged IQM-like devices, and device files.

Devices ship as JSON package data in ``data/`` (one file per device; the schema is documented in
``docs/emulator_devices.rst``) and users may load their own file with :func:`load_device_file`.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from pytket.extensions.iqm.emulator.devices.device import (
    Calibration,
    Device,
    UnknownCalibrationError,
    component_sort_key,
)
from pytket.extensions.iqm.emulator.devices.file_format import (
    GATE_NAMES,
    SCHEMA_VERSION,
    InvalidDeviceFileError,
    parse_device_text,
)


class UnknownDeviceError(ValueError):
    """No device of that name is in the catalogue."""


def load_device_file(path: str | Path) -> Device:
    """Read a device from a JSON file in the schema of the packaged device files.

    :param path: the file to read.
    :return: the device, its first calibration set being the default.
    :raises InvalidDeviceFileError: (a ``ValueError``) if the file is not valid JSON or breaks the
        schema; the message names the file and the offending field.
    :raises OSError: if the file cannot be read.
    """
    path = Path(path)
    return parse_device_text(path.read_text(encoding="utf-8"), repr(str(path)))


@functools.cache
def _packaged_devices() -> tuple[Device, ...]:
    data_dir = resources.files(__package__) / "data"
    devices = []
    for entry in sorted(data_dir.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            device = parse_device_text(entry.read_text(encoding="utf-8"), f"(package) {entry.name}")
            devices.append(device)
    return tuple(devices)


def catalogue() -> dict[str, Device]:
    """The packaged devices by name (``adonis``, ``apollo``, ``deneb``, ``emerald``, ``garnet``).

    The files are read once; each call returns a new dict of the same :class:`Device` objects.
    """
    return {device.name: device for device in _packaged_devices()}


def get_device(name: str) -> Device:
    """The packaged device called ``name`` (case-insensitive).

    :raises UnknownDeviceError: if no packaged device has that name; the message lists them.
    """
    devices = catalogue()
    device = devices.get(name.lower()) if isinstance(name, str) else None
    if device is None:
        raise UnknownDeviceError(
            f"Unknown device {name!r}; known devices: {', '.join(sorted(devices))}."
        )
    return device


__all__ = [
    "GATE_NAMES",
    "SCHEMA_VERSION",
    "Calibration",
    "Device",
    "InvalidDeviceFileError",
    "UnknownCalibrationError",
    "UnknownDeviceError",
    "catalogue",
    "component_sort_key",
    "get_device",
    "load_device_file",
]
