"""The backend's connection for iqm-client 36.x: the IQM Server API (``/api/v1``).

IQM Resonance and newer IQM servers speak this API. A device is addressed by the server's root
URL (``https://resonance.iqm.tech``, or the emulator's
:attr:`~pytket.extensions.iqm.emulator.IQMEmulator.root_url`) and its name (``device``);
authentication is by token or tokens file only. This module builds iqm-client 36's
``IQMClient``, converts between the neutral types of :mod:`.types` and iqm-client 36's models
(``locus`` and radians for circuits, job data for status), and turns its exceptions into
pytket-iqm's typed errors.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import requests
from exa.common.errors.iqm_error import (
    AuthenticationError,
    BadGatewayError,
    CircuitExecutionError,
    CircuitValidationError,
    ForbiddenError,
    IQMError,
    NotFoundError,
    OperationTimeoutError,
    RateLimitError,
    SystemUnavailableError,
)
from exa.common.errors.iqm_error import ValidationError as IQMValidationError
from pytket.backends.status import StatusEnum

from iqm.iqm_client import CircuitCompilationOptions, IQMClient
from iqm.iqm_server_client.iqm_server_client import IQMServerClient
from iqm.iqm_server_client.iqm_server_executor import IQMServerExecutor
from iqm.iqm_server_client.iqm_server_storage import IQMServerStorage
from iqm.pulse.builder import CircuitOperation
from iqm.pulse.circuit_operations import Circuit
from iqm.station_control.client.authentication import (
    ClientAuthenticationError,
    ClientConfigurationError,
)
from iqm.station_control.interface.executor_interface import JobTracker
from iqm.station_control.interface.models.circuit import (
    CircuitBatch,
    HeraldingMode,
    MoveGateFrameTrackingMode,
    MoveGateValidationMode,
)
from iqm.station_control.interface.models.jobs_new import JobData, JobStatus
from pytket.extensions.iqm.backends.architecture import DynamicArchitecture
from pytket.extensions.iqm.backends.connection.compatible_errors import (
    CompatibleErrors,
    compatible_subclass,
)
from pytket.extensions.iqm.backends.connection.credentials import Credentials
from pytket.extensions.iqm.backends.connection.idempotency import IdempotentSubmissions
from pytket.extensions.iqm.backends.connection.interface import (
    CLIENT_SIGNATURE,
    ServerConnection,
    hidden_iqm_environment,
)
from pytket.extensions.iqm.backends.connection.retry import (
    RequestNotTakenError,
    RetriesExhaustedError,
    RetryPolicy,
    is_transient,
    never_reached_server,
    not_taken_error,
    retry_call,
)
from pytket.extensions.iqm.backends.connection.types import (
    RESONANCE_URLS,
    ApiLine,
    JobRecord,
    JobState,
    RunOptions,
)
from pytket.extensions.iqm.backends.metadata import ServerApiJobMetadata, server_api_metadata
from pytket.extensions.iqm.backends.translation import IQMCircuit
from pytket.extensions.iqm.errors import (
    IQMAuthenticationError,
    IQMCredentialsError,
    IQMDeviceError,
    IQMJobFailedError,
    IQMServerError,
)

COMPATIBLE_ERRORS: CompatibleErrors = {
    ours: compatible_subclass(ours, theirs, __name__)
    for ours, theirs in (
        (IQMAuthenticationError, (AuthenticationError, ClientAuthenticationError)),
        (IQMCredentialsError, (ClientConfigurationError,)),
        (IQMDeviceError, (CircuitValidationError,)),
        (IQMJobFailedError, (CircuitExecutionError,)),
    )
}
"""Where iqm-client 36 raises its own exception for a case, pytket-iqm's error for it is also
that exception (refused credentials, conflicting credentials, a circuit the calibration cannot
run, a failed job). Its waits time out with Python's ``TimeoutError``, which
:class:`~pytket.extensions.iqm.IQMTimeoutError` already is."""

RESONANCE_URL = RESONANCE_URLS[ApiLine.SERVER_API]

_STATUS_MAP = {
    JobStatus.WAITING: StatusEnum.QUEUED,
    JobStatus.PROCESSING: StatusEnum.RUNNING,
    JobStatus.COMPLETED: StatusEnum.COMPLETED,
    JobStatus.FAILED: StatusEnum.ERROR,
    JobStatus.CANCELLED: StatusEnum.CANCELLED,
}

_TRANSIENT_ERRORS = (BadGatewayError, SystemUnavailableError, OperationTimeoutError, RateLimitError)

# Instruction arguments in turns (the neutral form) that the IQM Server API takes in radians.
_TURN_ARGUMENTS = {"angle_t": "angle", "phase_t": "phase"}


class ServerApiConnection(ServerConnection):
    """One device of an IQM Server (API v1) with a token, through iqm-client 36.x.

    :param url: the server's root URL.
    :param device: the device (quantum computer) alias; ``None``: the server's only one.
    :param credentials: a token, a tokens file, or none (an open server).
    :param retry: retry and request-timeout policy (default: :class:`RetryPolicy`'s defaults).
    :param sleep: pause function between attempts (tests replace it).
    """

    api_line = ApiLine.SERVER_API

    def __init__(
        self,
        url: str,
        device: str | None,
        credentials: Credentials,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect: lists the server's quantum computers and picks ``device``.

        :raises ValueError: ``url`` is not a server root (the message shows the right form).
        :raises IQMCredentialsError: a username/password login was asked for.
        :raises IQMDeviceError: the server has no device ``device``, or several and none named.
        :raises IQMAuthenticationError: the server refused the token.
        :raises IQMServerError: the server could not be reached.
        """
        root = _server_root(url, device)
        if credentials.mode == "auth_server":
            raise COMPATIBLE_ERRORS[IQMCredentialsError](
                f"Got an {credentials.source} (username and password), but the "
                "installed iqm-client 36 speaks the IQM Server API, which authenticates with "
                "tokens only: pass token=... or tokens_file=... (or set IQM_TOKEN or "
                "IQM_TOKENS_FILE). Logins through an auth server need iqm-client 22.x "
                '(pip install "iqm-client>=22.3,<23").'
            )
        super().__init__(root, device or "", credentials, retry=retry, sleep=sleep)
        with hidden_iqm_environment():
            self._client = self._call(
                lambda: self._build_client(root, device, credentials),
                f"connect to {root}",
                retryable=never_reached_server,
            )
        self.device_name = self._client._executor.client.quantum_computer

    def _build_client(self, root: str, device: str | None, credentials: Credentials) -> IQMClient:
        """``IQMClient.from_url``, with our request timeout (``from_url`` cannot pass one)."""
        server = _ObservedServerClient(
            root,
            idempotency=self.idempotency,
            quantum_computer=device,
            token=credentials.token,
            tokens_file=credentials.tokens_file,
            client_signature=CLIENT_SIGNATURE,
            timeout=self.retry.request_timeout,
        )
        return IQMClient(
            executor=IQMServerExecutor(client=server), storage=IQMServerStorage(client=server)
        )

    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicArchitecture:
        """See :meth:`ServerConnection.dynamic_architecture`."""
        dqa = self._call(
            lambda: self._client.get_dynamic_quantum_architecture(calibration_set_id),
            f"get the dynamic architecture of calibration set {calibration_set_id or 'default'}",
            not_found=IQMDeviceError(
                f"Device {self.device_name!r} at {self.url} has no calibration set "
                f"{calibration_set_id}."
            ),
        )
        return DynamicArchitecture.from_json(dqa.model_dump(mode="json"))

    def quality_metrics(self, calibration_set_id: UUID) -> dict[str, Any] | None:
        """See :meth:`ServerConnection.quality_metrics`."""
        try:
            metric_set = retry_call(
                lambda: self._client.get_quality_metric_set(calibration_set_id),
                policy=self.retry,
                retryable=self._is_transient,
                action=f"get the quality metrics of calibration set {calibration_set_id}",
                sleep=self._sleep,
                rng=self._rng,
            )
        except (AuthenticationError, ForbiddenError, ClientAuthenticationError) as error:
            raise COMPATIBLE_ERRORS[IQMAuthenticationError](
                f"The server at {self.url} refused the token ({error}). Check the token or "
                "tokens file."
            ) from None
        except (IQMError, requests.RequestException, RetriesExhaustedError, ValueError):
            # Quality metrics are optional on IQM servers.
            return None
        return {
            observation.dut_field: observation.value
            for observation in metric_set.observations
            if not observation.invalid
        }

    def submit(
        self,
        circuits: Sequence[IQMCircuit],
        *,
        shots: int,
        calibration_set_id: UUID | None,
        options: RunOptions,
    ) -> UUID:
        """See :meth:`ServerConnection.submit`."""
        client_circuits: CircuitBatch = [_client_circuit(circuit) for circuit in circuits]
        client_options = _client_options(options)
        tracker = self._submit_call(
            lambda: self._client.submit_circuits(
                client_circuits,
                calibration_set_id=calibration_set_id,
                shots=shots,
                options=client_options,
            )
        )
        return UUID(str(tracker.job_id))

    def _tracker(self, job_id: UUID, action: str, deadline: float | None = None) -> JobTracker[Any]:
        def fetch() -> JobTracker[Any]:
            # get_job repeats the job's messages as warnings on every call; the backend reports
            # them itself (status message, metadata).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self._client.get_job(job_id)

        return self._call(fetch, action, deadline=deadline)

    def _job_data(self, job_id: UUID, action: str, deadline: float | None = None) -> JobData:
        return self._tracker(job_id, action, deadline).job_data

    def state(self, job_id: UUID, *, deadline: float | None = None) -> JobState:
        """See :meth:`ServerConnection.state`."""
        return _job_state(self._job_data(job_id, f"get the status of job {job_id}", deadline))

    def record(self, job_id: UUID) -> JobRecord:
        """See :meth:`ServerConnection.record`; the payload is in its metadata as
        ``request``."""
        tracker = self._tracker(job_id, f"get job {job_id}")
        job_data = tracker.job_data
        state = _job_state(job_data)
        measurements = None
        if job_data.status == JobStatus.COMPLETED:
            measurements = self._call(
                lambda: self._client.get_job_measurements(job_id),
                f"get the measurements of job {job_id}",
            )
        metadata = job_data.model_dump(mode="json", exclude_none=True, exclude={"id", "status"})
        compilation = metadata.pop("compilation", None) or {}
        if "calibration_set_id" in compilation:
            metadata["calibration_set_id"] = compilation["calibration_set_id"]
        # The request as the server recorded it (shots, options, circuits), as on the 22.x line.
        with warnings.catch_warnings():
            # iqm-client 36 reads the payload back through its own deprecated circuit models.
            warnings.simplefilter("ignore", DeprecationWarning)
            request = self._call(tracker.payload, f"get the request of job {job_id}")
        metadata["request"] = request.model_dump(mode="json", exclude_none=True)
        return JobRecord(
            state=state,
            measurements=[dict(circuit) for circuit in measurements] if measurements else None,
            metadata=metadata,
        )

    def job_metadata(
        self,
        job_id: UUID,
        record: JobRecord,
        *,
        circuit_index: int,
        qubit_mapping: Sequence[tuple[str, str]],
    ) -> ServerApiJobMetadata:
        """See :meth:`ServerConnection.job_metadata`: a :class:`ServerApiJobMetadata`."""
        return server_api_metadata(
            record.metadata,
            job_id=str(job_id),
            circuit_index=circuit_index,
            status=record.state.server_status,
            api=self.api_line.value,
            qubit_mapping=qubit_mapping,
        )

    def abort(self, job_id: UUID) -> None:
        """See :meth:`ServerConnection.abort` (the IQM Server API calls it cancelling)."""
        self._call(
            lambda: self._client.cancel_job(job_id),
            f"cancel job {job_id}",
            retryable=never_reached_server,
        )

    def close(self) -> None:
        """Nothing to release: the IQM Server API has no sessions."""

    def _is_transient(self, error: BaseException) -> bool:
        return is_transient(error) or isinstance(error, _TRANSIENT_ERRORS)

    def _translated(
        self,
        error: BaseException,
        action: str,
        *,
        not_found: Exception | None = None,
        attempts: str = "",
    ) -> Exception:
        """See :meth:`ServerConnection._translated`."""
        if isinstance(error, (AuthenticationError, ForbiddenError, ClientAuthenticationError)):
            return COMPATIBLE_ERRORS[IQMAuthenticationError](
                f"Could not {action}: the server refused the token ({_message(error)}). Check "
                "the token or tokens file."
            )
        if isinstance(error, ClientConfigurationError) and "quantum computer" in str(error):
            return IQMDeviceError(
                f"Could not {action}: {str(error).rstrip('.')}. Name one of them: "
                f"IQMBackend({self.url!r}, device='<name>')."
            )
        if isinstance(error, NotFoundError) and not_found is not None:
            return not_found
        if isinstance(error, IQMValidationError):
            return COMPATIBLE_ERRORS[IQMDeviceError](f"Could not {action}: {_message(error)}")
        if isinstance(error, (IQMError, ClientConfigurationError, RequestNotTakenError)):
            return IQMServerError(f"Could not {action}: {_message(error)}{attempts}")
        if isinstance(error, requests.RequestException):
            return IQMServerError(
                f"Could not {action}: the server did not answer ({error}){attempts}."
            )
        if isinstance(error, Exception):
            return error
        return RuntimeError(str(error))  # pragma: no cover - only Exceptions are caught


class _ObservedServerClient(IQMServerClient):
    """iqm-client 36's server client; a 429 or 503 answer raises
    :class:`~.retry.RequestNotTakenError`, which keeps ``Retry-After`` (iqm-client's own errors
    drop the headers). It also adds a submission's idempotency key to its requests and shows
    every answer to ``idempotency`` (see :mod:`.idempotency`)."""

    def __init__(self, *args: Any, idempotency: IdempotentSubmissions, **kwargs: Any) -> None:
        self.idempotency = idempotency  # before the constructor's own requests
        super().__init__(*args, **kwargs)

    def send_request(
        self,
        http_method: Callable[..., requests.Response],
        url_path: str,
        **kwargs: Any,
    ) -> requests.Response:
        def observed(url: str, **request_kwargs: Any) -> requests.Response:
            key = self.idempotency.headers()
            if key:
                request_kwargs["headers"] = {**(request_kwargs.get("headers") or {}), **key}
            response = http_method(url, **request_kwargs)
            self.idempotency.observe(response.headers)
            refusal = not_taken_error(response)
            if refusal is not None:
                raise refusal
            return response

        # iqm-client reads the method's name (POST, GET, ...) from the function.
        observed.__name__ = http_method.__name__
        return super().send_request(observed, url_path, **kwargs)


def _message(error: object) -> str:
    """An IQM error's own message (its ``str`` may carry the whole HTTP body)."""
    return str(getattr(error, "message", None) or error)


def _server_root(url: str, device: str | None) -> str:
    """The server root for iqm-client 36, refusing (with the right form) what it would refuse.

    :raises ValueError: ``url`` has a path (a device URL of the older API) or an obsolete
        ``cocos.`` host.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    root = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.strip("/")
    named_device = device or path.rsplit("/", 1)[-1].split(":", 1)[0] or "garnet"
    if host.startswith("cocos."):
        new_root = (
            RESONANCE_URL
            if "resonance" in host
            else f"{parts.scheme}://{parts.netloc.replace('cocos.', '', 1)}"
        )
        raise ValueError(
            f"{url!r} is a URL of IQM's obsolete CoCoS API; the installed iqm-client 36 speaks "
            f"the IQM Server API: use IQMBackend({new_root!r}, device={named_device!r})."
        )
    if path:
        raise ValueError(
            "With iqm-client 36 (the IQM Server API) the URL is the server's root and the "
            f"device is its own argument: use IQMBackend({root!r}, device={named_device!r}) "
            f"instead of IQMBackend({url!r})."
        )
    if parts.query or parts.fragment:
        raise ValueError(f"url {url!r} has a query or fragment; give the server root, {root!r}.")
    if parts.scheme == "http" and host not in ("localhost", "127.0.0.1"):
        local = "" if host != "::1" else " (for this machine, use http://127.0.0.1:<port>)"
        raise ValueError(
            "iqm-client 36 sends plain http requests only to localhost and 127.0.0.1; use "
            f"{'https://' + parts.netloc!r} instead of {url!r}{local}."
        )
    return root


def _job_state(job_data: JobData) -> JobState:
    message = "; ".join(_message(error) for error in job_data.errors) or None
    return JobState(
        status=_STATUS_MAP.get(job_data.status, StatusEnum.SUBMITTED),
        server_status=str(job_data.status.value),
        message=message,
    )


def _client_circuit(circuit: IQMCircuit) -> Circuit:
    """iqm-client 36's circuit: ``locus``, angles in radians."""
    return Circuit(
        name=circuit.name,
        instructions=tuple(
            CircuitOperation(
                name=instruction.name,
                locus=instruction.locus,
                args={
                    _TURN_ARGUMENTS.get(name, name): (
                        value * 2 * math.pi if name in _TURN_ARGUMENTS else value
                    )
                    for name, value in instruction.args.items()
                },
            )
            for instruction in circuit.instructions
        ),
    )


def _client_options(options: RunOptions) -> CircuitCompilationOptions:
    return CircuitCompilationOptions(
        max_circuit_duration_over_t2=options.max_circuit_duration_over_t2,
        heralding_mode=HeraldingMode(options.heralding_mode),
        move_gate_validation=MoveGateValidationMode(options.move_validation_mode),
        move_gate_frame_tracking=MoveGateFrameTrackingMode(options.move_gate_frame_tracking_mode),
    )
