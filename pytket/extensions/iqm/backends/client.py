"""The backend's only door to an IQM server: a thin wrapper around iqm-client 22.x's ``IQMClient``.

It builds the client (one credential source, our signature, no deprecation noise), retries
transient failures within a :class:`~.retry.RetryPolicy` (never risking a duplicate job), turns
iqm-client's and requests' exceptions into pytket-iqm's typed errors, and does the waiting
with a timeout of its own. The backend never builds HTTP requests itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import requests
from pydantic import ValidationError

from iqm.iqm_client import (
    Circuit,
    CircuitCompilationOptions,
    CircuitValidationError,
    ClientAuthenticationError,
    ClientConfigurationError,
    DynamicQuantumArchitecture,
    EndpointRequestError,
    IQMClient,
    JobAbortionError,
    QualityMetricSet,
    RunResult,
    Status,
)
from pytket.extensions.iqm._metadata import __extension_name__, __extension_version__
from pytket.extensions.iqm.backends.credentials import AUTH_ENVIRONMENT_VARIABLES, Credentials
from pytket.extensions.iqm.backends.retry import (
    RetriesExhaustedError,
    RetryPolicy,
    is_transient,
    never_reached_server,
    retry_call,
    submit_retry_is_safe,
)
from pytket.extensions.iqm.errors import (
    IQMAuthenticationError,
    IQMDeviceError,
    IQMServerError,
    IQMTimeoutError,
)

CLIENT_SIGNATURE = f"{__extension_name__} {__extension_version__}"

# The IQM_* variables are process-wide; building two clients at once must not interleave.
_ENVIRONMENT_LOCK = threading.Lock()

_FIRST_POLL_PAUSE = 0.02

# A status request near a wait's deadline still gets this long to answer.
_MIN_REQUEST_TIMEOUT = 1.0

_T = TypeVar("_T")


@dataclass(frozen=True)
class JobState:
    """What the server says about a job right now."""

    status: Status
    message: str | None = None


class IQMServerConnection:
    """One IQM server (device URL) with one set of credentials.

    Reads (status, job record, architecture) are retried after transient failures within
    ``retry``; a submit only when the server provably never received it (see
    :mod:`~pytket.extensions.iqm.backends.retry`).

    :param url: the device URL.
    :param credentials: the one credential source to use.
    :param retry: retry and request-timeout policy (default: :class:`RetryPolicy`'s defaults).
    :param sleep: pause function between attempts (tests replace it).
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect: builds ``IQMClient``, which checks the server's client-library versions.

        :raises IQMAuthenticationError: the auth server refused the login.
        :raises IQMServerError: the server could not be reached.
        """
        self.url = url
        self._credentials = credentials
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random()
        with _hidden_auth_environment(), warnings.catch_warnings():
            # iqm-client 22 warns that its default API variant is deprecated; it is the variant
            # that serves every endpoint we use, and the warning is not actionable for users.
            warnings.filterwarnings(
                "ignore", message="The V1 API is deprecated", category=DeprecationWarning
            )
            self._client = self._call(
                lambda: IQMClient(
                    url,
                    client_signature=CLIENT_SIGNATURE,
                    token=credentials.token,
                    tokens_file=credentials.tokens_file,
                    auth_server_url=credentials.auth_server_url,
                    username=credentials.username,
                    password=credentials.password,
                ),
                f"connect to {url}",
                retryable=_never,
            )

    def __repr__(self) -> str:
        return f"IQMServerConnection(url={self.url!r}, credentials={self._credentials.source!r})"

    def _call(
        self,
        call: Callable[[], _T],
        action: str,
        *,
        retryable: Callable[[BaseException], bool] = is_transient,
        deadline: float | None = None,
        not_found: Exception | None = None,
    ) -> _T:
        """Run ``call`` with retries; turn the final failure into pytket-iqm's errors.

        With a ``deadline``, transient failures are retried until it, whatever the policy's
        attempt and time limits (the pauses still follow the policy).

        :raises _DeadlineReachedError: retryable failures lasted until ``deadline``.
        """
        policy = self.retry
        if deadline is not None:
            policy = dataclasses.replace(policy, max_attempts=sys.maxsize, max_total=math.inf)
        try:
            return retry_call(
                call,
                policy=policy,
                retryable=retryable,
                action=action,
                deadline=deadline,
                sleep=self._sleep,
                rng=self._rng,
            )
        except RetriesExhaustedError as exhausted:
            if exhausted.reason == "reached the deadline":
                raise _DeadlineReachedError(exhausted.last_error) from None
            raise _translated(
                exhausted.last_error,
                action,
                not_found=not_found,
                attempts=f" (gave up after {exhausted.attempts} attempts)",
            ) from None
        except Exception as error:
            raise _translated(error, action, not_found=not_found) from None

    def _request_timeout(self, deadline: float | None) -> float:
        """Per-request timeout: the policy's, shortened to what is left before ``deadline``
        (but at least ``_MIN_REQUEST_TIMEOUT``, so a nearly spent wait still gets an answer)."""
        if deadline is None:
            return self.retry.request_timeout
        remaining = deadline - time.monotonic()
        return max(_MIN_REQUEST_TIMEOUT, min(self.retry.request_timeout, remaining))

    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicQuantumArchitecture:
        """The device's gates and loci for a calibration set (``None``: the server's default).

        :raises IQMDeviceError: the server does not know the calibration set.
        :raises IQMServerError: the server kept failing or could not be reached.
        """
        return self._call(
            lambda: self._client.get_dynamic_quantum_architecture(
                calibration_set_id, timeout_secs=self.retry.request_timeout
            ),
            f"get the dynamic architecture of calibration set {calibration_set_id or 'default'}",
            not_found=IQMDeviceError(
                f"The server at {self.url} has no calibration set {calibration_set_id}."
            ),
        )

    def quality_metrics(self, calibration_set_id: UUID) -> QualityMetricSet | None:
        """The calibration set's quality metrics; ``None`` when the server does not serve them.

        :raises IQMAuthenticationError: the server refused the credentials.
        """
        try:
            return retry_call(
                lambda: self._client.get_quality_metric_set(
                    calibration_set_id, timeout_secs=self.retry.request_timeout
                ),
                policy=self.retry,
                retryable=is_transient,
                action=f"get the quality metrics of calibration set {calibration_set_id}",
                sleep=self._sleep,
                rng=self._rng,
            )
        except (
            requests.RequestException,
            RetriesExhaustedError,
            ValueError,
            EndpointRequestError,
            ValidationError,
        ):
            # Quality metrics are optional on IQM servers (Resonance does not serve them).
            return None
        except ClientAuthenticationError as error:
            raise IQMAuthenticationError(_auth_message(self.url, error)) from None

    def submit(
        self,
        circuits: Sequence[Circuit],
        *,
        shots: int,
        calibration_set_id: UUID | None,
        options: CircuitCompilationOptions,
    ) -> UUID:
        """Submit one job running every circuit with the same shot count; returns the job id.

        Retried only when the server certainly did not receive the job (connection refused,
        or a failed calibration GET before the POST), so a job is never created twice.

        :raises IQMDeviceError: the circuits do not fit the device's calibration.
        :raises IQMServerError: the server refused the job (its message is included), kept
            failing, or failed in a way that leaves open whether it created the job (the
            message says so; the job is not resubmitted).
        """
        action = "submit a job"
        try:
            return retry_call(
                lambda: self._client.submit_circuits(
                    list(circuits),
                    calibration_set_id=calibration_set_id,
                    shots=shots,
                    options=options,
                ),
                policy=self.retry,
                retryable=submit_retry_is_safe,
                action=action,
                sleep=self._sleep,
                rng=self._rng,
            )
        except RetriesExhaustedError as exhausted:
            raise _translated(
                exhausted.last_error,
                action,
                attempts=(
                    f" (gave up after {exhausted.attempts} attempts; the server never received "
                    "the job, so none was created)"
                ),
            ) from None
        except Exception as error:
            if is_transient(error):
                raise IQMServerError(
                    f"Could not {action}: {error}. The request reached the server, which may "
                    "or may not have created the job; it was not resubmitted, to avoid running "
                    "it twice. Check the server's job list before submitting again."
                ) from None
            raise _translated(error, action) from None

    def state(self, job_id: UUID, *, deadline: float | None = None) -> JobState:
        """The job's current status (and failure message).

        :param deadline: a ``time.monotonic()`` time until which transient failures are retried
            (``None``: within the retry policy).
        :raises IQMServerError: the server kept failing, or does not know the job.
        :raises _DeadlineReachedError: the server kept failing until ``deadline``.
        """
        run_status = self._call(
            lambda: self._client.get_run_status(
                job_id, timeout_secs=self._request_timeout(deadline)
            ),
            f"get the status of job {job_id}",
            deadline=deadline,
        )
        return JobState(run_status.status, run_status.message)

    def run_result(self, job_id: UUID) -> RunResult:
        """The job's full record (status, measurements when ready, metadata), without raising for
        a failed job.

        :raises IQMServerError: the server kept failing, or does not know the job.
        """
        # get_run raises for failed jobs; the raw V1 call returns the record whatever the status,
        # which is what status reporting and metadata need.
        return self._call(
            lambda: self._client._get_run_v1(job_id, timeout_secs=self.retry.request_timeout),
            f"get job {job_id}",
        )

    def wait(self, job_id: UUID, *, timeout: float | None, poll_interval: float) -> JobState:
        """Poll the job's status until it is terminal; transient failures of a poll are retried
        until the timeout.

        :raises IQMTimeoutError: still not terminal after ``timeout`` seconds; names the job and
            its last status.
        :raises IQMServerError: status requests kept failing (with no timeout, or past the
            retry policy), or the server does not know the job.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # Short jobs finish in milliseconds on the emulator; back off towards poll_interval.
        pause = min(_FIRST_POLL_PAUSE, poll_interval)
        last_status = "not yet known"
        while True:
            try:
                job_state = self.state(job_id, deadline=deadline)
            except _DeadlineReachedError as reached:
                raise IQMTimeoutError(
                    f"Job {job_id} did not finish within {timeout} s; its last known status is "
                    f"'{last_status}' (status requests were failing: {reached.last_error}). "
                    "The handle stays valid: call get_result again later."
                ) from None
            last_status = job_state.status.value
            if job_state.status in Status.terminal_statuses():
                return job_state
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IQMTimeoutError(
                        f"Job {job_id} was still '{last_status}' after {timeout} s. "
                        "The handle stays valid: call get_result again later, with a longer "
                        "timeout."
                    )
                pause = min(pause, remaining)
            time.sleep(pause)
            pause = min(pause * 1.5, poll_interval)

    def abort(self, job_id: UUID) -> None:
        """Ask the server to abort the job (retried only if the server was not reached).

        :raises IQMServerError: the server refused (e.g. the job has already finished).
        """
        self._call(
            lambda: self._client.abort_job(job_id, timeout_secs=self.retry.request_timeout),
            f"abort job {job_id}",
            retryable=never_reached_server,
        )

    def close(self) -> None:
        """End an auth-server session (no-op for tokens or no authentication)."""
        if self._credentials.mode != "auth_server":
            return
        with contextlib.suppress(ClientAuthenticationError, requests.RequestException):
            self._client.close_auth_session()


