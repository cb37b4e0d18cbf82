"""``GET /{device}``: the index of one served device, the URL the emulator's banner prints.

It says how to reach the device from each iqm-client line and lists the device's endpoints on
both route sets, taken from the application's OpenAPI schema so the list cannot drift from the
routes. JSON by default; HTML when the request's ``Accept`` header names ``text/html`` (a
browser opening the printed URL). It answers without authentication, like ``/``: it shows
nothing that ``/`` does not.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from pytket.extensions.iqm.emulator.client_lines import REST_V1, SERVER_API, line_usages
from pytket.extensions.iqm.emulator.devices.device import Device
from pytket.extensions.iqm.emulator.http.dependencies import (
    SERVER_API_PREFIX,
    ServedDevice,
    State,
)
from pytket.extensions.iqm.emulator.http.models import ClientLineUsage, ErrorMessage

router = APIRouter(tags=["server"])

_DEVICE_PARAMETER = "{device}"
"""How the 22.x routes name the device in their paths."""
_SERVER_API_DEVICE_PARAMETERS = ("{qc}", "{quantum_computer}")
"""How the IQM Server API routes name the device (quantum computer) in their paths."""


class Endpoint(BaseModel):
    """One route of the device."""

    method: str
    path: str
    summary: str


class DeviceIndex(BaseModel):
    """Answer to ``GET /{device}``."""

    device: str
    display_name: str
    qubits: int
    computational_resonators: list[str]
    default_calibration_set_id: str
    auth: str = Field(..., description="'open', 'token' or 'users'")
    lines: dict[str, ClientLineUsage] = Field(
        ..., description="how to connect, by iqm-client line: rest_v1 (22.x), server_api (33+)"
    )
    endpoints: dict[str, list[Endpoint]] = Field(
        ..., description="the device's routes, by iqm-client line"
    )


def _summary(operation: dict[str, Any]) -> str:
    description = str(operation.get("description") or "").strip()
    line = description.splitlines()[0] if description else str(operation.get("summary", ""))
    return line.replace("``", "")  # the docstrings' reStructuredText literals, as plain text


def _endpoints(request: Request, segment: str, name: str) -> dict[str, list[Endpoint]]:
    """The device's routes on each line, device parameters filled in."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    found: dict[str, list[Endpoint]] = {REST_V1: [], SERVER_API: []}
    for path, operations in paths.items():
        if path.startswith(f"/{_DEVICE_PARAMETER}/"):
            line, concrete = REST_V1, path.replace(_DEVICE_PARAMETER, segment)
        elif path.startswith(SERVER_API_PREFIX + "/"):
            line, concrete = SERVER_API, path
            for parameter in _SERVER_API_DEVICE_PARAMETERS:
                concrete = concrete.replace(parameter, name)
        else:
            continue
        for method, operation in operations.items():
            found[line].append(
                Endpoint(method=method.upper(), path=concrete, summary=_summary(operation))
            )
    return found


def _index(request: Request, state: State, device: Device, segment: str) -> DeviceIndex:
    root = str(request.base_url).rstrip("/")
    return DeviceIndex(
        device=device.name,
        display_name=device.display_name,
        qubits=len(device.qubits),
        computational_resonators=list(device.computational_resonators),
        default_calibration_set_id=str(device.default_calibration.calibration_set_id),
        auth=state.auth_mode,
        lines={usage.line: ClientLineUsage.of(usage) for usage in line_usages(root, segment)},
        endpoints=_endpoints(request, segment, device.name),
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _as_html(index: DeviceIndex) -> str:
    """The index as a small HTML page (every value escaped)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>{e(index.display_name)} · pytket-iqm "
        "emulator</title></head><body>",
        f"<h1>{e(index.display_name)} ({e(index.device)})</h1>",
        f"<p>{index.qubits} qubits, {len(index.computational_resonators)} computational "
        f"resonators; default calibration set {e(index.default_calibration_set_id)}; "
        f"authentication: {e(index.auth)}.</p>",
    ]
    for line, usage in index.lines.items():
        parts.append(f"<h2>iqm-client {e(usage.iqm_client)}: {e(usage.api)}</h2>")
        parts.append(
            f"<p>URL: <code>{e(usage.url)}</code>"
            + (f", device: <code>{e(usage.device)}</code>" if usage.device else "")
            + f"</p><pre>{e(usage.iqm_client_call)}\n{e(usage.pytket_call)}</pre>"
        )
        parts.append("<ul>")
        parts.extend(
            f"<li><code>{e(endpoint.method)} {e(endpoint.path)}</code> {e(endpoint.summary)}</li>"
            for endpoint in index.endpoints.get(line, [])
        )
        parts.append("</ul>")
    parts.append("<p><a href='/'>All devices</a> · <a href='/docs'>API docs</a></p></body></html>")
    return "\n".join(parts)


@router.get(
    "/{device}",
    response_model=DeviceIndex,
    responses={
        200: {"content": {"text/html": {}}, "description": "JSON, or HTML if asked for"},
        404: {"model": ErrorMessage},
    },
)
def device_index(
    request: Request, state: State, device: ServedDevice
) -> DeviceIndex | HTMLResponse:
    """The device's endpoints and how to use them from each iqm-client line."""
    segment = request.path_params["device"]
    index = _index(request, state, device, segment)
    return HTMLResponse(_as_html(index)) if _wants_html(request) else index
