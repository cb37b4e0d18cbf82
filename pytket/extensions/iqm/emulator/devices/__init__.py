"""The devices the emulator serves: the catalogue, the device file format, noise models.

``device`` defines :class:`~.device.Device` and its :class:`~.device.Calibration` sets,
``file_format`` the JSON device file (pydantic models and the reader that turns a file into a
``Device``), ``catalogue`` the packaged devices (``data/``, one JSON file each) and
:func:`~.catalogue.load_device_file`, ``descriptions`` a device's architecture, quality metrics
and calibration set in IQM's JSON shapes (served over HTTP, read offline by
``pytket.extensions.iqm.devices``), ``noise`` the simulation noise model built from a
calibration.

Imports none of the emulator's other layers (``http``, ``jobs``, ``simulation``).
"""
