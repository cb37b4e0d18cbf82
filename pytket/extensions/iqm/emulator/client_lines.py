"""How a client reaches a served device on each iqm-client line.

The emulator serves two APIs at once: iqm-client 22.x's REST API (``rest_v1``) under each
device URL ``<root>/<device>``, and the IQM Server API of iqm-client 33 and later
(``server_api``) under ``<root>/api/v1``, where the device is named separately. The banner of
``pytket-iqm-emulator``, its ``--help``, ``/about`` and each device's index page all show the
same guidance, built here. This module stays free of the web stack so the command line can use
it without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass

REST_V1 = "rest_v1"
"""Key of the iqm-client 22.x line (IQM's REST API v1, device URL)."""
SERVER_API = "server_api"
"""Key of the IQM Server API line (iqm-client 33 and later, server root plus device)."""

DEVICE_PLACEHOLDER = "<device>"
"""Stands for a device name where the guidance is not about one device (``/about``)."""


@dataclass(frozen=True)
class LineUsage:
    """How to reach one device from one iqm-client line."""

    line: str
    """:data:`REST_V1` or :data:`SERVER_API`."""
    iqm_client: str
    """The iqm-client versions of the line."""
    api: str
    """Name of the API the line speaks."""
    url: str
    """The URL to give the client: the device URL (22.x) or the server root (Server API)."""
    device: str | None
    """The device name to give besides the URL (Server API), ``None`` when the URL names it."""
    iqm_client_call: str
    """The iqm-client constructor call for this line."""
    pytket_call: str
    """The pytket-iqm constructor call (the same on both lines)."""


def device_url(root: str, device: str) -> str:
    """The iqm-client 22.x URL of ``device`` (a name, or ``name:timeslot``)."""
    return f"{root.rstrip('/')}/{device}"


def pytket_call(root: str, device: str) -> str:
    """``IQMBackend(...)`` for ``device``: server root plus ``device=``, valid on both lines."""
    return f'IQMBackend("{root.rstrip("/")}", device="{device}")'


def line_usages(root: str, device: str) -> tuple[LineUsage, LineUsage]:
    """How to reach ``device`` of the server at ``root`` from iqm-client 22.x and 33+.

    :param root: the server root, e.g. ``http://127.0.0.1:8000``.
    :param device: the device segment (``garnet`` or ``garnet:timeslot``), or
        :data:`DEVICE_PLACEHOLDER`.
    """
    root = root.rstrip("/")
    url = device_url(root, device)
    name = device.removesuffix(":timeslot")
    return (
        LineUsage(
            line=REST_V1,
            iqm_client="22.x",
            api="IQM REST API v1 (CoCoS)",
            url=url,
            device=None,
            iqm_client_call=f'IQMClient("{url}")',
            pytket_call=pytket_call(root, name),
        ),
        LineUsage(
            line=SERVER_API,
            iqm_client="33 and later (36.x)",
            api="IQM Server API v1, under /api/v1",
            url=root,
            device=name,
            iqm_client_call=f'IQMClient.from_url("{root}", quantum_computer="{name}")',
            pytket_call=pytket_call(root, name),
        ),
    )


def usage_lines(root: str, device: str) -> list[str]:
    """The guidance as lines of text, for the banner and ``--help``."""
    rest_v1, server_api = line_usages(root, device)
    return [
        f"iqm-client 22.x (device URL):         {rest_v1.iqm_client_call}",
        f"iqm-client 33+ (IQM Server API):     {server_api.iqm_client_call}",
        f"pytket-iqm (either iqm-client line): {rest_v1.pytket_call}",
    ]
