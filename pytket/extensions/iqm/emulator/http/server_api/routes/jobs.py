"""IQM Server API: circuit jobs (submit, job data, artifacts, payload, cancel, delete).

Jobs share the store, workers and simulator of the REST v1 line; a job is visible only on the
route set it was submitted on. Unlike the REST v1 line, a request that does not fit the
calibration (unknown qubits, uncalibrated loci, MOVE sandwiches) is refused at submission with
HTTP 422, so iqm-client raises its ``ValidationError`` there; the duration limit is checked
when the job is compiled, as on IQM's servers, so a job over it fails with the reason in its
``errors``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pytket.extensions.iqm.emulator.devices.device import Device
from pytket.extensions.iqm.emulator.http.dependencies import (
    SERVER_API_PREFIX,
    Authorized,
    Owner,
    ServedQuantumComputer,
    State,
    server_api_calibration_of,
    server_api_job_of,
)
from pytket.extensions.iqm.emulator.http.idempotency import (
    IDEMPOTENCY_KEY_DESCRIPTION,
    IDEMPOTENCY_KEY_HEADER,
    IdempotencyKeyError,
    KeyedSubmission,
    create_once,
)
from pytket.extensions.iqm.emulator.http.models import RequestBodyError, parse_body
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api
from pytket.extensions.iqm.emulator.http.server_api.models import (
    CircuitJobDefinition,
    CircuitMeasurementCounts,
    JobData,
    ServerAPIError,
    ServerError,
)
from pytket.extensions.iqm.emulator.http.server_api.wire import job_from_definition
from pytket.extensions.iqm.emulator.http.server_state import EmulatorState
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import (
    API_SERVER_API,
    JobRecord,
)
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError, validate_circuits
from pytket.extensions.iqm.emulator.memory_budget import result_too_large

router = APIRouter(
    prefix=f"{SERVER_API_PREFIX}/jobs",
    tags=["IQM Server API: jobs"],
    dependencies=[Authorized],
    responses={401: {"model": ServerError}, 404: {"model": ServerError}},
)


def parse_definition(body: bytes) -> CircuitJobDefinition:
    """The circuit job definition in a POST body.

    :raises ServerAPIError: 400 for malformed JSON, 422 for a body that is not a valid
        ``CircuitJobDefinition``.
    """
    try:
        return parse_body(body, CircuitJobDefinition, "circuit job definition")
    except RequestBodyError as error:
        code = "invalid_json" if error.status == 400 else "invalid_job"
        raise ServerAPIError(error.status, error.message, code) from None


def _job_data(state: EmulatorState, job: JobRecord) -> JobData:
    ahead = state.store.jobs_ahead(job) if job.status == Status.RECEIVED else None
    simulation = state.store.simulation(job.id) if job.status == Status.READY else None
    return JobData.model_validate(payloads_server_api.job_data(job, ahead, simulation))


def _key_error(error: IdempotencyKeyError) -> ServerAPIError:
    return ServerAPIError(422, str(error), "invalid_idempotency_key")


def _accept(
    state: EmulatorState, device: Device, body: bytes, owner: str, key: str | None
) -> JobData:
    try:
        submission = KeyedSubmission.of(key, body, honoured=state.config.idempotency_keys)
        earlier = (
            None
            if submission is None
            else submission.earlier_job(state.store, owner, device.name, API_SERVER_API)
        )
    except IdempotencyKeyError as error:
        raise _key_error(error) from None
    if earlier is not None:
        return _job_data(state, earlier)
    definition = parse_definition(body)
    limits = state.config
    if not definition.circuits:
        raise ServerAPIError(
            422, "Invalid circuit job definition: circuits must not be empty.", "invalid_job"
        )
    if definition.shots > limits.max_shots:
        raise ServerAPIError(
            422,
            f"Cannot submit a job with {definition.shots} shots; the maximum is "
            f"{limits.max_shots}.",
            "too_many_shots",
        )
    if len(definition.circuits) > limits.max_circuits:
        raise ServerAPIError(
            422,
            f"Cannot submit a job with {len(definition.circuits)} circuits; the maximum is "
            f"{limits.max_circuits}.",
            "too_many_circuits",
        )
    measured = sum(
        len(operation.locus)
        for circuit in definition.circuits
        for operation in circuit.instructions
        if operation.name == "measure"
    )
    too_large = result_too_large(measured, definition.shots, limits.max_result_bits)
    if too_large is not None:
        raise ServerAPIError(422, too_large, "result_too_large")
    cal = server_api_calibration_of(device, str(definition.calibration_set_id or "default"))
    try:
        spec = job_from_definition(
            definition, cal.components, state.payloads.implementations(device, cal)
        )
        # Without the duration limit: that one is checked when the job is compiled, as on IQM's
        # servers, so a job that exceeds it is accepted and fails (with the reason in its errors).
        validate_circuits(spec.circuits, cal, move_validation_mode=spec.move_validation_mode)
    except JobValidationError as error:
        raise ServerAPIError(422, str(error), "circuit_validation_failed") from None
    try:
        job, new = create_once(
            state.store,
            submission,
            device=device.name,
            calibration_set_id=cal.calibration_set_id,
            request_json=definition.model_dump_json(),
            api=API_SERVER_API,
            plan=spec,
            owner=owner,
        )
    except IdempotencyKeyError as error:
        raise _key_error(error) from None
    if new:
        state.pool.submit(job.id, owner)
    return _job_data(state, job)


@router.post(
    "/{qc}/circuit",
    status_code=201,
    response_model=JobData,
    responses={
        400: {"model": ServerError, "description": "malformed JSON"},
        413: {"model": ServerError, "description": "the body is larger than max_body_bytes"},
        422: {
            "model": ServerError,
            "description": "not a valid CircuitJobDefinition, a limit exceeded, a circuit "
            "that does not fit the calibration, or a malformed or reused Idempotency-Key",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/CircuitJobDefinition"}
                }
            },
        }
    },
)
async def submit_circuit_job(
    request: Request,
    state: State,
    device: ServedQuantumComputer,
    owner: Owner,
    *,
    use_timeslot: Annotated[
        bool, Query(description="Accepted; the emulator serves timeslot jobs the same way.")
    ] = False,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_KEY_HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION)
    ] = None,
) -> JSONResponse:
    """Submit a ``CircuitJobDefinition``; answers 201 with the new job's ``JobData``.

    With an ``Idempotency-Key`` its owner used before for this request: the ``JobData`` of the
    job that created, as it is now, and no new job.
    """
    body = await request.body()
    data = await run_in_threadpool(_accept, state, device, body, owner, idempotency_key)
    return JSONResponse(data.model_dump(mode="json"), status_code=201)


@router.get("/{job_id}", response_model=JobData)
def get_job(state: State, job_id: str, owner: Owner) -> JobData:
    """The job's status, timeline, errors, queue position and available artifacts."""
    return _job_data(state, server_api_job_of(state, job_id, owner))


