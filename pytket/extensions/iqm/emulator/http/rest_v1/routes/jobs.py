"""The job API of each device: submit, status, result, counts, abort."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pytket.extensions.iqm.emulator.devices.device import Device, UnknownCalibrationError
from pytket.extensions.iqm.emulator.http.dependencies import (
    Authorized,
    Owner,
    ServedDevice,
    State,
    rest_v1_job_of,
)
from pytket.extensions.iqm.emulator.http.idempotency import (
    IDEMPOTENCY_KEY_DESCRIPTION,
    IDEMPOTENCY_KEY_HEADER,
    IdempotencyKeyError,
    KeyedSubmission,
    create_once,
)
from pytket.extensions.iqm.emulator.http.models import (
    ErrorMessage,
    RequestBodyError,
    SimulationReport,
    parse_body,
)
from pytket.extensions.iqm.emulator.http.rest_v1.models import (
    AbortResponse,
    Metadata,
    RunCounts,
    RunRequest,
    RunResult,
    RunStatus,
    SubmitResponse,
)
from pytket.extensions.iqm.emulator.http.rest_v1.wire import plan_request
from pytket.extensions.iqm.emulator.http.server_state import EmulatorState
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import (
    API_REST_V1,
    JobRecord,
)
from pytket.extensions.iqm.emulator.memory_budget import result_too_large

router = APIRouter(
    prefix="/{device}/jobs",
    tags=["jobs"],
    dependencies=[Authorized],
    responses={401: {"model": ErrorMessage}, 404: {"model": ErrorMessage}},
)


def parse_run_request(body: bytes) -> RunRequest:
    """The run request in a POST body.

    :raises HTTPException: 400 for malformed JSON, 422 for a body that is not a valid
        ``RunRequest``.
    """
    try:
        return parse_body(body, RunRequest, "run request")
    except RequestBodyError as error:
        raise HTTPException(error.status, error.message) from None


def _accept(
    state: EmulatorState, device: Device, body: bytes, owner: str, key: str | None
) -> uuid.UUID:
    try:
        submission = KeyedSubmission.of(key, body, honoured=state.config.idempotency_keys)
        earlier = (
            None
            if submission is None
            else submission.earlier_job(state.store, owner, device.name, API_REST_V1)
        )
    except IdempotencyKeyError as error:
        raise HTTPException(400, str(error)) from None
    if earlier is not None:
        return earlier.id
    request = parse_run_request(body)
    limits = state.config
    if request.shots > limits.max_shots:
        raise HTTPException(
            400, f"Cannot submit job with {request.shots} shots, the maximum is {limits.max_shots}"
        )
    if len(request.circuits) > limits.max_circuits:
        raise HTTPException(
            400,
            f"Cannot submit job with {len(request.circuits)} circuits, "
            f"the maximum is {limits.max_circuits}",
        )
    if not request.circuits:
        raise HTTPException(422, "Invalid run request: circuits must not be empty.")
    measured = sum(
        len(instruction.qubits)
        for circuit in request.circuits
        for instruction in circuit.instructions
        if instruction.name == "measure"
    )
    too_large = result_too_large(measured, request.shots, limits.max_result_bits)
    if too_large is not None:
        raise HTTPException(400, too_large)
    try:
        cal = device.calibration(request.calibration_set_id or "default")
    except UnknownCalibrationError as error:
        raise HTTPException(400, str(error)) from None
    plan = plan_request(request, cal.components, state.payloads.implementations(device, cal))
    try:
        job, new = create_once(
            state.store,
            submission,
            device=device.name,
            calibration_set_id=cal.calibration_set_id,
            request_json=request.model_dump_json(exclude_none=True),
            api=API_REST_V1,
            plan=plan,
            owner=owner,
        )
    except IdempotencyKeyError as error:
        raise HTTPException(400, str(error)) from None
    if new:
        state.pool.submit(job.id, owner)
    return job.id


@router.post(
    "",
    status_code=201,
    response_model=SubmitResponse,
    responses={
        400: {
            "model": ErrorMessage,
            "description": "malformed JSON, a limit exceeded, or a malformed or reused "
            "Idempotency-Key",
        },
        413: {"model": ErrorMessage, "description": "the body is larger than max_body_bytes"},
        422: {"model": ErrorMessage, "description": "the body is not a valid RunRequest"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}
            },
        }
    },
)
async def submit_job(
    request: Request,
    state: State,
    device: ServedDevice,
    owner: Owner,
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_KEY_HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION)
    ] = None,
) -> JSONResponse:
    """Submit a ``RunRequest``; the job runs in the background. Answers 201 with its id.

    With an ``Idempotency-Key`` its owner used before for this request: the id of the job
    that created, and no new job.
    """
    body = await request.body()
    job_id = await run_in_threadpool(_accept, state, device, body, owner, idempotency_key)
    return JSONResponse({"id": str(job_id)}, status_code=201)


@router.get("/{job_id}/status", response_model=RunStatus, response_model_exclude_none=True)
def job_status(state: State, device: ServedDevice, job_id: str, owner: Owner) -> RunStatus:
    """The job's status (and the failure message, if it failed)."""
    job = rest_v1_job_of(state, device, job_id, owner)
    warnings = list(job.warnings) if job.warnings is not None else None
    return RunStatus(status=job.status, message=job.message, warnings=warnings)


