"""The statuses a job walks through: :class:`Status` (REST v1's names, which the store keeps)."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Status of a job, by REST v1's names (the IQM Server API maps them to its own)."""

    RECEIVED = "received"
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    PENDING_COMPILATION = "pending compilation"
    PENDING_EXECUTION = "pending execution"
    COMPILED = "compiled"
    READY = "ready"
    FAILED = "failed"
    ABORTED = "aborted"
    PENDING_DELETION = "pending deletion"
    DELETION_FAILED = "deletion failed"
    DELETED = "deleted"


TERMINAL = frozenset({Status.READY, Status.FAILED, Status.ABORTED})
"""Statuses after which a job never changes."""
TERMINAL_VALUES = tuple(sorted(status.value for status in TERMINAL))
"""Their stored values, as SQL parameters."""
