"""Fuzzing the emulator from its own OpenAPI schema (schemathesis + hypothesis).

For every operation of the schema, a bounded number of generated requests (random paths,
parameters, headers and bodies, half of them aimed at the real device, calibration set and a
real job so that they get past the 404s) go to a running emulator over HTTP, with a valid
access token of its auth server. Every answer must be below 500, and every 4xx must be a JSON
object carrying a message. Afterwards the server must still be healthy and run a job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
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
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig  # noqa: E402
from pytket.extensions.iqm.emulator.http.app import create_app  # noqa: E402

EXAMPLES_PER_OPERATION = 45
"""Generated requests per operation (29 operations, both route sets); keeps the whole file
around 20 s."""

# The schema comes from the application itself; requests go to a running server.
SCHEMA = schemathesis.openapi.from_dict(create_app(EmulatorConfig(**CONFIG)).openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
SEEN: Counter[str] = Counter()
"""Answers by status class, over the whole module (reported by the last test)."""


@pytest.fixture(scope="module")
def server() -> Iterator[IQMEmulator]:
    with fuzz_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def token(server: IQMEmulator) -> str:
    return str(access_token(server))  # fuzz_support is untyped to mypy here (see mypy-tests.ini)


@pytest.fixture(scope="module")
def real_job(server: IQMEmulator, token: str) -> str:
    answer = httpx.post(
        f"{server.url}/jobs", json=REST_V1_JOB, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(scope="module")
def real_server_job(server: IQMEmulator, token: str) -> str:
    answer = httpx.post(
        f"{server.base_url}/api/v1/jobs/garnet/circuit",
        json=SERVER_API_JOB,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _cases(operation: Any) -> Any:
    """Requests that fit the schema and requests that do not (bad types, missing fields)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # an operation without inputs has no negative form
        return positive


def _aim(case: Any, aimed: bool, job_id: str) -> None:
    """Point a generated case at the real device, calibration set and job (of its route set)."""
    parameters = case.path_parameters
    if not aimed or not parameters:
        return
    replacements = {
        "device": "garnet",
        "qc": "garnet",
        "calibration_set_id": "default",
        "job_id": job_id,
    }
    for name, value in replacements.items():
        if name in parameters:
            parameters[name] = value


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_operation_never_fails_with_5xx(
    operation: Any, server: IQMEmulator, token: str, real_job: str, real_server_job: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation), aimed=st.booleans())
    def run(case: Any, aimed: bool) -> None:
        _aim(case, aimed, real_server_job if operation.path.startswith("/api/v1/") else real_job)
        response = case.call(base_url=server.base_url, headers=headers, timeout=15)
        check_answer(response, f"{case.method} {case.formatted_path}", SEEN)

    run()


def test_server_is_healthy_after_fuzzing(server: IQMEmulator, token: str) -> None:
    assert httpx.get(f"{server.base_url}/health").json() == {"status": "ok"}
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "circuits": [
            {
                "name": "after",
                "instructions": [
                    {"name": "prx", "qubits": ["QB2"], "args": {"angle_t": 0.5, "phase_t": 0}},
                    {"name": "measure", "qubits": ["QB2"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 4,
    }
    job = httpx.post(f"{server.url}/jobs", json=body, headers=headers).json()["id"]
    for _ in range(500):
        status = httpx.get(f"{server.url}/jobs/{job}/status", headers=headers).json()["status"]
        if status not in ("received", "pending compilation", "pending execution"):
            break
    counts = httpx.get(f"{server.url}/jobs/{job}/counts", headers=headers).json()
    assert counts["counts_batch"] == [{"measurement_keys": ["m"], "counts": {"1": 4}}]
    assert SEEN["5xx"] == 0
    if SEEN:  # the fuzz tests ran before this one (as in a whole-module run)
        assert sum(SEEN.values()) >= len(OPERATIONS) * EXAMPLES_PER_OPERATION // 2
    print(f"fuzz answers by class: {dict(SEEN)}")
