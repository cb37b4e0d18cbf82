"""Job ownership: with users, each job belongs to the user who submitted it, and every job route
of both API lines answers another user's job exactly as an unknown job (404), aborts and
deletes included. Without users every client is the one shared owner.

Raw HTTP (httpx) with tokens from the emulated auth server; runs with either iqm-client line.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from auth_support import bearer_headers

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.jobs.store import SHARED_OWNER

USERS = {"alice": "alice-password", "bob": "bob-password"}
UNKNOWN = str(uuid.UUID(int=7))

REST_V1_ROUTES = [
    ("GET", "/garnet/jobs/{id}/status"),
    ("GET", "/garnet/jobs/{id}"),
    ("GET", "/garnet/jobs/{id}/counts"),
    ("POST", "/garnet/jobs/{id}/abort"),
]
SERVER_API_ROUTES = [
    ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/jobs/{id}/artifacts/measurements"),
    ("GET", "/api/v1/jobs/{id}/artifacts/measurement_counts"),
    ("GET", "/api/v1/jobs/{id}/payload"),
    ("POST", "/api/v1/jobs/{id}/cancel"),
    ("DELETE", "/api/v1/jobs/{id}"),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    # A long stage delay keeps the jobs queued, so that an abort by their owner would succeed.
    with IQMEmulator("garnet", noise=False, auth_users=USERS, stage_delay=30.0) as emu:
        yield emu


def _rest_v1_job(emulator: IQMEmulator, headers: dict[str, str]) -> str:
    body = {
        "circuits": [
            {
                "name": "x",
                "instructions": [
                    {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0.0}},
                    {"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 3,
    }
    answer = httpx.post(f"{emulator.root_url}/garnet/jobs", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _server_api_job(emulator: IQMEmulator, headers: dict[str, str]) -> str:
    body = {
        "circuits": [
            {
                "name": "x",
                "instructions": [
                    {"name": "prx", "locus": ["QB1"], "args": {"angle": math.pi, "phase": 0.0}},
                    {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}},
                ],
            }
        ],
        "shots": 3,
    }
    answer = httpx.post(
        f"{emulator.root_url}/api/v1/jobs/garnet/circuit", json=body, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _unknown_answer(answer: httpx.Response, job_id: str) -> tuple[int, Any]:
    """Status and body with the job id replaced, to compare with an unknown job's answer."""
    return answer.status_code, answer.json() | {
        "message": answer.json()["message"].replace(job_id, "<id>")
    }


@pytest.mark.parametrize(("method", "route"), REST_V1_ROUTES + SERVER_API_ROUTES)
def test_another_users_job_is_answered_as_an_unknown_job(
    emulator: IQMEmulator, method: str, route: str
) -> None:
    alice = bearer_headers(emulator, "alice", USERS["alice"])
    bob = bearer_headers(emulator, "bob", USERS["bob"])
    submit = _server_api_job if route.startswith("/api/v1") else _rest_v1_job
    job_id = submit(emulator, alice)
    theirs = httpx.request(method, emulator.root_url + route.format(id=job_id), headers=bob)
    unknown = httpx.request(method, emulator.root_url + route.format(id=UNKNOWN), headers=bob)
    assert theirs.status_code == 404
    assert _unknown_answer(theirs, job_id) == _unknown_answer(unknown, UNKNOWN)
    # Nothing happened to alice's job: still queued, still hers.
    job = emulator.app.state.emulator.store.get(uuid.UUID(job_id))
    assert job is not None
    assert job.owner == "alice"
    assert not job.terminal
    mine = httpx.request(method, emulator.root_url + route.format(id=job_id), headers=alice)
    assert mine.status_code in (200, 204, 404)  # 404: an artifact of a job not yet completed
    if mine.status_code == 404:
        assert "artifact" in mine.json()["message"]


def test_jobs_without_users_have_the_shared_owner() -> None:
    with IQMEmulator("garnet", noise=False, token="t0k") as emulator:
        headers = {"Authorization": "Bearer t0k"}
        job_ids = [_rest_v1_job(emulator, headers), _server_api_job(emulator, headers)]
        store = emulator.app.state.emulator.store
        owners = {store.get(uuid.UUID(job_id)).owner for job_id in job_ids}  # type: ignore[union-attr]
        assert owners == {SHARED_OWNER}
