"""HTTP bodies of the emulator server.

The job and architecture bodies are iqm-client's own pydantic models, re-exported here so the
server and the client cannot disagree on the wire format; this module adds only what the
client has no model for (error bodies, the submit answer, the root pages, the auth server).
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from iqm.iqm_client import (
    CalibrationSet,
    ClientLibrary,
    Counts,
    DynamicQuantumArchitecture,
    Metadata,
    QualityMetricSet,
    QuantumArchitecture,
    RunCounts,
    RunRequest,
    RunResult,
    RunStatus,
    StaticQuantumArchitecture,
    Status,
)


class ErrorMessage(BaseModel):
    """Body of every error answer of the job API: what is wrong, in one message."""

    message: str = Field(
        ..., examples=["Cannot submit job with 200000 shots, the maximum is 100000"]
    )


class SubmitResponse(BaseModel):
    """Answer to ``POST jobs``."""

    id: UUID


class AbortResponse(BaseModel):
    """Answer to ``POST jobs/{id}/abort``."""

    message: str


class DeviceSummary(BaseModel):
    """One served device, as listed at the server root."""

    name: str
    display_name: str
    path: str = Field(..., description="URL path to give iqm-client after the server root")
    qubits: int
    computational_resonators: list[str]
    default_calibration_set_id: UUID
    calibration_set_ids: list[UUID]


class DeviceListing(BaseModel):
    """Answer to ``GET /``."""

    devices: list[DeviceSummary]
    auth: str = Field(..., description="'open', 'token' or 'users'")


class Health(BaseModel):
    """Answer to ``GET /health``."""

    status: str = "ok"


class About(BaseModel):
    """Answer to ``GET /about``."""

    name: str
    version: str
    api: str
    devices: list[str]


class TokenResponse(BaseModel):
    """Answer of the emulated auth server's token endpoint (Keycloak's shape)."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str
    session_state: str
    scope: str


class OAuthError(BaseModel):
    """Error answer of the emulated auth server (Keycloak's shape)."""

    error: str
    error_description: str


__all__ = [
    "AbortResponse",
    "About",
    "CalibrationSet",
    "ClientLibrary",
    "Counts",
    "DeviceListing",
    "DeviceSummary",
    "DynamicQuantumArchitecture",
    "ErrorMessage",
    "Health",
    "Metadata",
    "OAuthError",
    "QualityMetricSet",
    "QuantumArchitecture",
    "RunCounts",
    "RunRequest",
    "RunResult",
    "RunStatus",
    "StaticQuantumArchitecture",
    "Status",
    "SubmitResponse",
    "TokenResponse",
]
