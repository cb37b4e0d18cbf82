"""A local emulator of IQM quantum computer servers, speaking both APIs pytket-iqm supports.

REST v1 (iqm-client 22.x) under ``/{device}`` and the IQM Server API (iqm-client 36.x) under
``/api/v1`` at the server root. :class:`IQMEmulator` runs it in a background thread;
``pytket-iqm-emulator`` (:mod:`.cli`) runs it from the command line;
:func:`pytket.extensions.iqm.emulator.http.app.create_app` gives the ASGI application.

Layers, each importing only those below it: the entry points (``cli``, ``server``, ``config``,
and ``client_lines``, the connection guidance they and ``http`` show) → ``http`` (FastAPI, both
wire formats) → ``jobs`` (spec, store, worker) → ``simulation`` and ``devices``; ``simulation``
imports ``devices`` for the noise model and neither ``http`` nor ``jobs``. Each sub-package's
docstring says what lives there.
"""

from pytket.extensions.iqm.emulator.server import IQMEmulator

__all__ = ["IQMEmulator"]
