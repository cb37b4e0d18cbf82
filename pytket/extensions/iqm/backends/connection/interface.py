"""The :class:`ServerConnection` interface: the backend's only door to an IQM server.

It is the small interface the backend uses (architecture, quality metrics, submit a batch,
status, job record, cancel, close), in the version-neutral types of :mod:`.types`
(:class:`~.types.JobState`, :class:`~.types.JobRecord`, :class:`~.types.RunOptions`,
:class:`~pytket.extensions.iqm.backends.architecture.DynamicArchitecture`,
:class:`~pytket.extensions.iqm.backends.translation.IQMCircuit`), and holds what both lines
share: retries within a :class:`~.retry.RetryPolicy`, waiting with a timeout of its own, and
hiding the ``IQM_*`` environment while iqm-client reads its configuration.
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
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from pytket.extensions.iqm._metadata import __extension_name__, __extension_version__
from pytket.extensions.iqm.backends.connection.compatible_errors import compatible_error
from pytket.extensions.iqm.backends.connection.credentials import (
    AUTH_ENVIRONMENT_VARIABLES,
    Credentials,
)
from pytket.extensions.iqm.backends.connection.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    IdempotentSubmissions,
)
from pytket.extensions.iqm.backends.connection.retry import (
    RetriesExhaustedError,
    RetryPolicy,
    is_transient,
    retry_call,
    submit_retry_is_safe,
    was_not_taken,
)
from pytket.extensions.iqm.backends.connection.types import ApiLine, JobRecord, JobState, RunOptions
from pytket.extensions.iqm.errors import IQMServerError, IQMTimeoutError

if TYPE_CHECKING:
    from pytket.extensions.iqm.backends.architecture import DynamicArchitecture
    from pytket.extensions.iqm.backends.metadata import JobMetadata
    from pytket.extensions.iqm.backends.translation import IQMCircuit


CLIENT_SIGNATURE = f"{__extension_name__} {__extension_version__}"
"""What both lines' iqm-client adds to its User-Agent."""

_EXTRA_ENVIRONMENT_VARIABLES = ("IQM_SERVER_URL", "IQM_QUANTUM_COMPUTER")
"""Read by iqm-client 36 when an argument is missing; the backend always passes its own."""

# The IQM_* variables are process-wide; building two clients at once must not interleave.
_ENVIRONMENT_LOCK = threading.Lock()

_FIRST_POLL_PAUSE = 0.02

# A status request near a wait's deadline still gets this long to answer.
_MIN_REQUEST_TIMEOUT = 1.0

_T = TypeVar("_T")


