"""The backend's only door to an IQM server, whichever iqm-client line is installed.

:class:`ServerConnection` is the small interface the backend uses (architecture, quality
metrics, submit a batch, status, job record, cancel, close). It speaks in version-neutral types
(:class:`JobState`, :class:`JobRecord`, :class:`RunOptions`,
:class:`~.architecture.DynamicArchitecture`, :class:`~.translation.IQMCircuit`), and holds what
both lines share: retries within a :class:`~.retry.RetryPolicy`, waiting with a timeout of its
own, and hiding the ``IQM_*`` environment while iqm-client reads its configuration.

Two implementations, picked by :func:`connect` from the installed iqm-client:

* :mod:`.client_22`: iqm-client 22.x, the REST API of on-premises IQM servers (and of the
  emulator's device URLs); a server is addressed by its device URL.
* :mod:`.client_36`: iqm-client 36.x, the IQM Server API (``/api/v1``) of IQM Resonance; a
  server is addressed by its root URL and a device name.

Nothing above this module knows which one is in use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import importlib
import importlib.metadata
import math
import os
import random
import re
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
from uuid import UUID

from packaging.version import InvalidVersion, Version
from pytket.backends.status import StatusEnum

from pytket.extensions.iqm._metadata import __extension_name__, __extension_version__
from pytket.extensions.iqm.backends.credentials import AUTH_ENVIRONMENT_VARIABLES, Credentials
from pytket.extensions.iqm.backends.retry import (
    RetriesExhaustedError,
    RetryPolicy,
    is_transient,
    retry_call,
    submit_retry_is_safe,
)
from pytket.extensions.iqm.errors import (
    IQMBackendError,
    IQMClientVersionError,
    IQMServerError,
    IQMTimeoutError,
)

if TYPE_CHECKING:
    from pytket.extensions.iqm.backends.architecture import DynamicArchitecture
    from pytket.extensions.iqm.backends.translation import IQMCircuit


class ApiLine(enum.Enum):
    """Which IQM API a connection speaks (and so which iqm-client line is installed)."""

    IQM_CLIENT_22 = "iqm-client-22"
    IQM_SERVER_API = "iqm-server-api"

    @property
    def description(self) -> str:
        """The line as users know it, for messages."""
        if self is ApiLine.IQM_CLIENT_22:
            return "the IQM REST API of iqm-client 22.x"
        return "the IQM Server API of iqm-client 36.x"


RESONANCE_URLS = {
    ApiLine.IQM_CLIENT_22: "https://cocos.resonance.meetiqm.com",
    ApiLine.IQM_SERVER_API: "https://resonance.iqm.tech",
}
"""IQM Resonance's server root as each iqm-client line addresses it (22.x appends the device, as
pytket-iqm 0.18 did; 36.x passes it separately): used when no URL is given."""

_DEVICE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z][A-Za-z0-9_.-]*)?")
"""A device name, optionally with Resonance's ``:timeslot`` suffix (``garnet``,
``garnet:timeslot``); never a URL."""

SUPPORTED_IQM_CLIENT = {
    ApiLine.IQM_CLIENT_22: ">=22.3,<23",
    ApiLine.IQM_SERVER_API: ">=36,<37",
}
"""The iqm-client versions each line runs on."""

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
_E = TypeVar("_E", bound=IQMBackendError)

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


class ServerConnection(ABC):
    """One IQM device on one server, with one set of credentials.

    Reads (status, job record, architecture) are retried after transient failures within
    ``retry``; a submit only when the server provably never received it (see
    :mod:`~pytket.extensions.iqm.backends.retry`).
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

    # -- shared machinery -------------------------------------------------------------------

    def _call(
        self,
        call: Callable[[], _T],
        action: str,
        *,
        retryable: Callable[[BaseException], bool] | None = None,
        deadline: float | None = None,
        not_found: Exception | None = None,
    ) -> _T:
        """Run ``call`` with retries; turn the final failure into pytket-iqm's errors.

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
                not_found=not_found,
                attempts=f" (gave up after {exhausted.attempts} attempts)",
            ) from None
        except Exception as error:
            raise self._translated(error, action, not_found=not_found) from None

    def _submit_call(self, call: Callable[[], _T]) -> _T:
        """Run a submission: retried only when the server certainly did not receive it.

        :raises IQMServerError: the submission failed in a way that leaves open whether the
            server created the job (the message says so; it is not resubmitted), or the server
            kept refusing connections.
        """
        action = "submit a job"
        try:
            return retry_call(
                call,
                policy=self.retry,
                retryable=submit_retry_is_safe,
                action=action,
                sleep=self._sleep,
                rng=self._rng,
            )
        except RetriesExhaustedError as exhausted:
            raise self._translated(
                exhausted.last_error,
                action,
                attempts=(
                    f" (gave up after {exhausted.attempts} attempts; the server never received "
                    "the job, so none was created)"
                ),
            ) from None
        except Exception as error:
            if self._is_transient(error):
                raise IQMServerError(
                    f"Could not {action}: {error}. The request reached the server, which may "
                    "or may not have created the job; it was not resubmitted, to avoid running "
                    "it twice. Check the server's job list before submitting again."
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


def never_retry(error: BaseException) -> bool:
    """Retry nothing (connecting: a refused connection or login is reported at once)."""
    return False


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
    passes it explicitly; iqm-client would otherwise refuse the mix (incumbent bug B6).
    """
    names = (*AUTH_ENVIRONMENT_VARIABLES, *_EXTRA_ENVIRONMENT_VARIABLES)
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.pop(name) for name in names if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def installed_api_line() -> ApiLine:
    """The API line of the installed iqm-client.

    :raises IQMClientVersionError: iqm-client is missing, or its version is neither 22.x
        (from 22.3) nor 36.x.
    """
    try:
        installed = importlib.metadata.version("iqm-client")
    except importlib.metadata.PackageNotFoundError:
        raise IQMClientVersionError(
            f"iqm-client is not installed. {_SUPPORTED_VERSIONS_HINT}"
        ) from None
    try:
        version = Version(installed)
    except InvalidVersion:
        raise IQMClientVersionError(
            f"iqm-client {installed!r} has an unreadable version. {_SUPPORTED_VERSIONS_HINT}"
        ) from None
    if version.major == 22 and version >= Version("22.3"):
        return ApiLine.IQM_CLIENT_22
    if version.major == 36:
        return ApiLine.IQM_SERVER_API
    raise IQMClientVersionError(f"iqm-client {installed} is installed. {_SUPPORTED_VERSIONS_HINT}")


