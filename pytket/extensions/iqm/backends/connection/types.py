"""The version-neutral types a connection speaks in: which API line, a job's state and record,
and the per-job run options, as both iqm-client lines name them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pytket.backends.status import StatusEnum

from pytket.extensions.iqm._metadata import REST_V1_IQM_CLIENT, SERVER_API_IQM_CLIENT


class ApiLine(enum.Enum):
    """Which IQM API a connection speaks (and so which iqm-client line is installed)."""

    REST_V1 = "iqm-client-22"
    SERVER_API = "iqm-server-api"

    @property
    def description(self) -> str:
        """The line as users know it, for messages."""
        if self is ApiLine.REST_V1:
            return "the IQM REST API of iqm-client 22.x"
        return "the IQM Server API of iqm-client 36.x"


SUPPORTED_IQM_CLIENT = {
    ApiLine.REST_V1: REST_V1_IQM_CLIENT,
    ApiLine.SERVER_API: SERVER_API_IQM_CLIENT,
}
"""The iqm-client versions each line runs on."""

RESONANCE_URLS = {
    ApiLine.REST_V1: "https://cocos.resonance.meetiqm.com",
    ApiLine.SERVER_API: "https://resonance.iqm.tech",
}
"""IQM Resonance's server root as each iqm-client line addresses it (22.x appends the device, as
pytket-iqm 0.18 did; 36.x passes it separately): used when no URL is given."""

TERMINAL_STATUSES = frozenset({StatusEnum.COMPLETED, StatusEnum.ERROR, StatusEnum.CANCELLED})


@dataclass(frozen=True)
class JobState:
    """What the server says about a job right now."""

    status: StatusEnum
    """The status in pytket's terms."""
    server_status: str
    """The server's own word for it (``"pending_execution"``, ``"waiting"``, …)."""
    message: str | None = None
    """The server's reason, for failed jobs."""

    @property
    def terminal(self) -> bool:
        """Whether the job can no longer change (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class JobRecord:
    """A job as the server recorded it."""

    state: JobState
    measurements: list[dict[str, list[list[int]]]] | None
    """Per circuit of the batch, ``{measurement key: [[bit] per shot]}``; ``None`` until ready."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Calibration set, timestamps and the request as the server recorded it (JSON values)."""


HERALDING_MODES = ("none", "zeros")
MOVE_VALIDATION_MODES = ("strict", "allow_prx", "none")
MOVE_FRAME_TRACKING_MODES = ("full", "no_detuning_correction", "none")


@dataclass(frozen=True)
class RunOptions:
    """Per-job execution options, as both API lines name them."""

    max_circuit_duration_over_t2: float | None = None
    """Server-side duration limit (``None``: the server's default; 0 disables the check)."""
    heralding_mode: str = "none"
    move_validation_mode: str = "strict"
    move_gate_frame_tracking_mode: str = "full"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("heralding_mode", HERALDING_MODES),
            ("move_validation_mode", MOVE_VALIDATION_MODES),
            ("move_gate_frame_tracking_mode", MOVE_FRAME_TRACKING_MODES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}."
                )
        ratio = self.max_circuit_duration_over_t2
        if ratio is not None and not ratio >= 0:
            raise ValueError(
                f"max_circuit_duration_over_t2 must be 0 (off) or positive, not {ratio}."
            )
        if self.move_gate_frame_tracking_mode == "full" and self.move_validation_mode not in (
            "strict",
            "allow_prx",
        ):
            raise ValueError(
                "move_gate_frame_tracking_mode 'full' needs move_validation_mode 'strict' or "
                f"'allow_prx', not {self.move_validation_mode!r}; with that validation mode "
                "also pass move_gate_frame_tracking_mode='no_detuning_correction' or 'none'."
            )


__all__ = [
    "HERALDING_MODES",
    "MOVE_FRAME_TRACKING_MODES",
    "MOVE_VALIDATION_MODES",
    "RESONANCE_URLS",
    "SUPPORTED_IQM_CLIENT",
    "TERMINAL_STATUSES",
    "ApiLine",
    "JobRecord",
    "JobState",
    "RunOptions",
]
