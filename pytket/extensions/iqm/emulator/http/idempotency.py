"""Idempotent job submission: the ``Idempotency-Key`` request header (IETF httpapi draft).

A client that cannot tell whether its submission created a job (the connection dropped after
sending it) may send it again with the same key: the emulator answers with the job the first
submission created instead of creating another. Keys belong to the job owner; a key reused with
a different request is refused. While keys are honoured, every answer carries
``Idempotent-Submissions: true`` so that a client learns from any answer that resending is safe;
IQM's servers ignore the header and do not advertise it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from uuid import UUID

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pytket.extensions.iqm.emulator.jobs.spec import JobPlan
from pytket.extensions.iqm.emulator.jobs.store import (
    IdempotencyKeyTakenError,
    JobRecord,
    JobStore,
)

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
"""The request header carrying a submission's key."""
IDEMPOTENT_SUBMISSIONS_HEADER = "Idempotent-Submissions"
"""The answer header (value ``true``) by which the emulator says it honours keys."""
MAX_KEY_LENGTH = 255
"""Longest key accepted, in characters (a UUID takes 36)."""
IDEMPOTENCY_KEY_DESCRIPTION = (
    f"Optional key of this submission, 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID "
    "is a good key). "
    "Sent again with the same request, it answers with the job the first submission created "
    "instead of creating another (while the server answers Idempotent-Submissions: true)."
)
"""The header's description in the OpenAPI schema."""
_SHOWN_KEY_LENGTH = 40
"""Characters of an invalid key quoted back in the error message (the rest is cut)."""
_VISIBLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))


class IdempotencyKeyError(ValueError):
    """An ``Idempotency-Key`` that is malformed, or reused for a different request; the
    message says what to send. Each route set answers it in its own error shape."""


def _shown(value: str) -> str:
    cut = value[:_SHOWN_KEY_LENGTH]
    return ascii(cut) + ("..." if len(value) > len(cut) else "")


def check_key(value: str) -> None:
    """Check an ``Idempotency-Key`` header value.

    :raises IdempotencyKeyError: if it is not 1 to :data:`MAX_KEY_LENGTH` visible ASCII
        characters.
    """
    if value and len(value) <= MAX_KEY_LENGTH and all(c in _VISIBLE_ASCII for c in value):
        return
    expected = (
        f"{IDEMPOTENCY_KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
        "(a UUID is a good key), got"
    )
    if not value:
        raise IdempotencyKeyError(f"{expected} an empty value.")
    if len(value) > MAX_KEY_LENGTH:
        raise IdempotencyKeyError(f"{expected} {len(value)} characters ({_shown(value)}).")
    position = next(i for i, c in enumerate(value) if c not in _VISIBLE_ASCII)
    raise IdempotencyKeyError(
        f"{expected} {_shown(value)}, whose character {position + 1} is {value[position]!a}."
    )


@dataclass(frozen=True)
class KeyedSubmission:
    """A job submission carrying an idempotency key."""

    key: str
    body_sha256: str
    """Hex SHA-256 of the body as received: the same key with another body is another
    request."""

    @classmethod
    def of(cls, header: str | None, body: bytes, *, honoured: bool) -> KeyedSubmission | None:
        """The keyed submission of a request with this header value and body; ``None`` if it
        has no key or keys are not honoured (then the header is ignored, unchecked, as an IQM
        server ignores it).

        :raises IdempotencyKeyError: if the key is malformed.
        """
        if header is None or not honoured:
            return None
        check_key(header)
        return cls(header, hashlib.sha256(body).hexdigest())

    def same_request(self, job: JobRecord, device: str, api: str) -> JobRecord:
        """``job``, the job created with this key, if it was created by this very request (the
        same body, device and API line).

        :raises IdempotencyKeyError: if it was created by a different request.
        """
        if job.request_sha256 != self.body_sha256 or job.device != device or job.api != api:
            raise IdempotencyKeyError(
                f"{IDEMPOTENCY_KEY_HEADER} '{self.key}' was already used for a different "
                "request; send a new key for a new job."
            )
        return job

    def earlier_job(self, store: JobStore, owner: str, device: str, api: str) -> JobRecord | None:
        """The job an earlier submission of this request by ``owner`` created, or ``None``.

        :raises IdempotencyKeyError: if ``owner`` used the key for a different request.
        """
        job = store.keyed(owner, self.key)
        return None if job is None else self.same_request(job, device, api)


def create_once(
    store: JobStore,
    submission: KeyedSubmission | None,
    *,
    device: str,
    calibration_set_id: UUID,
    request_json: str,
    api: str,
    plan: JobPlan,
    owner: str,
) -> tuple[JobRecord, bool]:
    """Store a new job with the submission's key (see :meth:`JobStore.create`); or, when a
    concurrent submission with the same key created one first (the store's unique index refused
    the second), that job.

    :return: the job, and whether it is new (only a new job is queued).
    :raises IdempotencyKeyError: the concurrent submission was a different request.
    """
    try:
        job = store.create(
            uuid.uuid4(),
            device,
            calibration_set_id,
            request_json,
            api=api,
            plan=plan,
            owner=owner,
            idempotency_key=None if submission is None else submission.key,
            request_sha256=None if submission is None else submission.body_sha256,
        )
    except IdempotencyKeyTakenError as taken:
        if submission is None:
            raise
        return submission.same_request(taken.job, device, api), False
    return job, True


class IdempotentSubmissionsMiddleware:
    """ASGI middleware: every answer says ``Idempotent-Submissions: true``.

    Outside the fault injection, so injected faults carry it too.
    """

    _HEADER = (IDEMPOTENT_SUBMISSIONS_HEADER.lower().encode(), b"true")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def advertise(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), self._HEADER]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, advertise)


__all__ = [
    "IDEMPOTENCY_KEY_DESCRIPTION",
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENT_SUBMISSIONS_HEADER",
    "MAX_KEY_LENGTH",
    "IdempotencyKeyError",
    "IdempotentSubmissionsMiddleware",
    "KeyedSubmission",
    "check_key",
]
