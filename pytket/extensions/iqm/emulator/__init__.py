"""A local emulator of IQM quantum computer servers, speaking iqm-client 22.x's REST API.

:class:`IQMEmulator` runs it in a background thread; ``pytket-iqm-emulator`` runs it from the
command line; :func:`pytket.extensions.iqm.emulator.http.app.create_app` gives the ASGI application.
"""

from pytket.extensions.iqm.emulator.server import IQMEmulator

__all__ = ["IQMEmulator"]
