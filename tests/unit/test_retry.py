"""Retry policy and failure classification (retry.py): what is retried, how often, how long."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError

from pytket.extensions.iqm.backends.connection.retry import (
    RequestNotTakenError,
    RetriesExhaustedError,
    RetryPolicy,
    connection_refused,
    is_transient,
    never_reached_server,
    not_taken_error,
    retry_after_seconds,
    retry_call,
    submit_retry_is_safe,
)


def _http_error(status: int, method: str = "GET") -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.request = requests.Request(method, "http://server/garnet/jobs").prepare()
    return requests.HTTPError(f"{status} error", response=response)


def _refused() -> requests.ConnectionError:
    """A real 'connection refused' from requests (a port nobody listens on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        requests.post(f"http://127.0.0.1:{port}/garnet/jobs", json={}, timeout=5)
    except requests.ConnectionError as error:
        return error
    raise AssertionError("the closed port answered")


def _reset(method: str) -> requests.ConnectionError:
    """A connection dropped after the request was sent (what a reset looks like)."""
    request = requests.Request(method, "http://server/garnet/jobs").prepare()
    return requests.ConnectionError(
        ConnectionResetError(104, "Connection reset by peer"), request=request
    )


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _failing(errors: list[Exception], result: str = "ok") -> Callable[[], str]:
    """A call raising ``errors`` in turn, then returning ``result``; counts its calls."""
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return result

    call.calls = calls  # type: ignore[attr-defined]
    return call


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_http_error(502), True),
        (_http_error(503), True),
        (_http_error(504), True),
        (_http_error(429), True),
        (_http_error(500), False),
        (_http_error(404), False),
        (_http_error(401), False),
        (requests.ReadTimeout("read timed out"), True),
        (requests.ConnectTimeout("connect timed out"), True),
        (requests.exceptions.ChunkedEncodingError("cut off"), True),
        (_reset("GET"), True),
        (ValueError("not a request error"), False),
    ],
)
def test_is_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_only_a_connection_that_never_opened_never_reached_the_server() -> None:
    assert never_reached_server(_refused())
    assert never_reached_server(requests.ConnectTimeout("connect timed out"))
    assert not never_reached_server(_reset("POST"))
    assert not never_reached_server(requests.ReadTimeout("read timed out"))
    assert not never_reached_server(_http_error(503, "POST"))


def _not_taken(status: int, retry_after: str | None = None) -> RequestNotTakenError:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    response.request = requests.Request("POST", "http://server/garnet/jobs").prepare()
    error = not_taken_error(response)
    assert error is not None
    return error


@pytest.mark.parametrize(
    ("error", "safe"),
    [
        (_refused(), True),  # the POST never left this machine
        (_http_error(503, "GET"), True),  # the calibration GET before the POST failed
        (_reset("GET"), True),
        (_http_error(503, "POST"), True),  # 503: the server did not take it
        (_http_error(429, "POST"), True),  # 429: the server did not take it
        (_not_taken(503), True),
        (_http_error(502, "POST"), False),  # a gateway's answer: the job may exist
        (_http_error(504, "POST"), False),  # a gateway's timeout: the job may exist
        (_reset("POST"), False),  # sent, then cut off: the job may exist
        (requests.ReadTimeout("read timed out", request=_reset("POST").request), False),
        (_http_error(400, "POST"), False),  # not transient at all
    ],
)
def test_submit_retry_is_safe_only_when_the_post_was_never_received(
    error: Exception, safe: bool
) -> None:
    assert submit_retry_is_safe(error) is safe


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=3.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.backoff(n, rng) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(initial_backoff=1.0, max_backoff=1.0, jitter=0.5)
    pauses = [jittered.backoff(1, rng) for _ in range(200)]
    assert all(0.5 <= p <= 1.0 for p in pauses)
    assert max(pauses) - min(pauses) > 0.3  # spread, not in step


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be a positive integer"),
        ({"initial_backoff": -1}, "initial_backoff must not be negative"),
        ({"max_total": -1}, "max_total must not be negative"),
        ({"jitter": 1.5}, "jitter must be between 0 and 1"),
        ({"request_timeout": 0}, "request_timeout must be positive"),
    ],
)
def test_policy_rejects_bad_numbers(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**fields)  # type: ignore[arg-type]


def test_transient_failures_are_retried_until_success() -> None:
    clock = FakeClock()
    call = _failing([_http_error(503), requests.ReadTimeout("slow"), _reset("GET")])
    policy = RetryPolicy(initial_backoff=0.1, jitter=0.0)
    result = retry_call(
        call, policy=policy, retryable=is_transient, action="x", sleep=clock.sleep, clock=clock
    )
    assert result == "ok"
    assert call.calls["n"] == 4  # type: ignore[attr-defined]
    assert clock.sleeps == [0.1, 0.2, 0.4]