def _never(error: BaseException) -> bool:
    """Retry nothing: building the client only warns about an unreachable server."""
    return False


class _DeadlineReachedError(Exception):
    """Retryable failures of a call lasted until the caller's deadline."""

    def __init__(self, last_error: BaseException) -> None:
        super().__init__(str(last_error))
        self.last_error = last_error


@contextlib.contextmanager
def _hidden_auth_environment() -> Iterator[None]:
    """Hide the ``IQM_*`` credential variables while iqm-client reads its configuration.

    The credentials module has already chosen one source (possibly one of these variables) and
    passes it explicitly; iqm-client would otherwise refuse the mix (incumbent bug B6).
    """
    with _ENVIRONMENT_LOCK:
        saved = {
            name: os.environ.pop(name) for name in AUTH_ENVIRONMENT_VARIABLES if name in os.environ
        }
        try:
            yield
        finally:
            os.environ.update(saved)


def _auth_message(url: str, error: Exception) -> str:
    return (
        f"The server at {url} refused the credentials ({error}). Check the token, tokens file or "
        "username and password."
    )


def _translated(
    error: BaseException,
    action: str,
    *,
    not_found: Exception | None = None,
    attempts: str = "",
) -> Exception:
    """pytket-iqm's error for an exception of iqm-client or requests raised while doing
    ``action`` (other exceptions are returned unchanged)."""
    if isinstance(error, ClientAuthenticationError):
        return IQMAuthenticationError(f"Could not {action}: {error}")
    if isinstance(error, CircuitValidationError):
        return IQMDeviceError(f"Could not {action}: {error}")
    if isinstance(error, (ClientConfigurationError, JobAbortionError, EndpointRequestError)):
        return IQMServerError(f"Could not {action}: {error}{attempts}")
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else None
        if status == 404 and not_found is not None:
            return not_found
        return IQMServerError(f"Could not {action}: {error}{attempts}")
    if isinstance(error, requests.RequestException):
        return IQMServerError(f"Could not {action}: the server did not answer ({error}){attempts}.")
    if isinstance(error, Exception):
        return error
    return RuntimeError(str(error))  # pragma: no cover - only Exceptions are caught