def _simulation_report(state: EmulatorState, job: JobRecord) -> list[SimulationReport] | None:
    report = state.store.simulation(job.id)
    if report is None:
        return None
    return [SimulationReport.model_validate(entry) for entry in report]


@router.get("/{job_id}", responses={200: {"model": RunResult}})
def job_result(state: State, device: ServedDevice, job_id: str, owner: Owner) -> Response:
    """The job with its metadata, and its measurements once it is ready."""
    job = rest_v1_job_of(state, device, job_id, owner)
    metadata = Metadata(
        calibration_set_id=job.calibration_set_id,
        request=RunRequest.model_validate_json(job.request_json),
        cocos_version=state.config.cocos_version,
        timestamps=dict(job.timestamps),
        parameters=None,
        circuits_batch=None,
        simulation=_simulation_report(state, job),
    )
    envelope = RunResult(
        status=job.status,
        message=job.message,
        warnings=list(job.warnings) if job.warnings is not None else None,
        metadata=metadata,
        measurements=None,
    ).model_dump_json(exclude_none=True)
    results = state.store.results(job.id) if job.status == Status.READY else None
    if results is not None:
        # Measurements are stored as wire JSON; splice them in rather than re-validate them.
        envelope = '{"measurements":' + results[0] + "," + envelope[1:]
    return Response(envelope, media_type="application/json")


@router.get("/{job_id}/counts", responses={200: {"model": RunCounts}})
def job_counts(state: State, device: ServedDevice, job_id: str, owner: Owner) -> Response:
    """Histogram of each circuit's measurement outcomes, once the job is ready."""
    job = rest_v1_job_of(state, device, job_id, owner)
    text = RunCounts(status=job.status, counts_batch=None).model_dump_json(exclude_none=True)
    results = state.store.results(job.id) if job.status == Status.READY else None
    if results is not None:
        text = '{"counts_batch":' + results[1] + "," + text[1:]
    return Response(text, media_type="application/json")


@router.post(
    "/{job_id}/abort",
    response_model=AbortResponse,
    responses={409: {"model": ErrorMessage, "description": "the job has already finished"}},
)
def abort_job(state: State, device: ServedDevice, job_id: str, owner: Owner) -> AbortResponse:
    """Abort a job that has not finished; a running job's results are discarded."""
    job = rest_v1_job_of(state, device, job_id, owner)
    if state.pool.abort(job.id):
        return AbortResponse(message=f"Job {job.id} aborted.")
    current = state.store.get(job.id)
    status = current.status.value if current is not None else job.status.value
    raise HTTPException(
        409, f"Job {job.id} has already finished with status {status!r}; it cannot be aborted."
    )
