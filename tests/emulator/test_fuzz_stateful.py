"""Stateful fuzzing of the emulator: sequences of requests that follow the OpenAPI links of its
schema from a job submission to that job's routes (schemathesis + hypothesis).

Each scenario submits jobs on either API line (generated bodies, some of them replaced by a
valid job so that both lines create jobs) and then calls the job routes of the created jobs
with their real ids: status, result, counts and abort on the REST v1 line; job data, artifacts,
payload, cancel and delete on the IQM Server API line, in any order and repeatedly. The
requests go to a running emulator over HTTP with an access token of its auth server. Every
answer must pass the check of the stateless fuzz module, and the run must have reached each
line's job routes with 2xx answers (so that it cannot pass by hitting only 404s).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from fuzz_support import (  # noqa: E402
    CONFIG,
    REST_V1_JOB,
    SERVER_API_JOB,
    access_token,
    check_answer,
    fuzz_emulator,
)
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig  # noqa: E402
from pytket.extensions.iqm.emulator.http.app import create_app  # noqa: E402

JOB_STAGE_DELAY = 0.005
"""Seconds a job rests in each waiting stage: long enough that about half the aborts meet a
job that has not finished (without it all are 409), short enough that some artifact requests
find it completed (at 0.02 s none do)."""
SCENARIOS = 60
"""Hypothesis examples of the state machine (about 280 requests): enough for every link of both
lines to be followed to an existing job several times, in about 17 s on a 2-core machine."""
STEPS_PER_SCENARIO = 16
"""Requests per scenario at most: room for a submission and several calls on its job."""
VALID_SUBMISSION_EVERY = 2
"""About every second submission carries a valid job instead of its generated body: generated
Server API circuits almost never fit the calibration, so without it that line would create no
job to follow. Chosen from the generated body (not a counter), so that the same generated
scenario gets the same answers: hypothesis refuses a run whose answers decide differently."""

# Only the links the emulator publishes: schemathesis' own link inference is switched off, so a
# missing or wrong link in /openapi.json shows here as unreached job routes.
SCHEMA = schemathesis.openapi.from_dict(
    create_app(EmulatorConfig(**CONFIG)).openapi(),
    config=SchemathesisConfig.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": []}}}}
    ),
)

VALID_JOBS = {"POST /{device}/jobs": REST_V1_JOB, "POST /api/v1/jobs/{qc}/circuit": SERVER_API_JOB}

JOB_ROUTES = (
    "GET /{device}/jobs/{job_id}/status",
    "GET /{device}/jobs/{job_id}",
    "GET /{device}/jobs/{job_id}/counts",
    "POST /{device}/jobs/{job_id}/abort",
    "GET /api/v1/jobs/{job_id}",
    "GET /api/v1/jobs/{job_id}/artifacts/measurements",
    "GET /api/v1/jobs/{job_id}/artifacts/measurement_counts",
    "GET /api/v1/jobs/{job_id}/payload",
    "POST /api/v1/jobs/{job_id}/cancel",
    "DELETE /api/v1/jobs/{job_id}",
)
"""Every route the submissions link to; each must find a created job at least once."""
OK_ROUTES = (
    "GET /{device}/jobs/{job_id}/status",
    "GET /{device}/jobs/{job_id}",
    "GET /{device}/jobs/{job_id}/counts",
    "GET /api/v1/jobs/{job_id}",
    "GET /api/v1/jobs/{job_id}/payload",
    "POST /api/v1/jobs/{job_id}/cancel",
    "DELETE /api/v1/jobs/{job_id}",
)
"""The job routes that answer 2xx for any existing job. The others depend on how far the job
has run (abort is 409 once it finished, artifacts 404 until it completed): finding the job is
enough there."""
OK_AT_LEAST = 2
"""2xx answers each of :data:`OK_ROUTES` must give (a run gets 3 to 23 of them, the fewest on
cancel: every created job is linked to ten routes, and scenarios submit often)."""


def _found_job(response: Any) -> bool:
    """A 2xx, or a 404/409 about the job itself ("Job <id> has ...") rather than
    "No job with id ..."."""
    if response.status_code < 300:
        return True
    if response.status_code not in (404, 409):
        return False
    return str(response.json().get("message", "")).startswith("Job ")


def _fingerprint(body: Any) -> int:
    """A number fixed by ``body`` in every process (``hash`` of a str is salted per process)."""
    return zlib.crc32(
        json.dumps(body, sort_keys=True, default=lambda value: type(value).__name__).encode()
    )


def test_schema_with_links_is_valid_openapi() -> None:
    SCHEMA.validate()  # against the OpenAPI 3.1 meta-schema; raises if invalid
    assert SCHEMA.statistic.transitions.total == len(JOB_ROUTES)


@pytest.fixture(scope="module")
def server() -> Iterator[IQMEmulator]:
    with fuzz_emulator(stage_delay=JOB_STAGE_DELAY) as emulator:
        yield emulator


def test_linked_sequences_never_fail_with_5xx(server: IQMEmulator) -> None:
    headers = {"Authorization": f"Bearer {access_token(server)}"}
    seen: Counter[str] = Counter()
    ok: Counter[str] = Counter()
    found: Counter[str] = Counter()

    class Workflow(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            # Unknown devices are the stateless module's: here every request names Garnet.
            for name in ("device", "qc"):
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = "garnet"
            valid = VALID_JOBS.get(f"{case.method.upper()} {case.path}")
            if valid is not None and _fingerprint(case.body) % VALID_SUBMISSION_EVERY == 0:
                case.body = valid

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server.base_url, "headers": headers, "timeout": 15}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            # Replaces schemathesis' default checks (schema conformance of every answer) with
            # the emulator's promise: no 5xx, and 4xx answers that say what is wrong.
            check_answer(response, f"{case.method} {case.formatted_path}", seen)
            operation = f"{case.method.upper()} {case.path}"
            ok[operation] += response.status_code < 300
            found[operation] += _found_job(response)

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS_PER_SCENARIO,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"stateful answers by class: {dict(seen)}")
    print(f"2xx by operation: {dict(ok)}")
    print(f"job found by operation: {dict(found)}")
    assert seen["5xx"] == 0
    assert [route for route in JOB_ROUTES if found[route] == 0] == []
    assert [route for route in OK_ROUTES if ok[route] < OK_AT_LEAST] == []