_SUPPORTED_VERSIONS_HINT = (
    "pytket-iqm supports iqm-client "
    f"{SUPPORTED_IQM_CLIENT[ApiLine.IQM_CLIENT_22]} (IQM's REST API of on-premises servers and of "
    "the local emulator; the default install) and "
    f"{SUPPORTED_IQM_CLIENT[ApiLine.IQM_SERVER_API]} (the IQM Server API of IQM Resonance, "
    'Python 3.11+). Install one of them, e.g. pip install "iqm-client>=22.3,<23"; see the '
    "pytket-iqm installation docs for the IQM Server API."
)


def looks_like_device_name(text: object) -> bool:
    """Whether ``text`` is a bare device name (``"garnet"``) rather than a URL."""
    return isinstance(text, str) and _DEVICE_NAME.fullmatch(text) is not None


def server_address(
    url: str | None, server_url: str | None, device: str | None, line: ApiLine
) -> tuple[str, str | None]:
    """The URL and device to connect to, from the seed-era ``url`` or 0.18's ``server_url``;
    with neither, IQM Resonance as ``line`` addresses it (:data:`RESONANCE_URLS`).

    :raises ValueError: both ``url`` and ``server_url`` are given, or neither and no ``device``.
    """
    if url is not None and server_url is not None:
        raise ValueError(
            f"url={url!r} and server_url={server_url!r} both name the server (server_url is "
            "pytket-iqm 0.18's name for it): give one of them."
        )
    given = url if url is not None else server_url
    if given is not None:
        return given, device
    if device is None:
        raise ValueError(
            "IQMBackend needs the device: IQMBackend(device='garnet', token=...) for IQM "
            "Resonance, IQMBackend(server_root, device='garnet') for another IQM server, or "
            "(iqm-client 22.x) IQMBackend(device_url)."
        )
    return RESONANCE_URLS[line], device


