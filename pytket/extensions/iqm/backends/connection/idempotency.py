"""Resending a submission safely to a server that honours ``Idempotency-Key``.

A submission that was sent but got no answer (a reset, a read timeout, a 502 or 504 after
sending) may or may not have created a job, and neither IQM API lets a client find a job it has
no id for. Every submission therefore carries a fresh ``Idempotency-Key`` header (the IETF
httpapi draft's name), the same on each resend. A server that says it honours the key (with
``Idempotent-Submissions: true`` on its answers, as the pytket-iqm emulator does) answers a
resend with the job the first attempt created, so the backend resends instead of reporting the
submission as ambiguous. IQM's own servers ignore the header and do not say so: for them
nothing changes.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator, Mapping

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
"""The request header naming a submission, the same on every resend."""

IDEMPOTENT_SUBMISSIONS_HEADER = "Idempotent-Submissions"
"""The answer header by which a server says it honours :data:`IDEMPOTENCY_KEY_HEADER`."""


class IdempotentSubmissions:
    """What a connection knows about resending submissions: whether its server honours
    idempotency keys (from the server's latest answer), and the key of the submission in
    progress in this thread."""

    def __init__(self) -> None:
        self.honoured = False
        """Whether the server's latest answer said it honours idempotency keys."""
        self._current = threading.local()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from an answer's headers (a server that stops saying so is not trusted)."""
        self.honoured = headers.get(IDEMPOTENT_SUBMISSIONS_HEADER, "").strip().lower() == "true"

    @contextlib.contextmanager
    def submission(self) -> Iterator[str]:
        """Within this block, this thread's requests carry one new idempotency key."""
        self._current.key = str(uuid.uuid4())
        try:
            yield self._current.key
        finally:
            self._current.key = None

    def headers(self) -> dict[str, str]:
        """The header to add to a request: the key, while a submission is in progress."""
        key: str | None = getattr(self._current, "key", None)
        return {IDEMPOTENCY_KEY_HEADER: key} if key else {}


__all__ = ["IDEMPOTENCY_KEY_HEADER", "IDEMPOTENT_SUBMISSIONS_HEADER", "IdempotentSubmissions"]
