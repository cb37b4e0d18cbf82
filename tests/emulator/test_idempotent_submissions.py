"""Idempotent job submission: the ``Idempotency-Key`` header on both API lines, the
``Idempotent-Submissions`` advertisement, and the keys' storage (atomic, durable, migrated).

Raw HTTP (httpx) against running emulators; runs with either iqm-client line.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_support import password_login

from pytket.extensions.iqm.emulator import IQMEmulator, cli
from pytket.extensions.iqm.emulator.http.faults import parse_fault_script
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import IdempotencyKeyTakenError, JobStore

KEY_HEADER = "Idempotency-Key"
ADVERTISED = "Idempotent-Submissions"
BAD_KEY = "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key), got "
USERS = {"alice": "alice-password", "bob": "bob-password"}


@dataclass(frozen=True)
class Line:
    """One API line's job submission: where, what, and how it refuses a client mistake."""

    name: str
    refusal: int

    def submit_path(self, device: str = "garnet") -> str:
        if self.name == "rest_v1":
            return f"/{device}/jobs"
        return f"/api/v1/jobs/{device}/circuit"

    def body(self, shots: int = 3) -> dict[str, Any]:
        """An X on QB1, measured."""
        if self.name == "rest_v1":
            x = {"name": "prx", "qubits": ["QB1"], "args": {"angle_t": 0.5, "phase_t": 0.0}}
            measure = {"name": "measure", "qubits": ["QB1"], "args": {"key": "m"}}
        else:
            x = {"name": "prx", "locus": ["QB1"], "args": {"angle": math.pi, "phase": 0.0}}
            measure = {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}}
        return {"circuits": [{"name": "x", "instructions": [x, measure]}], "shots": shots}

    def error(self, message: str) -> dict[str, str]:
        """The line's error body for a refused key."""
        if self.name == "rest_v1":
            return {"message": message}
        return {"message": message, "error_code": "invalid_idempotency_key", "source": "iqm-server"}


