"""The REST v1 API line (iqm-client 22.x, IQM's on-premises REST API) at ``/{device}/...``.

``models`` are its request and response bodies, ``payloads`` build the architecture and
calibration bodies from a device, ``wire`` turns a ``RunRequest`` into a
:class:`~pytket.extensions.iqm.emulator.jobs.spec.JobSpec`, ``routes`` serve them.

May import the rest of :mod:`..` (the HTTP layer), jobs, devices and simulation; not
:mod:`..server_api`.
"""
