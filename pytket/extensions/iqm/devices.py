"""The emulator's device catalogue as the backend sees it, offline: a device's ``BackendInfo``
without a server, e.g. to compile with :meth:`~pytket.extensions.iqm.IQMBackend.pass_from_info`.

The info is built on the backend's own path (the device's dynamic architecture and quality
metrics as the emulator serves them, read by the same code as ``IQMBackend`` reads a server's),
so it is exactly what ``IQMBackend`` sees on the emulator for the same calibration set.

.. code-block:: python

    from pytket.extensions.iqm import IQMBackend
    from pytket.extensions.iqm.devices import backend_info

    compile_for_garnet = IQMBackend.pass_from_info(backend_info("garnet"))
"""

from __future__ import annotations

from uuid import UUID

from pytket.backends.backendinfo import BackendInfo

from pytket.extensions.iqm._metadata import __extension_version__
from pytket.extensions.iqm.backends.architecture import DynamicArchitecture, device_from_dqa
from pytket.extensions.iqm.emulator.devices import descriptions
from pytket.extensions.iqm.emulator.devices.catalogue import catalogue, get_device


def device_names() -> list[str]:
    """The names of the catalogue's devices (``adonis``, ``apollo``, ``deneb``, …), sorted."""
    return sorted(catalogue())


def backend_info(name: str, calibration_set_id: str | UUID | None = None) -> BackendInfo:
    """The ``BackendInfo`` an ``IQMBackend`` on the emulator's device ``name`` would have.

    :param name: a catalogue device (see :func:`device_names`), case-insensitive.
    :param calibration_set_id: one of the device's calibration sets (default: its default one).
    :raises ValueError: no device of that name (the message lists the catalogue), or the device
        has no such calibration set.
    """
    device = get_device(name)
    calibration = (
        device.default_calibration
        if calibration_set_id is None
        else device.calibration(calibration_set_id)
    )
    dqa = DynamicArchitecture.from_json(descriptions.dynamic_architecture(calibration))
    metrics = descriptions.quality_metrics(device, calibration)["metrics"]
    model = device_from_dqa(dqa, device_name=device.name, quality_metrics=metrics)
    return model.backend_info(name="IQMBackend", version=__extension_version__)


__all__ = ["backend_info", "device_names"]