REST_V1 = Line("rest_v1", 400)
SERVER_API = Line("server_api", 422)
LINES = pytest.mark.parametrize("line", [REST_V1, SERVER_API], ids=lambda line: line.name)


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(["garnet", "adonis"], noise=False, stage_delay=0.0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def no_faults_left(emulator: IQMEmulator) -> Iterator[None]:
    yield
    emulator.faults.clear()


def _submit(
    emulator: IQMEmulator,
    line: Line,
    key: str | bytes | None,
    body: dict[str, Any] | None = None,
    *,
    device: str = "garnet",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    raw = {name.encode(): value.encode() for name, value in (headers or {}).items()}
    if key is not None:
        raw[KEY_HEADER.encode()] = key if isinstance(key, bytes) else key.encode()
    return httpx.post(
        emulator.root_url + line.submit_path(device),
        json=line.body() if body is None else body,
        headers=raw,
        timeout=30,
    )


def _jobs(emulator: IQMEmulator) -> int:
    count: int = emulator.app.state.emulator.store.count()
    return count


def _wait_terminal(store: JobStore, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = store.get(uuid.UUID(job_id))
        if job is not None and job.terminal:
            return
        time.sleep(0.02)
    pytest.fail(f"job {job_id} did not finish")


def _key() -> str:
    return str(uuid.uuid4())


# --- repeated submissions --------------------------------------------------------------------


@LINES
def test_a_repeated_submission_answers_with_the_job_it_created(
    emulator: IQMEmulator, line: Line
) -> None:
    store = emulator.app.state.emulator.store
    jobs = _jobs(emulator)
    key = _key()
    first = _submit(emulator, line, key)
    assert first.status_code == 201, first.text
    job_id = first.json()["id"]
    _wait_terminal(store, job_id)
    again = _submit(emulator, line, key)
    assert again.status_code == 201
    assert again.json()["id"] == job_id
    assert _jobs(emulator) == jobs + 1
    if line is REST_V1:
        assert again.json() == {"id": job_id}
    else:  # the job's JobData as it is now: completed, with its artifacts
        assert first.json()["status"] == "waiting"
        assert again.json()["status"] == "completed"
        assert again.json()["artifacts"]
    # It ran once: one pass through the statuses.
    statuses = [status for status, _ in store.history(uuid.UUID(job_id))]
    assert statuses.count(Status.RECEIVED) == 1
    assert statuses[-1] == Status.READY
    assert statuses.count(Status.READY) == 1


@LINES
def test_concurrent_identical_submissions_create_one_job(emulator: IQMEmulator, line: Line) -> None:
    jobs = _jobs(emulator)
    key = _key()
    submitters = 8
    start = threading.Barrier(submitters)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def submit() -> None:
        start.wait()
        answer = _submit(emulator, line, key)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=submit) for _ in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [201] * submitters
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert _jobs(emulator) == jobs + 1


@LINES
def test_a_key_reused_for_a_different_request_is_refused(emulator: IQMEmulator, line: Line) -> None:
    key = _key()
    assert _submit(emulator, line, key).status_code == 201
    jobs = _jobs(emulator)
    other_device = "adonis"
    for answer in (
        _submit(emulator, line, key, line.body(shots=4)),  # another body
        _submit(emulator, line, key, device=other_device),  # the same body to another device
    ):
        assert answer.status_code == line.refusal
        assert answer.json() == line.error(
            f"Idempotency-Key '{key}' was already used for a different request; send a new key "
            "for a new job."
        )
    assert _jobs(emulator) == jobs


def test_a_key_belongs_to_one_api_line(emulator: IQMEmulator) -> None:
    key = _key()
    assert _submit(emulator, REST_V1, key).status_code == 201
    answer = _submit(emulator, SERVER_API, key)
    assert answer.status_code == 422
    assert "was already used for a different request" in answer.json()["message"]


@pytest.mark.parametrize(
    ("key", "got"),
    [
        ("", "an empty value."),
        ("k" * 256, "256 characters ('" + "k" * 40 + "'...)."),
        ("my key", "'my key', whose character 3 is ' '."),
        ("ключ".encode(), r"'\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87', whose character 1 is '\xd0'."),
    ],
    ids=["empty", "256-characters", "space", "non-ascii"],
)
@LINES
def test_malformed_keys_are_refused_and_create_no_job(
    emulator: IQMEmulator, line: Line, key: str | bytes, got: str
) -> None:
    jobs = _jobs(emulator)
    answer = _submit(emulator, line, key)
    assert answer.status_code == line.refusal
    assert answer.json() == line.error(BAD_KEY + got)
    assert _jobs(emulator) == jobs


@LINES
def test_the_longest_key_is_accepted(emulator: IQMEmulator, line: Line) -> None:
    key = "~" * 254 + line.name[0]  # a key belongs to one line
    first = _submit(emulator, line, key)
    assert first.status_code == 201, first.text
    assert _submit(emulator, line, key).json()["id"] == first.json()["id"]


def test_a_deleted_job_frees_its_key(emulator: IQMEmulator) -> None:
    key = _key()
    first = _submit(emulator, SERVER_API, key).json()["id"]
    deleted = httpx.delete(f"{emulator.root_url}/api/v1/jobs/{first}")
    assert deleted.status_code == 204
    second = _submit(emulator, SERVER_API, key)
    assert second.status_code == 201
    assert second.json()["id"] != first


def test_keys_of_different_owners_are_independent() -> None:
    with IQMEmulator("garnet", noise=False, stage_delay=0.0, auth_users=USERS) as emulator:
        tokens = {}
        for user, password in USERS.items():
            answer = password_login(emulator, user, password)
            assert answer.headers[ADVERTISED] == "true"  # the auth server's answers too
            tokens[user] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        key = _key()
        for line in (REST_V1, SERVER_API):
            jobs = _jobs(emulator)
            alices = _submit(emulator, line, key, headers=tokens["alice"])
            bobs = _submit(emulator, line, key, headers=tokens["bob"])
            assert (alices.status_code, bobs.status_code) == (201, 201)
            assert alices.json()["id"] != bobs.json()["id"]
            assert _jobs(emulator) == jobs + 2
            key = _key()  # a key belongs to one line


# --- ambiguous submissions made safe -------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop", "after504"])
@LINES
def test_a_resend_after_a_fault_after_handling_finds_the_job(
    emulator: IQMEmulator, line: Line, fault: str
) -> None:
    jobs = _jobs(emulator)
    emulator.faults.add(parse_fault_script(f"submit:{fault}:1"))
    key = _key()
    if fault == "drop":
        with pytest.raises(httpx.RemoteProtocolError):
            _submit(emulator, line, key)
    else:
        lost = _submit(emulator, line, key)
        assert lost.status_code == 504
        assert lost.headers[ADVERTISED] == "true"  # a faulted answer advertises it too
    assert _jobs(emulator) == jobs + 1  # the job exists, its id is lost
    resent = _submit(emulator, line, key)
    assert resent.status_code == 201
    assert _jobs(emulator) == jobs + 1
    store = emulator.app.state.emulator.store
    job = store.get(uuid.UUID(resent.json()["id"]))
    assert job is not None
    assert job.idempotency_key == key


@LINES
def test_a_resend_after_a_restart_on_the_same_db_finds_the_job(tmp_path: Path, line: Line) -> None:
    db = tmp_path / "jobs.sqlite"
    key = _key()
    with IQMEmulator("garnet", noise=False, stage_delay=0.0, db=db) as emulator:
        job_id = _submit(emulator, line, key).json()["id"]
    with IQMEmulator("garnet", noise=False, stage_delay=0.0, db=db) as emulator:
        resent = _submit(emulator, line, key)
        assert resent.status_code == 201
        assert resent.json()["id"] == job_id
        assert _jobs(emulator) == 1


# --- the advertisement, and a server that ignores keys -------------------------------------


def test_every_answer_advertises_idempotent_submissions(emulator: IQMEmulator) -> None:
    emulator.faults.add(parse_fault_script("status:503:1"))
    job_id = _submit(emulator, REST_V1, None).json()["id"]
    answers = {
        "health": httpx.get(f"{emulator.root_url}/health"),
        "device": httpx.get(f"{emulator.root_url}/garnet"),
        "not found": httpx.get(f"{emulator.root_url}/no/such/route"),
        "refused": _submit(emulator, SERVER_API, ""),
        "faulted": httpx.get(f"{emulator.root_url}/garnet/jobs/{job_id}/status"),
    }
    assert [answer.status_code for answer in answers.values()] == [200, 200, 404, 422, 503]
    assert {
        name: answer.headers.get(ADVERTISED) for name, answer in answers.items()
    } == dict.fromkeys(answers, "true")


def test_a_server_ignoring_keys_neither_advertises_nor_checks_them() -> None:
    with IQMEmulator(
        "garnet", noise=False, stage_delay=0.0, idempotency_keys=False, fault_script="status:503:1"
    ) as emulator:
        for line in (REST_V1, SERVER_API):
            jobs = _jobs(emulator)
            first = _submit(emulator, line, "k")
            second = _submit(emulator, line, "k")
            assert (first.status_code, second.status_code) == (201, 201)
            assert first.json()["id"] != second.json()["id"]
            assert _submit(emulator, line, "not a key").status_code == 201  # not even checked
            assert _jobs(emulator) == jobs + 3
            assert ADVERTISED not in first.headers
        job_id = first.json()["id"]
        for answer in (
            httpx.get(f"{emulator.root_url}/health"),
            httpx.get(f"{emulator.root_url}/no/such/route"),
            httpx.get(f"{emulator.root_url}/api/v1/jobs/{job_id}"),
            httpx.get(f"{emulator.root_url}/garnet/jobs/{uuid.uuid4()}/status"),  # faulted: 503
        ):
            assert ADVERTISED not in answer.headers


def test_the_command_line_can_ignore_keys() -> None:
    parser = cli.build_parser()
    assert cli.config_from_args(parser.parse_args([])).idempotency_keys
    ignoring = parser.parse_args(["--ignore-idempotency-keys"])
    assert not cli.config_from_args(ignoring).idempotency_keys


def test_the_openapi_schema_shows_the_header(emulator: IQMEmulator) -> None:
    schema = httpx.get(f"{emulator.root_url}/openapi.json").json()
    for path in ("/{device}/jobs", "/api/v1/jobs/{qc}/circuit"):
        parameters = schema["paths"][path]["post"]["parameters"]
        (header,) = [p for p in parameters if p["in"] == "header"]
        assert (header["name"], header["required"]) == (KEY_HEADER, False)


# --- storage -------------------------------------------------------------------------------

_SCHEMA_BEFORE_KEYS = """
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    calibration_set_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    warnings TEXT,
    request TEXT NOT NULL,
    api TEXT NOT NULL DEFAULT 'cocos-v1',
    plan TEXT,
    owner TEXT NOT NULL DEFAULT 'shared'
);
"""


def test_a_database_from_before_keys_opens_and_takes_keys(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    old_job = str(uuid.uuid4())
    with sqlite3.connect(db) as connection:
        connection.executescript(_SCHEMA_BEFORE_KEYS)
        connection.execute(
            "INSERT INTO jobs (id, device, calibration_set_id, status, message, request)"
            " VALUES (?, 'garnet', ?, 'failed', 'old failure', '{}')",
            (old_job, str(uuid.uuid4())),
        )
    connection.close()
    with IQMEmulator("garnet", noise=False, stage_delay=0.0, db=db) as emulator:
        old = httpx.get(f"{emulator.root_url}/garnet/jobs/{old_job}/status")
        assert old.json() == {"status": "failed", "message": "old failure"}
        key = _key()
        first = _submit(emulator, REST_V1, key)
        again = _submit(emulator, REST_V1, key)
        assert (first.status_code, again.status_code) == (201, 201)
        assert first.json() == again.json()
        assert _jobs(emulator) == 2
    with sqlite3.connect(db) as connection:
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(jobs)")}
        with pytest.raises(sqlite3.IntegrityError):  # one job per owner and key
            connection.execute(
                "INSERT INTO jobs (id, device, calibration_set_id, status, request,"
                " idempotency_key) VALUES (?, 'garnet', ?, 'received', '{}', ?)",
                (str(uuid.uuid4()), str(uuid.uuid4()), key),
            )
    connection.close()
    assert "jobs_owner_idempotency_key" in indexes


def test_the_store_keeps_one_job_per_owner_and_key() -> None:
    store = JobStore()
    calibration = uuid.uuid4()
    first = store.create(
        uuid.uuid4(), "garnet", calibration, "{}", idempotency_key="k", request_sha256="a"
    )
    with pytest.raises(IdempotencyKeyTakenError) as taken:
        store.create(
            uuid.uuid4(), "garnet", calibration, "{}", idempotency_key="k", request_sha256="b"
        )
    assert taken.value.job == first
    others = store.create(
        uuid.uuid4(), "garnet", calibration, "{}", owner="bob", idempotency_key="k"
    )
    assert store.keyed("bob", "k") == others
    assert store.count() == 2
    store.close()
