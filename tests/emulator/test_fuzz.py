"""Fuzzing the emulator from its own OpenAPI schema (schemathesis + hypothesis).

For every operation of the schema, a bounded number of generated requests (random paths,
parameters, headers and bodies, half of them aimed at the real device, calibration set and a
real job so that they get past the 404s) go to a running emulator over HTTP, with a valid
access token of its auth server. Every answer must be below 500, and every 4xx must be a JSON
object carrying a message. Afterwards the server must still be healthy and run a job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig  # noqa: E402
from pytket.extensions.iqm.emulator.http.app import create_app  # noqa: E402

EXAMPLES_PER_OPERATION = 45
"""Generated requests per operation (29 operations, both route sets); keeps the whole file
around 20 s."""

USERS = {"fuzzer": "fuzz-password"}
CONFIG: dict[str, Any] = {
    "devices": ("garnet",),
    "auth_users": USERS,
    "noise": False,
    "seed": 1,
    "max_shots": 200,
    "max_circuits": 3,
    "max_active_qubits": 6,
    "stage_delay": 0.0,
    "max_body_bytes": 64 * 1024,
}

# The schema comes from the application itself; requests go to a running server.
SCHEMA = schemathesis.openapi.from_dict(create_app(EmulatorConfig(**CONFIG)).openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
SEEN: Counter[str] = Counter()
"""Answers by status class, over the whole module (reported by the last test)."""


@pytest.fixture(scope="module")
def server() -> Iterator[IQMEmulator]:
    config = {k: v for k, v in CONFIG.items() if k != "devices"}
    with IQMEmulator("garnet", **config) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def token(server: IQMEmulator) -> str:
    answer = httpx.post(
        f"{server.base_url}/realms/cortex/protocol/openid-connect/token",
        data={"client_id": "iqm_client", "grant_type": "password", **_login()},
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _login() -> dict[str, str]:
    ((username, password),) = USERS.items()
    return {"username": username, "password": password}


@pytest.fixture(scope="module")
def real_job(server: IQMEmulator, token: str) -> str:
    body = {
        "circuits": [
            {
                "name": "x",
                "instructions": [
                    {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0}},
                    {"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 3,
    }
    answer = httpx.post(
        f"{server.url}/jobs", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(scope="module")
def real_server_job(server: IQMEmulator, token: str) -> str:
    body = {
        "circuits": [
            {
                "name": "x",
                "instructions": [
                    {"name": "prx", "locus": ["QB1"], "args": {"angle": 3.14159, "phase": 0}},
                    {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 3,
    }
    answer = httpx.post(
        f"{server.base_url}/api/v1/jobs/garnet/circuit",
        json=body,
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


# Pulse-level settings are documented as not emulated: 501 is their answer, not a failure.
NOT_EMULATED = re.compile(r"^GET /api/v1/quantum-computers/[^/]+/artifacts/settings$")


def _check(response: Any, where: str) -> None:
    status = response.status_code
    if status == 501 and NOT_EMULATED.match(where):
        SEEN["501 not emulated"] += 1
        return
    SEEN[f"{status // 100}xx"] += 1
    assert status < 500, f"{where} answered {status}: {response.text[:500]}"
    if 400 <= status < 500:
        try:
            body = response.json()
        except ValueError:
            pytest.fail(f"{where} answered {status} with a non-JSON body: {response.text[:200]}")
        assert isinstance(body, dict), f"{where} answered {status} with {body!r}"
        message = body.get("message", body.get("error_description"))
        assert isinstance(message, str), f"{where} answered {status} without a message: {body}"
        assert message, f"{where} answered {status} with an empty message"


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
        _check(response, f"{case.method} {case.formatted_path}")

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
