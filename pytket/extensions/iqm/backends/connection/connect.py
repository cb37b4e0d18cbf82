"""Where a backend connects (:func:`server_address`) and :func:`connect`: a
:class:`~.interface.ServerConnection` of the installed line (:mod:`.rest_v1` for iqm-client
22.x, :mod:`.server_api` for 36.x)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from pytket.extensions.iqm.backends.connection.credentials import Credentials
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.interface import ServerConnection
from pytket.extensions.iqm.backends.connection.retry import RetryPolicy
from pytket.extensions.iqm.backends.connection.types import RESONANCE_URLS, ApiLine

_DEVICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z][A-Za-z0-9_.-]*)?")
"""A device name, optionally with Resonance's ``:timeslot`` suffix (``garnet``,
``garnet:timeslot``); never a URL."""


def looks_like_device_name(text: object) -> bool:
    """Whether ``text`` is a bare device name (``"garnet"``) rather than a URL."""
    return isinstance(text, str) and _DEVICE_NAME.fullmatch(text) is not None


def server_address(
    url: str | None, server_url: str | None, device: str | None, line: ApiLine
) -> tuple[str, str | None]:
    """The URL and device to connect to, from the seed-era ``url`` or 0.18's ``server_url``;
    with neither, IQM Resonance as ``line`` addresses it (:data:`~.types.RESONANCE_URLS`).

    :raises ValueError: both ``url`` and ``server_url`` are given, or neither and no ``device``.
    """
    if url is not None and server_url is not None:
        raise ValueError(
            f"url={url!r} and server_url={server_url!r} both name the server (server_url is "
            "pytket-iqm 0.18's name for it): give one of them."
        )
    given = url if url is not None else server_url
    if given is not None:
        return given, device
    if device is None:
        raise ValueError(
            "IQMBackend needs the device: IQMBackend(device='garnet', token=...) for IQM "
            "Resonance, IQMBackend(server_root, device='garnet') for another IQM server, or "
            "(iqm-client 22.x) IQMBackend(device_url)."
        )
    return RESONANCE_URLS[line], device


def connect(
    url: str,
    device: str | None,
    credentials: Credentials,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ServerConnection:
    """Connect to ``url`` (and ``device``) with the implementation for the installed iqm-client.

    :raises IQMClientVersionError: the installed iqm-client is not a supported version.
    :raises ValueError: ``url``/``device`` do not fit the installed line's addressing.
    :raises IQMCredentialsError: the credentials are not usable on the installed line.
    :raises IQMAuthenticationError: the server or auth server refused the credentials.
    :raises IQMServerError: the server could not be reached.
    :raises IQMDeviceError: the server does not serve ``device``.
    """
    line = installed_api_line()
    # Imported here: each implementation imports its own iqm-client line.
    if line is ApiLine.REST_V1:
        from pytket.extensions.iqm.backends.connection.rest_v1 import RestV1Connection  # noqa: PLC0415

        rest_v1_connection: ServerConnection = RestV1Connection(
            url, device, credentials, retry=retry, sleep=sleep
        )
        return rest_v1_connection
    from pytket.extensions.iqm.backends.connection.server_api import ServerApiConnection  # noqa: PLC0415

    # Typed explicitly: each line's type check skips the other line's module.
    connection: ServerConnection = ServerApiConnection(
        url, device, credentials, retry=retry, sleep=sleep
    )
    return connection


__all__ = ["connect", "looks_like_device_name", "server_address"]