def test_a_non_retryable_failure_is_raised_unchanged_at_once() -> None:
    clock = FakeClock()
    error = _http_error(404)
    call = _failing([error])
    with pytest.raises(requests.HTTPError) as raised:
        retry_call(
            call,
            policy=RetryPolicy(),
            retryable=is_transient,
            action="x",
            sleep=clock.sleep,
            clock=clock,
        )
    assert raised.value is error
    assert clock.sleeps == []


def test_attempts_are_bounded() -> None:
    clock = FakeClock()
    call = _failing([_http_error(503)] * 10)
    with pytest.raises(
        RetriesExhaustedError, match=r"gave up after 3 attempt\(s\): 503 error"
    ) as e:
        retry_call(
            call,
            policy=RetryPolicy(max_attempts=3, jitter=0.0),
            retryable=is_transient,
            action="x",
            sleep=clock.sleep,
            clock=clock,
        )
    assert e.value.attempts == 3
    assert call.calls["n"] == 3  # type: ignore[attr-defined]


def test_total_time_is_bounded() -> None:
    clock = FakeClock()
    call = _failing([_http_error(503)] * 100)
    with pytest.raises(RetriesExhaustedError, match="ran out of time"):
        retry_call(
            call,
            policy=RetryPolicy(max_attempts=100, initial_backoff=1.0, max_total=5.0, jitter=0.0),
            retryable=is_transient,
            action="x",
            sleep=clock.sleep,
            clock=clock,
        )
    assert clock.sleeps == [1.0, 2.0]  # a third pause (4 s) would end after 5 s
    assert clock.now <= 5.0


def test_the_callers_deadline_is_bounding_too() -> None:
    clock = FakeClock()
    call = _failing([_http_error(503)] * 100)
    with pytest.raises(RetriesExhaustedError) as raised:
        retry_call(
            call,
            policy=RetryPolicy(max_attempts=100, initial_backoff=1.0, jitter=0.0),
            retryable=is_transient,
            action="x",
            deadline=2.5,
            sleep=clock.sleep,
            clock=clock,
        )
    assert raised.value.reason == "reached the deadline"
    assert clock.sleeps == [1.0]


def test_a_single_attempt_policy_raises_the_original_error() -> None:
    error = _http_error(503)
    with pytest.raises(requests.HTTPError) as raised:
        retry_call(
            _failing([error]),
            policy=RetryPolicy(max_attempts=1),
            retryable=is_transient,
            action="x",
        )
    assert raised.value is error


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    ok = requests.Response()
    ok.status_code = 500
    assert not_taken_error(ok) is None


def test_a_submit_answered_503_is_retried_after_the_servers_retry_after() -> None:
    clock = FakeClock()
    call = _failing([_not_taken(503, "3"), _not_taken(429)])
    assert (
        retry_call(
            call,
            policy=RetryPolicy(initial_backoff=0.5, jitter=0.0),
            retryable=submit_retry_is_safe,
            action="submit a job",
            sleep=clock.sleep,
            clock=clock,
        )
        == "ok"
    )
    # The server's 3 s instead of the 0.5 s backoff; then the doubled backoff.
    assert clock.sleeps == [3.0, 1.0]


def test_a_refused_connection_is_retried_for_the_connect_window_beyond_the_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    refused = _refused()
    call = _failing([refused] * 20)
    with caplog.at_level("INFO", logger="pytket.extensions.iqm.backends.connection.retry"):
        assert (
            retry_call(
                call,
                policy=RetryPolicy(max_attempts=2, jitter=0.0, connect_window=30.0),
                retryable=submit_retry_is_safe,
                action="submit a job",
                sleep=clock.sleep,
                clock=clock,
            )
            == "ok"
        )
    assert call.calls["n"] == 21  # type: ignore[attr-defined]
    assert max(clock.sleeps) == 1.0  # refused connections are retried at least every second
    assert clock.now <= 30.0
    refusals = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert len(refusals) == 20  # one log line per retry


def test_a_refused_connection_is_given_up_after_the_connect_window() -> None:
    clock = FakeClock()
    call = _failing([_refused()] * 1000)
    with pytest.raises(RetriesExhaustedError, match="refused for 5 s"):
        retry_call(
            call,
            policy=RetryPolicy(jitter=0.0, connect_window=5.0),
            retryable=is_transient,
            action="x",
            sleep=clock.sleep,
            clock=clock,
        )
    assert 4.0 <= clock.now <= 5.0


def test_only_a_refusal_counts_for_the_connect_window() -> None:
    assert connection_refused(_refused())
    unresolvable = requests.ConnectionError(
        MaxRetryError(None, "/", NameResolutionError("no-such-host.invalid", None, "unknown"))  # type: ignore[arg-type]
    )
    assert not connection_refused(unresolvable)
    assert never_reached_server(unresolvable)  # still safe to retry within the policy
    assert not connection_refused(requests.ConnectTimeout("connect timed out"))
    assert not connection_refused(_reset("POST"))
