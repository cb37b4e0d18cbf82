"""Bounded retries of server calls: which failures are transient, and when a retry is safe.

Reads (job status, job record, architecture) are idempotent, so any transient failure may be
retried. A submit is retried only when the server provably did not take the ``POST jobs``
request: the connection could not be opened, the server answered 429 or 503 (both mean "not
taken, try later"; a ``Retry-After`` is honoured), or the failed request was an earlier GET of
the same call. Anything else (a reset or timeout after the request was sent, a 502/504 or 500
answer to the POST) may have created the job, so it is reported instead of resubmitted.

A refused connection (the server is restarting, or not up yet) is retried for
:attr:`RetryPolicy.connect_window` seconds whatever the attempt limit, with a log line per retry.

iqm-client 22.x itself retries an HTTP 502 on ``POST jobs`` and on the status and job GETs
forever, every ``IQM_CLIENT_SECONDS_BETWEEN_CALLS`` seconds; these retries wrap that loop and
never see a 502 from those calls.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

logger = logging.getLogger(__name__)

RETRYABLE_STATUS_CODES = frozenset({429, 502, 503, 504})
"""HTTP answers that say "try again later" (too many requests, bad gateway, unavailable,
gateway timeout)."""

NOT_TAKEN_STATUS_CODES = frozenset({429, 503})
"""HTTP answers that mean the server did not take the request (too many requests, unavailable):
repeating it cannot duplicate a job. A 502 or 504 may come from a gateway after the server
took the request, so those are not in this set."""

MAX_RETRY_AFTER = 300.0
"""Longest ``Retry-After`` honoured, seconds; a server asking for more is given up on (within
the policy's total time anyway)."""

DEFAULT_CONNECT_WINDOW = 60.0
"""Default :attr:`RetryPolicy.connect_window`, seconds: twice the longest emulator restart
measured on a loaded machine (``kill -9``, 10 s down, then about 20 s to serve again; docs:
reliability, measured)."""

_REFUSED_MAX_PAUSE = 1.0
"""Longest pause between attempts to open a refused connection, seconds: a refused connection
costs nothing, and a short pause finds a restarted server soon after it is back."""

_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a server call is retried after a transient failure.

    The pause before retry ``n`` (1-based) is ``min(max_backoff, initial_backoff * 2**(n-1))``,
    shortened by a random fraction up to ``jitter`` so that many clients do not retry in step.

    :raises ValueError: if a number is out of range.
    """

    max_attempts: int = 6
    """Most attempts of one call, the first included (``1`` disables retries)."""
    initial_backoff: float = 0.25
    """Seconds before the first retry."""
    max_backoff: float = 8.0
    """Longest pause between two attempts, seconds."""
    max_total: float = 120.0
    """Seconds after the first attempt's start past which no further attempt starts."""
    jitter: float = 0.5
    """Largest fraction (0 to 1) by which a pause is randomly shortened."""
    request_timeout: float = 60.0
    """Seconds one HTTP request of a status or result call may take (iqm-client's default)."""
    connect_window: float = DEFAULT_CONNECT_WINDOW
    """Seconds for which a refused connection is retried (every call, connecting included),
    whatever ``max_attempts`` and ``max_total`` say: long enough for a server restart."""

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(
                f"RetryPolicy.max_attempts must be a positive integer, got {self.max_attempts!r}."
            )
        for name in ("initial_backoff", "max_backoff", "max_total", "connect_window"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(
                    f"RetryPolicy.{name} must not be negative, got {value!r}; give 0 or more "
                    "seconds."
                )
        if self.request_timeout <= 0:
            raise ValueError(
                f"RetryPolicy.request_timeout must be positive, got {self.request_timeout!r}; "
                "give the most seconds one HTTP request may take (default 60)."
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"RetryPolicy.jitter must be between 0 and 1, got {self.jitter}.")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds to pause before retry number ``retry`` (1-based)."""
        full = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry - 1))
        return float(full * (1 - self.jitter * rng.random()))


NO_RETRIES = RetryPolicy(max_attempts=1, connect_window=0.0)
"""A policy that tries every call once."""


class RequestNotTakenError(Exception):
    """The server answered 429 or 503: it did not take the request; try again later.

    Raised by the connections in place of iqm-client's own error for these answers, so that the
    status and ``Retry-After`` survive (iqm-client 22 reports a 429 without its status).
    """

    def __init__(self, status: int, method: str, url: str, retry_after: float | None) -> None:
        wait = "" if retry_after is None else f", retry after {retry_after:g} s"
        super().__init__(f"{method} {url} answered HTTP {status} (not taken{wait})")
        self.status = status
        self.method = method
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's wait in seconds (delta-seconds or an HTTP date); ``None``
    when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def not_taken_error(response: requests.Response) -> RequestNotTakenError | None:
    """The error for a 429/503 answer (``None`` for other answers)."""
    if response.status_code not in NOT_TAKEN_STATUS_CODES:
        return None
    request = response.request
    return RequestNotTakenError(
        response.status_code,
        (request.method or "?") if request is not None else "?",
        (request.url or "?") if request is not None else "?",
        retry_after_seconds(response.headers.get("Retry-After")),
    )


def was_not_taken(error: BaseException) -> bool:
    """Whether the server answered that it did not take the request (429 or 503)."""
    if isinstance(error, RequestNotTakenError):
        return True
    if isinstance(error, requests.HTTPError):
        response = error.response
        return response is not None and response.status_code in NOT_TAKEN_STATUS_CODES
    return False


def requested_pause(error: BaseException) -> float | None:
    """The pause the server asked for with ``Retry-After`` (``None``: it did not ask)."""
    if isinstance(error, RequestNotTakenError):
        return error.retry_after
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return retry_after_seconds(error.response.headers.get("Retry-After"))
    return None


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` may go away by itself: a retryable HTTP status, a connection failure
    or reset, a timeout, or an answer cut off mid-body."""
    if isinstance(error, RequestNotTakenError):
        return True
    if isinstance(error, requests.HTTPError):
        response = error.response
        return response is not None and response.status_code in RETRYABLE_STATUS_CODES
    return isinstance(
        error,
        (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError),
    )


def connection_refused(error: BaseException) -> bool:
    """Whether the server's host refused the connection (nothing listens: the server is down or
    restarting). An unresolvable host name or a connect timeout is not a refusal."""
    if not isinstance(error, requests.ConnectionError) or not error.args:
        return False
    cause = error.args[0]
    return (
        isinstance(cause, MaxRetryError)
        and isinstance(cause.reason, NewConnectionError)
        and not isinstance(cause.reason, NameResolutionError)
        and not isinstance(error, requests.exceptions.ConnectTimeout)
    )


def never_reached_server(error: BaseException) -> bool:
    """Whether the request that failed certainly did not reach the server's application.

    True when the TCP connection could not be opened (refused, unresolvable host, connect
    timeout). A reset, a read timeout or any answer means the request may have been handled.
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        cause = error.args[0]
        return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)
    return False


def failed_method(error: BaseException) -> str | None:
    """HTTP method of the request that failed (``None`` if requests did not say)."""
    if isinstance(error, RequestNotTakenError):
        return error.method
    request = getattr(error, "request", None)
    method = getattr(request, "method", None)
    return method.upper() if isinstance(method, str) else None


def submit_retry_is_safe(error: BaseException) -> bool:
    """Whether a submit that failed with ``error`` can be repeated without risking a second job.

    Safe when the failure was transient and the server did not take ``POST jobs``: it failed on
    a GET of the same call (iqm-client fetches the calibration first when it is not cached), on
    opening the POST's connection, or the server answered 429 or 503.
    """
    if not is_transient(error):
        return False
    return failed_method(error) == "GET" or never_reached_server(error) or was_not_taken(error)


class RetriesExhaustedError(Exception):
    """A call kept failing; ``last_error`` is the final failure and ``attempts`` the count."""

    def __init__(self, last_error: BaseException, attempts: int, reason: str) -> None:
        super().__init__(f"{reason} after {attempts} attempt(s): {last_error}")
        self.last_error = last_error
        self.attempts = attempts
        self.reason = reason


def retry_call(
    call: Callable[[], _T],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    action: str,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> _T:
    """Run ``call``; after a failure ``retryable`` accepts, pause and run it again, within
    ``policy`` and before ``deadline`` (a ``clock`` time).

    :param call: the server call.
    :param policy: attempts, pauses and total time.
    :param retryable: which exceptions may be retried.
    :param action: what the call does, for the log (e.g. ``"get the status of job ..."``).
    :param deadline: no attempt starts after this ``clock`` time (``None``: only the policy).
    :raises Exception: the call's own exception when it is not retryable; it is raised
        unchanged when it is the first and only failure.
    :raises RetriesExhaustedError: a retryable failure persisted past the attempts, the
        policy's total time or the deadline (after at least one retry, or when no time was left
        for one).
    """
    rng = rng or random.Random()
    start = clock()
    limit = start + policy.max_total
    if deadline is not None:
        limit = min(limit, deadline)
    attempt = 0
    refused_since: float | None = None
    while True:
        attempt += 1
        try:
            return call()
        except Exception as error:
            if not retryable(error):
                raise
            now = clock()
            if connection_refused(error):
                # A refused connection: retried for the connect window, whatever the attempts.
                refused_since = now if refused_since is None else refused_since
                # A caller's deadline replaces the window, as it replaces the policy's limits.
                window_end = refused_since + policy.connect_window
                if deadline is not None:
                    window_end = deadline
                pause = min(policy.backoff(attempt, rng), _REFUSED_MAX_PAUSE)
                if now + pause <= window_end:
                    logger.info(
                        "Could not %s: the server refused the connection (attempt %d, %.1f s "
                        "of the %.0f s connect window used); retrying in %.2f s.",
                        action,
                        attempt,
                        now - refused_since,
                        policy.connect_window,
                        pause,
                    )
                    sleep(pause)
                    continue
                if attempt == 1:
                    raise
                reason = (
                    "reached the deadline"
                    if deadline is not None
                    else f"gave up on a connection refused for {policy.connect_window:g} s"
                )
                raise RetriesExhaustedError(error, attempt, reason) from error
            refused_since = None
            if attempt >= policy.max_attempts:
                if attempt == 1:
                    raise
                raise RetriesExhaustedError(error, attempt, "gave up") from error
            pause = policy.backoff(attempt, rng)
            asked = requested_pause(error)
            if asked is not None:
                pause = max(pause, min(asked, MAX_RETRY_AFTER))
            if now + pause > limit:
                reason = (
                    "ran out of time"
                    if deadline is None or limit < deadline
                    else "reached the deadline"
                )
                raise RetriesExhaustedError(error, attempt, reason) from error
            # INFO: a retry is expected behaviour; the final failure is raised, not logged.
            logger.info(
                "Could not %s (attempt %d of %d: %s); retrying in %.2f s.",
                action,
                attempt,
                policy.max_attempts,
                error,
                pause,
            )
            sleep(pause)


__all__ = [
    "DEFAULT_CONNECT_WINDOW",
    "MAX_RETRY_AFTER",
    "NOT_TAKEN_STATUS_CODES",
    "NO_RETRIES",
    "RETRYABLE_STATUS_CODES",
    "RequestNotTakenError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "connection_refused",
    "failed_method",
    "is_transient",
    "never_reached_server",
    "not_taken_error",
    "requested_pause",
    "retry_after_seconds",
    "retry_call",
    "submit_retry_is_safe",
    "was_not_taken",
]
