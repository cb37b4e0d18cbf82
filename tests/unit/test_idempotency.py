"""A submission's idempotency key, and what the backend learns from the server's answers."""

from __future__ import annotations

import threading
import uuid

from requests.structures import CaseInsensitiveDict

from pytket.extensions.iqm.backends.connection.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENT_SUBMISSIONS_HEADER,
    IdempotentSubmissions,
)


def test_a_submission_carries_one_new_key_and_nothing_else_does() -> None:
    submissions = IdempotentSubmissions()
    assert submissions.headers() == {}
    with submissions.submission() as first:
        assert submissions.headers() == {IDEMPOTENCY_KEY_HEADER: first}
        assert submissions.headers() == {IDEMPOTENCY_KEY_HEADER: first}  # every resend
        uuid.UUID(first)  # a UUID: unique without coordination
    assert submissions.headers() == {}
    with submissions.submission() as second:
        assert second != first


def test_the_key_belongs_to_the_submitting_thread() -> None:
    submissions = IdempotentSubmissions()
    seen: list[dict[str, str]] = []
    with submissions.submission():
        other = threading.Thread(target=lambda: seen.append(submissions.headers()))
        other.start()
        other.join()
    assert seen == [{}]  # a status poll in another thread carries no key


def test_the_latest_answer_says_whether_keys_are_honoured() -> None:
    submissions = IdempotentSubmissions()
    assert not submissions.honoured  # IQM's servers never say so
    submissions.observe(CaseInsensitiveDict({"idempotent-submissions": "True"}))
    assert submissions.honoured
    submissions.observe(CaseInsensitiveDict({"Content-Type": "application/json"}))
    assert not submissions.honoured  # e.g. a gateway's page: not trusted
    submissions.observe({IDEMPOTENT_SUBMISSIONS_HEADER: "no"})
    assert not submissions.honoured
