"""The backend's only door to an IQM server: a thin wrapper around iqm-client 22.x's ``IQMClient``.

It builds the client (one credential source, our signature, no deprecation noise), turns
iqm-client's and requests' exceptions into pytket-iqm's typed errors, and does the waiting
with a timeout of its own. The backend never builds HTTP requests itself.
"""

from __future__ import annotations

import contextlib
import os
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

_T = TypeVar("_T")


@dataclass(frozen=True)
class JobState:
    """What the server says about a job right now."""

    status: Status
    message: str | None = None


class IQMServerConnection:
    """One IQM server (device URL) with one set of credentials."""

    def __init__(self, url: str, credentials: Credentials) -> None:
        """Connect: builds ``IQMClient``, which checks the server's client-library versions.

        :raises IQMAuthenticationError: the auth server refused the login.
        :raises IQMServerError: the server could not be reached.
        """
        self.url = url
        self._credentials = credentials
        with _hidden_auth_environment(), warnings.catch_warnings():
            # iqm-client 22 warns that its default API variant is deprecated; it is the variant
            # that serves every endpoint we use, and the warning is not actionable for users.
            warnings.filterwarnings(
                "ignore", message="The V1 API is deprecated", category=DeprecationWarning
            )
            self._client = _translate_errors(
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
            )

    def __repr__(self) -> str:
        return f"IQMServerConnection(url={self.url!r}, credentials={self._credentials.source!r})"

    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicQuantumArchitecture:
        """The device's gates and loci for a calibration set (``None``: the server's default).

        :raises IQMDeviceError: the server does not know the calibration set.
        """
        return _translate_errors(
            lambda: self._client.get_dynamic_quantum_architecture(calibration_set_id),
            f"get the dynamic architecture of calibration set {calibration_set_id or 'default'}",
            not_found=IQMDeviceError(
                f"The server at {self.url} has no calibration set {calibration_set_id}."
            ),
        )

    def quality_metrics(self, calibration_set_id: UUID) -> QualityMetricSet | None:
        """The calibration set's quality metrics; ``None`` when the server does not serve them."""
        try:
            return self._client.get_quality_metric_set(calibration_set_id)
        except (requests.RequestException, ValueError, EndpointRequestError, ValidationError):
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

        :raises IQMDeviceError: the circuits do not fit the device's calibration.
        :raises IQMServerError: the server refused the job (its message is included).
        """
        return _translate_errors(
            lambda: self._client.submit_circuits(
                list(circuits),
                calibration_set_id=calibration_set_id,
                shots=shots,
                options=options,
            ),
            "submit a job",
        )

    def state(self, job_id: UUID) -> JobState:
        """The job's current status (and failure message)."""
        run_status = _translate_errors(
            lambda: self._client.get_run_status(job_id), f"get the status of job {job_id}"
        )
        return JobState(run_status.status, run_status.message)

    def run_result(self, job_id: UUID) -> RunResult:
        """The job's full record (status, measurements when ready, metadata), without raising for
        a failed job."""
        # get_run raises for failed jobs; the raw V1 call returns the record whatever the status,
        # which is what status reporting and metadata need.
        return _translate_errors(
            lambda: self._client._get_run_v1(job_id),
            f"get job {job_id}",
        )

    def wait(self, job_id: UUID, *, timeout: float | None, poll_interval: float) -> JobState:
        """Poll the job's status until it is terminal.

        :raises IQMTimeoutError: still not terminal after ``timeout`` seconds; names the job and
            its last status.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # Short jobs finish in milliseconds on the emulator; back off towards poll_interval.
        pause = min(_FIRST_POLL_PAUSE, poll_interval)
        while True:
            job_state = self.state(job_id)
            if job_state.status in Status.terminal_statuses():
                return job_state
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IQMTimeoutError(
                        f"Job {job_id} was still '{job_state.status.value}' after {timeout} s. "
                        "The handle stays valid: call get_result again later, with a longer "
                        "timeout."
                    )
                pause = min(pause, remaining)
            time.sleep(pause)
            pause = min(pause * 1.5, poll_interval)

    def abort(self, job_id: UUID) -> None:
        """Ask the server to abort the job."""
        _translate_errors(lambda: self._client.abort_job(job_id), f"abort job {job_id}")

    def close(self) -> None:
        """End an auth-server session (no-op for tokens or no authentication)."""
        if self._credentials.mode != "auth_server":
            return
        with contextlib.suppress(ClientAuthenticationError, requests.RequestException):
            self._client.close_auth_session()


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


def _translate_errors(
    call: Callable[[], _T],
    action: str,
    *,
    not_found: Exception | None = None,
) -> _T:
    """Run ``call``; turn iqm-client's and requests' exceptions into pytket-iqm's errors."""
    try:
        return call()
    except ClientAuthenticationError as error:
        raise IQMAuthenticationError(f"Could not {action}: {error}") from None
    except CircuitValidationError as error:
        raise IQMDeviceError(f"Could not {action}: {error}") from None
    except (ClientConfigurationError, JobAbortionError, EndpointRequestError) as error:
        raise IQMServerError(f"Could not {action}: {error}") from None
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 404 and not_found is not None:
            raise not_found from None
        raise IQMServerError(f"Could not {action}: {error}") from None
    except requests.RequestException as error:
        raise IQMServerError(f"Could not {action}: the server did not answer ({error}).") from None
