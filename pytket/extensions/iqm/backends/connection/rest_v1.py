"""The backend's connection for iqm-client 22.x: IQM's REST API of on-premises servers.

A device is addressed by its URL (``https://host/garnet``, or the emulator's
:attr:`~pytket.extensions.iqm.emulator.IQMEmulator.url`). This module builds iqm-client's
``IQMClient`` (one credential source, our signature, no deprecation noise), converts between
the neutral types of :mod:`.types` and iqm-client 22's models, and turns iqm-client's and
requests' exceptions into pytket-iqm's typed errors.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import requests
from pydantic import ValidationError
from pytket.backends.status import StatusEnum

from iqm.iqm_client import (
    APITimeoutError,
    Circuit,
    CircuitCompilationOptions,
    CircuitExecutionError,
    CircuitValidationError,
    ClientAuthenticationError,
    ClientConfigurationError,
    EndpointRequestError,
    HeraldingMode,
    Instruction,
    IQMClient,
    JobAbortionError,
    Metadata,
    MoveGateFrameTrackingMode,
    MoveGateValidationMode,
    RunResult,
    SingleQubitMapping,
    Status,
)
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
    metric_values,
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
from pytket.extensions.iqm.backends.connection.types import ApiLine, JobRecord, JobState, RunOptions
from pytket.extensions.iqm.backends.metadata import (
    SentInstruction,
    line_only_error,
    recorded_qubit_mapping,
)
from pytket.extensions.iqm.backends.translation import IQMCircuit
from pytket.extensions.iqm.errors import (
    IQMAuthenticationError,
    IQMCredentialsError,
    IQMDeviceError,
    IQMJobFailedError,
    IQMServerError,
    IQMTimeoutError,
    IQMTranslationError,
)

COMPATIBLE_ERRORS: CompatibleErrors = {
    ours: compatible_subclass(ours, theirs, __name__)
    for ours, theirs in (
        (IQMAuthenticationError, (ClientAuthenticationError,)),
        (IQMCredentialsError, (ClientConfigurationError,)),
        (IQMDeviceError, (CircuitValidationError,)),
        (IQMJobFailedError, (CircuitExecutionError,)),
        (IQMTimeoutError, (APITimeoutError,)),
    )
}
"""Where iqm-client 22 raises its own exception for a case, pytket-iqm's error for it is also
that exception (refused credentials, conflicting credentials, a circuit the calibration cannot
run, a failed job, a wait that timed out)."""

_STATUS_MAP: dict[Status, StatusEnum] = {
    Status.RECEIVED: StatusEnum.SUBMITTED,
    Status.ACCEPTED: StatusEnum.SUBMITTED,
    Status.PROCESSING: StatusEnum.SUBMITTED,
    Status.PENDING_COMPILATION: StatusEnum.QUEUED,
    Status.COMPILED: StatusEnum.QUEUED,
    Status.PENDING_EXECUTION: StatusEnum.QUEUED,
    Status.READY: StatusEnum.COMPLETED,
    Status.FAILED: StatusEnum.ERROR,
    Status.ABORTED: StatusEnum.CANCELLED,
    Status.PENDING_DELETION: StatusEnum.ERROR,
    Status.DELETION_FAILED: StatusEnum.ERROR,
    Status.DELETED: StatusEnum.ERROR,
    Status.UNKNOWN: StatusEnum.SUBMITTED,
}


_SERVER_API_INSTEAD = "'timestamps' (when each stage started and ended)"


class RestV1JobMetadata(Metadata):
    """iqm-client 22's ``Metadata`` of a job (calibration set, the request as sent with the
    qubit mapping the backend applied, timestamps), with the fields of the old dictionary
    form."""

    job_id: str
    """The IQM job id (UUID string)."""
    circuit_index: int
    """The handle's circuit within the job's batch (``request.circuits[circuit_index]``)."""
    status: str
    """The server's word for the job's status."""
    api: str
    """The API line, ``"iqm-client-22"``."""

    @property
    def timeline(self) -> Any:
        """On the IQM Server API line only."""
        raise line_only_error(
            "timeline",
            has_it="the IQM Server API line (iqm-client 36.x)",
            instead=_SERVER_API_INSTEAD,
        )


class RestV1Connection(ServerConnection):
    """One IQM device URL with one set of credentials, through iqm-client 22.x.

    :param url: the device URL, or the server root when ``device`` is given.
    :param device: the device name, appended to ``url`` (``None``: ``url`` is the device URL).
    :param credentials: the one credential source to use.
    :param retry: retry and request-timeout policy (default: :class:`RetryPolicy`'s defaults).
    :param sleep: pause function between attempts (tests replace it).
    """

    api_line = ApiLine.REST_V1

    def __init__(
        self,
        url: str,
        device: str | None,
        credentials: Credentials,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect: builds ``IQMClient``, which checks the server's client-library versions.

        :raises ValueError: ``device`` is given and ``url`` already names another device.
        :raises IQMAuthenticationError: the auth server refused the login.
        :raises IQMServerError: the server could not be reached.
        """
        device_url = _device_url(url, device)
        super().__init__(
            device_url, _device_name(device_url), credentials, retry=retry, sleep=sleep
        )
        with hidden_iqm_environment(), warnings.catch_warnings():
            # iqm-client 22 warns that its default API variant is deprecated; it is the variant
            # that serves every endpoint we use, and the warning is not actionable for users.
            warnings.filterwarnings(
                "ignore", message="The V1 API is deprecated", category=DeprecationWarning
            )
            # Raised when the version check's request fails (a refused login, an unreachable
            # server): the first real request then fails with a typed error that says so.
            warnings.filterwarnings(
                "ignore", message="Could not verify IQM Client compatibility", category=UserWarning
            )
            self._client = self._call(
                lambda: _ObservedIQMClient(
                    device_url,
                    idempotency=self.idempotency,
                    client_signature=CLIENT_SIGNATURE,
                    token=credentials.token,
                    tokens_file=credentials.tokens_file,
                    auth_server_url=credentials.auth_server_url,
                    username=credentials.username,
                    password=credentials.password,
                ),
                f"connect to {device_url}",
                retryable=never_reached_server,
            )
        if self._client.login_refusal is not None:
            # The version check's login failed (iqm-client only warns): report it now, instead
            # of logging in again for the first request.
            raise COMPATIBLE_ERRORS[IQMAuthenticationError](
                _auth_message(device_url, self._client.login_refusal, "log in")
            )
        self._client.login_retries = 1

    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicArchitecture:
        """See :meth:`ServerConnection.dynamic_architecture`."""
        dqa = self._call(
            lambda: self._client.get_dynamic_quantum_architecture(
                calibration_set_id, timeout_secs=self.retry.request_timeout
            ),
            f"get the dynamic architecture of calibration set {calibration_set_id or 'default'}",
            not_found=(
                IQMDeviceError(
                    f"The server at {self.url} has no calibration set {calibration_set_id}."
                )
                if calibration_set_id is not None
                else None
            ),
            unknown=self._unknown_device_error if calibration_set_id is None else None,
        )
        return DynamicArchitecture.from_json(dqa.model_dump(mode="json"))

    def _unknown_device_error(self) -> IQMDeviceError:
        """The device URL answers 404 for the default calibration: it names no device of the
        server. Says which devices the server has (where it lists them) and the form to use."""
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/")
        root = f"{parts.scheme}://{parts.netloc}{path.rsplit('/', 1)[0] if path else ''}"
        served = self._served_devices(root)
        example = served[0] if served else "<device>"
        listing = (
            f"it serves {', '.join(repr(name) for name in served)}"
            if served
            else "it does not list its devices"
        )
        if not path:
            return IQMDeviceError(
                f"{self.url} is the server's root, not a device ({listing}): name the device, "
                f"IQMBackend({root!r}, device={example!r}), or give its URL, "
                f"IQMBackend({root + '/' + example!r})."
            )
        return IQMDeviceError(
            f"The server at {root} has no device {self.device_name!r} ({listing}): use "
            f"IQMBackend({root!r}, device={example!r}) or IQMBackend({root + '/' + example!r})."
        )

    def _served_devices(self, root: str) -> list[str]:
        """The device names the server lists in the IQM Server API's registry (newer IQM servers
        and the emulator serve it next to the REST API); empty when it lists none."""
        try:
            response = requests.get(
                f"{root}/api/v1/quantum-computers",
                headers=self._client._default_headers(),
                timeout=self.retry.request_timeout,
            )
            response.raise_for_status()
            listed = response.json()["quantum_computers"]
            return [str(entry["alias"]) for entry in listed]
        except (
            requests.RequestException,
            ValueError,
            KeyError,
            TypeError,
            ClientAuthenticationError,
        ):
            return []

    def quality_metrics(self, calibration_set_id: UUID) -> dict[str, Any] | None:
        """See :meth:`ServerConnection.quality_metrics`."""
        try:
            metric_set = retry_call(
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
            raise COMPATIBLE_ERRORS[IQMAuthenticationError](
                _auth_message(self.url, error, "get the quality metrics")
            ) from None
        return metric_values(metric_set.metrics or {})

    def submit(
        self,
        circuits: Sequence[IQMCircuit],
        *,
        shots: int,
        calibration_set_id: UUID | None,
        options: RunOptions,
    ) -> UUID:
        """See :meth:`ServerConnection.submit`. The job is certainly not received when the
        connection was refused or iqm-client's calibration GET before the POST failed.

        :raises IQMTranslationError: iqm-client refuses an instruction."""
        client_circuits = [_client_circuit(circuit) for circuit in circuits]
        client_options = _client_options(options)
        return self._submit_call(
            lambda: self._client.submit_circuits(
                client_circuits,
                calibration_set_id=calibration_set_id,
                shots=shots,
                options=client_options,
            )
        )

    def state(self, job_id: UUID, *, deadline: float | None = None) -> JobState:
        """See :meth:`ServerConnection.state`."""
        run_status = self._call(
            lambda: self._client.get_run_status(
                job_id, timeout_secs=self._request_timeout(deadline)
            ),
            f"get the status of job {job_id}",
            deadline=deadline,
        )
        return _job_state(run_status.status, run_status.message)

    def record(self, job_id: UUID) -> JobRecord:
        """See :meth:`ServerConnection.record`."""
        # get_run raises for failed jobs; the raw V1 call returns the record whatever the status,
        # which is what status reporting and metadata need.
        run: RunResult = self._call(
            lambda: self._client._get_run_v1(job_id, timeout_secs=self.retry.request_timeout),
            f"get job {job_id}",
        )
        return JobRecord(
            state=_job_state(run.status, run.message),
            measurements=run.measurements,
            metadata=run.metadata.model_dump(mode="json", exclude_none=True),
        )

    def job_metadata(
        self,
        job_id: UUID,
        record: JobRecord,
        *,
        circuit_index: int,
        qubit_mapping: Sequence[tuple[str, str]],
    ) -> RestV1JobMetadata:
        """See :meth:`ServerConnection.job_metadata`: iqm-client's own ``Metadata`` (a
        :class:`RestV1JobMetadata`), its request carrying the circuit's qubit mapping."""
        recorded = Metadata.model_validate(record.metadata)
        request = recorded.request
        if request is not None:
            pairs = list(qubit_mapping) or [
                (mapping.logical_name, mapping.physical_name)
                for mapping in recorded_qubit_mapping(
                    [
                        SentInstruction(instruction.name, tuple(instruction.qubits))
                        for instruction in request.circuits[circuit_index].instructions
                    ]
                    if circuit_index < len(request.circuits)
                    else []
                )
            ]
            request = request.model_copy(
                update={
                    "qubit_mapping": [
                        SingleQubitMapping(logical_name=logical, physical_name=physical)
                        for logical, physical in pairs
                    ]
                }
            )
        fields = {name: getattr(recorded, name) for name in type(recorded).model_fields}
        return RestV1JobMetadata(
            **{**fields, "request": request},
            job_id=str(job_id),
            circuit_index=circuit_index,
            status=record.state.server_status,
            api=self.api_line.value,
        )

    def abort(self, job_id: UUID) -> None:
        """See :meth:`ServerConnection.abort`."""
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

    def _translated(
        self,
        error: BaseException,
        action: str,
        *,
        not_found: Exception | None = None,
        attempts: str = "",
    ) -> Exception:
        """See :meth:`ServerConnection._translated`."""
        if isinstance(error, ClientAuthenticationError):
            return COMPATIBLE_ERRORS[IQMAuthenticationError](_auth_message(self.url, error, action))
        if isinstance(error, CircuitValidationError):
            return COMPATIBLE_ERRORS[IQMDeviceError](f"Could not {action}: {error}")
        if isinstance(error, (ClientConfigurationError, JobAbortionError, EndpointRequestError)):
            return IQMServerError(f"Could not {action}: {error}{attempts}")
        if isinstance(error, RequestNotTakenError):
            return IQMServerError(f"Could not {action}: {error}{attempts}")
        if isinstance(error, requests.HTTPError):
            status = error.response.status_code if error.response is not None else None
            if status == 404 and not_found is not None:
                return not_found
            return IQMServerError(f"Could not {action}: {error}{attempts}")
        if isinstance(error, requests.RequestException):
            return IQMServerError(
                f"Could not {action}: the server did not answer ({error}){attempts}."
            )
        if isinstance(error, Exception):
            return error
        return RuntimeError(str(error))  # pragma: no cover - only Exceptions are caught


_LISTING_FAILURES = (
    requests.RequestException,
    ValueError,
    KeyError,
    TypeError,
    ClientAuthenticationError,
)
"""Ways listing a server's devices can fail; the error message then goes without the list."""


class _ObservedIQMClient(IQMClient):
    """iqm-client 22's client, with two changes that its hooks allow.

    * A 429 or 503 answer raises :class:`~.retry.RequestNotTakenError` (with ``Retry-After``):
      iqm-client would report a 429 as a configuration error without its status.
    * One login attempt while it is built, and the refusal is kept: iqm-client tries twice per
      request, and its constructor hides a refused login behind a warning, so a wrong password
      cost four login requests before the first error.

    It also adds a submission's idempotency key to its requests and shows every answer to
    ``idempotency`` (see :mod:`.idempotency`).
    """

    def __init__(self, *args: Any, idempotency: IdempotentSubmissions, **kwargs: Any) -> None:
        self.idempotency = idempotency  # before the constructor's own requests
        super().__init__(*args, **kwargs)

    login_refusal: ClientAuthenticationError | None = None
    """The last refused login (``None`` after a successful one)."""
    login_retries = 0
    """Logins repeated after a refused one within a request: none while the constructor runs
    (a wrong password is reported after one login), then iqm-client's one (a refresh that
    races a token's expiry gets a second chance)."""

    def _retry_request_on_error(
        self, request: Callable[[], requests.Response]
    ) -> requests.Response:
        response = super()._retry_request_on_error(request)
        self.idempotency.observe(response.headers)
        refusal = not_taken_error(response)
        if refusal is not None:
            raise refusal
        return response

    def _check_not_found_error(self, response: requests.Response) -> None:
        # iqm-client runs this on the answer to every GET (also those it does not retry, such
        # as the ones made while it is built), before any error is raised: the one place that
        # sees them all.
        self.idempotency.observe(response.headers)
        super()._check_not_found_error(response)

    def _default_headers(self) -> dict[str, str]:
        headers = {"User-Agent": self._signature, **self.idempotency.headers()}
        try:
            bearer_token = self._token_manager.get_bearer_token(retries=self.login_retries)
        except ClientAuthenticationError as error:
            self.login_refusal = error
            raise
        self.login_refusal = None
        if bearer_token:
            headers["Authorization"] = bearer_token
        return headers


def _device_url(url: str, device: str | None) -> str:
    """The device URL: ``url`` itself, or ``url/device`` when a device name is given.

    :raises ValueError: ``url`` already ends with another device's name.
    """
    if device is None:
        return url
    url = url.rstrip("/")
    path = urlsplit(url).path
    if path:
        named = path.rsplit("/", 1)[-1].split(":", 1)[0]
        if named == device:
            return url
        raise ValueError(
            f"url {url!r} already names a device ({named!r}) and device={device!r} names "
            f"another; give either the device URL, or the server root and device=."
        )
    return f"{url}/{device}"


def _device_name(url: str) -> str:
    """The device name from its URL: the last path segment without a ``:timeslot`` suffix."""
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return segment.split(":", 1)[0] or parts.hostname or url


def _job_state(status: Status, message: str | None) -> JobState:
    return JobState(
        status=_STATUS_MAP.get(status, StatusEnum.SUBMITTED),
        server_status=status.value,
        message=message,
    )


def _client_circuit(circuit: IQMCircuit) -> Circuit:
    """iqm-client 22's circuit: ``qubits`` for the locus, angles in turns as translated."""
    try:
        instructions = tuple(
            Instruction.model_validate({"name": op.name, "qubits": op.locus, "args": op.args})
            for op in circuit.instructions
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise IQMTranslationError(
            f"Circuit {circuit.name!r} has an instruction iqm-client refuses "
            f"({where}: {first.get('msg', 'invalid')})."
        ) from None
    return Circuit(name=circuit.name, instructions=instructions, metadata=None)


def _client_options(options: RunOptions) -> CircuitCompilationOptions:
    return CircuitCompilationOptions(
        max_circuit_duration_over_t2=options.max_circuit_duration_over_t2,
        heralding_mode=HeraldingMode(options.heralding_mode),
        move_gate_validation=MoveGateValidationMode(options.move_validation_mode),
        move_gate_frame_tracking=MoveGateFrameTrackingMode(options.move_gate_frame_tracking_mode),
    )


def _auth_message(url: str, error: Exception, action: str) -> str:
    return (
        f"Could not {action}: the server at {url} (or its auth server) refused the credentials "
        f"({error}). Check the token, the tokens file (log in again if it has expired) or the "
        "username and password."
    )