class ServerConnection(ABC):
    """One IQM device on one server, with one set of credentials.

    Reads (status, job record, architecture) are retried after transient failures within
    ``retry``; a submit only when the server provably never received it (see
    :mod:`~pytket.extensions.iqm.backends.connection.retry`).
    """

    api_line: ClassVar[ApiLine]

    def __init__(
        self,
        url: str,
        device_name: str,
        credentials: Credentials,
        *,
        retry: RetryPolicy | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.url = url
        """The URL requests go to (device URL or server root, depending on the line)."""
        self.device_name = device_name
        self._credentials = credentials
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random()
        self.idempotency = IdempotentSubmissions()
        """Whether the server honours idempotency keys, and the key of a submission in
        progress; each line's client adds the key to its requests and reports the answers."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self.url!r}, device={self.device_name!r}, "
            f"credentials={self._credentials.source!r})"
        )

    # -- what each line implements ------------------------------------------------------------

    @abstractmethod
    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicArchitecture:
        """The device's gates and loci for a calibration set (``None``: the server's default).

        :raises IQMDeviceError: the server does not know the calibration set.
        :raises IQMServerError: the server kept failing or could not be reached.
        """

    @abstractmethod
    def quality_metrics(self, calibration_set_id: UUID) -> dict[str, Any] | None:
        """The calibration set's quality metrics by IQM metric name; ``None`` when the server
        does not serve them.

        :raises IQMAuthenticationError: the server refused the credentials.
        """

    @abstractmethod
    def submit(
        self,
        circuits: Sequence[IQMCircuit],
        *,
        shots: int,
        calibration_set_id: UUID | None,
        options: RunOptions,
    ) -> UUID:
        """Submit one job running every circuit with the same shot count; returns the job id.

        Retried only when the server certainly did not receive the job, so a job is never
        created twice.

        :raises IQMDeviceError: the circuits do not fit the device's calibration.
        :raises IQMServerError: the server refused the job (its message is included), kept
            failing, or failed in a way that leaves open whether it created the job (the
            message says so; the job is not resubmitted).
        """

    @abstractmethod
    def state(self, job_id: UUID, *, deadline: float | None = None) -> JobState:
        """The job's current status (and failure message).

        :param deadline: a ``time.monotonic()`` time until which transient failures are retried
            (``None``: within the retry policy).
        :raises IQMServerError: the server kept failing, or does not know the job.
        :raises DeadlineReachedError: the server kept failing until ``deadline``.
        """

    @abstractmethod
    def record(self, job_id: UUID) -> JobRecord:
        """The job's record (status, measurements when ready, metadata); never raises for a
        failed job.

        :raises IQMServerError: the server kept failing, or does not know the job.
        """

    @abstractmethod
    def job_metadata(
        self,
        job_id: UUID,
        record: JobRecord,
        *,
        circuit_index: int,
        qubit_mapping: Sequence[tuple[str, str]],
    ) -> JobMetadata:
        """The job's metadata for one of its circuits, in the line's form (see
        :mod:`~pytket.extensions.iqm.backends.metadata`).

        :param record: the job's record, from :meth:`record`
        :param circuit_index: the circuit's index in the job's batch
        :param qubit_mapping: the circuit's ``(logical, physical)`` qubit names
        """

    @abstractmethod
    def abort(self, job_id: UUID) -> None:
        """Ask the server to cancel the job (retried only if the server was not reached).

        :raises IQMServerError: the server refused (e.g. the job has already finished).
        """

    @abstractmethod
    def close(self) -> None:
        """Release the connection (ends an auth-server session where there is one)."""

    @abstractmethod
    def _translated(
        self,
        error: BaseException,
        action: str,
        *,
        not_found: Exception | None = None,
        attempts: str = "",
    ) -> Exception:
        """pytket-iqm's error for an exception raised by iqm-client or requests while doing
        ``action`` (other exceptions are returned unchanged)."""

    def _is_transient(self, error: BaseException) -> bool:
        """Whether a failed read is worth retrying (the lines differ in how errors arrive)."""
        return is_transient(error)

    def _is_not_found(self, error: BaseException) -> bool:
        """Whether the server answered 404 (the lines differ in how errors arrive)."""
        response = getattr(error, "response", None)
        return getattr(response, "status_code", None) == HTTPStatus.NOT_FOUND

    # -- shared machinery -------------------------------------------------------------------

    def _call(
        self,
        call: Callable[[], _T],
        action: str,
        *,
        retryable: Callable[[BaseException], bool] | None = None,
        deadline: float | None = None,
        not_found: Exception | None = None,
        unknown: Callable[[], Exception] | None = None,
    ) -> _T:
        """Run ``call`` with retries; turn the final failure into pytket-iqm's errors.

        ``not_found`` is raised for a 404 answer; without it, ``unknown`` builds the error
        (it may ask the server more, so only once the call has failed).

        With a ``deadline``, transient failures are retried until it, whatever the policy's
        attempt and time limits (the pauses still follow the policy).

        :raises DeadlineReachedError: retryable failures lasted until ``deadline``.
        """
        policy = self.retry
        if deadline is not None:
            policy = dataclasses.replace(policy, max_attempts=sys.maxsize, max_total=math.inf)
        try:
            return retry_call(
                call,
                policy=policy,
                retryable=retryable or self._is_transient,
                action=action,
                deadline=deadline,
                sleep=self._sleep,
                rng=self._rng,
            )
        except RetriesExhaustedError as exhausted:
            if exhausted.reason == "reached the deadline":
                raise DeadlineReachedError(exhausted.last_error) from None
            raise self._translated(
                exhausted.last_error,
                action,
                not_found=not_found or _built(unknown, exhausted.last_error, self._is_not_found),
                attempts=f" (gave up after {exhausted.attempts} attempts)",
            ) from None
        except Exception as error:
            raise self._translated(
                error, action, not_found=not_found or _built(unknown, error, self._is_not_found)
            ) from None

    def _submit_call(self, call: Callable[[], _T]) -> _T:
        """Run a submission: retried when the server certainly did not receive it, or when it
        honours idempotency keys (a resend then finds the job the first attempt created).

        :raises IQMServerError: the submission failed in a way that leaves open whether the
            server created the job (the message says so; it is not resubmitted), or the server
            kept refusing connections.
        """
        action = "submit a job"
        resent_unanswered = False

        def resend_is_safe(error: BaseException) -> bool:
            nonlocal resent_unanswered
            if submit_retry_is_safe(error):
                return True
            if self.idempotency.honoured and self._is_transient(error):
                resent_unanswered = True
                return True
            return False

        with self.idempotency.submission() as key:
            try:
                return retry_call(
                    call,
                    policy=self.retry,
                    retryable=resend_is_safe,
                    action=action,
                    sleep=self._sleep,
                    rng=self._rng,
                )
            except RetriesExhaustedError as exhausted:
                outcome = (
                    f"the server may have created the job; it would answer one more submission "
                    f"with {IDEMPOTENCY_KEY_HEADER} {key} with that job"
                    if resent_unanswered
                    else "the server did not take the job, so none was created"
                )
                raise self._translated(
                    exhausted.last_error,
                    action,
                    attempts=(
                        f" ({exhausted.reason} after {exhausted.attempts} attempts; {outcome})"
                    ),
                ) from None
            except Exception as error:
                if self._is_transient(error) and not was_not_taken(error):
                    raise IQMServerError(
                        f"Could not {action}: {error}. The request reached the server, which "
                        "may or may not have created the job; it was not resubmitted, to avoid "
                        "running it twice (neither IQM API lists jobs, and this server does not "
                        f"say it honours {IDEMPOTENCY_KEY_HEADER}, so the backend cannot look "
                        "it up). Check the server's job list before submitting again."
                    ) from None
                raise self._translated(error, action) from None

    def _request_timeout(self, deadline: float | None) -> float:
        """Per-request timeout: the policy's, shortened to what is left before ``deadline``
        (but at least ``_MIN_REQUEST_TIMEOUT``, so a nearly spent wait still gets an answer)."""
        if deadline is None:
            return self.retry.request_timeout
        remaining = deadline - time.monotonic()
        return max(_MIN_REQUEST_TIMEOUT, min(self.retry.request_timeout, remaining))

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
            except DeadlineReachedError as reached:
                raise compatible_error(
                    IQMTimeoutError,
                    f"Job {job_id} did not finish within {timeout} s; its last known status is "
                    f"'{last_status}' (status requests were failing: {reached.last_error}). "
                    "The handle stays valid: call get_result again later.",
                ) from None
            last_status = job_state.server_status
            if job_state.terminal:
                return job_state
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise compatible_error(
                        IQMTimeoutError,
                        f"Job {job_id} was still '{last_status}' after {timeout} s. "
                        "The handle stays valid: call get_result again later, with a longer "
                        "timeout.",
                    )
                pause = min(pause, remaining)
            time.sleep(pause)
            pause = min(pause * 1.5, poll_interval)


def _built(
    build: Callable[[], Exception] | None,
    error: BaseException,
    is_not_found: Callable[[BaseException], bool],
) -> Exception | None:
    """``build()`` when ``error`` is a 404 answer and there is a builder, else ``None``."""
    if build is None or not is_not_found(error):
        return None
    return build()


class DeadlineReachedError(Exception):
    """Retryable failures of a call lasted until the caller's deadline."""

    def __init__(self, last_error: BaseException) -> None:
        super().__init__(str(last_error))
        self.last_error = last_error


@contextlib.contextmanager
def hidden_iqm_environment() -> Iterator[None]:
    """Hide the ``IQM_*`` credential and server variables while iqm-client reads its
    configuration.

    The credentials module has already chosen one source (possibly one of these variables) and
    passes it explicitly; iqm-client would otherwise see two sources and refuse the mix (which
    made ``IQM_TOKENS_FILE`` unusable in pytket-iqm 0.18).
    """
    names = (*AUTH_ENVIRONMENT_VARIABLES, *_EXTRA_ENVIRONMENT_VARIABLES)
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.pop(name) for name in names if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def metric_values(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Quality metrics as ``{name: value}`` (iqm-client 22 wraps each value in an entry)."""
    return {
        name: entry.get("value") if isinstance(entry, Mapping) else entry
        for name, entry in metrics.items()
    }


__all__ = [
    "CLIENT_SIGNATURE",
    "DeadlineReachedError",
    "ServerConnection",
    "hidden_iqm_environment",
    "metric_values",
]
