"""Root pages (``/``, ``/health``, ``/about``) and ``info/client-libraries``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pytket.extensions.iqm._metadata import __version__
from pytket.extensions.iqm.emulator.client_lines import DEVICE_PLACEHOLDER, line_usages
from pytket.extensions.iqm.emulator.http.dependencies import State
from pytket.extensions.iqm.emulator.http.models import (
    About,
    ClientLibrary,
    ClientLineUsage,
    DeviceListing,
    DeviceSummary,
    Health,
)
from pytket.extensions.iqm.emulator.http.rest_v1 import payloads

router = APIRouter()


@router.get("/", response_model=DeviceListing, tags=["server"])
def list_devices(state: State) -> DeviceListing:
    """The served devices; give ``<server root><path>`` to iqm-client as its URL."""
    return DeviceListing(
        devices=[
            DeviceSummary(
                name=device.name,
                display_name=device.display_name,
                path=f"/{device.name}",
                qubits=len(device.qubits),
                computational_resonators=list(device.computational_resonators),
                default_calibration_set_id=device.default_calibration.calibration_set_id,
                calibration_set_ids=[c.calibration_set_id for c in device.calibrations],
            )
            for device in state.devices.values()
        ],
        auth=state.auth_mode,
    )


@router.get("/health", response_model=Health, tags=["server"])
def health() -> Health:
    """Liveness: answers as soon as the server accepts requests."""
    return Health()


@router.get("/about", response_model=About, tags=["server"])
def about(request: Request, state: State) -> About:
    """What this server is, and how each iqm-client line reaches its devices."""
    root = str(request.base_url).rstrip("/")
    return About(
        name="pytket-iqm emulator",
        version=__version__,
        api=(
            "IQM REST API v1 (iqm-client 22.x) at each device URL <root>/<device>, and the IQM "
            "Server API (iqm-client 33 and later) under <root>/api/v1 with the device named "
            "separately"
        ),
        devices=list(state.devices),
        lines={
            usage.line: ClientLineUsage.of(usage) for usage in line_usages(root, DEVICE_PLACEHOLDER)
        },
    )


@router.get("/info/client-libraries", response_model=dict[str, ClientLibrary], tags=["info"])
def root_client_libraries(state: State) -> dict[str, Any]:
    """Compatible client versions, at the server root too.

    An iqm-client 22.x given the server root instead of a device URL asks here after its first
    404; without an answer it would ask again after that 404, recursing until ``RecursionError``.
    With it, the client reports the URL it could not find.
    """
    low, high = state.config.client_library_range
    return payloads.client_libraries(min_version=low, max_version=high)


@router.get(
    "/{device}/info/client-libraries",
    response_model=dict[str, ClientLibrary],
    tags=["info"],
)
def client_libraries(state: State, device: str) -> dict[str, Any]:
    """Compatible client versions (``min <= version < max``).

    Served for any device segment, known or not, and without authentication: iqm-client calls
    it after every 404 and would recurse if it were missing.
    """
    low, high = state.config.client_library_range
    return payloads.client_libraries(min_version=low, max_version=high)
