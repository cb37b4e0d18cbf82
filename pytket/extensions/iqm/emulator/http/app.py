"""The emulator's FastAPI application: :func:`create_app`.

Two route sets share one job store, worker pool and simulator (see ``docs/emulator.rst``):

* every device under ``/{device}`` and ``/{device}:timeslot`` with the REST API that
  iqm-client 22.x speaks; error answers are JSON ``{"message": ...}``;
* the IQM Server API that iqm-client 33+ speaks, under ``/api/v1`` at the server root (devices
  are its quantum computers); error answers are ``{"message", "error_code", "source"}``.

``/``, ``/health``, ``/about``, ``/info/client-libraries`` and ``/openapi.json`` sit at the root,
``/{device}`` is each device's index (its endpoints and how to reach it from each iqm-client
line), and in users mode the emulated auth server is under ``/realms/cortex`` (it answers in
Keycloak's ``{"error", "error_description"}`` shape).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pytket.extensions.iqm._metadata import __version__
from pytket.extensions.iqm.emulator.config import EmulatorConfig, load_devices
from pytket.extensions.iqm.emulator.devices.device import UnknownCalibrationError
from pytket.extensions.iqm.emulator.http.dependencies import SERVER_API_PREFIX
from pytket.extensions.iqm.emulator.http.faults import (
    FaultInjector,
    ReliabilityMiddleware,
    parse_fault_script,
)
from pytket.extensions.iqm.emulator.http.idempotency import (
    IDEMPOTENT_SUBMISSIONS_HEADER,
    IdempotentSubmissionsMiddleware,
)
from pytket.extensions.iqm.emulator.http.openapi_links import add_job_links
from pytket.extensions.iqm.emulator.http.rest_v1.models import RunRequest
from pytket.extensions.iqm.emulator.http.rest_v1.routes import architecture, jobs
from pytket.extensions.iqm.emulator.http.rest_v1.wire import plan_request
from pytket.extensions.iqm.emulator.http.routers import auth, device_index, faults, info
from pytket.extensions.iqm.emulator.http.server_api.models import (
    SOURCE,
    CircuitJobDefinition,
    ServerAPIError,
)
from pytket.extensions.iqm.emulator.http.server_api.routes import catalogue as server_api_catalogue
from pytket.extensions.iqm.emulator.http.server_api.routes import jobs as server_api_jobs
from pytket.extensions.iqm.emulator.http.server_api.wire import job_from_definition
from pytket.extensions.iqm.emulator.http.server_state import EmulatorState, PayloadCache
from pytket.extensions.iqm.emulator.http.tokens import BearerAuth, TokenIssuer
from pytket.extensions.iqm.emulator.jobs.execution import CircuitRunner, DaskRunner, LocalRunner
from pytket.extensions.iqm.emulator.jobs.spec import JobPlan, RejectedJob
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import API_SERVER_API, JobRecord, JobStore
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError
from pytket.extensions.iqm.emulator.jobs.worker import ExecutionSettings, JobRunner, WorkerPool

logger = logging.getLogger(__name__)


_SERVER_API_ERROR_CODES = {
    400: "invalid_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    500: "internal_error",
}
"""Default ``error_code`` of an IQM Server API error answer, by HTTP status."""


def _is_server_api(request: Request) -> bool:
    path = request.url.path
    return path == SERVER_API_PREFIX or path.startswith(SERVER_API_PREFIX + "/")


def _error_response(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    error_code: str | None = None,
) -> JSONResponse:
    """An error answer in the shape of the route set ``request`` is on."""
    body: dict[str, Any] = {"message": message}
    if _is_server_api(request):
        body["error_code"] = error_code or _SERVER_API_ERROR_CODES.get(status, "error")
        body["source"] = SOURCE
    return JSONResponse(body, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"{request.url.path} not found on this emulator; see / for the served devices."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    error_code = exc.error_code if isinstance(exc, ServerAPIError) else None
    return _error_response(
        request, exc.status_code, detail, dict(exc.headers or {}) or None, error_code
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for item in exc.errors():
        location = ".".join(str(x) for x in item.get("loc", ())) or "request"
        parts.append(f"{location}: {item.get('msg', 'invalid')}")
    return _error_response(request, 422, "Invalid request: " + "; ".join(parts))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unexpected error serving %s %s", request.method, request.url.path)
    # Starlette answers this outside the middleware, so it advertises idempotency itself.
    state: EmulatorState = request.app.state.emulator
    headers = {IDEMPOTENT_SUBMISSIONS_HEADER: "true"} if state.config.idempotency_keys else None
    return _error_response(
        request, 500, f"Internal emulator error ({type(exc).__name__}).", headers
    )


def _openapi_with_request_bodies(app: FastAPI) -> dict[str, Any]:
    """OpenAPI schema with the request bodies the routers read themselves, and links from
    each line's job submission to its job routes (:mod:`.openapi_links`).

    ``RunRequest`` is the body of ``POST {device}/jobs``, ``CircuitJobDefinition`` that of
    ``POST api/v1/jobs/{qc}/circuit``.
    """
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (
            ("RunRequest", RunRequest),
            ("CircuitJobDefinition", CircuitJobDefinition),
        ):
            request_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(request_schema.pop("$defs", {}))
            components[name] = request_schema
        add_job_links(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def build_state(config: EmulatorConfig) -> EmulatorState:
    """Devices, store, workers and auth for ``config`` (workers not started yet).

    :raises UnknownDeviceError: if a device name is not in the catalogue.
    :raises InvalidDeviceFileError: if a device file is invalid.
    :raises ValueError: if two served devices share a name.
    :raises ImportError: ``config.dask_scheduler`` is set but Dask is not installed.
    :raises ConnectionError: no Dask scheduler answers at ``config.dask_scheduler``.
    """
    devices = load_devices(config)
    # Connected first: a scheduler that does not answer stops the start before the store opens.
    circuits: CircuitRunner = (
        DaskRunner(config.dask_scheduler) if config.dask_scheduler else LocalRunner()
    )
    store = JobStore(config.db)
    stop = threading.Event()
    cache = PayloadCache()
    settings = ExecutionSettings(
        noise=config.noise,
        qiskit_fake_noise=config.noise_model == "qiskit-fake",
        pauli_noise=config.noise_model == "pauli",
        seed=config.seed,
        stage_delay=config.stage_delay,
        job_overhead=config.job_overhead,
        max_active_qubits=config.max_active_qubits,
        mps_max_bond=config.mps_max_bond,
        default_max_duration_over_t2=config.default_max_duration_over_t2,
    )
    runner = JobRunner(store, devices, settings, stop, circuits=circuits)
    issuer = None
    if config.auth_users is not None:
        issuer = TokenIssuer(
            config.auth_users,
            access_lifetime=config.access_token_lifetime,
            refresh_lifetime=config.refresh_token_lifetime,
        )
    return EmulatorState(
        config=config,
        devices=devices,
        store=store,
        pool=WorkerPool(runner, store, config.workers, stop),
        auth=BearerAuth(config.token, issuer),
        issuer=issuer,
        payloads=cache,
        stop=stop,
    )


def plan_stored_job(state: EmulatorState, job: JobRecord) -> None:
    """Give a job stored without a plan (by a version that planned in the worker) its plan,
    read from its request; the worker then runs or fails it as it would have."""
    device = state.devices.get(job.device)
    if device is None:
        return  # the worker fails it: the device is not served any more
    try:
        cal = device.calibration(job.calibration_set_id)
    except UnknownCalibrationError:
        return  # the worker fails it with this error
    offered = state.payloads.implementations(device, cal)
    plan: JobPlan
    try:
        if job.api == API_SERVER_API:
            definition = CircuitJobDefinition.model_validate_json(job.request_json)
            plan = job_from_definition(definition, cal.components, offered)
        else:
            request = RunRequest.model_validate_json(job.request_json)
            plan = plan_request(request, cal.components, offered)
    except (ValidationError, TypeError) as error:
        plan = RejectedJob(f"The stored request is not valid: {error}")
    except JobValidationError as error:
        plan = RejectedJob(str(error))
    state.store.set_plan(job.id, plan)


def resume_unfinished(state: EmulatorState) -> int:
    """Queue again the jobs a previous run left unfinished; returns how many.

    They restart from ``received`` and, having kept their sequence numbers, produce the
    results they would have produced (with a seed).
    """
    unfinished = state.store.unfinished()
    for job in unfinished:
        if state.store.plan(job.id) is None:
            plan_stored_job(state, job)
        if job.status != Status.RECEIVED:
            state.store.requeue(job.id)
        state.pool.submit(job.id, job.owner)
    return len(unfinished)


def build_injector(config: EmulatorConfig) -> FaultInjector:
    """The fault injector ``config`` asks for (inactive unless fault options are set)."""
    return FaultInjector(
        fail_rate=config.fail_rate,
        fail_status=config.fail_status,
        fail_handled=config.fail_handled,
        max_random_faults=config.max_random_faults,
        slow_ms=config.slow_ms,
        script=parse_fault_script(config.fault_script),
        fault_kinds=config.fault_kinds,
        seed=config.seed,
    )


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    """The emulator application for ``config`` (default: Garnet, open, noisy, in memory).

    ``app.state.emulator`` holds the job store and workers, ``app.state.faults`` the
    :class:`~.faults.FaultInjector` (which also counts requests by kind). Request bodies larger
    than ``config.max_body_bytes`` are answered 413.

    Workers start and unfinished jobs of a ``db`` file resume when the application starts
    (ASGI lifespan); they stop and the store closes when it shuts down.

    :raises UnknownDeviceError: if a device name is not in the catalogue.
    :raises InvalidDeviceFileError: if a device file is invalid.
    :raises ValueError: if two served devices share a name.
    """
    config = config or EmulatorConfig()
    state = build_state(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.pool.start()
        resumed = resume_unfinished(state)
        if resumed:
            logger.info("Resumed %d unfinished job(s) from %s", resumed, config.db)
        try:
            yield
        finally:
            state.pool.stop()
            state.store.close()

    app = FastAPI(
        title="pytket-iqm IQM server emulator",
        version=__version__,
        description=(
            "A local emulator of an IQM quantum computer server. It speaks the REST API of "
            "iqm-client 22.x (give iqm-client the URL <root>/<device>) and the IQM Server API "
            "of iqm-client 33+ under /api/v1 (give iqm-client the server root <root> and the "
            "device name as quantum_computer)."
        ),
        lifespan=lifespan,
    )
    app.state.emulator = state
    injector = build_injector(config)
    app.state.faults = injector
    app.add_middleware(
        ReliabilityMiddleware, injector=injector, max_body_bytes=config.max_body_bytes
    )
    if config.idempotency_keys:
        # Added last, so outermost: fault-injected answers and 413s advertise it too.
        app.add_middleware(IdempotentSubmissionsMiddleware)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # The IQM Server API first: its fixed /api/v1 paths must win over /{device}/... patterns.
    app.include_router(server_api_catalogue.router)
    app.include_router(server_api_jobs.router)
    app.include_router(info.router)
    app.include_router(auth.router)
    app.include_router(architecture.router)
    app.include_router(jobs.router)
    if config.fault_endpoint:
        app.include_router(faults.router)
    # Last: GET /{device} would shadow every one-segment path registered after it.
    app.include_router(device_index.router)
    app.openapi = lambda: _openapi_with_request_bodies(app)  # type: ignore[method-assign]
    return app
