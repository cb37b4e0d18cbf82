"""The backend's connection to an IQM server, whichever iqm-client line is installed.

* :mod:`.interface`: :class:`ServerConnection`, the small interface the backend uses, and the
  machinery both lines share (retries, waiting, hiding the ``IQM_*`` environment);
* :mod:`.types`: the version-neutral types it speaks in (:class:`ApiLine`, :class:`JobState`,
  :class:`JobRecord`, :class:`RunOptions`);
* :mod:`.rest_v1`: iqm-client 22.x, the REST API of on-premises IQM servers (and of the
  emulator's device URLs); a server is addressed by its device URL;
* :mod:`.server_api`: iqm-client 36.x, the IQM Server API (``/api/v1``) of IQM Resonance; a
  server is addressed by its root URL and a device name;
* :mod:`.installed`: which line is installed; :mod:`.connect`: where to connect, and
  :func:`connect`, which builds the installed line's connection;
* :mod:`.compatible_errors`: pytket-iqm's errors that are also iqm-client's own exceptions;
* :mod:`.retry`: the retry policy; :mod:`.credentials`: where the credentials come from.

Nothing outside this package knows which line is in use. Modules here may import
``pytket.extensions.iqm.errors`` and ``.config``, and the backend's circuit types
(``architecture``, ``translation``); only :mod:`.rest_v1` and :mod:`.server_api` import
iqm-client, each its own line.
"""

from pytket.extensions.iqm.backends.connection.connect import connect
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.interface import ServerConnection
from pytket.extensions.iqm.backends.connection.types import (
    ApiLine,
    JobRecord,
    JobState,
    RunOptions,
)

__all__ = [
    "ApiLine",
    "JobRecord",
    "JobState",
    "RunOptions",
    "ServerConnection",
    "connect",
    "installed_api_line",
]