def connect(
    url: str,
    device: str | None,
    credentials: Credentials,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ServerConnection:
    """Connect to ``url`` (and ``device``) with the implementation for the installed iqm-client.

    :raises IQMClientVersionError: the installed iqm-client is not a supported version.
    :raises ValueError: ``url``/``device`` do not fit the installed line's addressing.
    :raises IQMCredentialsError: the credentials are not usable on the installed line.
    :raises IQMAuthenticationError: the server or auth server refused the credentials.
    :raises IQMServerError: the server could not be reached.
    :raises IQMDeviceError: the server does not serve ``device``.
    """
    line = installed_api_line()
    # Imported here: each implementation imports its own iqm-client line.
    if line is ApiLine.IQM_CLIENT_22:
        from pytket.extensions.iqm.backends.client_22 import IQMClient22Connection  # noqa: PLC0415

        connection_22: ServerConnection = IQMClient22Connection(
            url, device, credentials, retry=retry, sleep=sleep
        )
        return connection_22
    from pytket.extensions.iqm.backends.client_36 import IQMServerApiConnection  # noqa: PLC0415

    # Typed explicitly: each line's type check skips the other line's module.
    connection: ServerConnection = IQMServerApiConnection(
        url, device, credentials, retry=retry, sleep=sleep
    )
    return connection


CompatibleErrors = Mapping[type[IQMBackendError], type[IQMBackendError]]
"""pytket-iqm's error types, each with its subclass that also derives from the installed
iqm-client's own exception for the same case."""


def compatible_subclass(
    ours: type[IQMBackendError], theirs: tuple[type[Exception], ...], module: str
) -> type[IQMBackendError]:
    """A subclass of ``ours`` that is also each of iqm-client's ``theirs``, under the name of
    ``ours``: code written for iqm-client's exceptions (or for older pytket-iqm, which let
    them through) keeps catching, and so does ``except`` with pytket-iqm's own type."""
    names = ", ".join(f"{kind.__module__}.{kind.__name__}" for kind in theirs)
    subclass = type(
        ours.__name__,
        (ours, *theirs),
        {"__module__": module, "__doc__": f"{ours.__doc__}\n\nAlso a {names}."},
    )
    return cast("type[IQMBackendError]", subclass)


def compatible_error(kind: type[_E], message: str) -> _E:
    """``kind(message)``, as the subclass that is also the installed iqm-client's own exception
    for the same case where it has one (see :data:`CompatibleErrors`), else ``kind`` itself."""
    try:
        line = installed_api_line()
    except IQMClientVersionError:
        return kind(message)
    # Imported here: each table lives with its line's connection and imports its iqm-client.
    module = "client_22" if line is ApiLine.IQM_CLIENT_22 else "client_36"
    table: CompatibleErrors = importlib.import_module(
        f"pytket.extensions.iqm.backends.{module}"
    ).COMPATIBLE_ERRORS
    return cast("_E", table.get(kind, kind)(message))


def metric_values(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Quality metrics as ``{name: value}`` (iqm-client 22 wraps each value in an entry)."""
    return {
        name: entry.get("value") if isinstance(entry, Mapping) else entry
        for name, entry in metrics.items()
    }


__all__ = [
    "CLIENT_SIGNATURE",
    "HERALDING_MODES",
    "MOVE_FRAME_TRACKING_MODES",
    "MOVE_VALIDATION_MODES",
    "RESONANCE_URLS",
    "SUPPORTED_IQM_CLIENT",
    "TERMINAL_STATUSES",
    "ApiLine",
    "CompatibleErrors",
    "DeadlineReachedError",
    "JobRecord",
    "JobState",
    "RunOptions",
    "ServerConnection",
    "compatible_error",
    "compatible_subclass",
    "connect",
    "hidden_iqm_environment",
    "installed_api_line",
    "looks_like_device_name",
    "metric_values",
    "never_retry",
    "server_address",
]
