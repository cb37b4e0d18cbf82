"""The devices the emulator serves: the catalogue, the device file format, noise models.

``catalogue`` loads and holds :class:`~.catalogue.Device` and its calibrations, ``data`` holds
the catalogue's JSON files, ``noise`` builds a simulation noise model from a calibration.

Imports none of the emulator's other layers (``http``, ``jobs``, ``simulation``).
"""
