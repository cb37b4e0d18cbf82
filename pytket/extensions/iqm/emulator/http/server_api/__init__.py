"""The IQM Server API line (iqm-client 36.x, IQM Resonance) at ``/api/v1/...``.

``models`` are its request and response bodies, ``payloads`` build its catalogue and job
bodies, ``wire`` turns a ``CircuitJobDefinition`` into a
:class:`~pytket.extensions.iqm.emulator.jobs.spec.JobSpec`, ``routes`` serve them.

May import the rest of :mod:`..` (the HTTP layer, including the models and payloads of
:mod:`..rest_v1` it shares), jobs, devices and simulation.
"""