def _artifact(state: EmulatorState, job_id: str, owner: str, index: int, name: str) -> Response:
    job = server_api_job_of(state, job_id, owner)
    results = state.store.results(job.id) if job.status == Status.READY else None
    if results is None:
        status = payloads_server_api.JOB_STATUS[job.status].value
        raise ServerAPIError(
            404,
            f"Job {job.id} has no {name} artifact: its status is {status!r} (artifacts exist "
            "once it is 'completed').",
            "artifact_not_found",
        )
    return Response(results[index], media_type="application/json")


@router.get(
    "/{job_id}/artifacts/measurements",
    responses={200: {"model": list[dict[str, list[list[int]]]]}},
)
def measurements(state: State, job_id: str, owner: Owner) -> Response:
    """Per circuit, measurement key → shots × qubits outcomes (once the job is completed)."""
    return _artifact(state, job_id, owner, 0, "measurements")


@router.get(
    "/{job_id}/artifacts/measurement_counts",
    responses={200: {"model": list[CircuitMeasurementCounts]}},
)
def measurement_counts(state: State, job_id: str, owner: Owner) -> Response:
    """Per circuit, the histogram of outcomes (once the job is completed)."""
    return _artifact(state, job_id, owner, 1, "measurement_counts")


@router.get("/{job_id}/payload", responses={200: {"model": CircuitJobDefinition}})
def payload(state: State, job_id: str, owner: Owner) -> Response:
    """The circuit job definition as accepted."""
    job = server_api_job_of(state, job_id, owner)
    return Response(job.request_json, media_type="application/json")


@router.post("/{job_id}/cancel", response_model=JobData)
def cancel(state: State, job_id: str, owner: Owner) -> JobData:
    """Cancel a job that has not finished; a finished job keeps its status (no error)."""
    job = server_api_job_of(state, job_id, owner)
    state.pool.abort(job.id)
    return _job_data(state, server_api_job_of(state, job_id, owner))


@router.delete("/{job_id}", status_code=204)
def delete(state: State, job_id: str, owner: Owner) -> Response:
    """Cancel the job and remove it with its results; its id is unknown afterwards."""
    job = server_api_job_of(state, job_id, owner)
    state.pool.abort(job.id)
    state.store.delete(job.id)
    return Response(status_code=204)
